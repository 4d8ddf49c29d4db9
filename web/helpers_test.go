package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/daapd/daapd/daap"
	"github.com/daapd/daapd/library"
	fixtures "github.com/daapd/daapd/music-fixtures"
)

const shareName = "Web Test Share"

// testServer serves the music fixtures, a folder of broken files and a
// missing folder through the DAAP router with the pages mounted.
type testServer struct {
	*httptest.Server
	lib  *library.Library
	daap *daap.Server
	web  *Server
}

func newTestServer(t *testing.T, password string) *testServer {
	t.Helper()
	bad := t.TempDir()
	for name, data := range map[string]string{
		"Broken/noise.mp3":  "this is not an mp3 file at all, just words and more words",
		"Broken/empty.flac": "",
		"Broken/old.mid":    "MThd",
		"Broken/mix.m3u":    "nowhere.mp3\n",
	} {
		p := filepath.Join(bad, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	lib, err := library.New(library.Config{
		Roots:     []string{fixtures.Dir(), bad, filepath.Join(t.TempDir(), "missing-share")},
		LibraryID: "web-test",
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- lib.Run(ctx) }()
	// Wait for the first scan to finish.
	for i := 0; ; i++ {
		st := lib.Status()
		if !st.LastScan.IsZero() {
			break
		}
		if i > 600 {
			t.Fatal("first scan did not finish")
		}
		time.Sleep(50 * time.Millisecond)
	}
	m := NewMetrics()
	d := daap.New(daap.Config{Name: shareName, Password: password, Catalog: lib.Catalog(), Version: "test",
		Middleware: []func(h http.Handler) http.Handler{m.Middleware}})
	w := New(Config{Addr: "http://127.0.0.1:3689/", Version: "test", Password: password, Catalog: lib.Catalog(),
		Status: lib.Status, Rescan: lib.Rescan, DAAP: d, Metrics: m,
		Announce: func() Announce { return Announce{Backend: "embedded", State: "announced", Name: shareName} }})
	r := d.Handler()
	w.Mount(r)
	ts := &testServer{Server: httptest.NewServer(r), lib: lib, daap: d, web: w}
	t.Cleanup(func() {
		ts.Close()
		d.Close()
		cancel()
		<-done
	})
	return ts
}
