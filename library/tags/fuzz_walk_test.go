package tags

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/daapd/daapd/library/probe"
	"golang.org/x/text/unicode/norm"
)

// The Fuzz<Family> targets fuzz the scanner's one walk per container:
// probe.Read, then ReadBlocks at the blocks it reported, then Picture. Each
// is seeded with the table cases and the corpus and fixture files of its
// container family only, so that its mutations stay in that format.

func FuzzWalkMP4(f *testing.F)      { fuzzWalk(f, "mp4") }
func FuzzWalkOgg(f *testing.F)      { fuzzWalk(f, "ogg") }
func FuzzWalkFLAC(f *testing.F)     { fuzzWalk(f, "flac") }
func FuzzWalkRIFF(f *testing.F)     { fuzzWalk(f, "wav", "aiff") }
func FuzzWalkDSD(f *testing.F)      { fuzzWalk(f, "dsf", "dff") }
func FuzzWalkMP3(f *testing.F)      { fuzzWalk(f, "mp3") }
func FuzzWalkLossless(f *testing.F) { fuzzWalk(f, "ape", "wavpack", "musepack", "tta") }
func FuzzWalkASF(f *testing.F)      { fuzzWalk(f, "asf") }
func FuzzWalkMatroska(f *testing.F) { fuzzWalk(f, "matroska", "webm") }
func FuzzWalkRaw(f *testing.F)      { fuzzWalk(f, "aac", "ac3", "eac3") }

// maxSeed bounds the size of a file used as a seed.
const maxSeed = 64 << 10

func fuzzWalk(f *testing.F, family ...string) {
	seeds := 0
	add := func(b []byte, hint string) {
		if len(b) > maxSeed {
			return
		}
		info, _, _ := probe.Read(bytes.NewReader(b), int64(len(b)), nil)
		c := info.Container
		if c == "" {
			c = hint
		}
		if slices.Contains(family, c) {
			f.Add(b)
			seeds++
		}
	}
	for _, tc := range allCases() {
		add(tc.file, tc.container)
	}
	for _, dir := range []string{
		filepath.Join("..", "..", "..", "shared", "corpus", "taglib"),
		filepath.Join("..", "..", "music-fixtures"),
	} {
		filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err == nil && d.Type().IsRegular() {
				if info, err := d.Info(); err == nil && info.Size() <= maxSeed {
					if b, err := os.ReadFile(p); err == nil {
						add(b, containerOf(p))
					}
				}
			}
			return nil
		})
	}
	if seeds == 0 {
		f.Add([]byte{}) // nothing of the family here: fuzz from scratch
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		size := int64(len(data))
		info, blocks, _ := probe.Read(bytes.NewReader(data), size, nil)
		tg, err := ReadBlocks(bytes.NewReader(data), size, info.Container, blocks)
		if err != nil && strings.Contains(err.Error(), "panic") {
			t.Fatalf("ReadBlocks(%s): %v", info.Container, err)
		}
		for _, s := range []string{tg.Title, tg.Artist, tg.AlbumArtist, tg.Album, tg.Composer, tg.Genre, tg.Comment, tg.Grouping} {
			if !utf8.ValidString(s) || !norm.NFC.IsNormalString(s) || s != strings.TrimSpace(s) {
				t.Errorf("%q is not normalised", s)
			}
		}
		// Read walks the container itself: the same answer.
		if again, _ := Read(bytes.NewReader(data), size, info.Container); again != tg {
			t.Errorf("Read = %+v, ReadBlocks = %+v", again, tg)
		}
		img, _, err := Picture(bytes.NewReader(data), size, info.Container)
		if err != nil && strings.Contains(err.Error(), "panic") {
			t.Fatalf("Picture(%s): %v", info.Container, err)
		}
		if len(img) > MaxPicture {
			t.Errorf("Picture returned %d bytes", len(img))
		}
	})
}
