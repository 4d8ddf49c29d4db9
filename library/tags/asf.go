package tags

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"

	"github.com/daapd/daapd/library/probe"
)

// asfKeys maps ASF attribute names, lower-case, to canonical keys.
var asfKeys = map[string]string{
	"wm/albumtitle":              kAlbum,
	"wm/albumartist":             kAlbumArtist,
	"wm/composer":                kComposer,
	"wm/genre":                   kGenre,
	"wm/year":                    kYear,
	"wm/tracknumber":             kTrack,
	"wm/track":                   "+" + kTrack, // 0-based, used only without WM/TrackNumber
	"wm/partofset":               kDisc,
	"wm/contentgroupdescription": kGrouping,
	"wm/beatsperminute":          kBPM,
	"wm/titlesortorder":          kSortTitle,
	"wm/artistsortorder":         kSortArtist,
	"wm/albumartistsortorder":    kSortAlbumArtist,
	"wm/albumsortorder":          kSortAlbum,
	"wm/composersortorder":       kSortComposer,
	"wm/iscompilation":           kCompilation,
	"title":                      kTitle,
	"author":                     kArtist,
	"description":                kComment,
}

// maxASFObject bounds a tag object read into memory (pictures aside).
const maxASFObject = 1 << 20

// readASF reads a WMA file's content description, extended content
// description and metadata objects, where probe's walk of the header found
// them; WM/Picture becomes the picture.
func readASF(s *source, c *collector) error {
	var fills [][2]string
	for _, o := range s.blocks {
		if o.Kind != probe.BlockASF {
			continue
		}
		switch o.ID {
		case probe.ASFContentDescription:
			b, err := s.read(o.Offset, int(min(o.Size, maxASFObject)))
			if err != nil || len(b) < 10 {
				continue
			}
			off := 10
			for i, key := range []string{"title", "author", "", "description"} {
				n := int(binary.LittleEndian.Uint16(b[2*i:]))
				if off+n > len(b) {
					break
				}
				if key != "" {
					c.add(asfKeys[key], utf16String(b[off:off+n]))
				}
				off += n
			}
		case probe.ASFExtendedContent:
			if err := asfAttributes(s, o, c, &fills, false); err != nil {
				return err
			}
		case probe.ASFMetadata:
			if err := asfAttributes(s, o, c, &fills, true); err != nil {
				return err
			}
		}
	}
	for _, kv := range fills {
		c.fill(kv[0], kv[1])
	}
	if c.empty() {
		return ErrNoTags
	}
	return nil
}

// asfAttributes reads the attributes of an extended content description
// object, or (meta) of a metadata or metadata library object, whose
// records carry a stream number and a 32-bit length.
func asfAttributes(s *source, o probe.Block, c *collector, fills *[][2]string, meta bool) error {
	off, end := o.Offset, o.Offset+o.Size
	h, _ := s.peek(off, 2)
	if len(h) < 2 {
		return nil
	}
	count := int(binary.LittleEndian.Uint16(h))
	off += 2
	for range count {
		var nameLen, typ int
		var valLen int64
		if meta {
			r, _ := s.peek(off, 12)
			if len(r) < 12 {
				return nil
			}
			nameLen, typ = int(binary.LittleEndian.Uint16(r[4:])), int(binary.LittleEndian.Uint16(r[6:]))
			valLen = int64(binary.LittleEndian.Uint32(r[8:]))
			off += 12
		} else {
			r, _ := s.peek(off, 2)
			if len(r) < 2 {
				return nil
			}
			nameLen = int(binary.LittleEndian.Uint16(r))
			off += 2
		}
		if int64(nameLen) > end-off {
			return nil
		}
		nb, err := s.read(off, nameLen)
		if err != nil {
			return nil
		}
		name := strings.ToLower(utf16String(nb))
		off += int64(nameLen)
		if !meta {
			r, _ := s.peek(off, 4)
			if len(r) < 4 {
				return nil
			}
			typ, valLen = int(binary.LittleEndian.Uint16(r)), int64(binary.LittleEndian.Uint16(r[2:]))
			off += 4
		}
		if valLen > end-off {
			return nil
		}
		vstart := off
		off += valLen
		if name == "wm/picture" && typ == 1 {
			asfPicture(s, vstart, valLen, c)
			continue
		}
		key, ok := asfKeys[name]
		if !ok || valLen > maxID3Text {
			continue
		}
		b, err := s.read(vstart, int(valLen))
		if err != nil {
			return nil
		}
		var v string
		switch typ {
		case 0:
			v = utf16String(b)
		case 2, 3: // BOOL and DWORD are 32-bit (BOOL is 16-bit in metadata objects)
			if len(b) >= 4 {
				v = strconv.FormatUint(uint64(binary.LittleEndian.Uint32(b)), 10)
			} else if len(b) >= 2 {
				v = strconv.FormatUint(uint64(binary.LittleEndian.Uint16(b)), 10)
			}
		case 4:
			if len(b) >= 8 {
				v = strconv.FormatUint(binary.LittleEndian.Uint64(b), 10)
			}
		case 5:
			if len(b) >= 2 {
				v = strconv.FormatUint(uint64(binary.LittleEndian.Uint16(b)), 10)
			}
		default:
			continue
		}
		if k, fb := cutPlus(key); fb {
			if n, err := strconv.Atoi(v); err == nil {
				*fills = append(*fills, [2]string{k, strconv.Itoa(n + 1)})
			}
			continue
		}
		c.add(key, v)
	}
	return nil
}

// asfPicture offers a WM/Picture value: picture type, data length, MIME
// type and description (UTF-16, NUL-terminated), then the image.
func asfPicture(s *source, off, n int64, c *collector) {
	if n < 5 {
		return
	}
	h, _ := s.peek(off, int(min(n, 1024)))
	if len(h) < 5 {
		return
	}
	front := h[0] == 3
	size := int64(binary.LittleEndian.Uint32(h[1:]))
	p := 5
	mimeEnd := utf16End(h[p:])
	if mimeEnd < 0 {
		return
	}
	mime := utf16String(h[p : p+mimeEnd])
	p += mimeEnd + 2
	descEnd := utf16End(h[p:])
	if descEnd < 0 {
		return
	}
	p += descEnd + 2
	data := off + int64(p)
	if size > n-int64(p) {
		return
	}
	c.offerPicture(front, mime, func() ([]byte, error) {
		if size > MaxPicture {
			return nil, fmt.Errorf("asf picture of %d bytes: too large", size)
		}
		return s.read(data, int(size))
	})
}

// utf16End is the index of the UTF-16 NUL that ends b, or -1.
func utf16End(b []byte) int {
	for i := 0; i+1 < len(b); i += 2 {
		if b[i] == 0 && b[i+1] == 0 {
			return i
		}
	}
	return -1
}

// utf16String decodes little-endian UTF-16, up to the first NUL.
func utf16String(b []byte) string {
	u := make([]uint16, 0, len(b)/2)
	for i := 0; i+1 < len(b); i += 2 {
		v := binary.LittleEndian.Uint16(b[i:])
		if v == 0 {
			break
		}
		u = append(u, v)
	}
	return string(utf16.Decode(u))
}
