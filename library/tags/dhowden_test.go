package tags

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/dhowden/tag"
)

// TestDhowdenBefore pins what dhowden/tag alone makes of the inputs the
// table cases fix (the "before" of each case; deps.md §1.5). When an
// upstream fix changes one of these, the workaround can go.
func TestDhowdenBefore(t *testing.T) {
	find := func(name string) []byte {
		for _, tc := range allCases() {
			if tc.name == name {
				return tc.file
			}
		}
		t.Fatalf("no case %q", name)
		return nil
	}
	tests := []struct {
		bug, caseName string
		before        func(m tag.Metadata) string
		want          string
	}{
		{"#1 accessor panic", "title holding a JPEG", func(m tag.Metadata) (s string) {
			defer func() {
				if recover() != nil {
					s = "panic"
				}
			}()
			return m.Title()
		}, "panic"},
		{"#3 trkn > 255", "16-bit track, disc and tempo", func(m tag.Metadata) string {
			n, total := m.Track()
			return fmt.Sprint(n, "/", total)
		}, "44/144"},
		{"#4 tmpo", "16-bit track, disc and tempo", func(m tag.Metadata) string { return fmt.Sprint(m.Raw()["tmpo"]) }, "0"},
		{"#5 several data atoms", "several data atoms", func(m tag.Metadata) string { return m.Artist() }, "Artist A\x00\x00\x00\x18data\x00\x00\x00\x01\x00\x00\x00\x00Artist B"},
		{"gnre dropped", "gnre index", func(m tag.Metadata) string { return m.Genre() }, ""},
		{"#7 multi-value glued", "v24 multi-value latin1", func(m tag.Metadata) string { return m.Artist() }, "Artist AArtist B"},
		{"#8 year", "year from timestamp", func(m tag.Metadata) string { return fmt.Sprint(m.Year()) }, "0"},
		{"#9 iTunNORM comment", "iTunes COMM frames skipped", func(m tag.Metadata) string { return m.Comment() }, "iTunNORM"},
		{"#10 zero-size frame", "zero-size frame skipped", func(m tag.Metadata) string { return m.Title() }, ""},
		{"#12 track n/total", "vorbis comment", func(m tag.Metadata) string {
			n, total := m.Track()
			return fmt.Sprint(n, "/", total)
		}, "0/0"},
		{"#12 composer falls back", "vorbis comment", func(m tag.Metadata) string { return m.Composer() }, "Not the composer"},
		{"#12 repeated keys", "vorbis comment", func(m tag.Metadata) string { return m.Artist() }, "Artist B"},
		{"#12 ALBUM ARTIST", "vorbis comment", func(m tag.Metadata) string { return m.AlbumArtist() }, ""},
	}
	for _, tc := range tests {
		t.Run(tc.bug, func(t *testing.T) {
			m, err := tag.ReadFrom(bytes.NewReader(find(tc.caseName)))
			if err != nil {
				t.Skipf("dhowden/tag fails outright: %v", err)
			}
			if got := tc.before(m); got != tc.want {
				t.Errorf("dhowden/tag now gives %q, was %q: re-check the workaround", got, tc.want)
			}
		})
	}
	// Bugs that fail the whole read.
	for _, name := range []string{"odd data classes", "field without =", "odd-length utf16 frame", "vorbis, zero CRCs", "opus with picture", "wav id3 chunk", "aiff id3 chunk"} {
		if _, err := tag.ReadFrom(bytes.NewReader(find(name))); err == nil {
			t.Errorf("%s: dhowden/tag now reads it", name)
		}
	}
}
