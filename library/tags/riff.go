package tags

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
)

// riffInfo maps RIFF LIST/INFO sub-chunks to canonical keys; "+" marks
// fallbacks.
var riffInfo = map[string]string{
	"INAM": kTitle,
	"IART": kArtist,
	"IPRD": kAlbum,
	"ICRD": kYear,
	"IGNR": kGenre,
	"ICMT": kComment,
	"IMUS": kComposer,
	"ITRK": kTrack,
	"IPRT": "+" + kTrack,
}

// aiffText maps AIFF text chunks to canonical keys.
var aiffText = map[string]string{
	"NAME": kTitle,
	"AUTH": kArtist,
	"ANNO": kComment,
}

// maxChunks bounds the chunks walked in one file.
const maxChunks = 4096

// chunk is one RIFF or IFF chunk: its id and the file range of its body.
type chunk struct {
	id         string
	start, end int64
}

// chunks calls fn for each chunk from off to end. Sizes are little-endian
// in RIFF and big-endian in IFF; bodies are padded to even length. A chunk
// that claims more than the file has is cut at the file's end.
func chunks(s *source, off, end int64, order binary.ByteOrder, sizes func(id string, n int64) int64, fn func(chunk) error) error {
	for i := 0; off+8 <= end && i < maxChunks; i++ {
		h, _ := s.peek(off, 8)
		if len(h) < 8 {
			return errTruncated
		}
		n := int64(order.Uint32(h[4:8]))
		if sizes != nil {
			n = sizes(string(h[:4]), n)
		}
		c := chunk{id: string(h[:4]), start: off + 8, end: min(off+8+n, end)}
		if err := fn(c); err != nil {
			return err
		}
		off = off + 8 + n + n&1
	}
	return nil
}

// readWAV reads the ID3 chunk ("id3 " or "ID3 ") of a RIFF/RF64 WAVE file,
// filling gaps from its LIST/INFO chunk.
func readWAV(s *source, c *collector) error {
	h, _ := s.peek(0, 12)
	if len(h) < 12 || string(h[8:12]) != "WAVE" {
		return errors.New("wav: no RIFF WAVE header")
	}
	var dataSize int64 = -1 // from RF64's ds64 chunk
	sizes := func(id string, n int64) int64 {
		if id == "data" && n == 0xFFFFFFFF && dataSize >= 0 {
			return dataSize
		}
		return n
	}
	info := newCollector(false)
	var id3Err error
	seen := false
	err := chunks(s, 12, s.size, binary.LittleEndian, sizes, func(ch chunk) error {
		switch ch.id {
		case "ds64":
			if b, _ := s.peek(ch.start, 16); len(b) == 16 {
				dataSize = int64(min(binary.LittleEndian.Uint64(b[8:16]), 1<<62))
			}
		case "id3 ", "ID3 ":
			id3Err = readID3Chunk(s, ch, c, &seen, id3Err)
		case "LIST":
			if b, _ := s.peek(ch.start, 4); string(b) == "INFO" {
				return readInfo(s, ch, info)
			}
		}
		return nil
	})
	merge(c, info)
	if err == nil {
		err = id3Err
	}
	return err
}

// readInfo reads the text sub-chunks of a LIST/INFO chunk.
func readInfo(s *source, list chunk, c *collector) error {
	var fills [][2]string
	err := chunks(s, list.start+4, list.end, binary.LittleEndian, nil, func(ch chunk) error {
		k, ok := riffInfo[ch.id]
		if !ok || ch.end-ch.start > maxID3Text {
			return nil
		}
		b, err := s.read(ch.start, int(ch.end-ch.start))
		if err != nil {
			return err
		}
		v := chunkText(b)
		if k, ok := cutPlus(k); ok {
			fills = append(fills, [2]string{k, v})
		} else {
			c.add(k, v)
		}
		return nil
	})
	for _, kv := range fills {
		c.fill(kv[0], kv[1])
	}
	return err
}

// readAIFF reads the ID3 chunk of an AIFF or AIFC file, filling gaps from
// its NAME, AUTH and ANNO chunks.
func readAIFF(s *source, c *collector) error {
	h, _ := s.peek(0, 12)
	if len(h) < 12 || string(h[:4]) != "FORM" || (string(h[8:12]) != "AIFF" && string(h[8:12]) != "AIFC") {
		return errors.New("aiff: no FORM AIFF header")
	}
	text := newCollector(false)
	var id3Err error
	seen := false
	err := chunks(s, 12, s.size, binary.BigEndian, nil, func(ch chunk) error {
		switch ch.id {
		case "ID3 ", "id3 ":
			id3Err = readID3Chunk(s, ch, c, &seen, id3Err)
		default:
			k, ok := aiffText[ch.id]
			if !ok || ch.end-ch.start > maxID3Text {
				return nil
			}
			b, err := s.read(ch.start, int(ch.end-ch.start))
			if err != nil {
				return fmt.Errorf("aiff %s chunk: %w", ch.id, err)
			}
			text.add(k, chunkText(b))
		}
		return nil
	})
	merge(c, text)
	if err == nil {
		err = id3Err
	}
	return err
}

// readID3Chunk reads the ID3v2 tag in ch. The first ID3 chunk is the tag;
// later ones (taglib's duplicate_tags.wav has two) only fill its gaps. It
// returns the first error seen.
func readID3Chunk(s *source, ch chunk, c *collector, seen *bool, prev error) error {
	dst := c
	if *seen {
		dst = newCollector(c.wantPicture)
		defer merge(c, dst)
	}
	*seen = true
	if _, err := readID3v2(s, ch.start, ch.end, dst); err != nil && prev == nil {
		return err
	}
	return prev
}

// chunkText decodes a RIFF or IFF text chunk: up to the first NUL, UTF-8
// when valid, else ISO-8859-1.
func chunkText(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return legacyText(string(b))
}

// merge fills the gaps of c from a lower-priority collector, picture
// included.
func merge(c, low *collector) {
	had := c.vals
	for _, kv := range low.vals {
		if !slices.ContainsFunc(had, func(h keyVal) bool { return h.key == kv.key }) {
			c.add(kv.key, kv.val)
		}
	}
	if pic := low.pic; low.hasPic && (!c.wantPicture || pic.data != nil) {
		c.offerPicture(pic.front, pic.mime, func() ([]byte, error) { return pic.data, nil })
	}
}

func cutPlus(k string) (string, bool) {
	if len(k) > 0 && k[0] == '+' {
		return k[1:], true
	}
	return k, false
}
