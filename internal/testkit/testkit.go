// Package testkit holds what daapd's tests share: the -update flag, golden
// file comparison and a log sink that several goroutines may write to.
// Only _test.go files import it.
package testkit

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

// Update is the -update flag: tests rewrite their golden files (or
// re-measure recorded data) instead of comparing with them.
var Update = flag.Bool("update", false, "rewrite golden files under testdata/ (and re-measure recorded data)")

// Golden compares got with the file at path, or writes it (creating its
// directory) when -update is set.
func Golden(t testing.TB, path string, got []byte) {
	t.Helper()
	if *Update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (rewrite with go test -update)", err)
	}
	if bytes.Equal(want, got) {
		return
	}
	if utf8.Valid(want) && utf8.Valid(got) {
		t.Errorf("%s mismatch (-want +got):\n%s", path, cmp.Diff(string(want), string(got)))
	} else {
		t.Errorf("%s: bytes differ (want %d bytes, got %d)", path, len(want), len(got))
	}
}

// GoldenName is testdata/<test name>.golden for t.
func GoldenName(t testing.TB) string {
	return filepath.Join("testdata", filepath.FromSlash(t.Name())+".golden")
}

// SyncBuffer is a bytes.Buffer that a logger's goroutines and a test may
// share.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns everything written so far.
func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Reset discards everything written so far.
func (s *SyncBuffer) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.b.Reset()
}
