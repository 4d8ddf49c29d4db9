package dmap

import (
	"encoding/binary"
	"fmt"
	"math"
	"strings"
	"time"
)

// Builder appends DMAP elements to a byte slice. The zero value is ready to
// use. Container patches its length after its function returns, so lengths
// are never summed by hand.
//
// With Strict set (always in tests), every tag must be in Codes, the method
// must match the code's type, and integers must fit the code's width;
// violations panic, so a typo fails loudly. Without Strict, an unknown tag
// given to Int is written as 4 bytes and out-of-range integers are
// truncated to the width.
type Builder struct {
	Strict bool
	buf    []byte
}

// Bytes returns the encoded elements. The slice aliases the builder's
// buffer until the next Reset.
func (b *Builder) Bytes() []byte { return b.buf }

// Len returns the number of bytes written so far.
func (b *Builder) Len() int { return len(b.buf) }

// Reset empties the builder, keeping its buffer for reuse.
func (b *Builder) Reset() { b.buf = b.buf[:0] }

// Container writes tag with the elements f appends as its payload.
func (b *Builder) Container(tag string, f func(b *Builder)) {
	b.check(tag, "Container", Container)
	start := b.header(tag, 0)
	f(b)
	n := len(b.buf) - start - 8
	if uint64(n) > math.MaxUint32 {
		panic(fmt.Sprintf("dmap: container %q is %d bytes, over 4 GiB", tag, n))
	}
	binary.BigEndian.PutUint32(b.buf[start+4:], uint32(n))
}

// Int writes an integer with the width of tag's type (1, 2, 4 or 8 bytes).
// 8-byte unsigned values above MaxInt64 are passed as int64(u).
func (b *Builder) Int(tag string, v int64) {
	c, ok := Lookup(tag)
	w := 4
	switch {
	case ok && c.Type.Integer():
		w = c.Type.Width()
		if b.Strict && !fits(c.Type, v) {
			panic(fmt.Sprintf("dmap: %d does not fit %s (%s)", v, tag, c.Type))
		}
	case b.Strict && !ok:
		panic(fmt.Sprintf("dmap: unknown tag %q", tag))
	case b.Strict:
		panic(fmt.Sprintf("dmap: Int on %s, a %s", tag, c.Type))
	}
	b.header(tag, w)
	var p [8]byte
	binary.BigEndian.PutUint64(p[:], uint64(v))
	b.buf = append(b.buf, p[8-w:]...)
}

func fits(t Type, v int64) bool {
	bits := uint(8 * t.Width())
	if bits == 64 {
		return true
	}
	if t.Signed() {
		return v >= -1<<(bits-1) && v < 1<<(bits-1)
	}
	return v >= 0 && v < 1<<bits
}

// String writes v as UTF-8; invalid bytes become U+FFFD.
func (b *Builder) String(tag, v string) {
	b.check(tag, "String", String)
	v = strings.ToValidUTF8(v, "\uFFFD")
	b.header(tag, len(v))
	b.buf = append(b.buf, v...)
}

// Date writes t as 4-byte Unix seconds. The zero time and times before 1970
// are written as 0, times after 2106 as the maximum.
func (b *Builder) Date(tag string, t time.Time) {
	b.check(tag, "Date", Date)
	var s uint32
	switch u := t.Unix(); {
	case t.IsZero() || u < 0:
	case u > math.MaxUint32:
		s = math.MaxUint32
	default:
		s = uint32(u)
	}
	b.header(tag, 4)
	b.buf = binary.BigEndian.AppendUint32(b.buf, s)
}

// Version writes a version: 16-bit major, 8-bit minor, 8-bit patch.
func (b *Builder) Version(tag string, major uint16, minor, patch uint8) {
	b.check(tag, "Version", Version)
	b.header(tag, 4)
	b.buf = binary.BigEndian.AppendUint16(b.buf, major)
	b.buf = append(b.buf, minor, patch)
}

// Raw writes payload as is, e.g. the 4-character code in mcnm. In Strict
// mode the tag must be known and the payload must have its type's width.
func (b *Builder) Raw(tag string, payload []byte) {
	if b.Strict {
		c, ok := Lookup(tag)
		if !ok {
			panic(fmt.Sprintf("dmap: unknown tag %q", tag))
		}
		if w := c.Type.Width(); w != 0 && len(payload) != w {
			panic(fmt.Sprintf("dmap: Raw %s with %d bytes, want %d", tag, len(payload), w))
		}
	}
	b.header(tag, len(payload))
	b.buf = append(b.buf, payload...)
}

// AppendEncoded splices pre-encoded elements, e.g. cached mlit bytes.
func (b *Builder) AppendEncoded(p []byte) { b.buf = append(b.buf, p...) }

// header appends tag and length n and returns the element's offset.
func (b *Builder) header(tag string, n int) int {
	if len(tag) != 4 {
		panic(fmt.Sprintf("dmap: tag %q is not 4 bytes", tag))
	}
	if uint64(n) > math.MaxUint32 {
		panic(fmt.Sprintf("dmap: %s payload is %d bytes, over 4 GiB", tag, n))
	}
	start := len(b.buf)
	b.buf = append(b.buf, tag...)
	b.buf = binary.BigEndian.AppendUint32(b.buf, uint32(n))
	return start
}

func (b *Builder) check(tag, method string, want Type) {
	if !b.Strict {
		return
	}
	c, ok := Lookup(tag)
	if !ok {
		panic(fmt.Sprintf("dmap: unknown tag %q", tag))
	}
	if c.Type != want {
		panic(fmt.Sprintf("dmap: %s on %s, a %s", method, tag, c.Type))
	}
}
