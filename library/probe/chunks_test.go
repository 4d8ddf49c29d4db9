package probe

import (
	"bytes"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// ilstMoov is a moov with an audio track and an iTunes ilst in udta/meta.
func ilstMoov(meta []byte) []byte {
	return mp4Box("moov", mvhd(1000, 2500), trak("soun", mdhd(0, 44100, 110250), aacEntry), mp4Box("udta", meta))
}

var blockCases = []struct {
	name string
	data []byte
	want []Block
}{
	{name: "wav id3 after data, INFO", data: riff(wavFmt(1, 1, 8000, 16), riffChunk("data", make([]byte, 7)), riffChunk("id3 ", []byte("ID3...")),
		riffChunk("LIST", cat([]byte("INFO"), riffChunk("INAM", []byte("Title\x00")), riffChunk("IART", []byte("Art"))))),
		want: []Block{{Kind: BlockID3v2, Offset: 60, Size: 6}, {Kind: BlockInfo, ID: "INAM", Offset: 86, Size: 6}, {Kind: BlockInfo, ID: "IART", Offset: 100, Size: 3}}},
	{name: "wav chunk past eof clamped", data: cat(riff(wavFmt(1, 1, 8000, 16)), []byte("id3 "), le32(1000), []byte("ID3")),
		want: []Block{{Kind: BlockID3v2, Offset: 44, Size: 3}}},
	{name: "rf64 64-bit data size", data: cat([]byte("RF64"), le32(0xffffffff), []byte("WAVE"),
		riffChunk("ds64", cat(le64(0), le64(10), le64(5), le32(0))), riffChunk("fmt ", wavFmt(1, 1, 8000, 16)[8:]),
		[]byte("data"), le32(0xffffffff), make([]byte, 10), riffChunk("id3 ", []byte("ID3"))),
		want: []Block{{Kind: BlockID3v2, Offset: 98, Size: 3}}},
	{name: "aiff", data: form("AIFF", comm(1, 10, 16, 8000), iffChunk("NAME", []byte("Song")), iffChunk("ID3 ", []byte("ID3.."))),
		want: []Block{{Kind: BlockText, ID: "NAME", Offset: 46, Size: 4}, {Kind: BlockID3v2, Offset: 58, Size: 5}}},
	{name: "dsf metadata pointer", data: cat([]byte("DSD "), le64(28), le64(100), le64(80),
		[]byte("fmt "), le64(52), le32(1), le32(0), le32(2), le32(2), le32(2822400), le32(1), le64(28224), le32(4096), le32(0), []byte("ID3 tag...")),
		want: []Block{{Kind: BlockID3v2, Offset: 80, Size: 10}}},
	{name: "dff id3 after the sound data", data: cat([]byte("FRM8"), be64(0), []byte("DSD "), []byte("FVER"), be64(4), be32(0),
		[]byte("DSD "), be64(2), []byte{0, 0}, []byte("ID3 "), be64(3), []byte("ID3"), []byte{0}),
		want: []Block{{Kind: BlockID3v2, Offset: 58, Size: 3}}},
	{name: "flac after id3v2, block past the end", data: cat(id3v2(10, false), []byte("fLaC"), flacSI, flacBlock(4, false, make([]byte, 40)), []byte{0x86, 0xff, 0xff, 0xff}, make([]byte, 10)),
		want: []Block{{Kind: BlockID3v2, Offset: 0, Size: 20}, {Kind: BlockFLAC, Type: 4, Offset: 66, Size: 40}, {Kind: BlockFLAC, Type: 6, Offset: 110, Size: 0xffffff}}},
	{name: "m4a udta/meta/ilst", data: cat(ftyp(), ilstMoov(mp4Box("meta", be32(0), mp4Box("hdlr", make([]byte, 25)), mp4Box("ilst", make([]byte, 16)))), mdat40k),
		want: []Block{{Kind: BlockIlst, Offset: 494, Size: 16}}},
	{name: "m4a quicktime meta, ilst past its parent", data: cat(ftyp(), ilstMoov(mp4Box("meta", mp4Box("hdlr", make([]byte, 25)), be32(40), []byte("ilst"), make([]byte, 8))), mdat40k),
		want: []Block{{Kind: BlockIlst, Offset: 490, Size: 32}}},
	{name: "ogg", data: vorbis, want: []Block{{Kind: BlockOgg, Serial: 1, Codec: "vorbis"}}},
	{name: "mp3 has none here", data: cbr128},
	{name: "empty", data: nil},
}

// TestBlocks checks where Read's walk says the tags are.
func TestBlocks(t *testing.T) {
	for _, tc := range blockCases {
		t.Run(tc.name, func(t *testing.T) {
			_, got, _ := Read(bytes.NewReader(tc.data), int64(len(tc.data)), nil)
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("blocks mismatch (-want +got):\n%s", d)
			}
			for _, b := range got {
				if b.Kind == BlockIlst && string(tc.data[b.Offset-4:b.Offset]) != "ilst" {
					t.Errorf("%+v does not follow an ilst box header", b)
				}
			}
		})
	}
}

// TestBlocksFixtures finds the ID3 chunks that music-fixtures writes into
// WAV and AIFF.
func TestBlocksFixtures(t *testing.T) {
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
		_, blocks, err := Read(bytes.NewReader(data), int64(len(data)), nil)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		found := false
		for _, b := range blocks {
			if b.Kind == BlockID3v2 && bytes.HasPrefix(data[b.Offset:], []byte("ID3")) {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: no ID3 chunk in %+v", p, blocks)
		}
	}
}

// TestOggCRC checks the slicing-by-8 CRC against the bit-by-bit definition.
func TestOggCRC(t *testing.T) {
	slow := func(b []byte) uint32 {
		var c uint32
		for _, x := range b {
			c ^= uint32(x) << 24
			for range 8 {
				if c&0x80000000 != 0 {
					c = c<<1 ^ 0x04c11db7
				} else {
					c <<= 1
				}
			}
		}
		return c
	}
	b := make([]byte, 300)
	for i := range b {
		b[i] = byte(i*7 + i>>3)
	}
	for n := range len(b) {
		if got, want := oggCRC(0, b[:n]), slow(b[:n]); got != want {
			t.Fatalf("oggCRC of %d bytes = %08x, want %08x", n, got, want)
		}
	}
	if got, want := oggCRC(oggCRC(0, b[:13]), b[13:]), slow(b); got != want {
		t.Errorf("oggCRC in two parts = %08x, want %08x", got, want)
	}
}
