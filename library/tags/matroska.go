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
// WebM file.
func readMatroska(s *source, c *collector) error {
	tags, atts, err := probe.MatroskaTags(s.r, s.size)
	if err != nil && len(tags) == 0 {
		return err
	}
	for _, t := range tags {
		name := strings.ToUpper(t.Name)
		if t.Target >= 50 {
			switch name {
			case "TITLE":
				c.add(kAlbum, t.Value)
				continue
			case "ARTIST":
				c.add(kAlbumArtist, t.Value)
				continue
			case "PART_NUMBER":
				c.add(kDisc, t.Value)
				continue
			case "TOTAL_PARTS":
				c.add(kTrackTotal, t.Value)
				continue
			}
		}
		if k, ok := mkvKeys[name]; ok {
			c.add(k, t.Value)
		}
	}
	for _, a := range atts {
		mime := strings.ToLower(a.MIME)
		if !strings.HasPrefix(mime, "image/") {
			continue
		}
		front := strings.HasPrefix(strings.ToLower(a.Name), "cover")
		off, n := a.Offset, a.Size
		c.offerPicture(front, mime, func() ([]byte, error) {
			if n > MaxPicture {
				return nil, fmt.Errorf("matroska attachment of %d bytes: too large", n)
			}
			return s.read(off, int(n))
		})
	}
	if c.empty() {
		return ErrNoTags
	}
	return nil
}
