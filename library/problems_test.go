package library

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestScanSkips(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a/noise.mp3", "this is not an mp3 file at all, just words and more words")
	write("a/empty.flac", "")
	write("b/song.mid", "MThd")
	write("b/list.m3u", "nothere.mp3\n")
	sc := &Scanner{Roots: []string{dir}, LibraryID: "test"}
	res, err := sc.Scan(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	type kp struct{ Path, Kind string }
	var got []kp
	for _, s := range res.Skips {
		if s.Root != dir || s.Reason == "" {
			t.Errorf("skip %+v: want root %s and a reason", s, dir)
		}
		got = append(got, kp{s.Path, s.Kind})
	}
	slices.SortFunc(got, func(a, b kp) int {
		if a.Path < b.Path {
			return -1
		}
		return 1
	})
	want := []kp{{"a/empty.flac", SkipNoAudio}, {"a/noise.mp3", SkipBroken}, {"b/list.m3u", SkipPlaylist}, {"b/song.mid", SkipUnsupported}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("skips (-want +got):\n%s", d)
	}
}

func TestMergeSkips(t *testing.T) {
	m := t.TempDir()
	os.MkdirAll(filepath.Join(m, "a"), 0o755)
	os.MkdirAll(filepath.Join(m, "c"), 0o755)
	os.WriteFile(filepath.Join(m, "a", "changed.mp3"), nil, 0o644)
	old := []Skip{{Root: m, Path: "a/x.mp3"}, {Root: m, Path: "b/y.mp3"}, {Root: m, Path: "c/d/z.mp3"}, {Root: m, Path: "e/gone/w.mp3"}, {Root: m, Path: "e/v.mp3"}}
	fresh := []Skip{{Root: m, Path: "a/new.mp3"}}
	got := mergeSkips(old, fresh, []string{filepath.Join(m, "a", "changed.mp3"), filepath.Join(m, "c"), filepath.Join(m, "e", "gone")})
	want := []Skip{{Root: m, Path: "a/new.mp3"}, {Root: m, Path: "b/y.mp3"}, {Root: m, Path: "e/v.mp3"}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("merge (-want +got):\n%s", d)
	}
}
