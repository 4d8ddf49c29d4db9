package tags

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// vorbisKeys maps Vorbis comment field names (upper case) to canonical
// keys; "+" marks fallbacks used only when no main field has a value.
var vorbisKeys = map[string]string{
	"TITLE":           kTitle,
	"ARTIST":          kArtist,
	"ALBUMARTIST":     kAlbumArtist,
	"ALBUM ARTIST":    "+" + kAlbumArtist,
	"ALBUM_ARTIST":    "+" + kAlbumArtist,
	"ALBUM":           kAlbum,
	"COMPOSER":        kComposer,
	"GENRE":           kGenre,
	"COMMENT":         kComment,
	"DESCRIPTION":     "+" + kComment,
	"GROUPING":        kGrouping,
	"CONTENTGROUP":    "+" + kGrouping,
	"TITLESORT":       kSortTitle,
	"ARTISTSORT":      kSortArtist,
	"ALBUMARTISTSORT": kSortAlbumArtist,
	"ALBUMSORT":       kSortAlbum,
	"COMPOSERSORT":    kSortComposer,
	"DATE":            kYear,
	"YEAR":            "+" + kYear,
	"ORIGINALDATE":    "+" + kYear,
	"ORIGINALYEAR":    "+" + kYear,
	"TRACKNUMBER":     kTrack,
	"TRACKTOTAL":      kTrackTotal,
	"TOTALTRACKS":     "+" + kTrackTotal,
	"DISCNUMBER":      kDisc,
	"DISCTOTAL":       kDiscTotal,
	"TOTALDISCS":      "+" + kDiscTotal,
	"BPM":             kBPM,
	"TEMPO":           "+" + kBPM,
	"COMPILATION":     kCompilation,
	// ffmpeg's names for the sort keys.
	"ARTIST-SORT":       "+" + kSortArtist,
	"ALBUM-SORT":        "+" + kSortAlbum,
	"TITLE-SORT":        "+" + kSortTitle,
	"ALBUM_ARTIST-SORT": "+" + kSortAlbumArtist,
	"COMPOSER-SORT":     "+" + kSortComposer,
}

// maxField bounds one Vorbis comment field held in memory; longer fields
// other than pictures are skipped.
const maxField = 1 << 20

// readVorbisComment reads a Vorbis comment structure (vendor, count,
// fields) from r into c. It allocates at most maxField per field.
func readVorbisComment(r *bufio.Reader, c *collector) error {
	var fills [][2]string
	defer func() {
		for _, kv := range fills {
			c.fill(kv[0], kv[1])
		}
	}()
	n, err := readU32LE(r)
	if err != nil {
		return err
	}
	if err := discard(r, int64(n)); err != nil {
		return fmt.Errorf("vorbis comment vendor: %w", err)
	}
	count, err := readU32LE(r)
	if err != nil {
		return err
	}
	var keyBuf [72]byte
	for range count {
		n, err := readU32LE(r)
		if err != nil {
			return err
		}
		key, rest, err := readKey(r, int64(n), &keyBuf)
		if err != nil {
			return err
		}
		switch string(key) {
		case "METADATA_BLOCK_PICTURE":
			lr := &io.LimitedReader{R: r, N: rest}
			dec := base64.NewDecoder(base64.StdEncoding, lr)
			br := newBufReader(dec, 4<<10)
			err = flacPicture(br, rest/4*3, c)
			putBufReader(br)
			rest = lr.N
			if err == nil || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || errors.Is(err, errTruncated) {
				err = nil // a bad picture loses only itself
			}
		case "COVERART": // legacy: a base64 image with no header
			legacyCover(r, rest, c)
		default:
			k, ok := vorbisKeys[string(key)]
			if !ok || rest > maxField {
				break
			}
			var v []byte
			if v, err = readFull(r, int(rest)); err != nil {
				return err
			}
			rest = 0
			if k, ok := strings.CutPrefix(k, "+"); ok {
				fills = append(fills, [2]string{k, string(v)})
			} else {
				c.add(k, string(v))
			}
		}
		if err != nil {
			return err
		}
		if err := discard(r, rest); err != nil {
			return err
		}
	}
	return nil
}

// readKey reads a field's name up to "=" and returns it in upper case with
// the number of value bytes left; a field with no "=" has an empty name.
// The name may be held in buf.
func readKey(r *bufio.Reader, n int64, buf *[72]byte) ([]byte, int64, error) {
	key := buf[:0]
	ascii := true
	for n > 0 && len(key) <= 64 {
		b, err := r.ReadByte()
		if err != nil {
			return nil, 0, err
		}
		n--
		if b == '=' {
			if !ascii {
				return []byte(strings.ToUpper(string(key))), n, nil // "ı" is "I"
			}
			for i, c := range key {
				if 'a' <= c && c <= 'z' {
					key[i] = c - 'a' + 'A'
				}
			}
			return key, n, nil
		}
		ascii = ascii && b < utf8.RuneSelf
		key = append(key, b)
	}
	return nil, n, nil
}

// legacyCover records a COVERART field, decoding it only when wanted.
func legacyCover(r *bufio.Reader, n int64, c *collector) {
	if n == 0 || c.hasPic {
		return
	}
	c.offerPicture(true, "", func() ([]byte, error) {
		if n/4*3 > MaxPicture {
			return nil, fmt.Errorf("picture larger than %d bytes", MaxPicture)
		}
		lr := &io.LimitedReader{R: r, N: n}
		b, err := io.ReadAll(base64.NewDecoder(base64.StdEncoding, lr))
		n = lr.N
		return b, err
	})
	discard(r, n)
}

// flacPicture reads a FLAC PICTURE block of at most n bytes from r,
// checking every inner length against what remains.
func flacPicture(r *bufio.Reader, n int64, c *collector) error {
	var h [8]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return err
	}
	typ, mlen := binary.BigEndian.Uint32(h[:4]), int64(binary.BigEndian.Uint32(h[4:]))
	if n -= 8; mlen > n || mlen > 256 {
		return fmt.Errorf("flac picture: MIME type of %d bytes", mlen)
	}
	mime := make([]byte, mlen)
	if _, err := io.ReadFull(r, mime); err != nil {
		return err
	}
	n -= mlen
	var d [4]byte
	if _, err := io.ReadFull(r, d[:]); err != nil {
		return err
	}
	dlen := int64(binary.BigEndian.Uint32(d[:]))
	if n -= 4; dlen > n {
		return fmt.Errorf("flac picture: description of %d bytes in %d", dlen, n)
	}
	if _, err := io.CopyN(io.Discard, r, dlen); err != nil {
		return err
	}
	n -= dlen
	var dims [20]byte // width, height, depth, colours, data length
	if _, err := io.ReadFull(r, dims[:]); err != nil {
		return err
	}
	size := int64(binary.BigEndian.Uint32(dims[16:]))
	if n -= 20; size > n {
		return fmt.Errorf("flac picture: %d bytes of data in %d", size, n)
	}
	if size == 0 || string(mime) == "-->" {
		return nil
	}
	m := string(mime)
	if head, _ := r.Peek(int(min(size, 16))); sniffImage(head) != "" {
		m = sniffImage(head) // the bytes win over a wrong declaration
	}
	c.offerPicture(typ == 3, m, func() ([]byte, error) {
		if size > MaxPicture {
			return nil, fmt.Errorf("picture of %d bytes is larger than %d", size, MaxPicture)
		}
		// Grow with the data actually there: in Ogg, size is not yet
		// checked against the packet.
		b, err := io.ReadAll(io.LimitReader(r, size))
		if err == nil && int64(len(b)) < size {
			err = io.ErrUnexpectedEOF
		}
		return b, err
	})
	return nil
}

// readFLAC walks the FLAC metadata blocks itself, rejecting any block
// longer than the rest of the file, and reads VORBIS_COMMENT and PICTURE.
// A leading ID3v2 tag fills what the Vorbis comment lacks.
func readFLAC(s *source, c *collector) error {
	off := int64(0)
	id3 := newCollector(c.wantPicture)
	if n, err := readID3v2(s, 0, s.size, id3); n > 0 {
		off = n
	} else if !errors.Is(err, ErrNoTags) {
		return err
	}
	defer merge(c, id3)
	if b, _ := s.peek(off, 4); string(b) != "fLaC" {
		return errors.New("flac: no fLaC marker")
	}
	off += 4
	for i := 0; i < 1024; i++ {
		h, _ := s.peek(off, 4)
		if len(h) < 4 {
			return errTruncated
		}
		last, typ := h[0]&0x80 != 0, h[0]&0x7F
		n := int64(h[1])<<16 | int64(h[2])<<8 | int64(h[3])
		off += 4
		if n > s.size-off {
			return fmt.Errorf("flac: block of %d bytes with %d left in file", n, s.size-off)
		}
		var err error
		switch typ {
		case 4:
			br := newBufReader(s.section(off, n), 4<<10)
			err = readVorbisComment(br, c)
			putBufReader(br)
		case 6:
			br := newBufReader(s.section(off, n), 4<<10)
			err = flacPicture(br, n, c)
			putBufReader(br)
		case 127:
			return errors.New("flac: invalid metadata block type")
		}
		if err != nil {
			return fmt.Errorf("flac block %d: %w", typ, err)
		}
		off += n
		if last {
			return nil
		}
	}
	return nil
}

// oggCodecs maps the start of a stream's first packet to its codec.
var oggCodecs = []struct {
	magic, codec string
}{
	{"\x01vorbis", "vorbis"},
	{"OpusHead", "opus"},
	{"\x7fFLAC", "flac"},
	{"Speex   ", "speex"},
}

// readOgg reads the comment header of the first audio stream in an Ogg
// file (Vorbis, Opus, FLAC or Speex). Page CRCs are not checked: a tag is
// worth reading even when a writer got the checksum wrong.
func readOgg(s *source, c *collector) error {
	serial, codec, err := oggStream(s)
	if err != nil {
		return err
	}
	p := &oggPackets{r: newBufReader(s.section(0, s.size), 16<<10), serial: serial}
	defer putBufReader(p.r)
	if err := p.next(); err != nil { // the identification packet
		return err
	}
	switch codec {
	case "flac":
		// Each later header packet is one metadata block.
		for i := 0; i < 64; i++ {
			if err := p.next(); err != nil {
				return err
			}
			br := newBufReader(p, 4<<10)
			defer putBufReader(br)
			var h [4]byte
			if _, err := io.ReadFull(br, h[:]); err != nil {
				return err
			}
			n := int64(h[1])<<16 | int64(h[2])<<8 | int64(h[3])
			switch h[0] & 0x7F {
			case 4:
				return readVorbisComment(br, c)
			case 6:
				if err := flacPicture(br, n, c); err != nil {
					return err
				}
			}
			if h[0]&0x80 != 0 {
				return ErrNoTags
			}
		}
		return ErrNoTags
	default:
		if err := p.next(); err != nil {
			return err
		}
		br := newBufReader(p, 4<<10)
		defer putBufReader(br)
		magic := map[string]string{"vorbis": "\x03vorbis", "opus": "OpusTags"}[codec]
		head, err := readFull(br, len(magic))
		if err != nil {
			return err
		}
		if string(head) != magic {
			return fmt.Errorf("ogg %s: comment header missing", codec)
		}
		return readVorbisComment(br, c)
	}
}

// oggStream finds the first stream whose first packet names a codec we
// read, among the beginning-of-stream pages at the start of the file.
func oggStream(s *source) (serial uint32, codec string, err error) {
	off := int64(0)
	for i := 0; i < 16; i++ {
		h, _ := s.peek(off, 27)
		if len(h) < 27 || string(h[:4]) != "OggS" {
			break
		}
		if h[5]&0x02 == 0 { // past the BOS pages
			break
		}
		serial := binary.LittleEndian.Uint32(h[14:18])
		nseg := int(h[26])
		lacing, _ := s.peek(off+27, nseg)
		if len(lacing) < nseg {
			break
		}
		body := int64(0)
		for _, l := range lacing {
			body += int64(l)
		}
		first, _ := s.peek(off+27+int64(nseg), 8)
		for _, oc := range oggCodecs {
			if bytes.HasPrefix(first, []byte(oc.magic)) {
				return serial, oc.codec, nil
			}
		}
		off += 27 + int64(nseg) + body
	}
	return 0, "", ErrNoTags
}

// oggPackets reads the packets of one logical Ogg stream as io.Readers:
// Read returns io.EOF at the end of the current packet; next moves on.
type oggPackets struct {
	r      *bufio.Reader
	serial uint32

	lacing []byte // segment sizes of the current page
	lbuf   [255]byte
	seg    int  // next segment
	left   int  // bytes left in the current segment
	ended  bool // the current packet is complete
	inside bool // a packet has been started
}

// next discards the rest of the current packet and starts the next one.
func (p *oggPackets) next() error {
	if p.inside {
		if _, err := io.Copy(io.Discard, p); err != nil {
			return err
		}
	}
	p.inside, p.ended = true, false
	return nil
}

func (p *oggPackets) Read(b []byte) (int, error) {
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

// page reads the next page header of our stream, skipping other streams.
func (p *oggPackets) page() error {
	for {
		h, err := readFull(p.r, 27)
		if err != nil {
			return io.ErrUnexpectedEOF
		}
		if string(h[:4]) != "OggS" {
			return errors.New("ogg: lost page sync")
		}
		serial := binary.LittleEndian.Uint32(h[14:18])
		lacing := p.lbuf[:h[26]]
		if _, err := io.ReadFull(p.r, lacing); err != nil {
			return io.ErrUnexpectedEOF
		}
		if serial == p.serial {
			p.lacing, p.seg = lacing, 0
			return nil
		}
		body := 0
		for _, l := range lacing {
			body += int(l)
		}
		if _, err := p.r.Discard(body); err != nil {
			return io.ErrUnexpectedEOF
		}
	}
}

func readU32LE(r *bufio.Reader) (uint32, error) {
	b, err := readFull(r, 4)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint32(b), nil
}

// discard skips n bytes of r, failing when r ends first.
func discard(r io.Reader, n int64) error {
	if n <= 0 {
		return nil
	}
	if br, ok := r.(*bufio.Reader); ok && n < 1<<30 {
		_, err := br.Discard(int(n))
		return err
	}
	_, err := io.CopyN(io.Discard, r, n)
	return err
}
