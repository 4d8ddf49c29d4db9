//go:build unix

package regfile

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	small := filepath.Join(dir, "small")
	os.WriteFile(small, []byte("hello\n"), 0o600)
	exact := filepath.Join(dir, "exact")
	os.WriteFile(exact, []byte("0123456789"), 0o600)
	big := filepath.Join(dir, "big")
	os.WriteFile(big, make([]byte, 100), 0o600)
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		path string
		want error
	}{
		{"regular", small, nil},
		{"exactly at the limit", exact, nil},
		{"too large", big, ErrTooLarge},
		{"fifo (would block forever)", fifo, ErrNotRegular},
		{"device", "/dev/zero", ErrNotRegular},
		{"directory", dir, ErrNotRegular},
		{"missing", filepath.Join(dir, "nope"), os.ErrNotExist},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadFile(tc.path, 10)
			if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("ReadFile(%s) = %v, want %v", tc.path, err, tc.want)
			}
		})
	}
	if err := Check(fifo); !errors.Is(err, ErrNotRegular) {
		t.Errorf("Check(fifo) = %v", err)
	}
	if err := Check(small); err != nil {
		t.Errorf("Check(regular) = %v", err)
	}
	if err := Check(filepath.Join(dir, "nope")); err != nil {
		t.Errorf("Check(missing) = %v", err)
	}
}
