// Package tags reads track metadata through github.com/dhowden/tag, guarding
// against its known bugs, and fills the formats it does not cover.
package tags

import (
	"errors"
	"io"
)

// Tags is the metadata of one file, normalised.
type Tags struct {
	Title, Artist, AlbumArtist, Album, Composer, Genre, Comment, Grouping string
	SortTitle, SortArtist, SortAlbumArtist, SortAlbum, SortComposer       string

	Year              int
	Track, TrackTotal int
	Disc, DiscTotal   int
	BPM               int
	Compilation       bool
	HasPicture        bool   // an embedded picture exists
	PictureMIME       string // its type, when known
}

// ErrNoTags means the file carries no tags we can read (not an error for
// the scanner: the track falls back to its file name).
var ErrNoTags = errors.New("no tags")

// Read reads the tags of the size bytes in r. container is probe.Info's
// Container ("mp3", "mp4", "flac", "ogg", "wav", "aiff").
func Read(r io.ReaderAt, size int64, container string) (Tags, error) {
	return Tags{}, ErrNoTags // TODO
}

// Picture returns the embedded cover image and its MIME type.
func Picture(r io.ReaderAt, size int64, container string) ([]byte, string, error) {
	return nil, "", ErrNoTags // TODO
}
