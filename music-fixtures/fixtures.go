// Package fixtures describes the committed test music in this folder: where
// it is and what generate.sh wrote into each file (expected.json), so tests
// in other packages can compare a scan with the truth.
package fixtures

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
)

// Track is one audio file the scanner must find, with the tags it was
// written with. Empty strings and zeros mean "not written".
type Track struct {
	Path            string `json:"path"` // relative to Dir, slash-separated, NFC
	Title           string `json:"title"`
	Artist          string `json:"artist"`
	AlbumArtist     string `json:"album_artist"`
	Album           string `json:"album"`
	Genre           string `json:"genre"`
	Year            int    `json:"year"`
	Track           int    `json:"track"`
	TrackTotal      int    `json:"track_total"`
	Disc            int    `json:"disc"`
	DiscTotal       int    `json:"disc_total"`
	Compilation     bool   `json:"compilation"`
	Composer        string `json:"composer"`
	Comment         string `json:"comment"`
	SortArtist      string `json:"sort_artist"`
	SortAlbumArtist string `json:"sort_album_artist"`
	SortAlbum       string `json:"sort_album"`

	Codec      string `json:"codec"`     // mp3, aac, alac, flac, vorbis, opus, pcm
	Format     string `json:"format"`    // file extension without the dot
	Container  string `json:"container"` // mp3, mp4, flac, ogg, wav, aiff
	Tags       string `json:"tags"`      // tag flavour: id3v2.4, id3v2.3, id3v2.2, id3v1, mp4, vorbis, opus, wav-id3, wav-info, aiff-id3, none
	Seconds    int    `json:"seconds"`   // length of the encoded tone
	DurationMS int    `json:"duration_ms"`
	SampleRate int    `json:"sample_rate"`
	Channels   int    `json:"channels"`
	Size       int64  `json:"size"`

	Artwork     string `json:"artwork"`      // "embedded", "file" or "none"
	ArtworkMIME string `json:"artwork_mime"` // image/jpeg or image/png, "" for none
	ArtworkPath string `json:"artwork_path"` // the folder image, for "file"
	Exercises   string `json:"exercises"`
	MediaKind   string `json:"media_kind"` // music, audiobook or podcast
	Stik        int    `json:"stik"`       // MP4 media type written, 0 for none
	Podcast     bool   `json:"podcast"`    // podcast flag written (MP4 pcst, ID3 PCST)
}

// Playlist is a playlist file and what each of its entries resolves to.
type Playlist struct {
	Path      string    `json:"path"`
	Name      string    `json:"name"`
	Format    string    `json:"format"` // m3u, m3u8, pls, smartpl
	Exercises string    `json:"exercises"`
	Resolves  []*string `json:"resolves"` // track paths in order; nil = missing file (smartpl: what it selects)
}

// Expected is the content of expected.json.
type Expected struct {
	Tracks    []Track    `json:"tracks"`
	Playlists []Playlist `json:"playlists"`
	FolderArt []struct {
		Path string `json:"path"`
		MIME string `json:"mime"`
	} `json:"folder_art"`
	Skipped []struct {
		Path   string `json:"path"`
		Reason string `json:"reason"`
	} `json:"skipped"`
}

// Dir returns the absolute path of the music-fixtures folder.
func Dir() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		panic("fixtures: no caller information")
	}
	return filepath.Dir(file)
}

// Load reads expected.json.
func Load() (*Expected, error) {
	b, err := os.ReadFile(filepath.Join(Dir(), "expected.json"))
	if err != nil {
		return nil, err
	}
	var e Expected
	if err := json.Unmarshal(b, &e); err != nil {
		return nil, fmt.Errorf("parse expected.json: %w", err)
	}
	return &e, nil
}

// Track returns the expected track with the given path.
func (e *Expected) Track(path string) (Track, bool) {
	for _, t := range e.Tracks {
		if t.Path == path {
			return t, true
		}
	}
	return Track{}, false
}
