package tags

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"
)

// apeKeys maps APEv2 item keys, lower-case, to canonical keys.
var apeKeys = map[string]string{
	"title":             kTitle,
	"artist":            kArtist,
	"album artist":      kAlbumArtist,
	"albumartist":       kAlbumArtist,
	"album_artist":      kAlbumArtist,
	"album":             kAlbum,
	"composer":          kComposer,
	"genre":             kGenre,
	"comment":           kComment,
	"grouping":          kGrouping,
	"year":              kYear,
	"date":              kYear,
	"track":             kTrack,
	"tracknumber":       kTrack,
	"tracktotal":        kTrackTotal,
	"totaltracks":       kTrackTotal,
	"disc":              kDisc,
	"discnumber":        kDisc,
	"disctotal":         kDiscTotal,
	"totaldiscs":        kDiscTotal,
	"bpm":               kBPM,
	"compilation":       kCompilation,
	"titlesort":         kSortTitle,
	"artistsort":        kSortArtist,
	"albumartistsort":   kSortAlbumArtist,
	"albumsort":         kSortAlbum,
	"composersort":      kSortComposer,
	"itunescompilation": kCompilation,
}

// Limits of an APEv2 tag.
const (
	apeFooterLen = 32
	maxAPETag    = 32 << 20 // pictures included
	maxAPEItems  = 1024
)

// apeTagAt finds an APEv2 tag ending at end (its footer's last byte) and
// returns the file range of its items.
func apeTagAt(s *source, end int64) (start, items int64, count int, ok bool) {
	if end < apeFooterLen {
		return 0, 0, 0, false
	}
	f, _ := s.peek(end-apeFooterLen, apeFooterLen)
	if len(f) < apeFooterLen || string(f[:8]) != "APETAGEX" {
		return 0, 0, 0, false
	}
	size := int64(binary.LittleEndian.Uint32(f[12:]))
	count = int(min(binary.LittleEndian.Uint32(f[16:]), maxAPEItems)) // never negative on 32-bit
	if size < apeFooterLen || size > maxAPETag || size > end {
		return 0, 0, 0, false
	}
	items = end - size
	start = items
	if flags := binary.LittleEndian.Uint32(f[20:]); flags&(1<<31) != 0 && start >= apeFooterLen {
		start -= apeFooterLen // a header precedes the items
	}
	return start, items, count, true
}

// readAPEv2 reads the APEv2 tag at the end of the file (before an ID3v1
// tag, if any) into c; values fill what c lacks when fill is set (an MP3's
// ID3v2 tag wins over its APEv2 tag). It reports whether a tag was found.
func readAPEv2(s *source, c *collector, fill bool) (bool, error) {
	// One read covers an APEv2 footer and an ID3v1 tag after it (which
	// readID3v1 then finds buffered).
	end := s.size
	tail, _ := s.peek(max(0, end-160), int(min(end, 160)))
	if len(tail) >= 128 && string(tail[len(tail)-128:len(tail)-125]) == "TAG" {
		end -= 128
	}
	_, off, count, ok := apeTagAt(s, end)
	if !ok {
		return false, nil
	}
	limit := end - apeFooterLen
	add := c.add
	if fill {
		add = c.fill
	}
	for range count {
		h, _ := s.peek(off, 8+256)
		if len(h) < 9 {
			return true, errTruncated
		}
		n := int64(binary.LittleEndian.Uint32(h))
		flags := binary.LittleEndian.Uint32(h[4:])
		k := bytes.IndexByte(h[8:], 0)
		if k < 1 {
			return true, fmt.Errorf("apev2: bad item key")
		}
		key := strings.ToLower(string(h[8 : 8+k]))
		vstart := off + 8 + int64(k) + 1
		if n < 0 || n > limit-vstart {
			return true, errTruncated
		}
		switch kind := flags >> 1 & 3; {
		case kind == 0 && apeKeys[key] != "" && n <= maxID3Text:
			b, err := s.read(vstart, int(n))
			if err != nil {
				return true, err
			}
			// Multiple values are NUL-separated.
			add(apeKeys[key], strings.Split(string(b), "\x00")...)
		case kind == 1 && strings.HasPrefix(key, "cover art"):
			front := key == "cover art (front)"
			vs, vn := vstart, n
			mime := ""
			if b, _ := s.peek(vstart, int(min(n, 256+16))); len(b) > 0 {
				if i := bytes.IndexByte(b, 0); i >= 0 {
					mime = sniffImage(b[i+1:])
				}
			}
			c.offerPicture(front, mime, func() ([]byte, error) {
				if vn > MaxPicture+256 {
					return nil, fmt.Errorf("apev2 picture of %d bytes: too large", vn)
				}
				b, err := s.read(vs, int(vn))
				if err != nil {
					return nil, err
				}
				// A file name, NUL, then the image.
				if i := bytes.IndexByte(b[:min(len(b), 256)], 0); i >= 0 {
					b = b[i+1:]
				}
				return b, nil
			})
		}
		off = vstart + n
	}
	return true, nil
}

// readAPEFile reads the tags of a Monkey's Audio, WavPack, Musepack or
// TTA file: APEv2 first, then an ID3v2 tag at the start and an ID3v1 tag
// at the end fill its gaps.
func readAPEFile(s *source, c *collector) error {
	found, err := readAPEv2(s, c, false)
	if _, e := readID3v2(s, 0, s.size, c); e == nil {
		found = true
	}
	readID3v1(s, c)
	if !found && c.empty() {
		return ErrNoTags
	}
	return err
}
