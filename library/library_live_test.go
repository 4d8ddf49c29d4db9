package library

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/gob"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/daapd/daapd/internal/testkit"
)

// keyed maps root-relative paths ("r1:a/1.mp3") to tracks.
func keyed(s *Snapshot, roots ...string) map[string]*Track {
	m := make(map[string]*Track)
	for _, t := range s.Tracks {
		m[rootName(t.Root, roots)+":"+t.Path] = t
	}
	return m
}

func rootName(root string, roots []string) string {
	for i, r := range roots {
		if r == root {
			return "r" + string(rune('1'+i))
		}
	}
	return root
}

// TestScanPathsSiblings checks that ScanPaths finds the tracks of a
// changed folder by their place in catalog order without taking those of
// folders whose names extend it ("Album 2", "Album-x" sort around
// "Album/"), with prev in catalog order (as Library passes it, with ids
// looked up in the snapshot) or in any order.
func TestScanPathsSiblings(t *testing.T) {
	tree := map[string]string{
		"A/Album/1.mp3": "title=1", "A/Album/2.mp3": "title=2",
		"A/Album 2/1.mp3": "title=x", "A/Album-x/1.mp3": "title=y", "A/Albumz/1.mp3": "title=z",
		"A/Album.mp3": "title=f",
	}
	for _, sorted := range []bool{true, false} {
		r := filepath.Join(t.TempDir(), "music")
		write(t, r, tree)
		s, _ := testScanner(r)
		prev := scanOK(t, s, nil)
		os.RemoveAll(filepath.Join(r, "A/Album"))
		write(t, r, map[string]string{"A/Album 2/2.mp3": "title=x2"})
		in := slices.Clone(prev.Tracks)
		if sorted {
			snap := &Snapshot{}
			snap.byID = snap.byID.with(in, nil)
			s.inUse = func(id uint32) bool { _, ok := snap.Track(id); return ok }
			s.prevSorted = true
		} else {
			slices.Reverse(in)
		}
		res, err := s.ScanPaths(context.Background(), in, nil, []string{filepath.Join(r, "A/Album"), filepath.Join(r, "A/Album 2/2.mp3")})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, tr := range res.Tracks {
			got = append(got, tr.Path)
		}
		want := []string{"A/Album 2/1.mp3", "A/Album 2/2.mp3", "A/Album-x/1.mp3", "A/Album.mp3", "A/Albumz/1.mp3"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("sorted=%t: tracks (-want +got):\n%s", sorted, diff)
		}
		s.inUse, s.prevSorted = nil, false
		full := scanOK(t, s, nil)
		if diff := cmp.Diff(ids(full.Tracks), ids(res.Tracks)); diff != "" {
			t.Errorf("sorted=%t: ids differ from a full scan's (-full +partial):\n%s", sorted, diff)
		}
	}
}

func TestScanPaths(t *testing.T) {
	tree := map[string]string{
		"A/Album/1.mp3": "title=a1", "A/Album/2.mp3": "title=a2", "A/Album/cover.jpg": "jpg",
		"A/Other/1.mp3": "title=o1",
		"B/Album/1.mp3": "title=b1",
		"top.mp3":       "title=top",
		"list.m3u":      "A/Album/1.mp3\nA/Album/2.mp3\nB/Album/1.mp3\n",
	}
	tests := []struct {
		name    string
		change  func(t *testing.T, r1, r2 string)
		paths   []string // relative to r1 unless they start with "r2:"
		want    []string // present tracks after, "r1:path"
		missing []string // tracks kept as Missing
		reads   int      // files read
		list    int      // entries of list.m3u after; -1: not returned (its root is down; Library keeps it)
	}{
		{"nothing changed", nil, []string{"A/Album"},
			[]string{"r1:A/Album/1.mp3", "r1:A/Album/2.mp3", "r1:A/Other/1.mp3", "r1:B/Album/1.mp3", "r1:top.mp3", "r2:C/1.mp3"}, nil, 0, 3},
		{"file added", func(t *testing.T, r1, r2 string) {
			write(t, r1, map[string]string{"A/Album/3.mp3": "title=a3"})
		}, []string{"A/Album/3.mp3"},
			[]string{"r1:A/Album/1.mp3", "r1:A/Album/2.mp3", "r1:A/Album/3.mp3", "r1:A/Other/1.mp3", "r1:B/Album/1.mp3", "r1:top.mp3", "r2:C/1.mp3"}, nil, 1, 3},
		{"file modified, same size", func(t *testing.T, r1, r2 string) {
			write(t, r1, map[string]string{"A/Album/1.mp3": "title=A1"})
			later := time.Now().Add(time.Minute)
			os.Chtimes(filepath.Join(r1, "A/Album/1.mp3"), later, later)
		}, []string{"A/Album/1.mp3"},
			[]string{"r1:A/Album/1.mp3", "r1:A/Album/2.mp3", "r1:A/Other/1.mp3", "r1:B/Album/1.mp3", "r1:top.mp3", "r2:C/1.mp3"}, nil, 1, 3},
		{"file removed", func(t *testing.T, r1, r2 string) {
			os.Remove(filepath.Join(r1, "A/Album/2.mp3"))
		}, []string{"A/Album/2.mp3"},
			[]string{"r1:A/Album/1.mp3", "r1:A/Other/1.mp3", "r1:B/Album/1.mp3", "r1:top.mp3", "r2:C/1.mp3"}, nil, 0, 2},
		{"file renamed", func(t *testing.T, r1, r2 string) {
			os.Rename(filepath.Join(r1, "A/Album/2.mp3"), filepath.Join(r1, "A/Album/2b.mp3"))
		}, []string{"A/Album/2.mp3", "A/Album/2b.mp3"},
			[]string{"r1:A/Album/1.mp3", "r1:A/Album/2b.mp3", "r1:A/Other/1.mp3", "r1:B/Album/1.mp3", "r1:top.mp3", "r2:C/1.mp3"}, nil, 1, 2},
		{"album removed", func(t *testing.T, r1, r2 string) {
			os.RemoveAll(filepath.Join(r1, "A/Album"))
		}, []string{"A/Album"},
			[]string{"r1:A/Other/1.mp3", "r1:B/Album/1.mp3", "r1:top.mp3", "r2:C/1.mp3"}, nil, 0, 1},
		{"artist folder removed", func(t *testing.T, r1, r2 string) {
			os.RemoveAll(filepath.Join(r1, "A"))
		}, []string{"A"},
			[]string{"r1:B/Album/1.mp3", "r1:top.mp3", "r2:C/1.mp3"}, nil, 0, 1},
		{"folder created with files", func(t *testing.T, r1, r2 string) {
			write(t, r1, map[string]string{"N/New/1.mp3": "title=n1", "N/New/2.mp3": "title=n2"})
		}, []string{"N"},
			[]string{"r1:A/Album/1.mp3", "r1:A/Album/2.mp3", "r1:A/Other/1.mp3", "r1:B/Album/1.mp3", "r1:N/New/1.mp3", "r1:N/New/2.mp3", "r1:top.mp3", "r2:C/1.mp3"}, nil, 2, 3},
		{"file at the top of the root", func(t *testing.T, r1, r2 string) {
			write(t, r1, map[string]string{"top2.mp3": "title=top2"})
		}, []string{"top2.mp3"},
			[]string{"r1:A/Album/1.mp3", "r1:A/Album/2.mp3", "r1:A/Other/1.mp3", "r1:B/Album/1.mp3", "r1:top.mp3", "r1:top2.mp3", "r2:C/1.mp3"}, nil, 1, 3},
		{"playlist edited", func(t *testing.T, r1, r2 string) {
			write(t, r1, map[string]string{"list.m3u": "top.mp3\n"})
		}, []string{"list.m3u"},
			[]string{"r1:A/Album/1.mp3", "r1:A/Album/2.mp3", "r1:A/Other/1.mp3", "r1:B/Album/1.mp3", "r1:top.mp3", "r2:C/1.mp3"}, nil, 0, 1},
		{"root removed", func(t *testing.T, r1, r2 string) {
			os.RemoveAll(r1)
		}, []string{"A", "B", "top.mp3", "list.m3u"},
			[]string{"r2:C/1.mp3"},
			[]string{"r1:A/Album/1.mp3", "r1:A/Album/2.mp3", "r1:A/Other/1.mp3", "r1:B/Album/1.mp3", "r1:top.mp3"}, 0, -1},
		{"every folder of a root removed (unmounted)", func(t *testing.T, r1, r2 string) {
			os.RemoveAll(filepath.Join(r2, "C"))
		}, []string{"r2:C"},
			[]string{"r1:A/Album/1.mp3", "r1:A/Album/2.mp3", "r1:A/Other/1.mp3", "r1:B/Album/1.mp3", "r1:top.mp3"},
			[]string{"r2:C/1.mp3"}, 0, 3},
		{"paths outside the roots", nil, []string{"/elsewhere/x.mp3"},
			[]string{"r1:A/Album/1.mp3", "r1:A/Album/2.mp3", "r1:A/Other/1.mp3", "r1:B/Album/1.mp3", "r1:top.mp3", "r2:C/1.mp3"}, nil, 0, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r1, r2 := filepath.Join(t.TempDir(), "music"), filepath.Join(t.TempDir(), "more")
			write(t, r1, tree)
			write(t, r2, map[string]string{"C/1.mp3": "title=c1"})
			s, _ := testScanner(r1, r2)
			prev := scanOK(t, s, nil)
			if tt.change != nil {
				tt.change(t, r1, r2)
			}
			var paths []string
			for _, p := range tt.paths {
				if rest, ok := strings.CutPrefix(p, "r2:"); ok {
					paths = append(paths, filepath.Join(r2, rest))
				} else if filepath.IsAbs(p) {
					paths = append(paths, p)
				} else {
					paths = append(paths, filepath.Join(r1, p))
				}
			}
			res, err := s.ScanPaths(context.Background(), prev.Tracks, prev.Playlists, paths)
			if err != nil {
				t.Fatal(err)
			}
			var present, missing []string
			for _, tr := range res.Tracks {
				name := rootName(tr.Root, []string{r1, r2}) + ":" + tr.Path
				if tr.Missing {
					missing = append(missing, name)
				} else {
					present = append(present, name)
				}
			}
			if diff := cmp.Diff(tt.want, present); diff != "" {
				t.Errorf("present tracks (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.missing, missing); diff != "" {
				t.Errorf("missing tracks (-want +got):\n%s", diff)
			}
			if res.Stats.Read != tt.reads {
				t.Errorf("read %d files, want %d", res.Stats.Read, tt.reads)
			}
			// Unchanged tracks are the same pointers, and every track has
			// the id a full scan gives it.
			old := keyed(&Snapshot{Tracks: prev.Tracks}, r1, r2)
			for k, tr := range keyed(&Snapshot{Tracks: res.Tracks}, r1, r2) {
				if o := old[k]; o != nil && o.ModTime == tr.ModTime && !tr.Missing && o != tr {
					t.Errorf("%s: unchanged track not reused", k)
				}
				if o := old[k]; o != nil && o.ID != tr.ID {
					t.Errorf("%s: id changed from %d to %d", k, o.ID, tr.ID)
				}
			}
			if len(missing) == 0 {
				full := scanOK(t, s, nil)
				if diff := cmp.Diff(ids(full.Tracks), ids(res.Tracks)); diff != "" {
					t.Errorf("ids differ from a full scan's (-full +partial):\n%s", diff)
				}
			}
			var list *Playlist
			for _, p := range res.Playlists {
				if p.Path == "list.m3u" {
					list = p
				}
			}
			if tt.list < 0 && list != nil {
				t.Errorf("list.m3u of an unavailable root returned")
			} else if tt.list >= 0 && (list == nil || len(list.Items) != tt.list) {
				t.Errorf("list.m3u: %+v, want %d entries", list, tt.list)
			}
		})
	}
}

func ids(ts []*Track) []uint32 {
	var out []uint32
	for _, t := range ts {
		out = append(out, t.ID)
	}
	return out
}

// runLibrary runs l until the test ends; it returns a stop function that
// cancels Run and waits for it.
func runLibrary(t *testing.T, l *Library) func() {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx) }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}
	t.Cleanup(stop)
	return stop
}

// waitFor waits for a snapshot after revision after that satisfies ok.
func waitFor(t *testing.T, cat *Catalog, after uint32, what string, ok func(*Snapshot) bool) *Snapshot {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		s, err := cat.Wait(ctx, after)
		if err != nil {
			t.Fatalf("%s: no such snapshot after revision %d: %v; last has %d tracks", what, after, err, len(s.Tracks))
		}
		if ok(s) {
			return s
		}
		after = s.Revision
	}
}

func TestLibraryCache(t *testing.T) {
	music, state := t.TempDir(), t.TempDir()
	write(t, music, map[string]string{"a/1.mp3": "title=1", "a/2.mp3": "title=2", "b/3.mp3": "title=3", "list.m3u": "a/1.mp3\nb/3.mp3\n"})
	var opened atomic.Int32
	gate := make(chan struct{})
	newLib := func(log *testkit.SyncBuffer) *Library {
		l, err := New(Config{Roots: []string{music}, StateDir: state, Workers: 2, Log: testLogger(log)})
		if err != nil {
			t.Fatal(err)
		}
		l.scanner.read = fakeRead
		l.scanner.open = func(name string) (readCloserAt, error) {
			opened.Add(1)
			<-gate
			return os.Open(name)
		}
		return l
	}

	// First run: no cache, everything is read; the cache is written when
	// Run returns.
	var log1 testkit.SyncBuffer
	l := newLib(&log1)
	close(gate)
	stop := runLibrary(t, l)
	first := waitFor(t, l.Catalog(), FirstRevision, "first scan", func(s *Snapshot) bool { return len(s.Tracks) == 3 && len(s.Playlists) == 1 })
	stop()
	if !strings.Contains(log1.String(), "no scan cache yet") {
		t.Errorf("first run log:\n%s", log1.String())
	}
	if _, err := os.Stat(filepath.Join(state, cacheFile)); err != nil {
		t.Fatalf("no cache after Run: %v", err)
	}

	// Second run: the catalog comes from the cache before any file is
	// opened, with the same ids, and the rescan opens nothing.
	opened.Store(0)
	gate = make(chan struct{})
	var log2 testkit.SyncBuffer
	l = newLib(&log2)
	stop = runLibrary(t, l)
	cached := waitFor(t, l.Catalog(), FirstRevision, "cached catalog", func(s *Snapshot) bool { return len(s.Tracks) == 3 })
	if diff := cmp.Diff(first.Tracks, cached.Tracks); diff != "" {
		t.Errorf("cached tracks differ (-scanned +cached):\n%s", diff)
	}
	if len(cached.Playlists) != 1 || !slices.Equal(cached.Playlists[0].Items, first.Playlists[0].Items) {
		t.Errorf("cached playlists %+v", cached.Playlists)
	}
	if st := l.Status(); st.Tracks != 3 {
		t.Errorf("status before the rescan: %+v", st)
	}
	close(gate)
	for l.Status().LastScan.IsZero() {
		time.Sleep(5 * time.Millisecond) // waiting for the rescan, not timing it
	}
	if n := opened.Load(); n != 0 {
		t.Errorf("the rescan of an unchanged library opened %d files", n)
	}
	if l.Catalog().Revision() != cached.Revision {
		t.Error("the rescan of an unchanged library published a new revision")
	}
	stop()

	// Third run after a change while stopped: only that file is read.
	write(t, music, map[string]string{"a/2.mp3": "title=two, longer"})
	opened.Store(0)
	var log3 testkit.SyncBuffer
	l = newLib(&log3)
	stop = runLibrary(t, l)
	s := waitFor(t, l.Catalog(), FirstRevision, "changed file", func(s *Snapshot) bool {
		tr := keyed(s, music)["r1:a/2.mp3"]
		return tr != nil && tr.Title == "two, longer"
	})
	stop()
	if n := opened.Load(); n != 1 {
		t.Errorf("opened %d files, want 1", n)
	}
	if keyed(s, music)["r1:a/2.mp3"].ID != keyed(first, music)["r1:a/2.mp3"].ID {
		t.Error("the changed file got a new id")
	}
}

func testLogger(l *testkit.SyncBuffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func TestLibraryCacheRejected(t *testing.T) {
	tests := []struct {
		name    string
		damage  func(t *testing.T, name string)
		wantLog string
	}{
		{"corrupt", func(t *testing.T, name string) {
			b, _ := os.ReadFile(name)
			b[len(b)/2] ^= 0xff
			os.WriteFile(name, b, 0o644)
		}, "checksum"},
		{"truncated", func(t *testing.T, name string) {
			fi, _ := os.Stat(name)
			os.Truncate(name, fi.Size()/2)
		}, "truncated"},
		{"newer format", func(t *testing.T, name string) {
			b, _ := os.ReadFile(name)
			binary.LittleEndian.PutUint32(b[len(cacheMagic):], cacheFormat+1)
			os.WriteFile(name, refoot(b), 0o644)
		}, "format 3, want 2"},
		{"other library", func(t *testing.T, name string) {
			os.WriteFile(name, encoded(t, &cacheData{LibraryID: testLibID}, trackFields, ScannerVersion), 0o644)
		}, "another library"},
		{"empty file", func(t *testing.T, name string) {
			os.WriteFile(name, nil, 0o644)
		}, "too short"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			music, state := t.TempDir(), t.TempDir()
			write(t, music, map[string]string{"a/1.mp3": "title=1", "a/2.mp3": "title=2"})
			l, err := New(Config{Roots: []string{music}, StateDir: state, LibraryID: "00000000000000aa"})
			if err != nil {
				t.Fatal(err)
			}
			l.scanner.read = fakeRead
			stop := runLibrary(t, l)
			waitFor(t, l.Catalog(), FirstRevision, "first scan", func(s *Snapshot) bool { return len(s.Tracks) == 2 })
			stop()
			name := filepath.Join(state, cacheFile)
			tt.damage(t, name)

			var log testkit.SyncBuffer
			l, err = New(Config{Roots: []string{music}, StateDir: state, LibraryID: "00000000000000aa", Log: testLogger(&log)})
			if err != nil {
				t.Fatal(err)
			}
			l.scanner.read = fakeRead
			var opened atomic.Int32
			l.scanner.open = func(name string) (readCloserAt, error) { opened.Add(1); return os.Open(name) }
			stop = runLibrary(t, l)
			s := waitFor(t, l.Catalog(), FirstRevision, "rescan", func(s *Snapshot) bool { return len(s.Tracks) > 0 })
			if len(s.Tracks) != 2 {
				t.Errorf("a damaged cache published %d tracks", len(s.Tracks))
			}
			stop()
			if n := opened.Load(); n != 2 {
				t.Errorf("full scan opened %d files, want 2", n)
			}
			if l := log.String(); !strings.Contains(l, "ignoring the scan cache") || !strings.Contains(l, tt.wantLog) {
				t.Errorf("log lacks the reason %q:\n%s", tt.wantLog, l)
			}
			if _, err := loadCache(name, "00000000000000aa"); err != nil {
				t.Errorf("the cache was not rebuilt: %v", err)
			}
		})
	}
}

// TestLibraryWatch drives a running library with watching on through the
// changes people make, one after another.
func TestLibraryWatch(t *testing.T) {
	r1, r2 := filepath.Join(t.TempDir(), "music"), filepath.Join(t.TempDir(), "nas")
	write(t, r1, map[string]string{
		"A/Album/1.mp3": "title=a1", "A/Album/2.mp3": "title=a2", "A/Album/3.mp3": "title=a3",
		"B/Album/1.mp3": "title=b1", "list.m3u": "A/Album/1.mp3\n",
	})
	write(t, r2, map[string]string{"C/Live/1.mp3": "title=c1", "C/Live/2.mp3": "title=c2"})
	var log testkit.SyncBuffer
	l, err := New(Config{Roots: []string{r1, r2}, StateDir: t.TempDir(), Watch: true, Log: testLogger(&log)})
	if err != nil {
		t.Fatal(err)
	}
	l.scanner.read = fakeRead
	l.watchQuiet, l.watchMaxWait = 20*time.Millisecond, 200*time.Millisecond
	runLibrary(t, l)
	cat := l.Catalog()
	snap := waitFor(t, cat, FirstRevision, "first scan", func(s *Snapshot) bool { return len(s.Tracks) == 6 })
	initial := keyed(snap, r1, r2) // the watcher was ready before the first scan

	title := func(s *Snapshot, key string) string {
		if tr := keyed(s, r1, r2)[key]; tr != nil && !tr.Missing {
			return tr.Title
		}
		return ""
	}
	steps := []struct {
		name   string
		change func(t *testing.T)
		done   func(s *Snapshot) bool
	}{
		{"add", func(t *testing.T) {
			write(t, r1, map[string]string{"A/Album/4.mp3": "title=a4"})
		}, func(s *Snapshot) bool { return title(s, "r1:A/Album/4.mp3") == "a4" }},
		{"modify tags, same size", func(t *testing.T) {
			write(t, r1, map[string]string{"A/Album/1.mp3": "title=A1"})
		}, func(s *Snapshot) bool { return title(s, "r1:A/Album/1.mp3") == "A1" }},
		{"rename", func(t *testing.T) {
			os.Rename(filepath.Join(r1, "A/Album/2.mp3"), filepath.Join(r1, "A/Album/2 renamed.mp3"))
		}, func(s *Snapshot) bool {
			return title(s, "r1:A/Album/2 renamed.mp3") == "a2" && keyed(s, r1, r2)["r1:A/Album/2.mp3"] == nil
		}},
		{"delete", func(t *testing.T) {
			os.Remove(filepath.Join(r1, "A/Album/3.mp3"))
		}, func(s *Snapshot) bool { return keyed(s, r1, r2)["r1:A/Album/3.mp3"] == nil }},
		{"add while writing", func(t *testing.T) {
			f, err := os.Create(filepath.Join(r1, "A/Album/5.mp3"))
			if err != nil {
				t.Fatal(err)
			}
			f.WriteString("title=half")
			f.Sync()
			f.WriteString(" and the rest")
			f.Close()
		}, func(s *Snapshot) bool { return title(s, "r1:A/Album/5.mp3") == "half and the rest" }},
		{"folder created with files", func(t *testing.T) {
			write(t, r1, map[string]string{"N/New/1.mp3": "title=n1", "N/New/2.mp3": "title=n2"})
		}, func(s *Snapshot) bool {
			return title(s, "r1:N/New/1.mp3") == "n1" && title(s, "r1:N/New/2.mp3") == "n2"
		}},
		{"playlist edited", func(t *testing.T) {
			write(t, r1, map[string]string{"list.m3u": "A/Album/1.mp3\nN/New/1.mp3\nN/New/2.mp3\n"})
		}, func(s *Snapshot) bool { return len(s.Playlists) == 1 && len(s.Playlists[0].Items) == 3 }},
		{"a single album deleted", func(t *testing.T) {
			os.RemoveAll(filepath.Join(r1, "B/Album"))
		}, func(s *Snapshot) bool { return keyed(s, r1, r2)["r1:B/Album/1.mp3"] == nil }},
		{"a root removed", func(t *testing.T) {
			if err := os.Rename(r2, r2+".away"); err != nil { // as sudden as an unmount
				t.Fatal(err)
			}
		}, func(s *Snapshot) bool {
			m := keyed(s, r1, r2)
			return m["r2:C/Live/1.mp3"] != nil && m["r2:C/Live/1.mp3"].Missing && m["r2:C/Live/2.mp3"].Missing
		}},
		{"the root restored", func(t *testing.T) {
			if err := os.Rename(r2+".away", r2); err != nil {
				t.Fatal(err)
			}
			l.Rescan() // a returning mount sends no events; the periodic or manual rescan finds it
		}, func(s *Snapshot) bool {
			m := keyed(s, r1, r2)
			return m["r2:C/Live/1.mp3"] != nil && !m["r2:C/Live/1.mp3"].Missing && !m["r2:C/Live/2.mp3"].Missing
		}},
		{"the restored root is watched again", func(t *testing.T) {
			write(t, r2, map[string]string{"C/Live/3.mp3": "title=c3"})
		}, func(s *Snapshot) bool { return title(s, "r2:C/Live/3.mp3") == "c3" }},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			before := cat.Revision()
			st.change(t)
			snap = waitFor(t, cat, before, st.name, st.done)
		})
	}
	// Ids are stable through all of it.
	final := keyed(snap, r1, r2)
	for _, k := range []string{"r1:A/Album/1.mp3", "r1:A/Album/4.mp3", "r2:C/Live/1.mp3", "r2:C/Live/2.mp3"} {
		if o, ok := initial[k]; ok && final[k].ID != o.ID {
			t.Errorf("%s: id %d became %d", k, o.ID, final[k].ID)
		}
	}
	if t.Failed() {
		t.Logf("log:\n%s", log.String())
	}
}

// TestLibraryInterruptedFirstScan stops a first scan half-way: what was
// published is cached, and the next start reads only the rest.
func TestLibraryInterruptedFirstScan(t *testing.T) {
	music, state := t.TempDir(), t.TempDir()
	write(t, music, map[string]string{"a.mp3": "title=a", "b.mp3": "title=b", "c.mp3": "title=c"})
	var opened []string
	var mu sync.Mutex
	release := make(chan struct{})
	l, err := New(Config{Roots: []string{music}, StateDir: state, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	l.scanner.read = fakeRead
	l.scanner.every.partial = time.Millisecond
	var third string // files are read in inode order: any of the three
	l.scanner.open = func(name string) (readCloserAt, error) {
		mu.Lock()
		opened = append(opened, filepath.Base(name))
		n := len(opened)
		if n == 3 {
			third = opened[2]
		}
		mu.Unlock()
		if n == 3 {
			<-release // stuck until shutdown
		}
		return os.Open(name)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx) }()
	waitFor(t, l.Catalog(), FirstRevision, "partial catalog", func(s *Snapshot) bool { return len(s.Tracks) == 2 })
	cancel()
	close(release) // the third file is opened after the cancel: the scan is abandoned
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	d, err := loadCache(filepath.Join(state, cacheFile), l.LibraryID())
	if err != nil || len(d.Tracks) != 2 {
		t.Fatalf("the partial catalog was not cached: %v", err)
	}

	l, err = New(Config{Roots: []string{music}, StateDir: state, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	l.scanner.read = fakeRead
	mu.Lock()
	opened = nil
	mu.Unlock()
	l.scanner.open = func(name string) (readCloserAt, error) {
		mu.Lock()
		opened = append(opened, filepath.Base(name))
		mu.Unlock()
		return os.Open(name)
	}
	stop := runLibrary(t, l)
	waitFor(t, l.Catalog(), FirstRevision, "full catalog", func(s *Snapshot) bool { return len(s.Tracks) == 3 })
	for l.Status().Scanning {
		time.Sleep(time.Millisecond)
	}
	stop()
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(opened, []string{third}) {
		t.Errorf("the second start opened %v, want just %s", opened, third)
	}
}

// TestLibraryRootReturns runs issue 8's three reproductions with no manual
// rescan: a root moved away and back, deleted and re-created with other
// files, and re-created at once. Each time the root is reported unavailable
// while away (its tracks kept, marked Missing), available again once back,
// with exactly the files it then holds, and watched for later changes.
func TestLibraryRootReturns(t *testing.T) {
	cases := []struct {
		name  string
		cycle func(t *testing.T, root string, wait func(what string, ok func(*Snapshot) bool))
		want  []string // tracks after the cycle
	}{
		{"mv away, wait, mv back", func(t *testing.T, root string, wait func(string, func(*Snapshot) bool)) {
			if err := os.Rename(root, root+".gone"); err != nil {
				t.Fatal(err)
			}
			wait("root away", allMissing)
			if err := os.Rename(root+".gone", root); err != nil {
				t.Fatal(err)
			}
		}, []string{"A/1.mp3", "A/2.mp3", "B/1.mp3"}},
		{"rm -rf, wait, mkdir, copy", func(t *testing.T, root string, wait func(string, func(*Snapshot) bool)) {
			if err := os.RemoveAll(root); err != nil {
				t.Fatal(err)
			}
			wait("root away", allMissing)
			if err := os.Mkdir(root, 0o755); err != nil {
				t.Fatal(err)
			}
			write(t, root, map[string]string{"A/1.mp3": "title=a1", "N/1.mp3": "title=n1", "N/2.mp3": "title=n2"})
		}, []string{"A/1.mp3", "N/1.mp3", "N/2.mp3"}},
		{"rm -rf and re-created at once", func(t *testing.T, root string, wait func(string, func(*Snapshot) bool)) {
			if err := os.RemoveAll(root); err != nil {
				t.Fatal(err)
			}
			write(t, root, map[string]string{"Q/1.mp3": "title=q1"})
		}, []string{"Q/1.mp3"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			root := filepath.Join(t.TempDir(), "music")
			write(t, root, map[string]string{"A/1.mp3": "title=a1", "A/2.mp3": "title=a2", "B/1.mp3": "title=b1"})
			var log testkit.SyncBuffer
			l, err := New(Config{Roots: []string{root}, StateDir: t.TempDir(), Watch: true, Log: testLogger(&log)})
			if err != nil {
				t.Fatal(err)
			}
			l.scanner.read = fakeRead
			l.watchQuiet, l.watchMaxWait, l.watchPoll = 20*time.Millisecond, 200*time.Millisecond, 50*time.Millisecond
			runLibrary(t, l)
			cat := l.Catalog()
			waitFor(t, cat, FirstRevision, "first scan", func(s *Snapshot) bool { return len(s.Tracks) == 3 })
			wait := func(what string, ok func(*Snapshot) bool) {
				t.Helper()
				waitFor(t, cat, FirstRevision, what, ok)
			}
			present := func(want []string) func(*Snapshot) bool {
				return func(s *Snapshot) bool {
					var got []string
					for _, tr := range s.Tracks {
						if tr.Missing {
							return false
						}
						got = append(got, tr.Path)
					}
					return slices.Equal(got, want)
				}
			}
			for round := range 2 {
				tc.cycle(t, root, wait)
				wait("root back", present(tc.want))
				if st := l.Status(); st.LastError != "" {
					t.Errorf("round %d: still unavailable after the root came back: %s", round, st.LastError)
				}
				// Watched again: a new file appears without a rescan.
				write(t, root, map[string]string{"Z/new.mp3": "title=z"})
				wait("watched again", present(append(slices.Clone(tc.want), "Z/new.mp3")))
				os.RemoveAll(filepath.Join(root, "Z"))
				wait("removal seen", present(tc.want))
			}
			if t.Failed() {
				t.Logf("log:\n%s", log.String())
			}
		})
	}
}

func allMissing(s *Snapshot) bool {
	for _, t := range s.Tracks {
		if !t.Missing {
			return false
		}
	}
	return len(s.Tracks) > 0
}

// A gob cache of an older daapd serves the catalog at once, without
// reading a file, and is rewritten in the binary format.
func TestLibraryMigratesGobCache(t *testing.T) {
	music, state := t.TempDir(), t.TempDir()
	write(t, music, map[string]string{"a/1.mp3": "title=1", "a/2.mp3": "title=2", "list.m3u": "a/2.mp3\n"})
	cfg := Config{Roots: []string{music}, StateDir: state, LibraryID: testLibID}
	l, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	l.scanner.read = fakeRead
	stop := runLibrary(t, l)
	first := waitFor(t, l.Catalog(), FirstRevision, "first scan", func(s *Snapshot) bool { return len(s.Tracks) == 2 })
	stop()
	name := filepath.Join(state, cacheFile)
	d, err := loadCache(name, testLibID)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(name, gobCache(t, d), 0o644)

	var log testkit.SyncBuffer
	cfg.Log = testLogger(&log)
	l, err = New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	l.scanner.read = fakeRead
	var opened atomic.Int32
	l.scanner.open = func(name string) (readCloserAt, error) { opened.Add(1); return os.Open(name) }
	stop = runLibrary(t, l)
	s := waitFor(t, l.Catalog(), FirstRevision, "restart", func(s *Snapshot) bool { return len(s.Tracks) > 0 })
	if diff := cmp.Diff(first.Tracks, s.Tracks); diff != "" {
		t.Errorf("tracks from the gob cache (-scanned +cached):\n%s", diff)
	}
	for l.Status().Scanning {
		time.Sleep(time.Millisecond)
	}
	stop()
	if n := opened.Load(); n != 0 {
		t.Errorf("the restart read %d files", n)
	}
	if !strings.Contains(log.String(), "gob format") {
		t.Errorf("the migration was not logged:\n%s", log.String())
	}
	b, _ := os.ReadFile(name)
	if !bytes.HasPrefix(b, []byte(cacheMagic)) {
		t.Fatalf("the cache was not rewritten in the binary format: %q", b[:min(len(b), 16)])
	}
	if d2, err := loadCache(name, testLibID); err != nil || len(d2.Tracks) != 2 || len(d2.Playlists) != 1 {
		t.Fatalf("rewritten cache: %v", err)
	}
}

// gobCache writes d as the last gob-writing daapd did, copying Track
// fields into gobTrack by name.
func gobCache(t *testing.T, d *cacheData) []byte {
	t.Helper()
	hd := gobHeader{Schema: gobSchema, Layout: gobLayout, Scanner: ScannerVersion, LibraryID: d.LibraryID,
		Tracks: len(d.Tracks), Playlists: len(d.Playlists), Saved: time.Now()}
	root := func(r string) int {
		if i := slices.Index(hd.Roots, r); i >= 0 {
			return i
		}
		hd.Roots = append(hd.Roots, r)
		return len(hd.Roots) - 1
	}
	var chunks []gobChunk
	for _, tr := range d.Tracks {
		x, a := tr.extra(), tr.Art()
		g := gobTrack{ID: tr.ID, PersistentID: tr.PersistentID, AlbumID: tr.AlbumID, ArtistID: tr.ArtistID,
			Path: tr.Path, DiskPath: x.DiskPath, Title: tr.Title, Artist: tr.Artist, AlbumArtist: tr.AlbumArtist,
			Album: tr.Album, Composer: x.Composer, Genre: tr.Genre, Comment: x.Comment, Grouping: x.Grouping,
			SortTitle: x.SortTitle, SortArtist: x.SortArtist, SortAlbumArtist: x.SortAlbumArtist,
			SortAlbum: x.SortAlbum, SortComposer: x.SortComposer, Year: int(tr.Year), TrackNumber: int(tr.TrackNumber),
			TrackCount: int(tr.TrackCount), DiscNumber: int(tr.DiscNumber), DiscCount: int(tr.DiscCount),
			BPM: int(tr.BPM), Compilation: tr.Compilation, DurationMS: tr.DurationMS, Bitrate: int(tr.Bitrate),
			SampleRate: int(tr.SampleRate), Channels: int(tr.Channels), Codec: tr.Codec, Format: tr.Format,
			BitsPerSample: int(tr.BitsPerSample), MediaKind: uint8(tr.MediaKind), TagKind: uint8(tr.TagKind),
			Size: tr.Size, ModTime: tr.ModTime.Time(), Added: tr.Added.Time(), Missing: tr.Missing}
		g.Artwork.Source, g.Artwork.Path = uint8(a.Source), a.Path
		chunks = append(chunks, gobChunk{Root: root(tr.Root), Tracks: []gobTrack{g}})
	}
	var pls gobPlaylists
	for _, p := range d.Playlists {
		var g gobPlaylist
		copyByName(reflect.ValueOf(&g).Elem(), reflect.ValueOf(p).Elem())
		g.Root = ""
		pls.Playlists = append(pls.Playlists, gobPlaylistRef{Root: root(p.Root), P: g})
	}
	var b bytes.Buffer
	b.WriteString(gobMagic)
	enc := gob.NewEncoder(&b)
	for _, v := range []any{&hd} {
		if err := enc.Encode(v); err != nil {
			t.Fatal(err)
		}
	}
	for i := range chunks {
		enc.Encode(&chunks[i])
	}
	if err := enc.Encode(&pls); err != nil {
		t.Fatal(err)
	}
	return gobFooter(b.Bytes())
}

func copyByName(dst, src reflect.Value) {
	for i := range dst.NumField() {
		f := dst.Field(i)
		s := src.FieldByName(dst.Type().Field(i).Name)
		if f.Kind() == reflect.Struct && f.Type() != reflect.TypeFor[time.Time]() {
			copyByName(f, s)
			continue
		}
		f.Set(s.Convert(f.Type()))
	}
}
