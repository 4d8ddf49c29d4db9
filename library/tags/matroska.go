package tags

import (
	"fmt"
	"strings"

	"github.com/daapd/daapd/library/probe"
)

// mkvKeys maps Matroska tag names at track level (or without a target)
// to canonical keys; album-level (target 50) TITLE and ARTIST are the
// album and the album artist.
var mkvKeys = map[string]string{
	"TITLE":         kTitle,
	"ARTIST":        kArtist,
	"ALBUM_ARTIST":  kAlbumArtist,
	"ALBUMARTIST":   kAlbumArtist,
	"ALBUM":         kAlbum,
	"COMPOSER":      kComposer,
	"GENRE":         kGenre,
	"COMMENT":       kComment,
	"DESCRIPTION":   kComment,
	"GROUPING":      kGrouping,
	"DATE":          kYear,
	"DATE_RELEASED": kYear,
	"DATE_RECORDED": kYear,
	"YEAR":          kYear,
	"TRACK":         kTrack,
	"TRACKNUMBER":   kTrack,
	"PART_NUMBER":   kTrack,
	"TOTAL_PARTS":   kTrackTotal,
	"DISC":          kDisc,
	"DISCNUMBER":    kDisc,
	"BPM":           kBPM,
	"COMPILATION":   kCompilation,
	"TITLESORT":     kSortTitle,
	"ARTISTSORT":    kSortArtist,
	"ALBUMSORT":     kSortAlbum,
}

// readMatroska reads the tags and the cover attachment of a Matroska or
// WebM file, where probe's walk of the segment found them.
func readMatroska(s *source, c *collector) error {
	for _, b := range s.blocks {
		switch b.Kind {
		case probe.BlockMKVTag:
			v, err := s.view(b.Offset, int(b.Size))
			if err != nil {
				continue
			}
			value := string(v)
			name := strings.ToUpper(b.ID)
			if b.Type >= 50 {
				switch name {
				case "TITLE":
					c.add(kAlbum, value)
					continue
				case "ARTIST":
					c.add(kAlbumArtist, value)
					continue
				case "PART_NUMBER":
					c.add(kDisc, value)
					continue
				case "TOTAL_PARTS":
					c.add(kTrackTotal, value)
					continue
				}
			}
			if k, ok := mkvKeys[name]; ok {
				c.add(k, value)
			}
		case probe.BlockAttachment:
			mime := strings.ToLower(b.ID)
			if !strings.HasPrefix(mime, "image/") {
				continue
			}
			off, n := b.Offset, b.Size
			c.offerPicture(b.Type == 3, mime, func() ([]byte, error) {
				if n > MaxPicture {
					return nil, fmt.Errorf("matroska attachment of %d bytes: too large", n)
				}
				return s.read(off, int(n))
			})
		}
	}
	if c.empty() {
		return ErrNoTags
	}
	return nil
}
