package library

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/daapd/daapd/internal/testkit"
	"github.com/daapd/daapd/library/probe"
	"github.com/daapd/daapd/library/tags"
)

// fakeRead stands in for probe+tags: a file holds "key=value" lines.
// "panic" panics, "bad" is not audio, "badtags" has unreadable tags.
func fakeRead(r io.ReaderAt, size int64) (probe.Info, tags.Tags, error) {
	b := make([]byte, size)
	n, err := r.ReadAt(b, 0)
	if err != nil && err != io.EOF {
		return probe.Info{}, tags.Tags{}, err
	}
	info := probe.Info{Container: "mp3", Codec: "mp3", DurationMS: 1000, SampleRate: 44100, Bitrate: 128}
	var tg tags.Tags
	for line := range strings.Lines(string(b[:n])) {
		k, v, _ := strings.Cut(strings.TrimSpace(line), "=")
		switch k {
		case "panic":
			panic("fake parser exploded")
		case "bad":
			return info, tg, probe.ErrUnknownFormat
		case "badtags":
			return info, tags.Tags{}, fmt.Errorf("%w: fake", errBadTags)
		case "title":
			tg.Title = v
		case "artist":
			tg.Artist = v
		case "album":
			tg.Album = v
		case "albumartist":
			tg.AlbumArtist = v
		case "compilation":
			tg.Compilation = true
		case "picture":
			tg.HasPicture, tg.PictureMIME = true, "image/png"
		case "codec":
			info.Codec = v
		case "genre":
			tg.Genre = v
		case "year":
			tg.Year, _ = strconv.Atoi(v)
		case "stik":
			tg.Stik, _ = strconv.Atoi(v)
		case "podcast":
			tg.Podcast = true
		}
	}
	return info, tg, nil
}

// write creates the files of tree (slash paths → contents) under dir.
func write(t testing.TB, dir string, tree map[string]string) {
	t.Helper()
	for p, data := range tree {
		name := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(name, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func testScanner(roots ...string) (*Scanner, *testkit.SyncBuffer) {
	var lb testkit.SyncBuffer
	s := &Scanner{
		Roots:     roots,
		LibraryID: "0123456789abcdef",
		Workers:   3,
		Log:       slog.New(slog.NewTextHandler(&lb, &slog.HandlerOptions{Level: slog.LevelDebug})),
		read:      fakeRead,
		FFprobe:   "off", // fake files: never ask ffprobe
	}
	return s, &lb
}

func scanOK(t *testing.T, s *Scanner, prev []*Track) Result {
	t.Helper()
	res, err := s.Scan(context.Background(), prev)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func paths(ts []*Track) []string {
	var out []string
	for _, t := range ts {
		out = append(out, t.Path)
	}
	return out
}

func byPath(ts []*Track, p string) *Track {
	for _, t := range ts {
		if t.Path == p {
			return t
		}
	}
	return nil
}

func TestScanWalk(t *testing.T) {
	dir := t.TempDir()
	nfd := "Cafe\u0301 Noir.mp3"
	write(t, dir, map[string]string{
		"a.mp3":                   "title=A",
		".hidden.mp3":             "title=hidden",
		".dir/x.mp3":              "title=in hidden dir",
		"._a.mp3":                 "AppleDouble",
		"notes.txt":               "not audio",
		"cover.jpg":               "jpeg",
		"Folder.PNG":              "png, loses to cover.jpg",
		"@eaDir/a.mp3":            "title=synology thumb",
		"sub/b.FLAC":              "artist=B",
		"sub/" + nfd:              "artist=C",
		"sub/deeper/c.ogg":        "picture",
		"sub/deeper/front.jpeg":   "jpeg",
		"sub/deeper/d.m4a":        "x",
		"sub/deeper/e.mid":        "unsupported",
		"sub/deeper/list.m3u":     "c.ogg\n",
		"Ünïcödé/Ça.opus":         "codec=opus",
		"empty/.keep":             "",
		"sub/deeper/not-audio.mp": "x",
	})
	if err := os.Symlink(filepath.Join(dir, "a.mp3"), filepath.Join(dir, "link.mp3")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(dir, filepath.Join(dir, "sub", "loop")); err != nil {
		t.Fatal(err)
	}
	os.Symlink(filepath.Join(dir, "nowhere.mp3"), filepath.Join(dir, "broken.mp3"))

	s, logs := testScanner(dir)
	res := scanOK(t, s, nil)
	want := []string{"a.mp3", "link.mp3", "sub/Café Noir.mp3", "sub/b.FLAC", "sub/deeper/c.ogg", "sub/deeper/d.m4a", "Ünïcödé/Ça.opus"}
	if diff := cmp.Diff(want, paths(res.Tracks)); diff != "" {
		t.Errorf("paths (-want +got):\n%s\nlog:\n%s", diff, logs)
	}
	cafe := byPath(res.Tracks, "sub/Café Noir.mp3")
	if cafe == nil || cafe.DiskPath() != "sub/"+nfd {
		t.Fatalf("NFD file: %+v", cafe)
	}
	if _, err := os.Stat(cafe.AbsPath()); err != nil {
		t.Errorf("AbsPath of an NFD file does not open: %v", err)
	}
	tests := []struct {
		path string
		want func(*Track) bool
		what string
	}{
		{"a.mp3", func(t *Track) bool { return t.Title == "A" && t.Format == "mp3" }, "tag title, format"},
		{"sub/b.FLAC", func(t *Track) bool { return t.Title == "b" && t.Format == "flac" }, "title from file name, lower-case format"},
		{"sub/Café Noir.mp3", func(t *Track) bool { return t.Title == "Café Noir" }, "NFC title from an NFD name"},
		{"a.mp3", func(t *Track) bool { return t.Art() == Artwork{ArtworkFile, "cover.jpg"} }, "cover.jpg beats Folder.PNG"},
		{"sub/b.FLAC", func(t *Track) bool { return t.Artwork == nil }, "no art in sub/"},
		{"sub/deeper/c.ogg", func(t *Track) bool { return t.Artwork == embeddedArt }, "embedded beats folder"},
		{"sub/deeper/d.m4a", func(t *Track) bool { return t.Art() == Artwork{ArtworkFile, "sub/deeper/front.jpeg"} }, "front.jpeg"},
		{"Ünïcödé/Ça.opus", func(t *Track) bool { return t.Codec == "opus" && t.Format == "opus" }, "codec from the reader"},
		{"a.mp3", func(t *Track) bool {
			return t.Root == dir && t.Size == 7 && t.ModTime != 0 && t.ModTime.Time().Location() == time.UTC
		}, "root, size, mtime"},
		{"a.mp3", func(t *Track) bool { return t.ID >= minItemID && t.PersistentID != 0 && t.ArtistID != 0 }, "ids"},
	}
	for _, tt := range tests {
		tr := byPath(res.Tracks, tt.path)
		if tr == nil || !tt.want(tr) {
			t.Errorf("%s: %s: got %+v", tt.path, tt.what, tr)
		}
	}
	if got := res.Stats; got.Files != 7 || got.Skipped != 0 || got.Read != 7 || got.Playlists != 1 || got.Ignored < 4 {
		t.Errorf("stats %+v", got)
	}
	if !strings.Contains(logs.String(), "mid=1") {
		t.Errorf("no summary of unsupported formats in log:\n%s", logs)
	}
	if len(res.Playlists) != 1 || len(res.Playlists[0].Items) != 1 {
		t.Errorf("playlists %+v", res.Playlists)
	}
}

func TestScanReuse(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, map[string]string{"x/1.mp3": "title=one", "x/2.mp3": "title=two", "y/3.mp3": "title=three"})
	s, _ := testScanner(dir)
	first := scanOK(t, s, nil)

	s.read = func(io.ReaderAt, int64) (probe.Info, tags.Tags, error) { panic("an unchanged file was read") }
	second := scanOK(t, s, first.Tracks)
	if !slices.Equal(first.Tracks, second.Tracks) {
		t.Fatal("rescan of an unchanged tree did not reuse the same pointers")
	}
	if second.Stats.Reused != 3 || second.Stats.Read != 0 {
		t.Errorf("stats %+v", second.Stats)
	}
	s2, _ := testScanner(dir) // a restart: a new scanner and no prev
	restarted := scanOK(t, s2, nil)
	for i, tr := range restarted.Tracks {
		if o := first.Tracks[i]; tr.ID != o.ID || tr.PersistentID != o.PersistentID || tr.AlbumID != o.AlbumID || tr.ArtistID != o.ArtistID {
			t.Errorf("%s: ids changed across a restart", tr.Path)
		}
	}
	cat := NewCatalog()
	cat.Publish(first.Tracks, first.Playlists)
	if _, changed := cat.Publish(second.Tracks, second.Playlists); changed {
		t.Error("catalog saw a change after an unchanged rescan")
	}

	// A changed file is read again and keeps its ids and date added; adding
	// folder art changes the others' artwork without reading them.
	old := byPath(first.Tracks, "x/2.mp3")
	write(t, dir, map[string]string{"x/2.mp3": "title=two, remastered", "y/cover.png": "png"})
	later := time.Now().Add(time.Hour)
	os.Chtimes(filepath.Join(dir, "x/2.mp3"), later, later)
	s.read = func(r io.ReaderAt, size int64) (probe.Info, tags.Tags, error) { return fakeRead(r, size) }
	third := scanOK(t, s, second.Tracks)
	got := byPath(third.Tracks, "x/2.mp3")
	if got == old || got.Title != "two, remastered" || got.ID != old.ID || got.PersistentID != old.PersistentID || got.Added != old.Added {
		t.Errorf("changed file: got %+v, was %+v", got, old)
	}
	if byPath(third.Tracks, "x/1.mp3") != byPath(first.Tracks, "x/1.mp3") {
		t.Error("unchanged x/1.mp3 not reused")
	}
	y := byPath(third.Tracks, "y/3.mp3")
	if y == byPath(first.Tracks, "y/3.mp3") || y.Art().Path != "y/cover.png" {
		t.Errorf("new folder art not picked up: %+v", y.Artwork)
	}
	if third.Stats.Read != 1 || third.Stats.Reused != 2 {
		t.Errorf("stats %+v", third.Stats)
	}
}

func TestScanUnavailableRoot(t *testing.T) {
	tests := []struct {
		name   string
		break_ func(t *testing.T, root string)
	}{
		{"missing", func(t *testing.T, root string) { os.RemoveAll(root) }},
		{"empty (unmounted)", func(t *testing.T, root string) {
			os.RemoveAll(root)
			os.Mkdir(root, 0o755)
		}},
		{"not a directory", func(t *testing.T, root string) {
			os.RemoveAll(root)
			os.WriteFile(root, nil, 0o644)
		}},
		{"only non-audio left", func(t *testing.T, root string) {
			os.RemoveAll(root)
			write(t, root, map[string]string{".DS_Store": "", "lost/readme.txt": ""})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := t.TempDir()
			nas, local := filepath.Join(base, "nas"), filepath.Join(base, "local")
			write(t, nas, map[string]string{"a/1.mp3": "title=1", "a/2.mp3": "title=2", "list.m3u": "a/1.mp3"})
			write(t, local, map[string]string{"3.mp3": "title=3"})
			s, logs := testScanner(nas, local)
			before := scanOK(t, s, nil)
			tt.break_(t, nas)
			after := scanOK(t, s, before.Tracks)
			if !errors.Is(after.Err(), ErrRootUnavailable) || len(after.RootErrors) != 1 || !slices.Equal(after.UnavailableRoots, []string{nas}) {
				t.Fatalf("root errors %v, unavailable %v", after.RootErrors, after.UnavailableRoots)
			}
			if diff := cmp.Diff(paths(before.Tracks), paths(after.Tracks)); diff != "" {
				t.Fatalf("tracks lost (-before +after):\n%s", diff)
			}
			for i, tr := range after.Tracks {
				if want := tr.Root == nas; tr.Missing != want || tr.ID != before.Tracks[i].ID {
					t.Errorf("%s: missing=%v id %d, was %d", tr.Path, tr.Missing, tr.ID, before.Tracks[i].ID)
				}
			}
			if !strings.Contains(logs.String(), "level=ERROR") {
				t.Errorf("no error logged:\n%s", logs)
			}
			// A second scan while still down changes nothing.
			again := scanOK(t, s, after.Tracks)
			if !slices.Equal(after.Tracks, again.Tracks) {
				t.Error("second scan of a down root changed the tracks")
			}
		})
	}
}

func TestScanUnreadableFolderKeepsTracks(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root reads any folder")
	}
	dir := t.TempDir()
	write(t, dir, map[string]string{"a/1.mp3": "title=1", "b/2.mp3": "title=2"})
	s, _ := testScanner(dir)
	before := scanOK(t, s, nil)
	os.Chmod(filepath.Join(dir, "a"), 0)
	defer os.Chmod(filepath.Join(dir, "a"), 0o755)
	after := scanOK(t, s, before.Tracks)
	if tr := byPath(after.Tracks, "a/1.mp3"); tr == nil || !tr.Missing {
		t.Errorf("track in unreadable folder: %+v", tr)
	}
}

// hangFile is an open file whose reads block until it is closed.
type hangFile struct {
	closed   chan struct{}
	returned chan struct{}
	once     sync.Once
}

func (h *hangFile) ReadAt(p []byte, off int64) (int, error) {
	defer close(h.returned)
	<-h.closed
	return 0, os.ErrClosed
}

func (h *hangFile) Close() error { h.once.Do(func() { close(h.closed) }); return nil }

func TestScanBadFiles(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, map[string]string{
		"good.mp3":    "title=good",
		"panic.mp3":   "panic",
		"bad.mp3":     "bad",
		"badtags.mp3": "badtags",
		"empty.mp3":   "",
		"hang.mp3":    "hang",
		"gone.mp3":    "removed before open (fake)",
	})
	for i := range 20 {
		write(t, dir, map[string]string{"more/" + strconv.Itoa(i) + ".mp3": "title=more"})
	}
	hang := &hangFile{closed: make(chan struct{}), returned: make(chan struct{})}
	s, logs := testScanner(dir)
	s.FileTimeout = 100 * time.Millisecond
	s.open = func(name string) (readCloserAt, error) {
		switch filepath.Base(name) {
		case "hang.mp3":
			return hang, nil
		case "gone.mp3":
			return nil, os.ErrNotExist
		}
		return os.Open(name)
	}
	res := scanOK(t, s, nil)
	select {
	case <-hang.returned:
	case <-time.After(10 * time.Second):
		t.Fatal("the hung reader was never released")
	}
	if got, want := len(res.Tracks), 22; got != want {
		t.Errorf("%d tracks, want %d: %v", got, want, paths(res.Tracks))
	}
	if tr := byPath(res.Tracks, "badtags.mp3"); tr == nil || tr.Title != "badtags" {
		t.Errorf("a file with bad tags should be a track titled by its name: %+v", tr)
	}
	if res.Stats.Skipped != 5 {
		t.Errorf("skipped %d, want 5", res.Stats.Skipped)
	}
	for _, name := range []string{"panic.mp3", "bad.mp3", "empty.mp3", "hang.mp3", "gone.mp3"} {
		n := 0
		for line := range strings.Lines(logs.String()) {
			if strings.Contains(line, "level=WARN") && strings.Contains(line, name) {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%s: %d warnings, want 1:\n%s", name, n, logs)
		}
	}
	for _, reason := range []string{"fake parser exploded", "timed out", "empty file", "unknown audio format"} {
		if !strings.Contains(logs.String(), reason) {
			t.Errorf("log lacks %q", reason)
		}
	}
}

func TestScanCancel(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, map[string]string{"a.mp3": "hang", "b.mp3": "hang"})
	s, _ := testScanner(dir)
	s.FileTimeout = time.Hour
	started := make(chan struct{}, 2)
	s.open = func(string) (readCloserAt, error) {
		started <- struct{}{}
		return &hangFile{closed: make(chan struct{}), returned: make(chan struct{})}, nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-started; cancel() }()
	if _, err := s.Scan(ctx, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
}

func TestScanPartial(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, map[string]string{"a.mp3": "title=a", "b.mp3": "title=b"})
	s, _ := testScanner(dir)
	var logs testkit.SyncBuffer
	s.Workers = 1
	s.every.partial = time.Millisecond
	release := make(chan struct{})
	var opened atomic.Int32
	s.open = func(name string) (readCloserAt, error) {
		if opened.Add(1) == 2 { // files are read in inode order: a or b
			<-release
		}
		return os.Open(name)
	}
	s.every.log = time.Millisecond
	var parts [][]*Track
	s.partial = func(ts []*Track) {
		parts = append(parts, ts)
		if len(parts) == 1 {
			close(release)
		}
	}
	s.Log = slog.New(slog.NewTextHandler(&logs, nil))
	res := scanOK(t, s, nil)
	if !strings.Contains(logs.String(), `msg=scanning files=`) {
		t.Errorf("no progress line while blocked:\n%s", logs.String())
	}
	if len(parts) == 0 || len(parts[0]) != 1 {
		t.Fatalf("partial results %v", parts)
	}
	if a := byPath(res.Tracks, parts[0][0].Path); a.ID != parts[0][0].ID {
		t.Error("id changed between the partial and the final result")
	}
}

func TestScanLiveProgress(t *testing.T) {
	// Not a terminal: no live line, only log lines.
	var out bytes.Buffer
	dir := t.TempDir()
	write(t, dir, map[string]string{"a.mp3": "title=a"})
	s, logs := testScanner(dir)
	s.Progress = &out
	scanOK(t, s, nil)
	if out.Len() != 0 {
		t.Errorf("progress written to a non-terminal: %q", out.String())
	}
	if !strings.Contains(logs.String(), `msg="scan finished" files=1 tracks=1`) {
		t.Errorf("no summary line:\n%s", logs)
	}
}

func TestScanNoRoots(t *testing.T) {
	if _, err := (&Scanner{}).Scan(context.Background(), nil); err == nil {
		t.Error("no error without roots")
	}
}

func TestScanNormalisationEdges(t *testing.T) {
	dir := t.TempDir()
	nfdDir := "Bjo\u0308rk"
	write(t, dir, map[string]string{
		"Cafe\u0301.mp3":      "title=nfd",
		"Café.mp3":            "title=nfc",
		nfdDir + "/x.mp3":     "title=x",
		nfdDir + "/cover.jpg": "jpeg",
		"inner/y.mp3":         "title=y",
		"inner/deeper/z.mp3":  "title=z",
	})
	s, logs := testScanner(dir, filepath.Join(dir, "inner"), dir)
	res := scanOK(t, s, nil)
	want := []string{"Björk/x.mp3", "Cafe\u0301.mp3", "Café.mp3", "inner/deeper/z.mp3", "inner/y.mp3"}
	if diff := cmp.Diff(want, paths(res.Tracks)); diff != "" {
		t.Errorf("paths (-want +got):\n%s", diff)
	}
	x := byPath(res.Tracks, "Björk/x.mp3")
	if x == nil || x.Art().Path != nfdDir+"/cover.jpg" {
		t.Fatalf("artwork path must be the on-disk one: %+v", x)
	}
	if _, err := os.Stat(filepath.Join(x.Root, x.Art().Path)); err != nil {
		t.Error(err)
	}
	if !strings.Contains(logs.String(), "inside another one") {
		t.Errorf("nested root not reported:\n%s", logs)
	}
}

func TestScanFlakyFileKeepsPreviousTrack(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, map[string]string{"flaky.mp3": "title=flaky", "gone-bad.mp3": "title=was fine", "ok.mp3": "title=ok"})
	s, logs := testScanner(dir)
	first := scanOK(t, s, nil)
	later := time.Now().Add(time.Hour)
	for _, n := range []string{"flaky.mp3", "gone-bad.mp3"} {
		os.Chtimes(filepath.Join(dir, n), later, later)
	}
	write(t, dir, map[string]string{"gone-bad.mp3": "bad"})
	s.open = func(name string) (readCloserAt, error) {
		if filepath.Base(name) == "flaky.mp3" {
			return nil, &os.PathError{Op: "open", Path: name, Err: syscall.EIO}
		}
		return os.Open(name)
	}
	res := scanOK(t, s, first.Tracks)
	if got := byPath(res.Tracks, "flaky.mp3"); got != byPath(first.Tracks, "flaky.mp3") {
		t.Errorf("an I/O error dropped or changed the track: %+v", got)
	}
	if byPath(res.Tracks, "gone-bad.mp3") != nil {
		t.Error("a file that is now not audio kept its track")
	}
	if res.Stats.Kept != 1 || res.Stats.Skipped != 2 || !strings.Contains(logs.String(), "keeping its previous track") {
		t.Errorf("stats %+v\n%s", res.Stats, logs)
	}
}
