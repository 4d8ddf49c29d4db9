package tags

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// corpusWant spot-checks well-known files of the corpus; only the
// non-zero fields of each entry are compared. Several of these failed in
// dhowden/tag alone (deps.md §1.5).
var corpusWant = map[string]Tags{
	"itunes10.mp3": {Title: "iTunes10MP3", Artist: "Artist", AlbumArtist: "Album Artist", Album: "Album",
		Composer: "Composer", Genre: "Heavy Metal", Comment: "Comments", Grouping: "Grouping",
		SortTitle: "Sort Name", SortArtist: "Sort Artist", SortAlbumArtist: "Sort Album Artist",
		SortAlbum: "Sort Album", SortComposer: "Sort Composer", Year: 2011, Track: 1, TrackTotal: 10,
		Disc: 1, DiscTotal: 2, BPM: 180, Compilation: true, HasPicture: true},
	"005411.id3":           {Title: "Sunshine Superman", Artist: "Donovan", Album: "Sunshine Superman", Year: 1966},
	"unsynch.id3":          {Title: "My babe just cares for me", Artist: "Nina Simone", Album: "100% Jazz", Track: 3},
	"unsynch24.id3":        {Title: "Hi"},
	"id3v22-tda.mp3":       {Year: 2010, Track: 1},
	"lowercase-fields.ogg": {Title: "TEST TITLE", Artist: "TEST ARTIST", HasPicture: true},
	"multiple-vc.flac":     {Artist: "Artist 1, Artist 2"},
	"silence-44-s.flac":    {Title: "Silence", Artist: "piman, jzig", Album: "Quod Libet Test Data", Year: 2004, Track: 2, TrackTotal: 10, HasPicture: true},
	"gnre.m4a":             {Genre: "Ska"},
	"ilst-is-last.m4a":     {Title: "Intro", Artist: "Pearl Jam", Year: 1995, Track: 1},
	"infloop.m4a":          {Title: "Udo", Artist: "POCKET BISCUITS", Track: 6, TrackTotal: 16, Disc: 1, DiscTotal: 1},
	"64bit.mp4":            {Compilation: true},
	"has-tags.m4a":         {Artist: "Test Artist", HasPicture: true},
	"duplicate_tags.wav":   {Title: "Title1", Artist: "Artist1", Album: "Album1"},
	"duplicate_id3v2.aiff": {Title: "Title1", Album: "Album1"},
	"alaw.aifc":            {Title: "woodblock", Artist: "Prosonus"},
	"multiplex.ogg":        {Title: "Paper Lights"},
}

// partialDiff describes the non-zero fields of want that got differs in.
func partialDiff(want, got Tags) string {
	var d string
	w, g := reflect.ValueOf(want), reflect.ValueOf(got)
	for i := range w.NumField() {
		if !w.Field(i).IsZero() && w.Field(i).Interface() != g.Field(i).Interface() {
			d += fmt.Sprintf(" %s=%v (want %v)", w.Type().Field(i).Name, g.Field(i), w.Field(i))
		}
	}
	return d
}

// corpusDir returns the TagLib test-file corpus, or skips the test.
func corpusDir(t *testing.T) string {
	t.Helper()
	// DAAPD_CORPUS names the shared corpus folder, which holds taglib/.
	dir := os.Getenv("DAAPD_CORPUS")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "shared", "corpus")
	}
	dir = filepath.Join(dir, "taglib")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("corpus not available (%v); set DAAPD_CORPUS", err)
	}
	return dir
}

// containerOf guesses probe's container name from a file extension.
func containerOf(name string) string {
	switch filepath.Ext(name) {
	case ".mp3", ".id3":
		return "mp3"
	case ".m4a", ".mp4", ".m4v", ".3g2", ".aac":
		return "mp4"
	case ".flac":
		return "flac"
	case ".ogg", ".oga", ".opus", ".spx":
		return "ogg"
	case ".wav":
		return "wav"
	case ".aif", ".aiff", ".aifc":
		return "aiff"
	case ".ape", ".wv", ".mpc", ".tta":
		return "ape"
	case ".wma", ".asf":
		return "asf"
	case ".dsf", ".dff":
		return "dsf"
	case ".mka", ".mkv", ".webm":
		return "matroska"
	}
	return ""
}

// readFile runs Read and Picture on one file with a deadline.
func readFile(t *testing.T, path, container string) (Tags, error) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	type result struct {
		tags Tags
		err  error
	}
	done := make(chan result, 1)
	go func() {
		tg, err := Read(f, st.Size(), container)
		Picture(f, st.Size(), container)
		done <- result{tg, err}
	}()
	select {
	case r := <-done:
		return r.tags, r.err
	case <-time.After(20 * time.Second): // a hang, not a timing assertion
		t.Fatalf("%s: Read did not return", path)
	}
	return Tags{}, nil
}

func TestCorpus(t *testing.T) {
	dir := corpusDir(t)
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	read := 0
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		for _, container := range []string{containerOf(e.Name()), ""} {
			tg, err := readFile(t, filepath.Join(dir, e.Name()), container)
			if err != nil && strings.Contains(err.Error(), "panic") {
				t.Errorf("%s (%q): %v", e.Name(), container, err)
			}
			if container == "" {
				continue
			}
			if err == nil {
				read++
			}
			if testing.Verbose() {
				t.Logf("%-36s %-4s err=%v %+v", e.Name(), container, err, tg)
			}
			if want, ok := corpusWant[e.Name()]; ok {
				if err != nil {
					t.Errorf("%s: %v", e.Name(), err)
				} else if d := partialDiff(want, tg); d != "" {
					t.Errorf("%s:%s", e.Name(), d)
				}
			}
		}
	}
	for name := range corpusWant {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("spot-checked file missing: %v", err)
		}
	}
	t.Logf("%d of %d files yielded tags", read, len(entries))
}
