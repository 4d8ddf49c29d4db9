package main

import (
	"bytes"
	"context"
	"encoding/json"
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
		"genre", "item_id", "path", "persistent_id", "sample_rate", "title", "track", "year"}
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
