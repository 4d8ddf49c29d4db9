package fixtures

import (
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dhowden/tag"
)

var audioExt = map[string]bool{".mp3": true, ".m4a": true, ".m4b": true, ".flac": true, ".ogg": true,
	".opus": true, ".wav": true, ".aiff": true}

// TestExpectedMatchesDisk checks expected.json against the files: every
// listed track exists with its size, every audio file is either a track or
// listed as skipped, and every playlist entry resolves to a listed track.
func TestExpectedMatchesDisk(t *testing.T) {
	e, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	dir := os.DirFS(Dir())
	listed := map[string]bool{}
	for _, tr := range e.Tracks {
		if listed[tr.Path] {
			t.Errorf("%s listed twice", tr.Path)
		}
		listed[tr.Path] = true
		fi, err := fs.Stat(dir, tr.Path)
		if err != nil {
			t.Errorf("track: %v", err)
			continue
		}
		if fi.Size() != tr.Size {
			t.Errorf("%s: size %d, expected.json says %d (re-run generate.sh)", tr.Path, fi.Size(), tr.Size)
		}
		if tr.Title == "" || tr.Codec == "" || tr.Format != strings.TrimPrefix(path.Ext(tr.Path), ".") {
			t.Errorf("%s: incomplete entry %+v", tr.Path, tr)
		}
		switch tr.Artwork {
		case "embedded", "none":
		case "file":
			if _, err := fs.Stat(dir, tr.ArtworkPath); err != nil || path.Dir(tr.ArtworkPath) != path.Dir(tr.Path) {
				t.Errorf("%s: folder art %q: %v", tr.Path, tr.ArtworkPath, err)
			}
		default:
			t.Errorf("%s: artwork %q", tr.Path, tr.Artwork)
		}
	}
	skipped := map[string]bool{}
	for _, s := range e.Skipped {
		skipped[s.Path] = true
		if _, err := fs.Stat(dir, s.Path); err != nil {
			t.Errorf("skipped: %v", err)
		}
	}
	err = fs.WalkDir(dir, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !audioExt[path.Ext(p)] {
			return err
		}
		if !listed[p] && !skipped[p] {
			t.Errorf("%s is in neither tracks nor skipped", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, pl := range e.Playlists {
		if _, err := os.Stat(filepath.Join(Dir(), filepath.FromSlash(pl.Path))); err != nil {
			t.Errorf("playlist: %v", err)
		}
		missing := 0
		for _, r := range pl.Resolves {
			if r == nil {
				missing++
			} else if !listed[*r] {
				t.Errorf("%s: entry %q is not a track", pl.Path, *r)
			}
		}
		if missing != 1 && pl.Format != "smartpl" {
			t.Errorf("%s: %d missing entries, want 1", pl.Path, missing)
		}
	}
}

func TestTrackLookup(t *testing.T) {
	e, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	tr, ok := e.Track("Unsorted/untagged track.mp3")
	if !ok || tr.Title != "untagged track" || tr.Tags != "none" {
		t.Errorf("untagged track: %+v, %v", tr, ok)
	}
	if _, ok := e.Track("nope.mp3"); ok {
		t.Error("found a track that does not exist")
	}
}

// TestTagsReadable reads every file dhowden/tag supports and compares the
// main tags with expected.json, so a broken generator shows up here and not
// as a mystery in the scanner's tests. WAV, AIFF, ASF, APEv2, Matroska and
// Speex tags are not supported by dhowden/tag (see
// /work/shared/docs/deps.md) and are left to library/tags.
func TestTagsReadable(t *testing.T) {
	e, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range e.Tracks {
		switch want.Tags {
		case "asf", "apev2", "mkv", "speex":
			continue
		}
		if want.Container == "wav" || want.Container == "aiff" || want.Tags == "none" {
			continue
		}
		t.Run(want.Path, func(t *testing.T) {
			f, err := os.Open(filepath.Join(Dir(), filepath.FromSlash(want.Path)))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			m, err := tag.ReadFrom(f)
			if err != nil {
				t.Fatal(err)
			}
			n, total := m.Track()
			got := [][2]any{
				{m.Title(), want.Title}, {m.Artist(), want.Artist}, {m.Album(), want.Album},
				{m.AlbumArtist(), want.AlbumArtist}, {m.Genre(), want.Genre}, {m.Year(), want.Year},
				{n, want.Track}, {total, want.TrackTotal},
			}
			// dhowden/tag's Vorbis Composer() falls back to ARTIST (deps.md §12).
			if want.Composer != "" || (want.Container != "flac" && want.Container != "ogg") {
				got = append(got, [2]any{m.Composer(), want.Composer})
			}
			if want.Tags != "id3v1" {
				d, dt := m.Disc()
				got = append(got, [2]any{d, want.Disc}, [2]any{dt, want.DiscTotal})
			}
			for i, g := range got {
				if g[0] != g[1] {
					t.Errorf("field %d: read %v, wrote %v", i, g[0], g[1])
				}
			}
			if hasPic := m.Picture() != nil; hasPic != (want.Artwork == "embedded") {
				t.Errorf("embedded picture %v, artwork %q", hasPic, want.Artwork)
			}
		})
	}
}
