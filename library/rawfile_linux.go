//go:build linux

package library

import (
	"errors"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// rawFile is a read-only file descriptor read with pread(2). os.Open costs
// four extra system calls per file here (two fcntl for non-blocking mode,
// and epoll registration and removal that fail for regular files), a fifth
// of the scan's time. Close from another goroutine (the watchdog) is safe:
// during a read it only marks the file, and the read closes it on return,
// so the descriptor number is never reused under a read in progress.
type rawFile struct {
	mu      sync.Mutex
	fd      int // -1 once closed
	reading int
	closing bool
}

func openRaw(name string) (readCloserAt, error) {
	for {
		fd, err := syscall.Open(name, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return nil, &os.PathError{Op: "open", Path: name, Err: err}
		}
		return &rawFile{fd: fd}, nil
	}
}

// use runs op on the descriptor, which Close leaves open until op returns.
func (f *rawFile) use(op func(fd int) error) error {
	f.mu.Lock()
	if f.fd < 0 || f.closing {
		f.mu.Unlock()
		return os.ErrClosed
	}
	f.reading++
	fd := f.fd
	f.mu.Unlock()
	err := op(fd)
	f.mu.Lock()
	f.reading--
	if f.closing && f.reading == 0 {
		syscall.Close(f.fd)
		f.fd = -1
	}
	f.mu.Unlock()
	return err
}

func (f *rawFile) ReadAt(p []byte, off int64) (n int, err error) {
	err = f.use(func(fd int) error {
		for n < len(p) {
			m, err := syscall.Pread(fd, p[n:], off+int64(n))
			switch {
			case err == syscall.EINTR:
			case err != nil:
				return &os.PathError{Op: "pread", Path: "", Err: err}
			case m == 0:
				return io.EOF
			default:
				n += m
			}
		}
		return nil
	})
	return n, err
}

var errNotRegular = errors.New("not a regular file")

// stat returns the open file's size and modification time: fstat(2) is
// cheaper than the walk's lstat(2), which resolves the whole path again.
func (f *rawFile) stat() (size int64, mtime time.Time, err error) {
	err = f.use(func(fd int) error {
		var st syscall.Stat_t
		if err := syscall.Fstat(fd, &st); err != nil {
			return &os.PathError{Op: "fstat", Path: "", Err: err}
		}
		if st.Mode&syscall.S_IFMT != syscall.S_IFREG {
			return errNotRegular
		}
		size, mtime = st.Size, time.Unix(st.Mtim.Sec, st.Mtim.Nsec).UTC()
		return nil
	})
	return size, mtime, err
}

func (f *rawFile) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fd < 0 || f.closing {
		return nil
	}
	if f.reading > 0 {
		f.closing = true // the read in progress closes it
		return nil
	}
	err := syscall.Close(f.fd)
	f.fd = -1
	return err
}

// dirStater stats the entries of one open folder with fstatat(2) relative
// to it, which spares the kernel resolving the whole path for each file.
type dirStater struct{ fd int }

// lstat returns the size and modification time of the entry name.
func (d dirStater) lstat(name string) (int64, time.Time, error) {
	var st unix.Stat_t
	for {
		err := unix.Fstatat(d.fd, name, &st, unix.AT_SYMLINK_NOFOLLOW)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return 0, time.Time{}, &os.PathError{Op: "lstat", Path: name, Err: err}
		}
		return st.Size, time.Unix(st.Mtim.Sec, st.Mtim.Nsec).UTC(), nil
	}
}

// readDir lists a folder sorted by name and returns a stater for it; close
// releases the folder.
func readDir(name string) (entries []os.DirEntry, st dirStater, close func(), err error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, dirStater{}, nil, err
	}
	entries, err = f.ReadDir(-1)
	slices.SortFunc(entries, func(a, b os.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	return entries, dirStater{int(f.Fd())}, func() { f.Close() }, err
}
