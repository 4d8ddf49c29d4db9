package tags

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"

	"github.com/daapd/daapd/library/probe"
)

// mp4Text maps iTunes ilst text atoms to canonical keys ("\xa9" is the
// Mac Roman "©" of the atom names).
var mp4Text = map[string]string{
	"\xa9nam": kTitle,
	"\xa9ART": kArtist,
	"aART":    kAlbumArtist,
	"\xa9alb": kAlbum,
	"\xa9wrt": kComposer,
	"\xa9gen": kGenre,
	"\xa9cmt": kComment,
	"\xa9grp": kGrouping,
	"\xa9day": kYear,
	"sonm":    kSortTitle,
	"soar":    kSortArtist,
	"soaa":    kSortAlbumArtist,
	"soal":    kSortAlbum,
	"soco":    kSortComposer,
}

// MP4 data atom classes (the well-known types of the ilst data box).
const (
	classImplicit = 0
	classUTF8     = 1
	classUTF16    = 2
	classJPEG     = 13
	classPNG      = 14
	classInt      = 21
	classUint     = 22
	classBMP      = 27
)

// mp4Box is one MP4 box: its type and the file range of its body.
type mp4Box struct {
	typ        string
	start, end int64 // body
}

// boxes calls fn for each box in [start, end) until fn returns false: the
// items of an ilst and their data atoms (probe walks the boxes above).
func boxes(s *source, start, end int64, fn func(mp4Box) bool) error {
	for off := start; off+8 <= end; {
		h, _ := s.peek(off, 16)
		if len(h) < 8 {
			return errTruncated
		}
		size, hl := int64(binary.BigEndian.Uint32(h)), int64(8)
		switch size {
		case 0: // to the end of the parent
			size = end - off
		case 1:
			if len(h) < 16 {
				return errTruncated
			}
			u := binary.BigEndian.Uint64(h[8:16])
			size, hl = int64(min(u, 1<<62)), 16
		}
		if size < hl {
			return fmt.Errorf("mp4: box %q of %d bytes", h[4:8], size)
		}
		// A child may overrun its parent (taglib's 64bit.mp4); only the file bounds it.
		b := mp4Box{typ: boxType(h[4:8]), start: off + hl, end: min(off+size, s.size)}
		if !fn(b) {
			return nil
		}
		off += size
		if off > end {
			return nil
		}
	}
	return nil
}

// boxTypes interns the box types the reader compares with.
var boxTypes = func() map[string]string {
	m := map[string]string{}
	for _, t := range []string{"name", "data", "mean", "covr", "trkn", "disk", "tmpo", "cpil", "stik", "pcst", "gnre", "----"} {
		m[t] = t
	}
	for t := range mp4Text {
		m[t] = t
	}
	return m
}()

// boxType returns the box type b as a string, allocating only for types
// boxTypes does not know.
func boxType(b []byte) string {
	if t, ok := boxTypes[string(b)]; ok {
		return t
	}
	return string(b)
}

// readMP4 reads the items of the iTunes ilst box that probe's walk of the
// moov box found.
func readMP4(s *source, c *collector) error {
	var ilst mp4Box
	found := false
	for _, b := range s.blocks {
		if b.Kind == probe.BlockIlst {
			ilst, found = mp4Box{typ: "ilst", start: b.Offset, end: b.Offset + b.Size}, true
			break
		}
	}
	if !found {
		return ErrNoTags
	}
	var fills [][2]string
	err := boxes(s, ilst.start, ilst.end, func(item mp4Box) bool {
		fills = append(fills, mp4Item(s, item, c)...)
		return true
	})
	for _, kv := range fills {
		c.fill(kv[0], kv[1])
	}
	return err
}

// mp4Item reads one ilst item: each of its data atoms is one value.
func mp4Item(s *source, item mp4Box, c *collector) (fills [][2]string) {
	var freeform string // the name of a "----" item
	boxes(s, item.start, item.end, func(d mp4Box) bool {
		switch d.typ {
		case "name":
			if b, err := s.view(d.start, int(min(d.end-d.start, 256))); err == nil && len(b) > 4 {
				freeform = strings.ToUpper(clean(string(b[4:])))
			}
			return true
		case "data":
		default:
			return true
		}
		h, _ := s.peek(d.start, 8)
		if len(h) < 8 {
			return false
		}
		class := int(binary.BigEndian.Uint32(h) & 0xFFFFFF)
		vstart, n := d.start+8, d.end-d.start-8
		if item.typ == "covr" {
			mp4Cover(s, class, vstart, n, c)
			return true
		}
		if n > maxID3Text {
			return true
		}
		v, err := s.view(vstart, int(n))
		if err != nil {
			return false
		}
		if k, ok := mp4Text[item.typ]; ok {
			if str, ok := mp4String(class, v); ok {
				c.add(k, str)
			}
			return true
		}
		switch item.typ {
		case "trkn", "disk":
			key := map[string]string{"trkn": kTrack, "disk": kDisc}[item.typ]
			if class == classUTF8 || class == classUTF16 {
				str, _ := mp4String(class, v)
				c.add(key, str)
			} else if len(v) >= 4 {
				// 2 reserved bytes, 16-bit number, 16-bit total.
				n, total := binary.BigEndian.Uint16(v[2:4]), uint16(0)
				if len(v) >= 6 {
					total = binary.BigEndian.Uint16(v[4:6])
				}
				c.add(key, fmt.Sprintf("%d/%d", n, total))
			}
		case "tmpo", "cpil":
			key := map[string]string{"tmpo": kBPM, "cpil": kCompilation}[item.typ]
			if n, ok := mp4Int(v); ok && class != classUTF8 {
				c.add(key, strconv.FormatInt(n, 10))
			} else if str, ok := mp4String(class, v); ok {
				c.add(key, str)
			}
		case "stik", "pcst": // media type; podcast flag
			if n, ok := mp4Int(v); ok {
				c.add(map[string]string{"stik": kStik, "pcst": kPodcast}[item.typ], strconv.FormatInt(n, 10))
			}
		case "gnre": // ID3v1 genre index plus one
			if n, ok := mp4Int(v); ok {
				fills = append(fills, [2]string{kGenre, genreName(int(n) - 1)})
			}
		case "----":
			if k, ok := id3TXXX[freeform]; ok {
				if str, ok := mp4String(class, v); ok {
					fills = append(fills, [2]string{k, str})
				}
			}
		}
		return true
	})
	return fills
}

// mp4Cover records one covr data atom without reading more than its type.
func mp4Cover(s *source, class int, start, n int64, c *collector) {
	if n <= 0 {
		return
	}
	head, _ := s.peek(start, int(min(n, 16)))
	mime := sniffImage(head)
	if mime == "" {
		mime = map[int]string{classJPEG: "image/jpeg", classPNG: "image/png", classBMP: "image/bmp"}[class]
	}
	c.offerPicture(true, mime, func() ([]byte, error) {
		if n > MaxPicture {
			return nil, fmt.Errorf("picture of %d bytes is larger than %d", n, MaxPicture)
		}
		return s.read(start, int(n))
	})
}

// mp4String decodes a text value; ok is false for classes that are not text.
func mp4String(class int, v []byte) (string, bool) {
	switch class {
	case classUTF8, classImplicit, 4:
		return string(v), true
	case classUTF16, 5:
		u := make([]uint16, len(v)/2)
		for i := range u {
			u[i] = binary.BigEndian.Uint16(v[2*i:])
		}
		return string(utf16.Decode(u)), true
	case classInt, classUint:
		if n, ok := mp4Int(v); ok {
			return strconv.FormatInt(n, 10), true
		}
	}
	return "", false
}

// mp4Int reads a big-endian integer of 1, 2, 4 or 8 bytes.
func mp4Int(v []byte) (int64, bool) {
	switch len(v) {
	case 1:
		return int64(v[0]), true
	case 2:
		return int64(binary.BigEndian.Uint16(v)), true
	case 4:
		return int64(binary.BigEndian.Uint32(v)), true
	case 8:
		return int64(binary.BigEndian.Uint64(v) & (1<<63 - 1)), true
	}
	return 0, false
}
