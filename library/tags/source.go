package tags

import (
	"bufio"
	"errors"
	"io"
	"sync"

	"github.com/daapd/daapd/library/probe"
)

// window is how much a source reads ahead: small header reads are served
// from one ReadAt of this size, so walking a tag costs a few system calls.
const window = 64 << 10

// errTruncated means a length in the file points past its end.
var errTruncated = errors.New("length past end of file")

// viewer is an io.ReaderAt that can lend the bytes it has buffered (the
// scanner's block reader): View returns up to n bytes at off, fewer only
// at the end of the file, valid while Gen returns the same value; ok is
// false when it cannot, and ReadAt then serves the read.
type viewer interface {
	View(off int64, n int) (b []byte, ok bool)
	Gen() uint64
}

// source is a read-ahead view of the file that never reads past size.
// Over a viewer it borrows the reader's buffer instead of copying it.
type source struct {
	r    io.ReaderAt
	v    viewer // r, when it lends its bytes
	size int64

	buf []byte // the window last read, in own or lent by v
	off int64  // its offset in the file
	gen uint64 // v's Gen when buf was lent
	own []byte // our read-ahead buffer

	blocks []probe.Block // where probe's walk found the tags
}

// sources recycles sources, with their read-ahead buffers, across files.
var sources = sync.Pool{New: func() any { return new(source) }}

// newSource returns a recycled source over r; release it when done.
func newSource(r io.ReaderAt, size int64) *source {
	s := sources.Get().(*source)
	s.r, s.size, s.buf, s.off = r, size, nil, 0
	s.v, _ = r.(viewer)
	return s
}

// release recycles s, which must not be used afterwards. Nothing handed
// out by read aliases its buffer.
func (s *source) release() {
	s.r, s.v, s.buf, s.blocks = nil, nil, nil, nil
	sources.Put(s)
}

// cached reports whether the n bytes at off are in the current window.
func (s *source) cached(off int64, n int) bool {
	return off >= s.off && off+int64(n) <= s.off+int64(len(s.buf)) && (s.v == nil || s.v.Gen() == s.gen)
}

// peek returns the n bytes at off. The slice is valid until the next call;
// it is shorter than n, with errTruncated, when the file ends first.
func (s *source) peek(off int64, n int) ([]byte, error) {
	if off < 0 || n < 0 || off >= s.size {
		return nil, errTruncated
	}
	var err error
	if rest := s.size - off; int64(n) > rest {
		n, err = int(rest), errTruncated
	}
	if s.cached(off, n) {
		return s.buf[off-s.off : off-s.off+int64(n)], err
	}
	if n > window {
		b, rerr := s.read(off, n)
		if rerr != nil {
			err = rerr
		}
		return b, err
	}
	m := int64(window)
	if rest := s.size - off; m > rest {
		m = rest
	}
	if s.v != nil {
		if b, ok := s.v.View(off, int(m)); ok && len(b) == int(m) {
			s.buf, s.off, s.gen = b, off, s.v.Gen()
			return s.buf[:n], err
		}
	}
	if cap(s.own) < window {
		s.own = make([]byte, window)
	}
	s.buf = s.own[:m]
	got, rerr := s.r.ReadAt(s.buf, off)
	s.buf, s.off = s.buf[:got], off
	if got < n {
		if rerr == nil || rerr == io.EOF {
			rerr = errTruncated
		}
		return s.buf, rerr
	}
	return s.buf[:n], err
}

// read returns a fresh copy of the n bytes at off; n must already be
// checked against the caller's bound.
func (s *source) read(off int64, n int) ([]byte, error) {
	if off < 0 || n < 0 || off > s.size || int64(n) > s.size-off {
		return nil, errTruncated
	}
	if s.cached(off, n) {
		return append([]byte(nil), s.buf[off-s.off:off-s.off+int64(n)]...), nil
	}
	b := make([]byte, n)
	got, err := s.r.ReadAt(b, off)
	if got < n {
		if err == nil || err == io.EOF {
			err = errTruncated
		}
		return b[:got], err
	}
	return b, nil
}

// view is read without the copy: the slice is valid until the next call.
func (s *source) view(off int64, n int) ([]byte, error) {
	if n == 0 || n > window {
		return s.read(off, n)
	}
	if off < 0 || n < 0 || off > s.size || int64(n) > s.size-off {
		return nil, errTruncated
	}
	b, err := s.peek(off, n)
	if err != nil {
		return nil, err
	}
	return b, nil
}

// section returns an io.Reader over [off, off+n), clamped to the file.
func (s *source) section(off, n int64) *io.SectionReader {
	if off > s.size {
		off = s.size
	}
	if n > s.size-off {
		n = s.size - off
	}
	return io.NewSectionReader(s.r, off, n)
}

// bufReaders recycles the buffered readers of streamed tag regions (FLAC
// blocks, Ogg packets): [0] holds 4 KiB buffers, [1] 16 KiB ones.
var bufReaders = [2]sync.Pool{
	{New: func() any { return bufio.NewReaderSize(nil, 4<<10) }},
	{New: func() any { return bufio.NewReaderSize(nil, 16<<10) }},
}

// bufPool returns the pool of readers with size-byte buffers.
func bufPool(size int) *sync.Pool {
	if size > 4<<10 {
		return &bufReaders[1]
	}
	return &bufReaders[0]
}

// newBufReader returns a recycled reader of r with a buffer of size bytes
// (4 or 16 KiB); pass it to putBufReader when done.
func newBufReader(r io.Reader, size int) *bufio.Reader {
	br := bufPool(size).Get().(*bufio.Reader)
	br.Reset(r)
	return br
}

// putBufReader recycles br; nothing may use it afterwards.
func putBufReader(br *bufio.Reader) {
	br.Reset(nil)
	bufPool(br.Size()).Put(br)
}

// readFull is io.ReadFull of n bytes from r, errors included, without a
// copy when n fits r's buffer: the slice is valid until r's next read.
func readFull(r *bufio.Reader, n int) ([]byte, error) {
	if n > r.Size() {
		b := make([]byte, n)
		m, err := io.ReadFull(r, b)
		return b[:m], err
	}
	b, err := r.Peek(n)
	if len(b) == n {
		r.Discard(n)
		return b, nil
	}
	r.Discard(len(b))
	if len(b) > 0 && err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return b, err
}
