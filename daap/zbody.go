package daap

import (
	"bytes"
	"context"
	"errors"
	"io"
	"sync"

	"github.com/klauspost/compress/gzip"
)

// Cached listings are kept gzipped only: the encoder streams into a
// compressor, and a client that does not accept gzip gets the body
// inflated as it is sent. A reply is first compressed at fastLevel, on the
// request path; the listing cache then recompresses it at polishLevel in
// the background and swaps the smaller copy in (see lru.polish).
// klauspost/compress: at level 1 it takes a quarter of the CPU of
// compress/gzip's BestSpeed for a slightly smaller body; at level 9 the two
// are alike (BenchmarkGzipLevels, BENCHMARKS.md).
const (
	fastLevel   = gzip.BestSpeed
	polishLevel = gzip.BestCompression
	polishMin   = 16 << 10 // smallest gzip body worth recompressing
)

// writers pools gzip writers per level: one holds several hundred KB of
// tables, too much to make per reply.
var writers = map[int]*sync.Pool{
	fastLevel:   {New: func() any { w, _ := gzip.NewWriterLevel(nil, fastLevel); return w }},
	polishLevel: {New: func() any { w, _ := gzip.NewWriterLevel(nil, polishLevel); return w }},
}

// zbody collects an encoded reply: its first gzipMin bytes as they are
// (a reply no longer than that is kept plain), then compressed.
type zbody struct {
	head  []byte
	out   pieces
	zw    *gzip.Writer
	plain int // bytes written
}

func (z *zbody) Write(p []byte) (int, error) {
	z.plain += len(p)
	if z.zw == nil {
		if len(z.head)+len(p) <= gzipMin {
			z.head = append(z.head, p...)
			return len(p), nil
		}
		z.zw = writers[fastLevel].Get().(*gzip.Writer)
		z.zw.Reset(&z.out)
		if _, err := z.zw.Write(z.head); err != nil {
			return 0, err
		}
		z.head = nil
	}
	return z.zw.Write(p)
}

// reply finishes the body.
func (z *zbody) reply() (reply, error) {
	if z.zw == nil {
		return reply{data: z.head, plain: z.plain}, nil
	}
	err := z.zw.Close()
	z.drop()
	if err != nil {
		return reply{}, err
	}
	return reply{data: z.out.bytes(), plain: z.plain, zipped: true}, nil
}

// pieces is a buffer that grows by adding pieces, never by copying what
// it holds, so a compressed body of unknown size costs its size twice at
// most (the pieces, then the one slice they are joined into).
type pieces struct {
	full [][]byte
	cur  []byte
	n    int
}

func (p *pieces) Write(b []byte) (int, error) {
	n := len(b)
	for len(b) > 0 {
		if len(p.cur) == cap(p.cur) {
			if p.cur != nil {
				p.full = append(p.full, p.cur)
			}
			p.cur = make([]byte, 0, 4<<10<<min(len(p.full), 8)) // 4 KB, doubling to 1 MB
		}
		k := copy(p.cur[len(p.cur):cap(p.cur)], b)
		p.cur = p.cur[:len(p.cur)+k]
		b = b[k:]
	}
	p.n += n
	return n, nil
}

// bytes returns everything written, in one slice of its length.
func (p *pieces) bytes() []byte {
	if len(p.full) == 0 {
		return fit(p.cur)
	}
	out := make([]byte, 0, p.n)
	for _, b := range p.full {
		out = append(out, b...)
	}
	return append(out, p.cur...)
}

// fit returns b, or a copy of it when its buffer has more than an eighth
// to spare: cached bodies may be kept for long.
func fit(b []byte) []byte {
	if cap(b)-len(b) > len(b)/8 {
		return bytes.Clone(b)
	}
	return b
}

// drop returns the compressor to its pool.
func (z *zbody) drop() {
	if z.zw != nil {
		z.zw.Reset(io.Discard)
		writers[fastLevel].Put(z.zw)
		z.zw = nil
	}
}

// gzipBytes compresses a small uncached reply.
func gzipBytes(p []byte) []byte {
	var buf bytes.Buffer
	buf.Grow(len(p) / 4)
	zw := writers[fastLevel].Get().(*gzip.Writer)
	defer func() {
		zw.Reset(io.Discard)
		writers[fastLevel].Put(zw)
	}()
	zw.Reset(&buf)
	zw.Write(p)
	if zw.Close() != nil {
		return nil
	}
	return buf.Bytes()
}

// reader returns a gzip reader over data, a single gzip member.
func reader(data []byte) (*gzip.Reader, error) {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	zr.Multistream(false)
	return zr, nil
}

// inflate writes the plain bytes of the gzip body data to w, a piece at a
// time: the plain listing is never held whole.
func inflate(w io.Writer, data []byte) (int64, error) {
	zr, err := reader(data)
	if err != nil {
		return 0, err
	}
	return zr.WriteTo(w)
}

// recompress returns the gzip body data compressed again at polishLevel,
// stopping early when ctx ends. The copy is made in pieces, so only the
// two compressed bodies and the compressor's tables are held.
func recompress(ctx context.Context, data []byte) ([]byte, error) {
	zr, err := reader(data)
	if err != nil {
		return nil, err
	}
	var out pieces
	zw := writers[polishLevel].Get().(*gzip.Writer)
	defer func() {
		zw.Reset(io.Discard)
		writers[polishLevel].Put(zw)
	}()
	zw.Reset(&out)
	buf := make([]byte, 256<<10)
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		n, err := zr.Read(buf)
		if _, werr := zw.Write(buf[:n]); werr != nil {
			return nil, werr
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return out.bytes(), nil
}
