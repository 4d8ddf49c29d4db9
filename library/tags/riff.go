package tags

import (
	"bytes"
	"fmt"
	"slices"

	"github.com/daapd/daapd/library/probe"
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

// readWAV reads the ID3 chunk ("id3 " or "ID3 ") of a RIFF/RF64 WAVE file,
// filling gaps from its LIST/INFO chunk, at the places probe's walk of the
// chunks found them.
func readWAV(s *source, c *collector) error {
	info := newCollector(false)
	var fills [][2]string
	var id3Err error
	seen := false
	for _, b := range s.blocks {
		switch b.Kind {
		case probe.BlockID3v2:
			id3Err = readID3Chunk(s, b, c, &seen, id3Err)
		case probe.BlockInfo:
			k, ok := riffInfo[b.ID]
			if !ok || b.Size > maxID3Text {
				continue
			}
			v, err := s.view(b.Offset, int(b.Size))
			if err != nil {
				return err
			}
			if k, ok := cutPlus(k); ok {
				fills = append(fills, [2]string{k, chunkText(v)})
			} else {
				info.add(k, chunkText(v))
			}
		}
	}
	for _, kv := range fills {
		info.fill(kv[0], kv[1])
	}
	merge(c, info)
	return id3Err
}

// readAIFF reads the ID3 chunk of an AIFF or AIFC file, filling gaps from
// its NAME, AUTH and ANNO chunks.
func readAIFF(s *source, c *collector) error {
	text := newCollector(false)
	var id3Err error
	seen := false
	for _, b := range s.blocks {
		switch b.Kind {
		case probe.BlockID3v2:
			id3Err = readID3Chunk(s, b, c, &seen, id3Err)
		case probe.BlockText:
			k, ok := aiffText[b.ID]
			if !ok || b.Size > maxID3Text {
				continue
			}
			v, err := s.view(b.Offset, int(b.Size))
			if err != nil {
				return fmt.Errorf("aiff %s chunk: %w", b.ID, err)
			}
			text.add(k, chunkText(v))
		}
	}
	merge(c, text)
	return id3Err
}

// readID3Chunk reads the ID3v2 tag in b. The first ID3 chunk is the tag;
// later ones (taglib's duplicate_tags.wav has two) only fill its gaps. It
// returns the first error seen.
func readID3Chunk(s *source, b probe.Block, c *collector, seen *bool, prev error) error {
	dst := c
	if *seen {
		dst = newCollector(c.wantPicture)
		defer merge(c, dst)
	}
	*seen = true
	if _, err := readID3v2(s, b.Offset, b.Offset+b.Size, dst); err != nil && prev == nil {
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
