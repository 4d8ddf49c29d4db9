package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	fixtures "github.com/daapd/daapd/music-fixtures"
)

func TestRunScanJSON(t *testing.T) {
	exp, err := fixtures.Load()
	if err != nil {
		t.Skipf("music-fixtures: %v", err)
	}
	state := t.TempDir()
	os.WriteFile(filepath.Join(state, "library-id"), []byte("0123456789abcdef\n"), 0o644)
	var stdout, stderr bytes.Buffer
	// Flags may come after the folder.
	code := runScan(context.Background(), []string{fixtures.Dir(), "--json", "--state-dir", state}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr.String())
	}
	keys := []string{"album", "album_artist", "artist", "artwork", "bitrate", "codec", "disc", "duration_ms",
		"genre", "item_id", "media_kind", "path", "persistent_id", "sample_rate", "title", "track", "year"}
	seen := map[string]bool{}
	ids := map[float64]bool{}
	for line := range strings.Lines(stdout.String()) {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		var got []string
		for k := range m {
			got = append(got, k)
		}
		slices.Sort(got)
		if !slices.Equal(got, keys) {
			t.Fatalf("keys %v, want %v", got, keys)
		}
		p := m["path"].(string)
		e, ok := exp.Track(p)
		if !ok {
			t.Errorf("unexpected track %s", p)
			continue
		}
		seen[p] = true
		if e.Title != "" && m["title"] != e.Title {
			t.Errorf("%s: title %v, want %s", p, m["title"], e.Title)
		}
		if m["media_kind"] != e.MediaKind {
			t.Errorf("%s: media_kind %v, want %s", p, m["media_kind"], e.MediaKind)
		}
		if m["codec"] != e.Codec {
			t.Errorf("%s: codec %v, want %s", p, m["codec"], e.Codec)
		}
		switch e.Artwork {
		case "embedded", "none":
			if m["artwork"] != e.Artwork {
				t.Errorf("%s: artwork %v, want %s", p, m["artwork"], e.Artwork)
			}
		case "file":
			if m["artwork"] != e.ArtworkPath {
				t.Errorf("%s: artwork %v, want %s", p, m["artwork"], e.ArtworkPath)
			}
		}
		id := m["item_id"].(float64)
		if id < 1000 || ids[id] {
			t.Errorf("%s: item id %v small or repeated", p, id)
		}
		ids[id] = true
	}
	for _, e := range exp.Tracks {
		if !seen[e.Path] {
			t.Errorf("fixture %s not listed", e.Path)
		}
	}
	if !strings.Contains(stderr.String(), "scan finished") {
		t.Errorf("no summary on stderr:\n%s", stderr.String())
	}

	// The same library id gives the same ids; the state dir is only read.
	var again bytes.Buffer
	runScan(context.Background(), []string{"--json", "--state-dir", state, fixtures.Dir()}, &again, &stderr)
	if again.String() != stdout.String() {
		t.Error("a second scan printed something else")
	}
	fresh := filepath.Join(t.TempDir(), "absent")
	var other bytes.Buffer
	if code := runScan(context.Background(), []string{"--json", "--state-dir", fresh, fixtures.Dir()}, &other, &stderr); code != 0 {
		t.Fatalf("exit %d without a library id", code)
	}
	if _, err := os.Stat(fresh); err == nil {
		t.Error("daapd scan created the state dir")
	}
	if other.String() == stdout.String() {
		t.Error("another library id printed the same ids")
	}
}

func TestRunScanErrors(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o644)
	tests := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"missing dir", []string{"/nonexistent/music"}, 1, "no such folder"},
		{"not a dir", []string{file}, 1, "not a folder"},
		{"no dir", []string{"--json"}, 2, "usage"},
		{"two dirs", []string{"/a", "/b"}, 2, "usage"},
		{"bad flag", []string{"--nope", "/a"}, 2, "not defined"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := runScan(context.Background(), append(tt.args, "--state-dir", t.TempDir()), &stdout, &stderr)
			if code != tt.code || !strings.Contains(stderr.String(), tt.msg) || stdout.Len() != 0 {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, stderr.String(), tt.code, tt.msg)
			}
		})
	}
}

func TestRunScanEmptyDir(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := runScan(context.Background(), []string{"--json", "--state-dir", t.TempDir(), t.TempDir()}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if stdout.Len() != 0 || !strings.Contains(stderr.String(), "tracks=0") {
		t.Errorf("stdout %q stderr %q", stdout.String(), stderr.String())
	}
}

func TestRunPlaylists(t *testing.T) {
	exp, err := fixtures.Load()
	if err != nil {
		t.Skipf("music-fixtures: %v", err)
	}
	var stdout, stderr bytes.Buffer
	args := []string{"--playlists", "--json", "--state-dir", t.TempDir(), "--recently-added-days", "0", fixtures.Dir()}
	if code := runScan(context.Background(), args, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr.String())
	}
	got := map[string]jsonPlaylist{}
	for line := range strings.Lines(stdout.String()) {
		var p jsonPlaylist
		if err := json.Unmarshal([]byte(line), &p); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		got[p.Name] = p
	}
	want := map[string]int{"Audiobooks": 0, "Podcasts": 0}
	for _, tr := range exp.Tracks {
		switch tr.MediaKind {
		case "audiobook":
			want["Audiobooks"]++
		case "podcast":
			want["Podcasts"]++
		}
	}
	for _, pl := range exp.Playlists {
		for _, r := range pl.Resolves {
			if r != nil {
				want[pl.Name]++
			}
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d playlists, want %d:\n%s", len(got), len(want), stdout.String())
	}
	for name, n := range want {
		if p, ok := got[name]; !ok || p.Tracks != n {
			t.Errorf("%s: %+v, want %d tracks", name, p, n)
		}
	}
	if w := got["Road Trip"].Warnings; len(w) != 1 || !strings.Contains(w[0], "1 of 6 entries not found") {
		t.Errorf("Road Trip warnings %q", w)
	}

	// --config adds the configured smart playlists and settings; flags win.
	conf := filepath.Join(t.TempDir(), "daapd.yaml")
	os.WriteFile(conf, []byte("recently_added_days: 0\nsmart_playlists:\n  - name: Lossy\n    query: codectype is \"mp3\" or codectype is \"aac\"\n"), 0o644)
	stdout.Reset()
	args = []string{"--playlists", "--config", conf, "--recently-added-days", "3650", "--state-dir", t.TempDir(), fixtures.Dir()}
	if code := runScan(context.Background(), args, &stdout, &stderr); code != 0 {
		t.Fatalf("--config: exit %d\n%s", code, stderr.String())
	}
	lossy := 0
	for _, tr := range exp.Tracks {
		if tr.Codec == "mp3" || tr.Codec == "aac" {
			lossy++
		}
	}
	for _, want := range []string{fmt.Sprintf("Lossy: %d tracks (smart playlist)", lossy), "Recently Added: "} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("--config: output lacks %q:\n%s", want, stdout.String())
		}
	}
	os.WriteFile(conf, []byte("smart_playlists:\n  - name: Bad\n    query: yeer > 1\n"), 0o644)
	stderr.Reset()
	if code := runScan(context.Background(), []string{"--playlists", "--config", conf, fixtures.Dir()}, &stdout, &stderr); code != 2 ||
		!strings.Contains(stderr.String(), `unknown field "yeer"`) {
		t.Errorf("bad config: exit %d, %s", code, stderr.String())
	}

	// A broken .smartpl is listed with its position and fails the command.
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "ok.smartpl"), []byte(`"Rated" { rating > 3 }`), 0o644)
	os.WriteFile(filepath.Join(dir, "bad.smartpl"), []byte("\"Bad\" {\n  year = \"x\"\n}\n"), 0o644)
	stdout.Reset()
	if code := runScan(context.Background(), []string{"--playlists", "--state-dir", t.TempDir(), dir}, &stdout, &stderr); code != 1 {
		t.Errorf("exit %d with a broken playlist, want 1", code)
	}
	for _, want := range []string{
		"Recently Added: 0 tracks (smart playlist)",
		"Rated: 0 tracks (smart playlist ok.smartpl)\n  warning: daapd does not track rating",
		"error: " + filepath.Join(dir, "bad.smartpl") + ":2:10: expected a number after year =",
	} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, stdout.String())
		}
	}
}
