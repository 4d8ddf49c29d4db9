package library

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/daapd/daapd/internal/testkit"
)

func TestDebouncer(t *testing.T) {
	const quiet, maxWait = 1000, 3000 // ms
	type step struct {
		at    int              // ms since start
		set   map[string]int64 // file sizes changed before the step (-1 removes)
		event string           // an event on this path, or
		fire  bool             // fire the timer; want is what it returns
		want  []string
	}
	tests := []struct {
		name  string
		files map[string]int64
		steps []step
	}{
		{"settled file", map[string]int64{"/m/a.mp3": 10}, []step{
			{at: 0, event: "/m/a.mp3"},
			{at: 1000, fire: true, want: []string{"/m/a.mp3"}},
		}},
		{"fired too early", map[string]int64{"/m/a.mp3": 10}, []step{
			{at: 0, event: "/m/a.mp3"},
			{at: 999, fire: true},
			{at: 1000, fire: true, want: []string{"/m/a.mp3"}},
		}},
		{"a burst is one batch", map[string]int64{"/m/a.mp3": 10, "/m/b.mp3": 10}, []step{
			{at: 0, event: "/m/a.mp3"},
			{at: 600, event: "/m/b.mp3"},
			{at: 1000, fire: true},
			{at: 1600, fire: true, want: []string{"/m/a.mp3", "/m/b.mp3"}},
		}},
		{"size still changing waits", map[string]int64{"/m/a.mp3": 10}, []step{
			{at: 0, event: "/m/a.mp3"},
			{at: 900, set: map[string]int64{"/m/a.mp3": 20}}, // written without an event reaching us yet
			{at: 1000, fire: true},
			{at: 1500, set: map[string]int64{"/m/a.mp3": 30}},
			{at: 2000, fire: true},
			{at: 3000, fire: true, want: []string{"/m/a.mp3"}},
		}},
		{"max wait lets settled files through a busy one", map[string]int64{"/m/busy.mp3": 1, "/m/done.mp3": 5}, []step{
			{at: 0, event: "/m/done.mp3"},
			{at: 100, event: "/m/busy.mp3"},
			{at: 900, event: "/m/busy.mp3"},
			{at: 1800, event: "/m/busy.mp3"},
			{at: 2700, event: "/m/busy.mp3"},
			{at: 3000, fire: true, want: []string{"/m/done.mp3"}},
			{at: 3700, fire: true, want: []string{"/m/busy.mp3"}},
		}},
		{"removed file", map[string]int64{}, []step{
			{at: 0, event: "/m/gone.mp3"},
			{at: 1000, fire: true, want: []string{"/m/gone.mp3"}},
		}},
		{"removed while waiting", map[string]int64{"/m/a.mp3": 10}, []step{
			{at: 0, event: "/m/a.mp3"},
			{at: 500, set: map[string]int64{"/m/a.mp3": -1}},
			{at: 1000, fire: true},
			{at: 2000, fire: true, want: []string{"/m/a.mp3"}},
		}},
		{"new folder stands for its files", map[string]int64{"/m/New/1.mp3": 1, "/m/New/2.mp3": 1, "/m/Newer.mp3": 1}, []step{
			{at: 0, event: "/m/New"},
			{at: 10, event: "/m/New/1.mp3"},
			{at: 20, event: "/m/New/2.mp3"},
			{at: 30, event: "/m/Newer.mp3"},
			{at: 1030, fire: true, want: []string{"/m/New", "/m/Newer.mp3"}},
		}},
		{"nothing pending", nil, []step{
			{at: 5000, fire: true},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := make(map[string]int64)
			for p, s := range tt.files {
				files[p] = s
			}
			stat := func(p string) stamp {
				if strings.HasSuffix(p, "/New") {
					return stamp{exists: true, dir: true}
				}
				s, ok := files[p]
				if !ok {
					return stamp{}
				}
				return stamp{exists: true, size: s}
			}
			start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			d := newDebouncer(quiet*time.Millisecond, maxWait*time.Millisecond, stat)
			for i, s := range tt.steps {
				for p, size := range s.set {
					if size < 0 {
						delete(files, p)
					} else {
						files[p] = size
					}
				}
				now := start.Add(time.Duration(s.at) * time.Millisecond)
				if s.event != "" {
					d.add(s.event, now)
					if at, ok := d.deadline(); !ok || !at.After(now) {
						t.Errorf("step %d: deadline %v, %v after an event", i, at, ok)
					}
					continue
				}
				if s.fire {
					if diff := cmp.Diff(s.want, d.fire(now)); diff != "" {
						t.Errorf("step %d at %dms: fire (-want +got):\n%s", i, s.at, diff)
					}
				}
			}
			if _, ok := d.deadline(); ok {
				t.Errorf("paths still pending: %v", d.pending)
			}
		})
	}
}

func TestCollapse(t *testing.T) {
	tests := []struct{ in, want []string }{
		{nil, nil},
		{[]string{"/m/b", "/m/a", "/m/b"}, []string{"/m/a", "/m/b"}},
		{[]string{"/m/a/x.mp3", "/m/a", "/m/ab/y.mp3"}, []string{"/m/a", "/m/ab/y.mp3"}},
		{[]string{"/m/b c/x", "/m/b/x/y", "/m/b", "/m/b c"}, []string{"/m/b", "/m/b c"}},
		{[]string{"/m/a/b/c/d.mp3", "/m/a/b"}, []string{"/m/a/b"}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, collapse(tt.in, filepath.Separator)); diff != "" {
			t.Errorf("collapse(%q) (-want +got):\n%s", tt.in, diff)
		}
	}
}

// debugLogger logs at debug level into b.
func debugLogger(b *testkit.SyncBuffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// writeTree creates files (relative path → content) under root.
func writeTree(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for rel, content := range files {
		p := filepath.Join(root, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// startWatcher runs a watcher with short debounce times over root and
// returns it with a stop function that waits for Run to return.
func startWatcher(t *testing.T, w *Watcher) func() {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	select {
	case <-w.Ready():
	case <-time.After(30 * time.Second):
		t.Fatal("watcher not ready")
	}
	return func() {
		cancel()
		if err := <-done; err != context.Canceled {
			t.Errorf("Run returned %v", err)
		}
	}
}

// collect reads batches until every path of want was reported (a path
// counts when it or a folder above it came) and returns everything
// reported, relative to root.
func collect(t *testing.T, w *Watcher, root string, want []string) []string {
	t.Helper()
	var got []string
	covered := func(p string) bool {
		for _, g := range got {
			if g == p || strings.HasPrefix(p, g+"/") {
				return true
			}
		}
		return false
	}
	timeout := time.After(30 * time.Second)
	for {
		done := true
		for _, p := range want {
			done = done && covered(p)
		}
		if done {
			return got
		}
		select {
		case batch := <-w.Changes():
			for _, p := range batch {
				rel, err := filepath.Rel(root, p)
				if err != nil || strings.HasPrefix(rel, "..") {
					t.Fatalf("reported path %q outside the root", p)
				}
				got = append(got, filepath.ToSlash(rel))
			}
		case <-timeout:
			t.Fatalf("waiting for %q; got %q", want, got)
		}
	}
}

func TestWatcher(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{
		"Artist/Album/01.mp3":  "one",
		"Artist/Album/02.mp3":  "two",
		"Artist/Album/03.mp3":  "three",
		"Other/Live/01.mp3":    "live",
		"Gone/Old/01.mp3":      "old",
		"Moved/Album/01.mp3":   "moved",
		"@eaDir/thumb/x.jpg":   "nas",
		"Artist/Album/art.jpg": "jpeg",
	})
	logs := &testkit.SyncBuffer{}
	w := NewWatcher(WatchConfig{Roots: []string{root}, Quiet: 20 * time.Millisecond, MaxWait: 200 * time.Millisecond, Log: debugLogger(logs)})
	stop := startWatcher(t, w)
	defer stop()
	if !w.Complete() {
		t.Fatalf("a local temporary folder is not completely watched:\n%s", logs)
	}
	abs := func(rel string) string { return filepath.Join(root, filepath.FromSlash(rel)) }

	steps := []struct {
		name   string
		change func(t *testing.T)
		want   []string // each must be reported (or a folder above it)
		never  []string // must not be reported
	}{
		{"add", func(t *testing.T) {
			writeTree(t, root, map[string]string{"Artist/Album/04.mp3": "four"})
		}, []string{"Artist/Album/04.mp3"}, []string{"Artist/Album/01.mp3"}},
		{"modify with the same size", func(t *testing.T) {
			writeTree(t, root, map[string]string{"Artist/Album/01.mp3": "ONE"})
		}, []string{"Artist/Album/01.mp3"}, nil},
		{"rename", func(t *testing.T) {
			if err := os.Rename(abs("Artist/Album/02.mp3"), abs("Artist/Album/02 renamed.mp3")); err != nil {
				t.Fatal(err)
			}
		}, []string{"Artist/Album/02.mp3", "Artist/Album/02 renamed.mp3"}, nil},
		{"delete", func(t *testing.T) {
			if err := os.Remove(abs("Artist/Album/03.mp3")); err != nil {
				t.Fatal(err)
			}
		}, []string{"Artist/Album/03.mp3"}, nil},
		{"folder created with files", func(t *testing.T) {
			writeTree(t, root, map[string]string{"New/Album/01.mp3": "n1", "New/Album/02.mp3": "n2"})
		}, []string{"New/Album/01.mp3", "New/Album/02.mp3"}, nil},
		{"the new folder is watched", func(t *testing.T) {
			writeTree(t, root, map[string]string{"New/Album/03.mp3": "n3"})
		}, []string{"New/Album/03.mp3"}, nil},
		{"attribute change ignored, hidden and NAS files ignored", func(t *testing.T) {
			if err := os.Chmod(abs("Other/Live/01.mp3"), 0o600); err != nil {
				t.Fatal(err)
			}
			now := time.Now().Add(-time.Hour)
			os.Chtimes(abs("Artist/Album/01.mp3"), now, now)
			writeTree(t, root, map[string]string{".partial.mp3": "x", "@eaDir/thumb/y.jpg": "y", "marker.mp3": "m"})
		}, []string{"marker.mp3"}, []string{"Other/Live/01.mp3", "Artist/Album/01.mp3", ".partial.mp3", "@eaDir"}},
		{"folder removed", func(t *testing.T) {
			if err := os.RemoveAll(abs("Gone")); err != nil {
				t.Fatal(err)
			}
		}, []string{"Gone"}, nil},
		{"folder renamed, then written to", func(t *testing.T) {
			if err := os.Rename(abs("Moved"), abs("Moved Here")); err != nil {
				t.Fatal(err)
			}
			writeTree(t, root, map[string]string{"Moved Here/Album/02.mp3": "m2"})
		}, []string{"Moved", "Moved Here"}, nil},
		{"the renamed folder's subfolders are watched under the new name", func(t *testing.T) {
			writeTree(t, root, map[string]string{"Moved Here/Album/03.mp3": "m3"})
		}, []string{"Moved Here/Album/03.mp3"}, []string{"Moved/Album/03.mp3"}},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			s.change(t)
			got := collect(t, w, root, s.want)
			for _, g := range got {
				for _, n := range s.never {
					if g == n || strings.HasPrefix(g, n+"/") {
						t.Errorf("reported %q", g)
					}
				}
			}
		})
	}
	if strings.Contains(logs.String(), "level=WARN") {
		t.Errorf("warnings:\n%s", logs)
	}
}

func TestWatcherRootRemoved(t *testing.T) {
	parent := t.TempDir()
	root := filepath.Join(parent, "music")
	writeTree(t, root, map[string]string{"A/1.mp3": "1"})
	w := NewWatcher(WatchConfig{Roots: []string{root}, Quiet: 20 * time.Millisecond, Log: slog.New(slog.DiscardHandler)})
	stop := startWatcher(t, w)
	defer stop()
	if err := os.RemoveAll(root); err != nil {
		t.Fatal(err)
	}
	collect(t, w, parent, []string{"music/A"})

	// The root comes back: Resync watches it again.
	writeTree(t, root, map[string]string{"A/1.mp3": "1"})
	w.Resync()
	writeTree(t, root, map[string]string{"A/2.mp3": "2"})
	collect(t, w, parent, []string{"music/A/2.mp3"})
}

func TestWatcherOutOfWatches(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{"A/1.mp3": "", "B/1.mp3": "", "C/1.mp3": "", "D/1.mp3": ""})
	logs := &testkit.SyncBuffer{}
	w := NewWatcher(WatchConfig{Roots: []string{root}, Quiet: 20 * time.Millisecond, Poll: 20 * time.Millisecond, Log: debugLogger(logs)})
	var mu sync.Mutex
	var added []string
	w.add = func(dir string) error {
		mu.Lock()
		defer mu.Unlock()
		if len(added) == 2 {
			return fmt.Errorf("add %q: %w", dir, syscall.ENOSPC)
		}
		added = append(added, dir)
		return w.fsnAdd(dir)
	}
	stop := startWatcher(t, w)
	if w.Complete() {
		t.Error("Complete after running out of watches")
	}
	w.Resync()
	w.Resync()
	// The folders beyond the limit (B, C, D) are polled: a new album in
	// one of them, or a new folder in a watched one, is still reported.
	writeTree(t, root, map[string]string{"C/New/1.mp3": "1"})
	collect(t, w, root, []string{"C"})
	writeTree(t, root, map[string]string{"A/New/1.mp3": "1"})
	collect(t, w, root, []string{"A/New"})
	writeTree(t, root, map[string]string{"A/New/Disc 2/1.mp3": "1"})
	collect(t, w, root, []string{"A/New"})
	os.RemoveAll(filepath.Join(root, "D"))
	collect(t, w, root, []string{"D"})
	stop()
	if n := strings.Count(logs.String(), "out of inotify watches"); n != 1 {
		t.Errorf("logged %d times, want once:\n%s", n, logs)
	}
	if !strings.Contains(logs.String(), "max_user_watches") {
		t.Errorf("the log does not say how to fix it:\n%s", logs)
	}
}

func TestWatcherRemoteFilesystem(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{"Local/1.mp3": "", "NAS/Album/1.mp3": ""})
	logs := &testkit.SyncBuffer{}
	w := NewWatcher(WatchConfig{Roots: []string{root}, Log: debugLogger(logs)})
	w.remoteF = func(dir string) (bool, string) {
		if filepath.Base(dir) == "NAS" {
			return true, "nfs"
		}
		return false, "ext4"
	}
	stop := startWatcher(t, w)
	complete := w.Complete()
	stop()
	if complete {
		t.Error("Complete with a folder on NFS")
	}
	if w.watched[filepath.Join(root, "NAS")] || w.watched[filepath.Join(root, "NAS", "Album")] {
		t.Error("a folder on NFS is watched")
	}
	if !w.watched[filepath.Join(root, "Local")] {
		t.Error("the local folder is not watched")
	}
	if l := logs.String(); !strings.Contains(l, "filesystem=nfs") || !strings.Contains(l, "rescan_interval") {
		t.Errorf("log:\n%s", l)
	}
}

func TestRemoteFilesystem(t *testing.T) {
	if remote, _ := remoteFilesystem(t.TempDir()); remote {
		t.Error("the temporary folder counts as a network filesystem")
	}
	for magic, want := range map[int64]string{0x6969: "nfs", 0xFF534D42: "cifs", 0xFE534D42: "smb2", 0x65735546: "fuse", 0xEF53: "0xef53"} {
		if got := fsKind(magic); got != want {
			t.Errorf("fsKind(%#x) = %q, want %q", magic, got, want)
		}
	}
}

// TestWatcherRootReturns: a root that disappears and comes back (moved
// back, re-created, re-created at once) is watched again and reported,
// through its parent's watch or, when the parent cannot be watched, by
// polling.
func TestWatcherRootReturns(t *testing.T) {
	cases := []struct {
		name string
		away func(t *testing.T, root string)
		back func(t *testing.T, root string)
	}{
		{"moved away and back", func(t *testing.T, root string) {
			if err := os.Rename(root, root+".gone"); err != nil {
				t.Fatal(err)
			}
		}, func(t *testing.T, root string) {
			if err := os.Rename(root+".gone", root); err != nil {
				t.Fatal(err)
			}
		}},
		{"deleted and re-created", func(t *testing.T, root string) {
			if err := os.RemoveAll(root); err != nil {
				t.Fatal(err)
			}
		}, func(t *testing.T, root string) {
			writeTree(t, root, map[string]string{"B/1.mp3": "1"})
		}},
	}
	for _, parentWatched := range []bool{true, false} {
		for _, tc := range cases {
			name := tc.name
			if !parentWatched {
				name += ", parent not watchable"
			}
			t.Run(name, func(t *testing.T) {
				parent := t.TempDir()
				root := filepath.Join(parent, "music")
				writeTree(t, root, map[string]string{"A/1.mp3": "1"})
				writeTree(t, parent, map[string]string{"sibling/x.mp3": "x"})
				logs := &testkit.SyncBuffer{}
				w := NewWatcher(WatchConfig{Roots: []string{root}, Quiet: 20 * time.Millisecond, Poll: 50 * time.Millisecond, Log: debugLogger(logs)})
				if !parentWatched {
					w.addParent = func(string) error { return syscall.EACCES }
				}
				stop := startWatcher(t, w)
				defer stop()
				for round := range 2 { // and again: the new watches work as the first did
					tc.away(t, root)
					collect(t, w, parent, []string{"music"})
					tc.back(t, root)
					collect(t, w, parent, []string{"music"})
					f := fmt.Sprintf("C/%d.mp3", round)
					writeTree(t, root, map[string]string{f: "new"})
					got := collect(t, w, parent, []string{"music/" + f})
					for _, g := range got {
						if strings.HasPrefix(g, "sibling") {
							t.Errorf("reported a sibling of the root: %q", g)
						}
					}
				}
				writeTree(t, parent, map[string]string{"sibling/y.mp3": "y", "other/z.mp3": "z"})
				writeTree(t, root, map[string]string{"D/1.mp3": "d"})
				for _, g := range collect(t, w, parent, []string{"music/D/1.mp3"}) {
					if !strings.HasPrefix(g, "music") {
						t.Errorf("reported %q outside the root", g)
					}
				}
				if t.Failed() {
					t.Logf("log:\n%s", logs)
				}
			})
		}
	}
}
