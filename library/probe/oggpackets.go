package probe

import (
	"bufio"
	"errors"
	"io"
	"sync"
)

// OggPackets reads the packets of one logical Ogg stream, from the page
// a BlockOgg names, as io.Readers: Read returns io.EOF at the end of the
// current packet and Next moves to the next one. Pages of other streams
// are skipped. Page CRCs are not checked: a tag is worth reading even when
// a writer got the checksum wrong.
type OggPackets struct {
	r      *bufio.Reader
	serial uint32

	lacing []byte // segment sizes of the current page
	lbuf   [255]byte
	seg    int  // next segment
	left   int  // bytes left in the current segment
	ended  bool // the current packet is complete
	inside bool // a packet has been started
}

// oggBufs recycles the packet readers' 16 KiB buffers.
var oggBufs = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 16<<10) }}

// NewOggPackets reads the packets of stream serial from the page at off
// of the size bytes in r. Call Close when done.
func NewOggPackets(r io.ReaderAt, size, off int64, serial uint32) *OggPackets {
	br := oggBufs.Get().(*bufio.Reader)
	br.Reset(io.NewSectionReader(r, off, max(size-off, 0)))
	return &OggPackets{r: br, serial: serial}
}

// Close recycles the reader's buffer; p must not be used afterwards.
func (p *OggPackets) Close() {
	p.r.Reset(nil)
	oggBufs.Put(p.r)
	p.r = nil
}

// Next discards the rest of the current packet and starts the next one.
func (p *OggPackets) Next() error {
	if p.inside {
		if _, err := io.Copy(io.Discard, p); err != nil {
			return err
		}
	}
	p.inside, p.ended = true, false
	return nil
}

func (p *OggPackets) Read(b []byte) (int, error) {
	for p.left == 0 {
		if p.ended {
			return 0, io.EOF
		}
		if p.seg < len(p.lacing) {
			l := int(p.lacing[p.seg])
			p.seg++
			p.left = l
			if l < 255 {
				p.ended = true // the packet ends with this segment
			}
			continue
		}
		if err := p.page(); err != nil {
			return 0, err
		}
	}
	n, err := p.r.Read(b[:min(len(b), p.left)])
	p.left -= n
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

// errOggSync means the bytes where a page should start are not one.
var errOggSync = errors.New("ogg: lost page sync")

// page reads the next page header of our stream, skipping other streams.
func (p *OggPackets) page() error {
	for {
		h, err := p.r.Peek(27)
		if err != nil {
			return io.ErrUnexpectedEOF
		}
		n := int(h[26])
		if h, err = p.r.Peek(27 + n); err != nil {
			return io.ErrUnexpectedEOF
		}
		pg, ok := parseOggPage(h)
		if !ok {
			return errOggSync
		}
		if pg.serial == p.serial {
			p.lacing, p.seg = p.lbuf[:copy(p.lbuf[:], h[27:])], 0
			p.r.Discard(pg.hdrLen)
			return nil
		}
		if _, err := p.r.Discard(pg.hdrLen + pg.bodyLen); err != nil {
			return io.ErrUnexpectedEOF
		}
	}
}
