package daap

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/daapd/daapd/library"
	fixtures "github.com/daapd/daapd/music-fixtures"
)

// fixtureServer scans music-fixtures/ and serves it on a loopback port
// with a real listener and http.Server; it returns host:port.
func fixtureServer(t *testing.T, password string) string {
	t.Helper()
	res, err := (&library.Scanner{Roots: []string{fixtures.Dir()}, LibraryID: "daap-test"}).Scan(context.Background(), nil)
	if err != nil {
		t.Fatalf("scan: %v", err)
	}
	cat := library.NewCatalog()
	cat.Publish(res.Tracks, library.EvalPlaylists("daap-test", res.Tracks, res.Playlists, library.SmartConfig{}, time.Now()))
	log := slog.New(slog.DiscardHandler)
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	srv := New(Config{Name: "daapd fixtures", Password: password, Version: "test", Catalog: cat, Log: log})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := NewHTTPServer(srv.Handler())
	done := make(chan error, 1)
	go func() { done <- hs.Serve(ln) }()
	t.Cleanup(func() {
		srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := hs.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("serve: %v", err)
		}
	})
	return ln.Addr().String()
}

// clientKit locates ../shared/clients/run-all.sh (or $DAAPD_CLIENTS) and
// skips the test when it or the client packages are missing.
func clientKit(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("DAAPD_CLIENTS")
	if dir == "" {
		dir = filepath.Join("..", "..", "shared", "clients")
	}
	script, err := filepath.Abs(filepath.Join(dir, "run-all.sh"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(script); err != nil {
		t.Skipf("client kit not found (%v); set DAAPD_CLIENTS", err)
	}
	for _, tool := range []string{"curl", "perl", "/usr/bin/python3"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (the kit needs: curl perl libnet-daap-dmap-perl python3-gi gir1.2-dmap-3.0 libdmapsharing-3.0-2 tshark bc)", tool)
		}
	}
	if err := exec.Command("perl", "-MNet::DAAP::DMAP", "-e1").Run(); err != nil {
		t.Skip("Net::DAAP::DMAP not installed (apt-get install libnet-daap-dmap-perl)")
	}
	if err := exec.Command("/usr/bin/python3", "-c", "import gi; gi.require_version('DMAP', '3.0')").Run(); err != nil {
		t.Skip("libdmapsharing GObject bindings not installed (apt-get install python3-gi gir1.2-dmap-3.0)")
	}
	return script
}

// TestRealClients runs the client kit (libdmapsharing 2.9.41, Perl's
// Net::DAAP::DMAP, Wireshark's dissector, the iTunes/Music.app/Rhythmbox
// field checklist) with --strict against a real server over
// music-fixtures/, without and with a password.
func TestRealClients(t *testing.T) {
	if testing.Short() {
		t.Skip("slow: runs external clients")
	}
	script := clientKit(t)
	for _, pw := range []string{"", "kit pass:word"} {
		name := "open"
		if pw != "" {
			name = "password"
		}
		t.Run(name, func(t *testing.T) {
			addr := fixtureServer(t, pw)
			out := t.TempDir()
			args := []string{"--strict", "--out", out}
			if pw != "" {
				args = append(args, "--password", pw)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, script, append(args, addr)...)
			log, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("run-all.sh %s %s: %v\n%s", strings.Join(args, " "), addr, err, log)
			}
			t.Logf("run-all.sh: %s", lastLine(log))
			checkRhythmboxView(t, filepath.Join(out, "dmap-client.json"))
		})
	}
}

// checkRhythmboxView compares what libdmapsharing loaded (dmap_client.py's
// JSON) with music-fixtures/expected.json: every song, every playlist with
// its resolvable entries (smart playlists: what they select).
func checkRhythmboxView(t *testing.T, path string) {
	t.Helper()
	exp, err := fixtures.Load()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("libdmapsharing result: %v", err)
	}
	var got struct {
		Songs     int
		Playlists []struct {
			Name    string
			Entries int
		}
	}
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	if got.Songs != len(exp.Tracks) {
		t.Errorf("libdmapsharing loaded %d songs, want %d", got.Songs, len(exp.Tracks))
	}
	want := map[string]int{}
	for _, tr := range exp.Tracks { // the built-in Audiobooks and Podcasts
		switch tr.MediaKind {
		case "audiobook":
			want[library.AudiobooksName]++
		case "podcast":
			want[library.PodcastsName]++
		}
	}
	for _, pl := range exp.Playlists {
		for _, p := range pl.Resolves {
			if p != nil {
				want[pl.Name]++
			}
		}
	}
	have := map[string]int{}
	for _, pl := range got.Playlists {
		have[pl.Name] = pl.Entries
	}
	if fmt.Sprint(have) != fmt.Sprint(want) {
		t.Errorf("libdmapsharing playlists %v, want %v", have, want)
	}
}

func lastLine(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return lines[len(lines)-1]
}
