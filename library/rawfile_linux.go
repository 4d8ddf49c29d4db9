//go:build linux

package library

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
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
		size, mtime = st.Size, time.Unix(st.Mtim.Unix()).UTC()
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
		return st.Size, time.Unix(st.Mtim.Unix()).UTC(), nil
	}
}

// readDir lists a folder sorted by name and returns a stater for it; close
// releases the folder. It reads the folder with open, getdents64 and
// close: os.Open adds five system calls per folder (fcntl twice to set
// non-blocking mode, a failing epoll_ctl, fcntl twice to undo it).
func readDir(name string) (entries []os.DirEntry, st dirStater, close func(), err error) {
	fd, err := openDir(name)
	if err != nil {
		return nil, dirStater{}, nil, err
	}
	close = func() { unix.Close(fd) }
	bp := direntBufs.Get().(*[]byte)
	defer direntBufs.Put(bp)
	for {
		n, err := unix.Getdents(fd, *bp)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			err = &os.PathError{Op: "readdirent", Path: name, Err: err}
			return sortEntries(entries), dirStater{fd}, close, err
		}
		if n <= 0 {
			break
		}
		if entries, err = appendDirents(entries, (*bp)[:n], name); err != nil {
			return sortEntries(entries), dirStater{fd}, close, err
		}
	}
	return sortEntries(entries), dirStater{fd}, close, nil
}

func openDir(name string) (int, error) {
	for {
		fd, err := unix.Open(name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return -1, &os.PathError{Op: "open", Path: name, Err: err}
		}
		return fd, nil
	}
}

func sortEntries(entries []os.DirEntry) []os.DirEntry {
	slices.SortFunc(entries, func(a, b os.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	return entries
}

// direntBufs recycles getdents64 buffers.
var direntBufs = sync.Pool{New: func() any { b := make([]byte, 16<<10); return &b }}

// appendDirents appends the entries of a getdents64 buffer, skipping "."
// and "..". An entry of unknown type is lstat'ed like os.ReadDir does, and
// dropped if it vanished meanwhile.
func appendDirents(entries []os.DirEntry, buf []byte, dir string) ([]os.DirEntry, error) {
	slab := make([]dirEntry, 0, direntCount(buf)) // one allocation per batch
	for len(buf) >= 19 {
		// struct linux_dirent64: ino u64, off s64, reclen u16, type u8, name.
		reclen := int(binary.NativeEndian.Uint16(buf[16:18]))
		if reclen < 19 || reclen > len(buf) {
			break
		}
		ino, typ, nameb := binary.NativeEndian.Uint64(buf), buf[18], buf[19:reclen]
		buf = buf[reclen:]
		if ino == 0 { // a deleted entry, as os.ReadDir skips them
			continue
		}
		if i := bytes.IndexByte(nameb, 0); i >= 0 {
			nameb = nameb[:i]
		}
		if len(nameb) == 0 || string(nameb) == "." || string(nameb) == ".." {
			continue
		}
		slab = append(slab, dirEntry{name: string(nameb), dir: dir, ino: ino})
		e := &slab[len(slab)-1]
		switch typ {
		case unix.DT_REG:
		case unix.DT_DIR:
			e.typ = fs.ModeDir
		case unix.DT_LNK:
			e.typ = fs.ModeSymlink
		case unix.DT_FIFO:
			e.typ = fs.ModeNamedPipe
		case unix.DT_SOCK:
			e.typ = fs.ModeSocket
		case unix.DT_CHR:
			e.typ = fs.ModeDevice | fs.ModeCharDevice
		case unix.DT_BLK:
			e.typ = fs.ModeDevice
		default: // DT_UNKNOWN: some file systems do not say
			fi, err := os.Lstat(filepath.Join(dir, e.name))
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if err != nil {
				return entries, err
			}
			e.typ = fi.Mode().Type()
		}
		entries = append(entries, e)
	}
	return entries, nil
}

// direntCount counts the records in a getdents64 buffer.
func direntCount(buf []byte) int {
	n := 0
	for len(buf) >= 19 {
		reclen := int(binary.NativeEndian.Uint16(buf[16:18]))
		if reclen < 19 || reclen > len(buf) {
			break
		}
		buf = buf[reclen:]
		n++
	}
	return n
}

// dirEntry is an fs.DirEntry from getdents64.
type dirEntry struct {
	name string
	typ  fs.FileMode
	dir  string
	ino  uint64
}

// inode returns the inode number getdents64 gave for e, 0 if unknown.
func inode(e os.DirEntry) uint64 {
	if d, ok := e.(*dirEntry); ok {
		return d.ino
	}
	return 0
}

// prefetch asks the kernel to start reading the parts of the file name
// in folder d that the scanner reads (its first and last window), so that
// while the workers parse a few files the disk already fetches the next
// ones, in the order the walk queues them. It costs an openat and a close
// per file; errors are left to the worker that opens the file for real.
func (d dirStater) prefetch(name string) {
	fd, err := unix.Openat(d.fd, name, unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NONBLOCK|unix.O_NOFOLLOW, 0)
	if err != nil {
		return // a symlink (rare) is read without help
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if unix.Fstat(fd, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
		return // a FIFO or device: never read ahead
	}
	if st.Size <= 2*windowSize {
		unix.Fadvise(fd, 0, st.Size, unix.FADV_WILLNEED)
		return
	}
	unix.Fadvise(fd, 0, windowSize, unix.FADV_WILLNEED)
	unix.Fadvise(fd, st.Size-windowSize, windowSize, unix.FADV_WILLNEED)
}

func (e *dirEntry) Name() string               { return e.name }
func (e *dirEntry) IsDir() bool                { return e.typ.IsDir() }
func (e *dirEntry) Type() fs.FileMode          { return e.typ }
func (e *dirEntry) Info() (fs.FileInfo, error) { return os.Lstat(filepath.Join(e.dir, e.name)) }
func (e *dirEntry) String() string             { return fs.FormatDirEntry(e) }
