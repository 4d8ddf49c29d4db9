package tags

import (
	"bufio"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/daapd/daapd/library/probe"
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

// readFLAC reads the VORBIS_COMMENT and PICTURE blocks probe's walk of the
// metadata blocks found, rejecting any block longer than the rest of the
// file. A leading ID3v2 tag fills what the Vorbis comment lacks.
func readFLAC(s *source, c *collector) error {
	id3 := newCollector(c.wantPicture)
	defer merge(c, id3)
	for _, b := range s.blocks {
		if b.Kind == probe.BlockID3v2 {
			if _, err := readID3v2(s, b.Offset, b.Offset+b.Size, id3); err != nil && !errors.Is(err, ErrNoTags) {
				return err
			}
			continue
		}
		if b.Kind != probe.BlockFLAC {
			continue
		}
		if b.Size > s.size-b.Offset {
			return fmt.Errorf("flac: block of %d bytes with %d left in file", b.Size, s.size-b.Offset)
		}
		var err error
		switch b.Type {
		case 4:
			br := newBufReader(s.section(b.Offset, b.Size), 4<<10)
			err = readVorbisComment(br, c)
			putBufReader(br)
		case 6:
			br := newBufReader(s.section(b.Offset, b.Size), 4<<10)
			err = flacPicture(br, b.Size, c)
			putBufReader(br)
		case 127:
			return errors.New("flac: invalid metadata block type")
		}
		if err != nil {
			return fmt.Errorf("flac block %d: %w", b.Type, err)
		}
	}
	return nil
}

// readOgg reads the comment header of the Ogg stream probe described
// (Vorbis, Opus, FLAC or Speex).
func readOgg(s *source, c *collector) error {
	i := slices.IndexFunc(s.blocks, func(b probe.Block) bool { return b.Kind == probe.BlockOgg })
	if i < 0 {
		return ErrNoTags
	}
	stream := s.blocks[i]
	p := probe.NewOggPackets(s.r, s.size, stream.Offset, stream.Serial)
	defer p.Close()
	if err := p.Next(); err != nil { // the identification packet
		return err
	}
	switch stream.Codec {
	case "flac":
		// Each later header packet is one metadata block.
		for i := 0; i < 64; i++ {
			if err := p.Next(); err != nil {
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
		if err := p.Next(); err != nil {
			return err
		}
		br := newBufReader(p, 4<<10)
		defer putBufReader(br)
		// Speex comments are a bare Vorbis comment structure.
		magic := map[string]string{"vorbis": "\x03vorbis", "opus": "OpusTags"}[stream.Codec]
		head, err := readFull(br, len(magic))
		if err != nil {
			return err
		}
		if string(head) != magic {
			return fmt.Errorf("ogg %s: comment header missing", stream.Codec)
		}
		return readVorbisComment(br, c)
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
