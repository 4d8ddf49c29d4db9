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
	"math"
	"path/filepath"
	"time"
)

// Track is one playable file. A published Track is never modified; a
// rescan that finds a change builds a new one.
//
// A million of them stay in memory, so the struct is kept to 248 bytes on
// 64-bit machines (one 256-byte allocation): numbers have the widths DMAP
// sends them with, times are Unix nanoseconds, and what most tracks leave
// empty (sort tags, composer, comment, grouping, an NFD disk path) lives
// in a shared Extra. Scanning and loading the cache intern the repeated
// strings, the Extra and the Artwork, so the tracks of an album share them.
type Track struct {
	PersistentID uint64 // dmap.persistentid; stable while the file keeps its path
	AlbumID      uint64 // daap.songalbumid; from album artist + album
	ArtistID     uint64 // daap.songartistid; from the album artist (or artist)
	Size         int64
	ModTime      Stamp // when the file was last modified
	Added        Stamp // when daapd first saw the file

	Root string // absolute music root the file was found under
	Path string // relative to Root, slash-separated, Unicode NFC

	Title       string // falls back to the file name without extension
	Artist      string
	AlbumArtist string
	Album       string
	Genre       string
	Codec       string // mp3, aac, alac, flac, vorbis, opus, pcm, ...
	Format      string // lower-case file extension without the dot (daap.songformat)

	// Extra holds the rarely set tags; nil when they are all empty. It is
	// shared between tracks: replace it, never modify it. Read it through
	// the methods of the same names (Composer, SortTitle, ...).
	Extra *Extra
	// Artwork locates the cover image, nil when there is none. It is
	// shared between the tracks of a folder: replace it, never modify it.
	Artwork *Artwork

	ID         uint32 // dmap.itemid; stable while the file keeps its path
	DurationMS uint32 // length in milliseconds, 0 when unknown
	Bitrate    uint32 // kbit/s
	SampleRate uint32 // Hz

	Year        uint16
	TrackNumber uint16
	TrackCount  uint16
	DiscNumber  uint16
	DiscCount   uint16
	BPM         uint16

	Channels uint8
	// BitsPerSample is the sample size of lossless audio, 0 for lossy.
	BitsPerSample uint8
	// MediaKind is what clients file the track under (see Kind); TagKind
	// is what the file itself says (tags, extension), before the
	// audiobook and podcast folders apply.
	MediaKind MediaKind
	TagKind   MediaKind

	Compilation bool
	// Missing says the file's root or folder was unavailable (unmounted,
	// unreadable) at the last scan: the track is kept as it was, not
	// deleted, and its file may not open.
	Missing bool
}

// Extra holds the tags most tracks leave empty, and the rare on-disk
// spelling of a path. Equal Extras are shared between tracks.
type Extra struct {
	// DiskPath is the on-disk relative path when it differs from Path (a
	// name stored in NFD, as macOS shares do); empty otherwise.
	DiskPath string

	Composer string
	Comment  string
	Grouping string

	SortTitle       string
	SortArtist      string
	SortAlbumArtist string
	SortAlbum       string
	SortComposer    string
}

var noExtra Extra

func (t *Track) extra() *Extra {
	if t.Extra != nil {
		return t.Extra
	}
	return &noExtra
}

// DiskPath is the on-disk relative path when it differs from Path, else "".
func (t *Track) DiskPath() string { return t.extra().DiskPath }

// Composer and the seven methods after it read the tag of the same name
// from t.Extra, "" when t has none.
func (t *Track) Composer() string        { return t.extra().Composer }
func (t *Track) Comment() string         { return t.extra().Comment }
func (t *Track) Grouping() string        { return t.extra().Grouping }
func (t *Track) SortTitle() string       { return t.extra().SortTitle }
func (t *Track) SortArtist() string      { return t.extra().SortArtist }
func (t *Track) SortAlbumArtist() string { return t.extra().SortAlbumArtist }
func (t *Track) SortAlbum() string       { return t.extra().SortAlbum }
func (t *Track) SortComposer() string    { return t.extra().SortComposer }

// SetExtra sets t.Extra to x, or to nil when x is all empty.
func (t *Track) SetExtra(x Extra) {
	if x == (Extra{}) {
		t.Extra = nil
		return
	}
	t.Extra = &x
}

// setDiskPath sets the on-disk spelling of t's path ("" when it is Path),
// on a copy of t.Extra.
func (t *Track) setDiskPath(p string) {
	if t.DiskPath() == p {
		return
	}
	x := *t.extra()
	x.DiskPath = p
	t.SetExtra(x)
}

// sameArt reports whether a and b locate the same image.
func sameArt(a, b *Artwork) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// AbsPath is the file's location on disk.
func (t *Track) AbsPath() string {
	p := t.Path
	if d := t.DiskPath(); d != "" {
		p = d
	}
	return filepath.Join(t.Root, filepath.FromSlash(p))
}

// Art is the track's cover image, Source ArtworkNone when it has none.
func (t *Track) Art() Artwork {
	if t.Artwork == nil {
		return Artwork{}
	}
	return *t.Artwork
}

// Stamp is a time as Unix nanoseconds: 8 bytes where a time.Time takes 24.
// 0 stands for the zero time.Time (unknown); times outside the years
// 1678–2262 are clamped to them.
type Stamp int64

// StampOf returns tm as a Stamp.
func StampOf(tm time.Time) Stamp {
	switch {
	case tm.IsZero():
		return 0
	case tm.Before(minStamp):
		return math.MinInt64 + 1
	case tm.After(maxStamp):
		return math.MaxInt64
	}
	return Stamp(tm.UnixNano())
}

var (
	minStamp = time.Unix(0, math.MinInt64+1)
	maxStamp = time.Unix(0, math.MaxInt64)
)

// Time returns s as a UTC time.Time, the zero time.Time for 0.
func (s Stamp) Time() time.Time {
	if s == 0 {
		return time.Time{}
	}
	return time.Unix(0, int64(s)).UTC()
}

// GobEncode writes s as gob wrote the time.Time it replaced, so a scan
// cache written before keeps its dates through an upgrade.
func (s Stamp) GobEncode() ([]byte, error) { return s.Time().MarshalBinary() }

// GobDecode reads what GobEncode wrote.
func (s *Stamp) GobDecode(b []byte) error {
	var tm time.Time
	if err := tm.UnmarshalBinary(b); err != nil {
		return err
	}
	*s = StampOf(tm)
	return nil
}

// clampU16 converts a tag number to the 16 bits DMAP sends it in: negative
// values become 0, larger ones 65535.
func clampU16(n int) uint16 { return uint16(min(max(n, 0), math.MaxUint16)) }

// clampU32 is clampU16 for 32-bit fields.
func clampU32(n int) uint32 { return uint32(min(max(int64(n), 0), math.MaxUint32)) }

// clampU8 is clampU16 for 8-bit fields.
func clampU8(n int) uint8 { return uint8(min(max(n, 0), math.MaxUint8)) }

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
}

// embeddedArt is the Artwork of every track with a picture in its tags.
var embeddedArt = &Artwork{Source: ArtworkEmbedded}

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
