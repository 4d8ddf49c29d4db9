package library

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/gob"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"time"
)

// Reading the scan cache of daapd before the binary format (cache.go): a
// gob stream, read once so an upgrade keeps serving the catalog at once and
// keeps the first-seen dates; the next save writes the binary format. The
// types below freeze that format's Track and Playlist, so changes to the
// live types do not touch it. Remove this file once no supported upgrade
// path starts from a gob cache.
//
// Layout:
//
//	magic        gobMagic (16 bytes)
//	gob stream   gobHeader, then gobChunk values (tracks grouped by root,
//	             at most gobChunkLen each), then gobPlaylists
//	footer       body length (uint64 BE), CRC-32C of magic+body (uint32 BE)

// gobMagic starts every gob cache.
const gobMagic = "daapd scancache\n"

const (
	gobSchema    = 1
	gobChunkLen  = 512
	gobFooterLen = 12
	// gobLayout is the track layout fingerprint the last gob-writing
	// daapd stored: a cache with another one came from an older Track.
	gobLayout = 0x61a89af9fd03dd50
	// maxGobMessage bounds one gob message: a chunk of gobChunkLen tracks
	// is far smaller. gob itself accepts up to 1 GiB and allocates the
	// whole message before reading it.
	maxGobMessage = 64 << 20
)

type gobHeader struct {
	Schema    int
	Layout    uint64
	Scanner   int
	LibraryID string
	Roots     []string
	Tracks    int
	Playlists int
	Saved     time.Time
}

type gobChunk struct {
	Root   int // index into gobHeader.Roots
	Tracks []gobTrack
}

type gobPlaylists struct{ Playlists []gobPlaylistRef }

type gobPlaylistRef struct {
	Root int
	P    gobPlaylist
}

// gobTrack is Track as the gob format stored it (gob matches fields by name).
type gobTrack struct {
	ID                                                          uint32
	PersistentID, AlbumID, ArtistID                             uint64
	Root, Path, DiskPath                                        string
	Title, Artist, AlbumArtist, Album, Composer, Genre, Comment string
	Grouping, SortTitle, SortArtist, SortAlbumArtist, SortAlbum string
	SortComposer                                                string
	Year, TrackNumber, TrackCount, DiscNumber, DiscCount, BPM   int
	Compilation                                                 bool
	DurationMS                                                  uint32
	Bitrate, SampleRate, Channels                               int
	Codec, Format                                               string
	BitsPerSample                                               int
	MediaKind, TagKind                                          uint8
	Size                                                        int64
	ModTime, Added                                              time.Time
	Artwork                                                     struct {
		Source     uint8
		Path, MIME string
	}
	Missing bool
}

type gobPlaylist struct {
	ID               uint32
	PersistentID     uint64
	Name, Root, Path string
	Items            []uint32
	Smart            bool
	Special          uint8
	Query            string
	Warnings         []string
}

func (g *gobTrack) track(root string) *Track {
	t := &Track{
		ID: g.ID, AlbumID: g.AlbumID, ArtistID: g.ArtistID,
		Root: root, Path: g.Path,
		Title: g.Title, Artist: g.Artist, AlbumArtist: g.AlbumArtist, Album: g.Album, Genre: g.Genre,
		Year: uint16(g.Year), TrackNumber: uint16(g.TrackNumber), TrackCount: uint16(g.TrackCount),
		DiscNumber: uint16(g.DiscNumber), DiscCount: uint16(g.DiscCount), BPM: uint16(g.BPM), Compilation: g.Compilation,
		DurationMS: g.DurationMS, Bitrate: uint32(g.Bitrate), SampleRate: uint32(g.SampleRate), Channels: uint8(g.Channels),
		Codec: g.Codec, Format: g.Format, BitsPerSample: uint8(g.BitsPerSample),
		MediaKind: MediaKind(g.MediaKind), TagKind: MediaKind(g.TagKind),
		Size: g.Size, ModTime: StampOf(g.ModTime), Added: StampOf(g.Added),
		Missing: g.Missing,
	}
	t.SetExtra(Extra{DiskPath: g.DiskPath, Composer: g.Composer, Comment: g.Comment, Grouping: g.Grouping,
		SortTitle: g.SortTitle, SortArtist: g.SortArtist, SortAlbumArtist: g.SortAlbumArtist,
		SortAlbum: g.SortAlbum, SortComposer: g.SortComposer})
	if a := (Artwork{Source: ArtworkSource(g.Artwork.Source), Path: g.Artwork.Path}); a != (Artwork{}) {
		t.Artwork = &a
	}
	return t
}

// decodeGobCache decodes a whole gob cache held in b. With salvage set, it
// accepts another scanner version or track layout, for the first-seen dates.
func decodeGobCache(b []byte, libID string, salvage bool) (*cacheData, error) {
	if len(b) < len(gobMagic)+gobFooterLen || string(b[:len(gobMagic)]) != gobMagic {
		return nil, corrupt("not a gob scan cache")
	}
	foot := b[len(b)-gobFooterLen:]
	body := b[:len(b)-gobFooterLen]
	if n := binary.BigEndian.Uint64(foot[:8]); n != uint64(len(body)) {
		return nil, corrupt("truncated: footer says %d bytes, file has %d", n, len(body))
	}
	if got, want := crc32.Checksum(body, crcTable), binary.BigEndian.Uint32(foot[8:]); got != want {
		return nil, corrupt("checksum %08x, want %08x", got, want)
	}
	rest := body[len(gobMagic):]
	dec := gob.NewDecoder(&gobFrames{r: bufio.NewReader(bytes.NewReader(rest)), limit: min(maxGobMessage, len(rest))})
	var hd gobHeader
	if err := dec.Decode(&hd); err != nil {
		return nil, corrupt("header: %v", err)
	}
	switch {
	case hd.Schema != gobSchema:
		return nil, fmt.Errorf("%w: gob schema %d, want %d", ErrCacheStale, hd.Schema, gobSchema)
	case hd.Layout != gobLayout && !salvage:
		return nil, fmt.Errorf("%w: gob track layout %016x, want %016x", ErrCacheStale, hd.Layout, uint64(gobLayout))
	case hd.Scanner != ScannerVersion && !salvage:
		return nil, fmt.Errorf("%w: scanner %d, want %d", ErrCacheStale, hd.Scanner, ScannerVersion)
	case hd.LibraryID != libID:
		return nil, fmt.Errorf("%w: library id %q, want %q", ErrCacheForeign, hd.LibraryID, libID)
	case hd.Tracks < 0 || hd.Playlists < 0 || int64(hd.Tracks)+int64(hd.Playlists) > int64(len(body)/4):
		return nil, corrupt("header counts %d tracks, %d playlists", hd.Tracks, hd.Playlists)
	}
	for _, root := range hd.Roots {
		if root == "" {
			return nil, corrupt("empty root")
		}
	}
	d := &cacheData{LibraryID: hd.LibraryID, Saved: hd.Saved, Tracks: make([]*Track, 0, hd.Tracks), Legacy: true}
	shared, pid := newInterner(), pidPrefix(hd.LibraryID)
	for len(d.Tracks) < hd.Tracks {
		var c gobChunk
		if err := dec.Decode(&c); err != nil {
			return nil, corrupt("tracks after %d of %d: %v", len(d.Tracks), hd.Tracks, err)
		}
		if c.Root < 0 || c.Root >= len(hd.Roots) || len(c.Tracks) == 0 || len(c.Tracks) > gobChunkLen ||
			len(d.Tracks)+len(c.Tracks) > hd.Tracks {
			return nil, corrupt("bad chunk after %d tracks", len(d.Tracks))
		}
		for i := range c.Tracks {
			t := c.Tracks[i].track(hd.Roots[c.Root])
			t.PersistentID = trackPID(pid, t.ID)
			shared.track(t)
			d.Tracks = append(d.Tracks, t)
		}
	}
	var pls gobPlaylists
	if err := dec.Decode(&pls); err != nil {
		return nil, corrupt("playlists: %v", err)
	}
	if len(pls.Playlists) != hd.Playlists {
		return nil, corrupt("%d playlists, header says %d", len(pls.Playlists), hd.Playlists)
	}
	for _, r := range pls.Playlists {
		if r.Root < 0 || r.Root >= len(hd.Roots) {
			return nil, corrupt("playlist %q", r.P.Path)
		}
		p := r.P
		d.Playlists = append(d.Playlists, &Playlist{ID: p.ID, PersistentID: p.PersistentID, Name: p.Name,
			Root: hd.Roots[r.Root], Path: p.Path, Items: p.Items, Smart: p.Smart, Special: Special(p.Special),
			Query: p.Query, Warnings: p.Warnings})
	}
	if err := d.check(false); err != nil {
		return nil, err
	}
	return d, nil
}

// gobFrames passes a gob stream through, refusing any message longer than
// limit (at most the bytes that follow) before gob can allocate a buffer
// for it. It implements io.ByteReader, so gob reads from it directly.
type gobFrames struct {
	r     *bufio.Reader
	limit int
	left  int // bytes left in the current message; 0 at a length prefix
	hdr   []byte
}

var errGobFrame = errors.New("gob message too long")

func (g *gobFrames) next() error {
	b, err := g.r.ReadByte()
	if err != nil {
		return err
	}
	g.hdr = append(g.hdr[:0], b)
	n := uint64(b)
	if b > 0x7f {
		k := int(-int8(b))
		if k > 8 {
			return errGobFrame
		}
		n = 0
		for range k {
			c, err := g.r.ReadByte()
			if err != nil {
				return err
			}
			g.hdr = append(g.hdr, c)
			n = n<<8 | uint64(c)
		}
	}
	if n > uint64(g.limit) {
		return errGobFrame
	}
	g.left = int(n)
	return nil
}

func (g *gobFrames) ReadByte() (byte, error) {
	var b [1]byte
	if _, err := g.Read(b[:]); err != nil {
		return 0, err
	}
	return b[0], nil
}

func (g *gobFrames) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if len(g.hdr) == 0 && g.left == 0 {
		if err := g.next(); err != nil {
			return 0, err
		}
	}
	if len(g.hdr) > 0 {
		n := copy(p, g.hdr)
		g.hdr = g.hdr[n:]
		return n, nil
	}
	n, err := g.r.Read(p[:min(len(p), g.left)])
	g.left -= n
	return n, err
}

var _ io.ByteReader = (*gobFrames)(nil)
