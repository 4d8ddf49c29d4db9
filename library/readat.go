package library

import (
	"errors"
	"io"
)

// windowSize is the size of one cached window of a file. 64 KiB covers the
// tags and stream headers of nearly every file in one read; the extra 16 KiB
// let probe and tags, which each ask for 64 KiB windows of their own at
// slightly different offsets, share one read.
const windowSize = 80 << 10

// tailSize is the least a window near the end of a file holds.
const tailSize = 16 << 10

// windows is how many windows a blockReader keeps: typically the head, the
// tail (ID3v1, APE, last Ogg page) and one more (an MP4 moov at the end).
const windows = 3

// blockReader serves ReadAt calls from a few cached windows of the file, so
// parsers that read a few bytes at a time (dhowden/tag makes ~55 tiny reads
// per file) cost one pread per window. Reads larger than a window go
// straight to the file. View lends a window's bytes without a copy. It
// counts the reads it makes on the file. It is not
// safe for concurrent use; a worker reuses one for every file.
type blockReader struct {
	r     io.ReaderAt
	size  int64
	win   [windows]window
	tick  uint64
	gen   uint64 // bumped whenever a window's bytes change (see View)
	reads int    // ReadAt calls made on r
	bytes int64  // bytes read from r
}

var errNegativeOffset = errors.New("negative offset")

// reset points b at a new file and forgets the cached windows, keeping the
// buffers and the counters.
func (b *blockReader) reset(r io.ReaderAt, size int64) {
	b.r, b.size = r, size
	b.gen++
	for i := range b.win {
		b.win[i].n = 0
	}
}

// View lends up to n bytes at off (fewer only at the end of the file)
// straight from a cached window, filling one if needed, so the tag reader
// need not copy its read-ahead. The bytes stay valid while Gen returns the
// same value. ok is false when n is larger than a window or the read
// fails; ReadAt then gives the bytes or the error.
func (b *blockReader) View(off int64, n int) ([]byte, bool) {
	if off < 0 || n < 0 || n > windowSize || off >= b.size {
		return nil, false
	}
	n = int(min(int64(n), b.size-off))
	b.tick++
	for i := range b.win {
		w := &b.win[i]
		if off >= w.off && off+int64(n) <= w.off+int64(w.n) {
			w.used = b.tick
			return w.buf[off-w.off : off-w.off+int64(n) : off-w.off+int64(n)], true
		}
	}
	w, err := b.fill(off)
	if err != nil || off+int64(n) > w.off+int64(w.n) {
		return nil, false
	}
	return w.buf[off-w.off : off-w.off+int64(n) : off-w.off+int64(n)], true
}

// Gen changes whenever bytes lent by View may have changed.
func (b *blockReader) Gen() uint64 { return b.gen }

func (b *blockReader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errNegativeOffset
	}
	if off >= b.size {
		return 0, io.EOF
	}
	want := len(p)
	if rest := b.size - off; int64(want) > rest {
		want = int(rest)
	}
	b.tick++
	for i := range b.win {
		w := &b.win[i]
		if off >= w.off && off+int64(want) <= w.off+int64(w.n) {
			w.used = b.tick
			n := copy(p[:want], w.buf[off-w.off:])
			return n, eofIfShort(n, len(p))
		}
	}
	if want > windowSize {
		n, err := b.r.ReadAt(p[:want], off)
		b.reads++
		b.bytes += int64(n)
		if err == nil || (err == io.EOF && n == want) {
			err = eofIfShort(n, len(p))
		}
		return n, err
	}
	w, err := b.fill(off)
	if err != nil {
		return 0, err
	}
	m := copy(p[:want], w.buf[off-w.off:w.n])
	return m, eofIfShort(m, len(p))
}

// window is one cached window of the file.
type window = struct {
	off  int64
	n    int
	used uint64
	buf  []byte
}

// fill reads the window holding off into the least recently used slot.
// Near the end of the file the window is aligned to end there, so
// backward searches stay cached.
func (b *blockReader) fill(off int64) (*window, error) {
	w := &b.win[0]
	for i := 1; i < windows; i++ {
		if b.win[i].used < w.used {
			w = &b.win[i]
		}
	}
	if w.buf == nil {
		w.buf = make([]byte, windowSize)
	}
	start := off
	if start+windowSize > b.size {
		// Near the end: read from off, or the last tailSize bytes if that
		// starts earlier (ID3v1, APE footers and Ogg's last page sit there).
		start = max(0, min(off, b.size-tailSize))
	}
	b.gen++
	n, err := b.r.ReadAt(w.buf[:min(windowSize, b.size-start)], start)
	b.reads++
	b.bytes += int64(n)
	w.off, w.n, w.used = start, n, b.tick
	if err != nil && err != io.EOF {
		w.n = 0
		return nil, err
	}
	if off >= start+int64(n) {
		return nil, io.ErrUnexpectedEOF // the file shrank under us
	}
	return w, nil
}

func eofIfShort(n, want int) error {
	if n < want {
		return io.EOF
	}
	return nil
}
