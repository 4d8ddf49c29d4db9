package library

import (
	"context"
	"errors"
	"os"
	"sync/atomic"
	"testing"
	"time"
)

func TestLibraryRun(t *testing.T) {
	music, state := t.TempDir(), t.TempDir()
	write(t, music, map[string]string{"a/1.mp3": "title=1", "a/2.mp3": "title=2", "list.m3u": "a/1.mp3\na/2.mp3\n"})
	l, err := New(Config{Roots: []string{music}, StateDir: state, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	l.scanner.read = fakeRead
	if id, err := ReadLibraryID(state); err != nil || id != l.LibraryID() {
		t.Fatalf("library id %q not persisted: %q %v", l.LibraryID(), id, err)
	}
	cat := l.Catalog()
	if cat.Revision() != FirstRevision {
		t.Fatalf("revision %d before the first scan", cat.Revision())
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx) }()

	wait := func(after uint32, tracks int) *Snapshot {
		t.Helper()
		wctx, wcancel := context.WithTimeout(ctx, 20*time.Second)
		defer wcancel()
		for {
			s, err := cat.Wait(wctx, after)
			if err != nil {
				t.Fatalf("waiting for %d tracks after revision %d: %v", tracks, after, err)
			}
			if len(s.Tracks) == tracks {
				return s
			}
			after = s.Revision
		}
	}
	s := wait(FirstRevision, 2)
	for l.Status().Scanning { // publish happens before Scanning clears
		time.Sleep(time.Millisecond)
	}
	st := l.Status()
	if st.Tracks != 2 || st.Playlists != 1 || st.Revision != s.Revision || st.LastScan.IsZero() || st.LastError != "" {
		t.Errorf("status %+v", st)
	}
	if len(s.Playlists) != 1 || len(s.Playlists[0].Items) != 2 {
		t.Errorf("playlists %+v", s.Playlists)
	}

	// A rescan after adding a file publishes a new revision with it.
	write(t, music, map[string]string{"b/3.mp3": "title=3"})
	l.Rescan()
	s2 := wait(s.Revision, 3)
	if t1, _ := s2.Track(s.Tracks[0].ID); t1 != s.Tracks[0] {
		t.Error("unchanged track not reused by the rescan")
	}
	for l.Status().Scanning {
		time.Sleep(time.Millisecond)
	}

	// Unmounting the root keeps the tracks and the playlist.
	os.RemoveAll(music)
	l.Rescan()
	s3, err := cat.Wait(ctx, s2.Revision)
	if err != nil {
		t.Fatal(err)
	}
	if len(s3.Tracks) != 3 || !s3.Tracks[0].Missing || len(s3.Playlists) != 1 {
		t.Errorf("after unmount: %d tracks (missing=%v), %d playlists", len(s3.Tracks), s3.Tracks[0].Missing, len(s3.Playlists))
	}
	for l.Status().Scanning {
		time.Sleep(time.Millisecond)
	}
	if l.Status().LastError == "" {
		t.Error("status does not report the unavailable root")
	}

	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run returned %v after cancel", err)
	}
	if _, err := cat.Wait(context.Background(), s3.Revision); !errors.Is(err, ErrClosed) {
		t.Errorf("catalog not closed after Run: %v", err)
	}
}

func TestLibraryProgressivePublish(t *testing.T) {
	music := t.TempDir()
	write(t, music, map[string]string{"a.mp3": "title=a", "b.mp3": "title=b"})
	l, err := New(Config{Roots: []string{music}, LibraryID: "00000000000000aa", Workers: 1,
		Smart: SmartConfig{RecentlyAddedDays: 30}})
	if err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	l.scanner.read = fakeRead
	l.scanner.every.partial = time.Millisecond
	// The second file opened waits: files are read in inode order, and
	// which of a and b gets the lower inode is not fixed.
	var opened atomic.Int32
	l.scanner.open = func(name string) (readCloserAt, error) {
		if opened.Add(1) == 2 {
			<-release
		}
		return os.Open(name)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx) }()
	s, err := l.Catalog().Wait(ctx, FirstRevision)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Tracks) != 1 || !l.Status().Scanning {
		t.Errorf("partial snapshot has %d tracks, scanning=%v", len(s.Tracks), l.Status().Scanning)
	}
	recent := func(s *Snapshot) int {
		for _, p := range s.Playlists {
			if p.Name == RecentlyAddedName {
				return len(p.Items)
			}
		}
		return -1
	}
	if n := recent(s); n != 1 {
		t.Errorf("partial snapshot: %s holds %d tracks, want 1", RecentlyAddedName, n)
	}
	close(release)
	s, _ = l.Catalog().Wait(ctx, s.Revision)
	if len(s.Tracks) != 2 || recent(s) != 2 {
		t.Errorf("final snapshot has %d tracks, %s %d", len(s.Tracks), RecentlyAddedName, recent(s))
	}
	cancel()
	<-done
}

func TestNewErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
	}{
		{"no roots", Config{LibraryID: "x"}},
		{"no id or state", Config{Roots: []string{"/m"}}},
		{"negative interval", Config{Roots: []string{"/m"}, LibraryID: "x", RescanInterval: -1}},
	}
	for _, tt := range tests {
		if _, err := New(tt.cfg); err == nil {
			t.Errorf("%s: no error", tt.name)
		}
	}
}

func TestRescanCoalesces(t *testing.T) {
	l, err := New(Config{Roots: []string{t.TempDir()}, LibraryID: "00000000000000aa"})
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		l.Rescan() // never blocks
	}
	if n := len(l.trigger); n != 1 {
		t.Errorf("%d pending rescans, want 1", n)
	}
}
