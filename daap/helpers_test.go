package daap

import (
	"encoding/base64"
	"net/http/httptest"
	"testing"

	"github.com/daapd/daapd/library"
)

func base64Std(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// envWith serves tracks (files under root) with cfg, over httptest.
func envWith(t testing.TB, root string, cfg Config, tracks ...*library.Track) *testEnv {
	t.Helper()
	cat := library.NewCatalog()
	cat.Publish(tracks, nil)
	cfg.Catalog = cat
	if cfg.Version == "" {
		cfg.Version = "test"
	}
	srv := New(cfg)
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() { srv.Close(); hs.Close() })
	return &testEnv{srv: srv, http: hs, cat: cat, root: root}
}
