// Package library scans music folders into an in-memory catalog of tracks,
// playlists, albums and artists, published as immutable snapshots.
//
// Scanning (Scanner.Scan) walks each root, skipping names starting with "."
// (hidden files and folders, macOS ._ files) and NAS housekeeping folders.
// Symlinked files are followed, symlinked folders are not, so link loops
// cannot trap the walk. Paths are kept relative to their root in Unicode
// NFC; DiskPath remembers a differently spelled on-disk name. Files are
// opened read-only, once, and only their headers are read.
//
// Identities derive from the library id and the path (see ids.go): item
// and persistent ids survive restarts and rescans while a file keeps its
// path. Album ids come from album artist and album (the album
// alone for compilations), artist ids from the album artist.
//
// Safety: a root that is missing, not a folder, unreadable, or suddenly
// without audio files (an unmounted share) keeps its previous tracks,
// copied with Missing set, and is reported in Result.RootErrors; so do the
// tracks of an unreadable subfolder, and a known file that now fails with an
// I/O error keeps its previous track as it was.
package library

import (
	"path/filepath"
	"time"
)

// Track is one playable file. A published Track is never modified; a
// rescan that finds a change builds a new one.
type Track struct {
	ID           uint32 // dmap.itemid; stable while the file keeps its path
	PersistentID uint64 // dmap.persistentid; stable while the file keeps its path
	AlbumID      uint64 // daap.songalbumid; from album artist + album
	ArtistID     uint64 // daap.songartistid; from the album artist (or artist)

	Root string // absolute music root the file was found under
	Path string // relative to Root, slash-separated, Unicode NFC
	// DiskPath is the on-disk relative path when it differs from Path (a
	// name stored in NFD, as macOS shares do); empty otherwise.
	DiskPath string

	Title       string // falls back to the file name without extension
	Artist      string
	AlbumArtist string
	Album       string
	Composer    string
	Genre       string
	Comment     string
	Grouping    string

	SortTitle       string
	SortArtist      string
	SortAlbumArtist string
	SortAlbum       string
	SortComposer    string

	Year        int
	TrackNumber int
	TrackCount  int
	DiscNumber  int
	DiscCount   int
	BPM         int
	Compilation bool

	DurationMS uint32 // length in milliseconds, 0 when unknown
	Bitrate    int    // kbit/s
	SampleRate int    // Hz
	Channels   int
	Codec      string // mp3, aac, alac, flac, vorbis, opus, pcm, ...
	Format     string // lower-case file extension without the dot (daap.songformat)
	// BitsPerSample is the sample size of lossless audio, 0 for lossy.
	BitsPerSample int

	// MediaKind is what clients file the track under (see Kind); TagKind
	// is what the file itself says (tags, extension), before the
	// audiobook and podcast folders apply.
	MediaKind MediaKind
	TagKind   MediaKind

	Size    int64
	ModTime time.Time // UTC, second precision or better
	Added   time.Time // when daapd first saw the file (UTC)

	Artwork Artwork
	// Missing says the file's root or folder was unavailable (unmounted,
	// unreadable) at the last scan: the track is kept as it was, not
	// deleted, and its file may not open.
	Missing bool
}

// AbsPath is the file's location on disk.
func (t *Track) AbsPath() string {
	p := t.Path
	if t.DiskPath != "" {
		p = t.DiskPath
	}
	return filepath.Join(t.Root, filepath.FromSlash(p))
}

// ArtworkSource says where a track's cover image lives.
type ArtworkSource uint8

const (
	ArtworkNone     ArtworkSource = iota
	ArtworkEmbedded               // a picture inside the audio file's tags
	ArtworkFile                   // an image file in the track's folder
)

// Artwork locates a track's cover image.
type Artwork struct {
	Source ArtworkSource
	Path   string // ArtworkFile: relative to the track's Root, slash-separated, as on disk
	MIME   string // image/jpeg or image/png when known
}

// MediaKind is a track's kind, with its DAAP value
// (com.apple.itunes.mediakind). The zero value means music.
type MediaKind uint8

const (
	MediaMusic     MediaKind = 1
	MediaPodcast   MediaKind = 4
	MediaAudiobook MediaKind = 8
)

func (k MediaKind) String() string {
	switch k {
	case MediaPodcast:
		return "podcast"
	case MediaAudiobook:
		return "audiobook"
	}
	return "music"
}

// Kind is the track's media kind, music when unset.
func (t *Track) Kind() MediaKind {
	if t.MediaKind == 0 {
		return MediaMusic
	}
	return t.MediaKind
}

// Special marks the built-in playlists iTunes files in its own places
// (com.apple.itunes.special-playlist).
type Special uint8

const (
	SpecialPodcasts   Special = 1
	SpecialAudiobooks Special = 7
)

// Playlist is a playlist file (.m3u, .m3u8, .pls), a smart playlist
// (.smartpl file, config entry or built-in) resolved to track ids.
type Playlist struct {
	ID           uint32
	PersistentID uint64
	Name         string
	Root         string   // "" for built-in and configured playlists
	Path         string   // relative to Root
	Items        []uint32 // track ids in playlist order; the same id may repeat

	// Smart playlists are evaluated again on every revision. Query is the
	// definition in canonical form: a .smartpl file's whole text
	// (smartpl.Playlist.String), else the query (smartpl.Playlist.Query).
	Smart   bool
	Special Special
	Query   string
	// Warnings are problems found reading the playlist: missing entries,
	// fields daapd does not track.
	Warnings []string
}

// Album groups tracks by album artist and album (compilations by album only).
type Album struct {
	ID          uint64
	Name        string
	Artist      string // album artist, or "Various Artists" for compilations
	SortName    string
	SortArtist  string
	Compilation bool
	Tracks      []uint32 // track ids, in snapshot order
	ArtworkFrom uint32   // id of a track whose artwork stands for the album, 0 if none

	first *Track // the first track, which orders albums of the same name
}

// Artist groups tracks by album artist (or artist when there is none).
type Artist struct {
	ID       uint64
	Name     string
	SortName string
	Tracks   []uint32
	Albums   int

	first *Track // the first track, which orders artists of the same name
}
