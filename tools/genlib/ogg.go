package main

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
)

// oggPage is one parsed Ogg page.
type oggPage struct {
	headerType byte
	granule    uint64
	serial     uint32
	segments   []byte // lacing values
	body       []byte
}

var oggCRCTable = func() (t [256]uint32) {
	for i := range t {
		r := uint32(i) << 24
		for range 8 {
			if r&0x80000000 != 0 {
				r = r<<1 ^ 0x04c11db7
			} else {
				r <<= 1
			}
		}
		t[i] = r
	}
	return t
}()

func oggCRC(b []byte) uint32 {
	var crc uint32
	for _, c := range b {
		crc = crc<<8 ^ oggCRCTable[byte(crc>>24)^c]
	}
	return crc
}

func parseOgg(b []byte) ([]oggPage, error) {
	var pages []oggPage
	for len(b) > 0 {
		if len(b) < 27 || string(b[:4]) != "OggS" {
			return nil, fmt.Errorf("ogg: no page at byte offset of page %d", len(pages))
		}
		n := int(b[26])
		if len(b) < 27+n {
			return nil, errors.New("ogg: truncated segment table")
		}
		segs := b[27 : 27+n]
		size := 0
		for _, s := range segs {
			size += int(s)
		}
		if len(b) < 27+n+size {
			return nil, errors.New("ogg: truncated page")
		}
		pages = append(pages, oggPage{
			headerType: b[5],
			granule:    binary.LittleEndian.Uint64(b[6:]),
			serial:     binary.LittleEndian.Uint32(b[14:]),
			segments:   segs,
			body:       b[27+n : 27+n+size],
		})
		b = b[27+n+size:]
	}
	return pages, nil
}

// oggPackets returns the first n packets of a logical stream and the index
// of the first page after them. The n-th packet must end on a page boundary,
// as Vorbis and Opus require for their headers.
func oggPackets(pages []oggPage, n int) ([][]byte, int, error) {
	var pkts [][]byte
	var cur []byte
	for i, p := range pages {
		off := 0
		for _, s := range p.segments {
			cur = append(cur, p.body[off:off+int(s)]...)
			off += int(s)
			if s < 255 {
				pkts = append(pkts, cur)
				cur = nil
				if len(pkts) == n {
					if off != len(p.body) {
						return nil, 0, errors.New("ogg: audio starts on a header page")
					}
					return pkts, i + 1, nil
				}
			}
		}
	}
	return nil, 0, fmt.Errorf("ogg: fewer than %d header packets", n)
}

// writePage appends one page with its CRC.
func writePage(out []byte, headerType byte, granule uint64, serial, seq uint32, segs, body []byte) []byte {
	start := len(out)
	out = append(out, "OggS"...)
	out = append(out, 0, headerType)
	out = binary.LittleEndian.AppendUint64(out, granule)
	out = binary.LittleEndian.AppendUint32(out, serial)
	out = binary.LittleEndian.AppendUint32(out, seq)
	out = append(out, 0, 0, 0, 0, byte(len(segs)))
	out = append(out, segs...)
	out = append(out, body...)
	binary.LittleEndian.PutUint32(out[start+22:], oggCRC(out[start:]))
	return out
}

// pagePackets lays packets out on fresh pages, the last one ending its page.
// Pages on which no packet ends carry granule -1, the others granule 0.
func pagePackets(out []byte, serial uint32, seq *uint32, pkts [][]byte) []byte {
	var segs []byte
	var body bytes.Buffer
	continued, ended := false, false
	flush := func(next bool) {
		var ht byte
		if continued {
			ht = 1
		}
		g := ^uint64(0)
		if ended {
			g = 0
		}
		out = writePage(out, ht, g, serial, *seq, segs, body.Bytes())
		*seq++
		segs, continued, ended = segs[:0], next, false
		body.Reset()
	}
	for _, p := range pkts {
		rest, first := p, true
		for {
			if len(segs) == 255 {
				flush(!first)
			}
			first = false
			n := min(len(rest), 255)
			segs = append(segs, byte(n))
			body.Write(rest[:n])
			rest = rest[n:]
			if n < 255 {
				ended = true
				break
			}
		}
	}
	flush(false)
	return out
}

// oggTemplate is an Ogg Vorbis or Opus stream cut at its comment header.
type oggTemplate struct {
	serial   uint32
	first    []byte    // the identification header packet
	setup    [][]byte  // header packets after the comments (Vorbis setup)
	audio    []oggPage // every page after the headers
	commentH []byte    // comment packet prefix: "\x03vorbis" or "OpusTags"
	framing  bool      // Vorbis comments end with a framing bit
}

func splitOgg(b []byte) (*oggTemplate, error) {
	pages, err := parseOgg(b)
	if err != nil {
		return nil, err
	}
	if len(pages) == 0 {
		return nil, errors.New("ogg: empty")
	}
	t := &oggTemplate{serial: pages[0].serial}
	n := 0
	switch {
	case bytes.HasPrefix(pages[0].body, []byte("\x01vorbis")):
		n, t.commentH, t.framing = 3, []byte("\x03vorbis"), true
	case bytes.HasPrefix(pages[0].body, []byte("OpusHead")):
		n, t.commentH = 2, []byte("OpusTags")
	default:
		return nil, errors.New("ogg: neither Vorbis nor Opus")
	}
	pkts, next, err := oggPackets(pages, n)
	if err != nil {
		return nil, err
	}
	t.first, t.setup, t.audio = pkts[0], pkts[2:], pages[next:]
	return t, nil
}

// write returns a complete Ogg file with new comments.
func (o *oggTemplate) write(t *Tags) []byte {
	out := writePage(nil, 2, 0, o.serial, 0, []byte{byte(len(o.first))}, o.first)
	seq := uint32(1)
	comment := append(bytes.Clone(o.commentH), vorbisComments(t, vendor, true)...)
	if o.framing {
		comment = append(comment, 1)
	}
	out = pagePackets(out, o.serial, &seq, append([][]byte{comment}, o.setup...))
	for _, p := range o.audio {
		out = writePage(out, p.headerType, p.granule, p.serial, seq, p.segments, p.body)
		seq++
	}
	return out
}
