package probe

import (
	"bytes"
	"errors"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var chunkCases = []struct {
	name    string
	data    []byte
	want    []Chunk
	wantErr error
}{
	{name: "wav id3 after data", data: riff(wavFmt(1, 1, 8000, 16), riffChunk("data", make([]byte, 7)), riffChunk("id3 ", []byte("ID3...")), riffChunk("LIST", []byte("INFO"))),
		want: []Chunk{{"fmt ", 20, 16}, {"data", 44, 7}, {"id3 ", 60, 6}, {"LIST", 74, 4}}},
	{name: "wav chunk past eof clamped", data: cat(riff(wavFmt(1, 1, 8000, 16)), []byte("id3 "), le32(1000), []byte("ID3")),
		want: []Chunk{{"fmt ", 20, 16}, {"id3 ", 44, 3}}},
	{name: "rf64 64-bit data size", data: cat([]byte("RF64"), le32(0xffffffff), []byte("WAVE"),
		riffChunk("ds64", cat(le64(0), le64(10), le64(5), le32(0))),
		[]byte("data"), le32(0xffffffff), make([]byte, 10), riffChunk("id3 ", []byte("ID3"))),
		want: []Chunk{{"ds64", 20, 28}, {"data", 56, 10}, {"id3 ", 74, 3}}},
	{name: "aiff", data: form("AIFF", comm(1, 10, 16, 8000), iffChunk("ID3 ", []byte("ID3.."))),
		want: []Chunk{{"COMM", 20, 18}, {"ID3 ", 46, 5}}},
	{name: "dsf metadata pointer", data: cat([]byte("DSD "), le64(28), le64(40), le64(30), make([]byte, 2), []byte("ID3 tag...")),
		want: []Chunk{{"ID3 ", 30, 10}}},
	{name: "dff", data: cat([]byte("FRM8"), be64(0), []byte("DSD "), []byte("FVER"), be64(4), be32(0), []byte("ID3 "), be64(3), []byte("ID3"), []byte{0}),
		want: []Chunk{{"FVER", 28, 4}, {"ID3 ", 44, 3}}},
	{name: "mp3 is not chunked", data: cbr128, wantErr: ErrUnknownFormat},
	{name: "empty", data: nil, wantErr: ErrUnknownFormat},
}

func TestChunks(t *testing.T) {
	for _, tc := range chunkCases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Chunks(bytes.NewReader(tc.data), int64(len(tc.data)))
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("error %v, want %v", err, tc.wantErr)
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("Chunks mismatch (-want +got):\n%s", d)
			}
		})
	}
}

func TestFLACBlocks(t *testing.T) {
	data := cat(id3v2(10, false), []byte("fLaC"), flacSI, flacBlock(4, false, make([]byte, 40)), []byte{0x86, 0xff, 0xff, 0xff}, make([]byte, 10))
	got, err := FLACBlocks(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	want := []FLACBlock{{0, 28, 34}, {4, 66, 40}, {6, 110, 0xffffff}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("FLACBlocks mismatch (-want +got):\n%s", d)
	}
	if _, err := FLACBlocks(bytes.NewReader(cbr128), int64(len(cbr128))); !errors.Is(err, ErrUnknownFormat) {
		t.Errorf("FLACBlocks(mp3) error %v, want ErrUnknownFormat", err)
	}
}

// TestChunksFixtures finds the ID3 chunks that music-fixtures writes into
// WAV and AIFF.
func TestChunksFixtures(t *testing.T) {
	roots := sources(t)
	for _, p := range []string{"fixtures/Pcm Works/Raw Takes/01 Wave ID3.wav", "fixtures/Pcm Works/Raw Takes/03 Aiff ID3.aiff"} {
		path, ok := resolve(roots, p)
		if !ok {
			t.Skip("music-fixtures not present")
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		chunks, err := Chunks(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		found := false
		for _, c := range chunks {
			if (c.ID == "id3 " || c.ID == "ID3 ") && bytes.HasPrefix(data[c.Offset:], []byte("ID3")) {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: no ID3 chunk in %+v", p, chunks)
		}
	}
}
