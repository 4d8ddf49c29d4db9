package tags

import (
	"errors"

	"github.com/daapd/daapd/library/probe"
)

// readDSD reads the ID3v2 tag of a DSF file (at its metadata pointer) or a
// DSDIFF file (an "ID3 " chunk, as foobar2000 and TagLib write it).
func readDSD(s *source, c *collector) error {
	chs, err := probe.Chunks(s.r, s.size)
	if err != nil {
		return err
	}
	seen := false
	var id3Err error
	for _, ch := range chs {
		if ch.ID == "ID3 " || ch.ID == "id3 " {
			id3Err = readID3Chunk(s, chunk{id: ch.ID, start: ch.Offset, end: ch.Offset + ch.Size}, c, &seen, id3Err)
		}
	}
	if !seen {
		return ErrNoTags
	}
	if errors.Is(id3Err, ErrNoTags) && !c.empty() {
		id3Err = nil
	}
	return id3Err
}
