package tags

import (
	"errors"

	"github.com/daapd/daapd/library/probe"
)

// readDSD reads the ID3v2 tag of a DSF file (at its metadata pointer) or a
// DSDIFF file (an "ID3 " chunk, as foobar2000 and TagLib write it), where
// probe's walk found it.
func readDSD(s *source, c *collector) error {
	seen := false
	var id3Err error
	for _, b := range s.blocks {
		if b.Kind == probe.BlockID3v2 {
			id3Err = readID3Chunk(s, b, c, &seen, id3Err)
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
