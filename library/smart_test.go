package library

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/daapd/daapd/library/smartpl"
	"github.com/google/go-cmp/cmp"
)

func TestScanMediaKinds(t *testing.T) {
	music := t.TempDir()
	write(t, music, map[string]string{
		"music/song.mp3":     "title=song\ngenre=Rock",
		"books/a.mp3":        "genre=Audiobooks",
		"books/b.mp3":        "genre=Hörbuch",
		"books/c.m4a":        "stik=2",
		"books/d.m4b":        "title=d",
		"pods/e.mp3":         "podcast",
		"pods/f.m4a":         "stik=21",
		"pods/g.mp3":         "genre=Podcast",
		"shows/h.mp3":        "genre=Rock",
		"shows/deeper/i.mp3": "genre=Rock",
		"tagged-music/j.m4a": "stik=1\ngenre=Jazz",
	})
	s, _ := testScanner(music)
	s.PodcastFolders = []string{filepath.Join(music, "shows")}
	res := scanOK(t, s, nil)
	kinds := func(ts []*Track) map[string]string {
		m := map[string]string{}
		for _, tr := range ts {
			m[tr.Path] = tr.Kind().String()
		}
		return m
	}
	want := map[string]string{
		"music/song.mp3": "music", "books/a.mp3": "audiobook", "books/b.mp3": "audiobook", "books/c.m4a": "audiobook",
		"books/d.m4b": "audiobook", "pods/e.mp3": "podcast", "pods/f.m4a": "podcast", "pods/g.mp3": "podcast",
		"shows/h.mp3": "podcast", "shows/deeper/i.mp3": "podcast", "tagged-music/j.m4a": "music",
	}
	if diff := cmp.Diff(want, kinds(res.Tracks)); diff != "" {
		t.Errorf("media kinds (-want +got):\n%s", diff)
	}
	// A rescan with other folders changes the kind of unchanged files too.
	s.PodcastFolders, s.AudiobookFolders = nil, []string{filepath.Join(music, "music")}
	res2 := scanOK(t, s, res.Tracks)
	want["shows/h.mp3"], want["shows/deeper/i.mp3"], want["music/song.mp3"] = "music", "music", "audiobook"
	if diff := cmp.Diff(want, kinds(res2.Tracks)); diff != "" {
		t.Errorf("after changing folders (-want +got):\n%s", diff)
	}
	if res2.Stats.Read != 0 {
		t.Errorf("%d files read again; only the kind changed", res2.Stats.Read)
	}
}

func TestFirstSeen(t *testing.T) {
	music := t.TempDir()
	write(t, music, map[string]string{"old.mp3": "title=old", "changed.mp3": "title=v1"})
	past := time.Date(2020, 5, 1, 10, 0, 0, 0, time.UTC)
	for _, n := range []string{"old.mp3", "changed.mp3"} {
		if err := os.Chtimes(filepath.Join(music, n), past, past); err != nil {
			t.Fatal(err)
		}
	}
	s, _ := testScanner(music)
	// Without previous tracks (no cache), first seen is the mtime.
	res := scanOK(t, s, nil)
	for _, tr := range res.Tracks {
		if !tr.Added.Time().Equal(past) {
			t.Errorf("%s: added %v, want its mtime %v", tr.Path, tr.Added, past)
		}
	}
	// With them, a new file is first seen now, and a changed one keeps its date.
	start := time.Now().Add(-time.Second)
	write(t, music, map[string]string{"new.mp3": "title=new", "changed.mp3": "title=v2"})
	if err := os.Chtimes(filepath.Join(music, "new.mp3"), past, past); err != nil {
		t.Fatal(err)
	}
	res2 := scanOK(t, s, res.Tracks)
	if tr := byPath(res2.Tracks, "new.mp3"); tr.Added.Time().Before(start) {
		t.Errorf("new file added %v, want the scan time (after %v)", tr.Added, start)
	}
	if tr := byPath(res2.Tracks, "changed.mp3"); tr.Title != "v2" || !tr.Added.Time().Equal(past) {
		t.Errorf("changed file: %q added %v, want v2 added %v", tr.Title, tr.Added, past)
	}
	// The date survives the scan cache.
	name := filepath.Join(t.TempDir(), "cache")
	if err := saveCache(name, &cacheData{LibraryID: s.LibraryID, Tracks: res2.Tracks}); err != nil {
		t.Fatal(err)
	}
	d, err := loadCache(name, s.LibraryID)
	if err != nil {
		t.Fatal(err)
	}
	if tr := byPath(d.Tracks, "old.mp3"); !tr.Added.Time().Equal(past) {
		t.Errorf("cached: added %v, want %v", tr.Added, past)
	}

	// A cache from another track layout is not used, but an upgrade that
	// reads every file again keeps the dates it holds.
	b := encoded(t, &cacheData{LibraryID: s.LibraryID, Tracks: res2.Tracks}, trackFields[:len(trackFields)-1], ScannerVersion)
	if err := os.WriteFile(name, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := loadCache(name, s.LibraryID); !errors.Is(err, ErrCacheStale) {
		t.Fatalf("outdated cache: %v, want ErrCacheStale", err)
	}
	seen, err := salvageFirstSeen(name, s.LibraryID)
	if err != nil || len(seen) != 3 {
		t.Fatalf("salvaged %d dates, %v", len(seen), err)
	}
	if _, err := salvageFirstSeen(name, "another library"); !errors.Is(err, ErrCacheForeign) {
		t.Errorf("another library's cache: %v", err)
	}
	newAdded := byPath(res2.Tracks, "new.mp3").Added.Time()
	write(t, music, map[string]string{"newer.mp3": "title=newer"})
	if err := os.Chtimes(filepath.Join(music, "newer.mp3"), past, past); err != nil {
		t.Fatal(err)
	}
	s.firstSeen = seen
	res3 := scanOK(t, s, nil)
	if res3.Stats.Read != 4 {
		t.Errorf("%d files read, want all 4", res3.Stats.Read)
	}
	for p, want := range map[string]time.Time{"old.mp3": past, "changed.mp3": past, "new.mp3": newAdded} {
		if got := byPath(res3.Tracks, p).Added.Time(); !got.Equal(want) {
			t.Errorf("after the upgrade, %s added %v, want %v", p, got, want)
		}
	}
	if got := byPath(res3.Tracks, "newer.mp3").Added.Time(); got.Before(start) {
		t.Errorf("a file new to the salvaged cache: added %v, want the scan time", got)
	}
}

func TestScanSmartplFiles(t *testing.T) {
	music := t.TempDir()
	write(t, music, map[string]string{
		"a.mp3":              "title=a\ngenre=Jazz",
		"b.mp3":              "title=b\ngenre=Rock",
		"lists/Jazz.smartpl": "\"Jazz\" {\n  genre is \"jazz\" or play_count > 3\n}\n",
		"lists/Bad.SMARTPL":  "\"Bad\" {\n  genre iz \"jazz\"\n}\n",
	})
	s, logs := testScanner(music)
	s.warned = map[string]string{}
	res := scanOK(t, s, nil)
	if len(res.Playlists) != 1 || res.Playlists[0].Name != "Jazz" || !res.Playlists[0].Smart {
		t.Fatalf("playlists %+v", res.Playlists)
	}
	if w := res.Playlists[0].Warnings; len(w) != 1 || !strings.Contains(w[0], "play_count") {
		t.Errorf("warnings %q", w)
	}
	var se *smartpl.SyntaxError
	if len(res.PlaylistErrors) != 1 || !errors.As(res.PlaylistErrors[0], &se) ||
		se.File != filepath.Join(music, "lists/Bad.SMARTPL") || se.Line != 2 || se.Col != 9 {
		t.Fatalf("playlist errors %v", res.PlaylistErrors)
	}
	if !strings.Contains(logs.String(), "Bad.SMARTPL:2:9: expected is, includes") {
		t.Errorf("log lacks the position:\n%s", logs)
	}
	pls := EvalPlaylists(s.LibraryID, res.Tracks, res.Playlists, SmartConfig{}, time.Now())
	if len(pls) != 1 || len(pls[0].Items) != 1 || pls[0].Items[0] != byPath(res.Tracks, "a.mp3").ID {
		t.Errorf("evaluated %+v", pls)
	}
	// A rescan warns again only when a file changed.
	before := strings.Count(logs.String(), "level=WARN")
	res = scanOK(t, s, res.Tracks)
	if n := strings.Count(logs.String(), "level=WARN"); n != before {
		t.Errorf("rescan logged %d more warnings:\n%s", n-before, logs)
	}
	if len(res.PlaylistErrors) != 1 {
		t.Errorf("rescan: %d playlist errors, want 1", len(res.PlaylistErrors))
	}
}

// smartTracks are tracks for evaluation tests, in catalog order.
func smartTracks(now time.Time) []*Track {
	mk := func(id uint32, path string, added time.Duration, kind MediaKind, year int) *Track {
		return &Track{ID: id, PersistentID: uint64(id), Root: "/m", Path: path, Title: path,
			Added: StampOf(now.Add(-added)), MediaKind: kind, Year: uint16(year)}
	}
	day := 24 * time.Hour
	return []*Track{
		mk(1001, "a", 40*day, MediaMusic, 1965),
		mk(1002, "b", 2*day, MediaMusic, 1999),
		mk(1003, "c", 10*day, MediaAudiobook, 2001),
		mk(1004, "d", 1*time.Hour, MediaMusic, 1960),
		mk(1005, "e", 29*day, MediaMusic, 2010),
	}
}

func names(pls []*Playlist) map[string][]uint32 {
	m := map[string][]uint32{}
	for _, p := range pls {
		m[p.Name] = p.Items
	}
	return m
}

func TestEvalPlaylists(t *testing.T) {
	now := time.Date(2025, 6, 18, 12, 0, 0, 0, time.UTC)
	tracks := smartTracks(now)
	oldies, err := smartpl.ParseQuery("Oldies", "year < 1970 order by year limit 5")
	if err != nil {
		t.Fatal(err)
	}
	file, err := smartpl.Parse(`"Newest two" { year > 0 order by time_added desc limit 2 }`)
	if err != nil {
		t.Fatal(err)
	}
	pls := []*Playlist{
		{ID: 2001, Name: "List", Root: "/m", Path: "l.m3u", Items: []uint32{1005, 1001}},
		{ID: 2002, Name: "Newest two", Root: "/m", Path: "n.smartpl", Smart: true, Query: file.String()},
	}
	cfg := SmartConfig{Playlists: []*smartpl.Playlist{oldies}, RecentlyAddedDays: 30}
	got := EvalPlaylists("lib", tracks, pls, cfg, now)
	want := map[string][]uint32{
		RecentlyAddedName: {1004, 1002, 1003, 1005}, // newest first
		AudiobooksName:    {1003},
		"Oldies":          {1004, 1001},
		"List":            {1005, 1001},
		"Newest two":      {1004, 1002},
	}
	if diff := cmp.Diff(want, names(got)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	var order []string
	for _, p := range got {
		order = append(order, p.Name)
	}
	if diff := cmp.Diff([]string{RecentlyAddedName, AudiobooksName, "Oldies", "List", "Newest two"}, order); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}
	if got[1].Special != SpecialAudiobooks || !got[0].Smart || got[0].Special != 0 || got[3].Smart {
		t.Errorf("flags: %+v %+v %+v", got[0], got[1], got[3])
	}
	// Evaluating the result again gives the same playlists and ids.
	again := EvalPlaylists("lib", tracks, got, cfg, now)
	if diff := cmp.Diff(got, again); diff != "" {
		t.Errorf("not idempotent:\n%s", diff)
	}
	// Ids are stable across calls and distinct.
	ids := map[uint32]bool{}
	for _, p := range got {
		if ids[p.ID] || p.ID < minItemID {
			t.Errorf("playlist %q: id %d", p.Name, p.ID)
		}
		ids[p.ID] = true
	}
	// recently_added_days: 0 turns it off; no podcasts, no Podcasts playlist.
	got = EvalPlaylists("lib", tracks, nil, SmartConfig{}, now)
	if diff := cmp.Diff(map[string][]uint32{AudiobooksName: {1003}}, names(got)); diff != "" {
		t.Errorf("off (-want +got):\n%s", diff)
	}
}

// TestSmartRevision checks that a smart playlist changing on its own (a
// track ages out of Recently Added) publishes a new revision, which is what
// releases parked /update requests, and that nothing changing publishes none.
func TestSmartRevision(t *testing.T) {
	music := t.TempDir()
	write(t, music, map[string]string{"a.mp3": "title=a"})
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	l, err := New(Config{Roots: []string{music}, LibraryID: "0123456789abcdef", Now: clock,
		Smart: SmartConfig{RecentlyAddedDays: 30}})
	if err != nil {
		t.Fatal(err)
	}
	l.scanner.read = fakeRead
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	res, err := l.scanner.Scan(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	l.publish(ctx, res, nil)
	s := l.cat.Snapshot()
	if n := names(s.Playlists)[RecentlyAddedName]; len(n) != 1 {
		t.Fatalf("Recently Added %v, want the new track", n)
	}
	l.refreshSmart()
	if l.cat.Revision() != s.Revision {
		t.Errorf("refresh without change published revision %d", l.cat.Revision())
	}
	mu.Lock()
	now = now.AddDate(0, 0, 31)
	mu.Unlock()
	l.refreshSmart()
	s2 := l.cat.Snapshot()
	if s2.Revision != s.Revision+1 || len(names(s2.Playlists)[RecentlyAddedName]) != 0 {
		t.Errorf("after 31 days: revision %d (was %d), Recently Added %v", s2.Revision, s.Revision, names(s2.Playlists)[RecentlyAddedName])
	}
}

// BenchmarkEvalPlaylists evaluates the built-ins and two smart playlists
// (one sorted, one random) over 100,000 tracks: the work added to every
// publish.
func BenchmarkEvalPlaylists(b *testing.B) {
	now := time.Date(2025, 6, 18, 12, 0, 0, 0, time.UTC)
	genres := []string{"Jazz", "Rock", "Pop", "Techno-Industrial", "Audiobook"}
	tracks := make([]*Track, 100_000)
	for i := range tracks {
		tracks[i] = &Track{ID: uint32(minItemID + i), Root: "/m", Path: fmt.Sprintf("a%06d.mp3", i),
			Artist: fmt.Sprintf("Artist %d", i%900), Genre: genres[i%len(genres)], Year: uint16(1950 + i%70),
			Added: StampOf(now.Add(-time.Duration(i) * time.Minute)), MediaKind: MediaMusic, DurationMS: uint32(i % 600_000)}
	}
	a, _ := smartpl.Parse(`"Jazz before 1970" { genre includes "jazz" and year < 1970 order by year desc }`)
	r, _ := smartpl.Parse(`"Random" { artist starts with "artist 1" order by random limit 50 }`)
	pls := []*Playlist{
		{ID: 1, Root: "/m", Path: "a.smartpl", Smart: true, Query: a.String()},
		{ID: 2, Root: "/m", Path: "r.smartpl", Smart: true, Query: r.String()},
	}
	cfg := SmartConfig{RecentlyAddedDays: 30}
	b.ReportAllocs()
	for b.Loop() {
		EvalPlaylists("lib", tracks, pls, cfg, now)
	}
}
