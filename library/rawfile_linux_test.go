//go:build linux

package library

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestReadDirMatchesOS checks the getdents64 reader against os.ReadDir:
// same names, order and types, over several getdents64 calls.
func TestReadDirMatchesOS(t *testing.T) {
	dir := t.TempDir()
	for i := range 700 { // long names: more than one 16 KiB buffer
		name := fmt.Sprintf("%03d %s.mp3", i, strings.Repeat("x", 40))
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	os.Mkdir(filepath.Join(dir, "sub"), 0o755)
	os.Symlink("sub", filepath.Join(dir, "link"))
	os.Symlink("missing", filepath.Join(dir, "dangling"))
	syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o644)
	os.WriteFile(filepath.Join(dir, ".hidden"), nil, 0o644)
	os.WriteFile(filepath.Join(dir, "Sigur Ro\u0301s.flac"), nil, 0o644)

	want, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	got, st, done, err := readDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer done()
	summary := func(es []os.DirEntry) []string {
		var out []string
		for _, e := range es {
			out = append(out, fmt.Sprintf("%s %v %v", e.Name(), e.Type(), e.IsDir()))
		}
		return out
	}
	if d := cmp.Diff(summary(want), summary(got)); d != "" {
		t.Errorf("readDir differs from os.ReadDir (-want +got):\n%s", d)
	}
	for _, e := range got {
		if e.Name() == "sub" {
			if fi, err := e.Info(); err != nil || !fi.IsDir() {
				t.Errorf("Info(sub) = %v, %v", fi, err)
			}
		}
	}
	if size, _, err := st.lstat("000 " + strings.Repeat("x", 40) + ".mp3"); err != nil || size != 0 {
		t.Errorf("lstat = %d, %v", size, err)
	}
}

func TestReadDirErrors(t *testing.T) {
	if _, _, done, err := readDir(filepath.Join(t.TempDir(), "missing")); err == nil || done != nil || !os.IsNotExist(err) {
		t.Errorf("missing folder: err %v, done %v", err, done != nil)
	}
	f := filepath.Join(t.TempDir(), "file")
	os.WriteFile(f, nil, 0o644)
	if _, _, _, err := readDir(f); err == nil {
		t.Error("a file read as a folder")
	}
}
