package library

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	fixtures "github.com/daapd/daapd/music-fixtures"
)

// FuzzReadTrack feeds arbitrary bytes through the scanner's per-file path
// (blockReader, probe, tags, newTrack) without the scanner's recover():
// no input may panic. Seeds are the music fixtures.
func FuzzReadTrack(f *testing.F) {
	filepath.WalkDir(fixtures.Dir(), func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() && audioExts[ext(d.Name())] {
			if b, err := os.ReadFile(p); err == nil && len(b) < 64<<10 {
				f.Add(b)
			}
		}
		return nil
	})
	f.Add([]byte("ID3\x04\x00\x00\x00\x00\x00\x00"))
	f.Add([]byte("fLaC\x00\x00\x00\x22"))
	var br blockReader
	f.Fuzz(func(t *testing.T, data []byte) {
		br.reset(bytes.NewReader(data), int64(len(data)))
		info, tg, _ := readFacts(&br, int64(len(data)))
		tr := newTrack("lib", info, tg, "name.mp3", "mp3", nil)
		if tr.Title == "" {
			t.Error("empty title")
		}
	})
}

func TestArtRank(t *testing.T) {
	tests := []struct {
		name string
		want int
	}{
		{"cover.jpg", 15},
		{"Cover.JPG", 15},
		{"COVER.png", 13},
		{"folder.jpeg", 11},
		{"front.jpg", 9},
		{"ARTWOR\u212a.jpg", 6}, // Kelvin sign: lower-cases to k
		{"artwork.png", 4},
		{"cover.gif", 0},
		{"cover", 0},
		{"covers.jpg", 0},
		{"back.jpg", 0},
		{".jpg", 0},
	}
	for _, tc := range tests {
		if got := artRank(tc.name); got != tc.want {
			t.Errorf("artRank(%q) = %d, want %d", tc.name, got, tc.want)
		}
	}
}

func TestNFC(t *testing.T) {
	for in, want := range map[string]string{
		"":                  "",
		"ascii":             "ascii",
		"Sigur Ro\u0301s":   "Sigur Rós",
		"Sigur Rós":         "Sigur Rós",
		"\u212b":            "\u00c5", // Angstrom sign
		"caf\xe9 (invalid)": "caf\xe9 (invalid)",
	} {
		if got := nfc(in); got != want {
			t.Errorf("nfc(%q) = %q, want %q", in, got, want)
		}
	}
}
