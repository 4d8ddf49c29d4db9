// Package regfile opens the small files daapd trusts to be ordinary files
// (state files, the password file, playlists) without hanging when one
// turns out to be a FIFO or a device: the open never blocks, and anything
// but a regular file is refused.
package regfile

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// ErrNotRegular means the path names a FIFO, device, socket or directory.
var ErrNotRegular = errors.New("not a regular file")

// ErrTooLarge means the file is over the caller's limit.
var ErrTooLarge = errors.New("file too large")

// Open opens name read-only. A FIFO or device is opened without blocking
// (O_NONBLOCK) and refused with an error wrapping ErrNotRegular.
func Open(name string) (*os.File, error) {
	f, err := os.OpenFile(name, os.O_RDONLY|nonBlock, 0)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%s: %w (%s)", name, ErrNotRegular, Kind(fi.Mode()))
	}
	return f, nil
}

// ReadFile reads the whole regular file name, refusing one over limit bytes
// with an error wrapping ErrTooLarge.
func ReadFile(name string, limit int64) ([]byte, error) {
	f, err := Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s: %w (over %d bytes)", name, ErrTooLarge, limit)
	}
	return b, nil
}

// Check refuses, with an error wrapping ErrNotRegular, an existing name
// that is not a regular file; a missing name is fine. Writers call it before
// replacing a file they own.
func Check(name string) error {
	fi, err := os.Lstat(name)
	if err != nil || fi.Mode().IsRegular() {
		return nil
	}
	return fmt.Errorf("%s: %w (%s)", name, ErrNotRegular, Kind(fi.Mode()))
}

// Kind names a file mode's type for error messages.
func Kind(m os.FileMode) string {
	switch {
	case m.IsRegular():
		return "regular file"
	case m.IsDir():
		return "a directory"
	case m&os.ModeNamedPipe != 0:
		return "a FIFO"
	case m&os.ModeCharDevice != 0:
		return "a character device"
	case m&os.ModeDevice != 0:
		return "a block device"
	case m&os.ModeSocket != 0:
		return "a socket"
	case m&os.ModeSymlink != 0:
		return "a symbolic link"
	}
	return "an irregular file"
}
