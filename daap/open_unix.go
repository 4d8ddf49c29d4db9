//go:build unix

package daap

import (
	"os"
	"syscall"
)

// openNonblock opens path for reading without blocking, whatever the file
// is: a FIFO or a terminal would otherwise hang the open until a writer or
// carrier appears.
func openNonblock(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0)
}

// setBlocking clears O_NONBLOCK on a regular file opened by openNonblock,
// for the processes (ffmpeg) that inherit it.
func setBlocking(f *os.File) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) { serr = syscall.SetNonblock(int(fd), false) }); err != nil {
		return err
	}
	return serr
}
