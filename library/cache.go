package library

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"math/bits"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/daapd/daapd/internal/radix"
	"github.com/daapd/daapd/internal/regfile"
)

// The scan cache is one file under the state directory holding everything
// the scanner learned, so a restart serves the catalog at once and re-reads
// only files whose size or modification time changed. It loads in time
// proportional to its size with about one allocation per trackSlab tracks:
// strings are stored once and referenced by index (after a load, one string
// holds them all), and tracks are records of varints driven by the field
// table trackFields.
//
// Layout ("uv" is an unsigned varint, "sv" a zigzag varint, both as
// encoding/binary writes them; fixed-width integers are little-endian):
//
//	magic      cacheMagic, then the format version (uint32): 16 bytes
//	header     uv length, then: uv scanner version, uv length + library id,
//	           sv saved Unix seconds, uv nanoseconds, uv tracks, uv playlists,
//	           uv fields, and per field uv length + name, kind (1 byte)
//	tracks     blocks of trackBlock track records (fewer in the last), in
//	           catalog order, each block preceded by its uv length
//	playlists  one record per playlist (see appendPlaylist)
//	strings    uv count, uv length of each, then their bytes
//	footer     offsets of the playlists and of the strings, the file size
//	           (uint64 each), CRC-32C of everything before it (uint32)
//
// A track record starts with a bitmap (one bit per field, in header order)
// of the fields whose raw value differs from the previous record's (from a
// zero Track at the start of a block); each such field's slots follow as sv
// differences. A raw value is a string's index in the string table (0 is
// ""), an integer, Stamp or bool as uint64 (signed ones sign-extended), or,
// for kindTitle, the offset+1 and length of the title in the track's path
// when it is spelled out there (the common case: the title then shares the
// path's bytes), else 0 and a string index. Fields of Track.Extra and
// Track.Artwork are rows like the others; a load copies the Extra or Artwork
// shared with the previous track before changing it.
//
// A load reads the whole file into memory (transiently: about 90 bytes per
// track), checks its size and CRC before decoding, then
// decodes and validates everything before returning: the caller gets the
// whole catalog or an error, never a part of it. Every count is bounded by
// the bytes that must follow it, so hostile bytes cannot make the loader
// allocate more than a small multiple of the file's size.

// cacheFile is the scan cache's name under the state directory.
const cacheFile = "scan-cache"

// cacheMagic starts every cache file, followed by cacheFormat. A gob cache
// (cache_gob.go) starts with gobMagic instead.
const cacheMagic = "daapd cache\x00"

// cacheFormat is the version of the layout above. A file of another version
// is ignored (ErrCacheStale) and rewritten after the scan.
const cacheFormat = 2

// ScannerVersion names what the scanner extracts from a file. Bump it when a
// tag or audio parser changes what it reports: every cache written by an
// older scanner is then discarded and each file read again.
const ScannerVersion = 2 // 2: new formats, APEv2 in MP3, the ffprobe fallback

const (
	cacheHeadLen   = len(cacheMagic) + 4
	cacheFooterLen = 8 + 8 + 8 + 4
	// maxCacheBytes bounds the file a load reads into memory; a million
	// tracks take about 110 MB.
	maxCacheBytes = 4 << 30
	maxFields     = 256
	maxNameLen    = 64
	// trackSlab is how many tracks a load allocates at once: few
	// allocations, and a slab is freed once rescans replaced its tracks.
	trackSlab = 256
	// trackBlock is the number of track records in a block: blocks
	// start from a zero Track, so a load decodes them in parallel.
	trackBlock = 4096
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// Errors a cache load can return besides I/O errors. Each means "no usable
// cache": the library logs it and scans everything.
var (
	ErrCacheCorrupt = errors.New("scan cache is damaged")
	ErrCacheStale   = errors.New("scan cache was written by another version")
	ErrCacheForeign = errors.New("scan cache belongs to another library")
)

// cacheData is the content of a scan cache.
type cacheData struct {
	LibraryID string
	Tracks    []*Track // in catalog order (root, then path)
	Playlists []*Playlist
	Saved     time.Time
	// Legacy says the data came from a gob cache, to be rewritten.
	Legacy bool
}

// fieldKind says how a track field is stored.
type fieldKind uint8

const (
	kindString fieldKind = 1 // one slot: string index
	kindInt    fieldKind = 2 // one slot: the value
	kindTitle  fieldKind = 4 // two slots: offset+1 and length in Path, or 0 and a string index
)

func (k fieldKind) slots() int {
	if k == kindTitle {
		return 2
	}
	return 1
}

// trackField is one row of the field table: a stored name, a kind, and
// how to reach the field of a Track.
type trackField struct {
	name   string
	kind   fieldKind
	unique bool                      // kindString: never repeats (paths), so not looked up for sharing
	part   int                       // partTrack, partExtra or partArt
	str    func(*Track) *string      // kindString, kindTitle
	get    func(*Track) uint64       // kindInt
	set    func(*Track, uint64) bool // kindInt; false if v does not fit
}

type integer interface {
	~int | ~int8 | ~int16 | ~int32 | ~int64 | ~uint | ~uint8 | ~uint16 | ~uint32 | ~uint64
}

func strField(name string, p func(*Track) *string) trackField {
	return trackField{name: name, kind: kindString, str: p}
}

func intField[T integer](name string, p func(*Track) *T) trackField {
	return trackField{name: name, kind: kindInt,
		get: func(t *Track) uint64 { return uint64(*p(t)) },
		set: func(t *Track, v uint64) bool { *p(t) = T(v); return uint64(*p(t)) == v },
	}
}

func boolField(name string, p func(*Track) *bool) trackField {
	return trackField{name: name, kind: kindInt,
		get: func(t *Track) uint64 {
			if *p(t) {
				return 1
			}
			return 0
		},
		set: func(t *Track, v uint64) bool { *p(t) = v == 1; return v <= 1 },
	}
}

// extraField is a string of Track.Extra.
func extraField(name string, p func(*Extra) *string) trackField {
	return trackField{name: name, kind: kindString, part: partExtra, str: func(t *Track) *string {
		if t.Extra == nil {
			return p(&noExtra) // read only: a load gives t an Extra of its own first
		}
		return p(t.Extra)
	}}
}

// noArt stands for a nil Track.Artwork when encoding; never written.
var noArt Artwork

func artOf(t *Track) *Artwork {
	if t.Artwork == nil {
		return &noArt // read only: a load gives t an Artwork of its own first
	}
	return t.Artwork
}

// retiredFields are fields older caches store that a load now skips
// without calling the cache stale.
var retiredFields = []storedField{
	{"persistent-id", kindInt}, // now derived from the item id (trackPID)
}

// Parts of a Track a field lives in: the Track itself, or the Extra and
// Artwork it points to, which a load copies before changing (consecutive
// tracks share them).
const (
	partTrack = iota
	partExtra
	partArt
)

// trackFields lists every stored field of Track. Root and path come first:
// later fields may refer to the path. A field added to Track must be added
// here (TestCacheRoundTrip fails otherwise), unless it is derived on load
// like PersistentID; renaming a row or changing its kind makes older caches
// stale, and a removed row goes to retiredFields. Changing a field's Go type
// needs no more than its row.
var trackFields = []trackField{
	strField("root", func(t *Track) *string { return &t.Root }),
	{name: "path", kind: kindString, unique: true, str: func(t *Track) *string { return &t.Path }},
	extraField("disk-path", func(x *Extra) *string { return &x.DiskPath }),
	intField("id", func(t *Track) *uint32 { return &t.ID }),
	intField("album-id", func(t *Track) *uint64 { return &t.AlbumID }),
	intField("artist-id", func(t *Track) *uint64 { return &t.ArtistID }),
	{name: "title", kind: kindTitle, str: func(t *Track) *string { return &t.Title }},
	strField("artist", func(t *Track) *string { return &t.Artist }),
	strField("album-artist", func(t *Track) *string { return &t.AlbumArtist }),
	strField("album", func(t *Track) *string { return &t.Album }),
	extraField("composer", func(x *Extra) *string { return &x.Composer }),
	strField("genre", func(t *Track) *string { return &t.Genre }),
	extraField("comment", func(x *Extra) *string { return &x.Comment }),
	extraField("grouping", func(x *Extra) *string { return &x.Grouping }),
	extraField("sort-title", func(x *Extra) *string { return &x.SortTitle }),
	extraField("sort-artist", func(x *Extra) *string { return &x.SortArtist }),
	extraField("sort-album-artist", func(x *Extra) *string { return &x.SortAlbumArtist }),
	extraField("sort-album", func(x *Extra) *string { return &x.SortAlbum }),
	extraField("sort-composer", func(x *Extra) *string { return &x.SortComposer }),
	intField("year", func(t *Track) *uint16 { return &t.Year }),
	intField("track-number", func(t *Track) *uint16 { return &t.TrackNumber }),
	intField("track-count", func(t *Track) *uint16 { return &t.TrackCount }),
	intField("disc-number", func(t *Track) *uint16 { return &t.DiscNumber }),
	intField("disc-count", func(t *Track) *uint16 { return &t.DiscCount }),
	intField("bpm", func(t *Track) *uint16 { return &t.BPM }),
	boolField("compilation", func(t *Track) *bool { return &t.Compilation }),
	intField("duration-ms", func(t *Track) *uint32 { return &t.DurationMS }),
	intField("bitrate", func(t *Track) *uint32 { return &t.Bitrate }),
	intField("sample-rate", func(t *Track) *uint32 { return &t.SampleRate }),
	intField("channels", func(t *Track) *uint8 { return &t.Channels }),
	strField("codec", func(t *Track) *string { return &t.Codec }),
	strField("format", func(t *Track) *string { return &t.Format }),
	intField("bits-per-sample", func(t *Track) *uint8 { return &t.BitsPerSample }),
	intField("media-kind", func(t *Track) *MediaKind { return &t.MediaKind }),
	intField("tag-kind", func(t *Track) *MediaKind { return &t.TagKind }),
	intField("size", func(t *Track) *int64 { return &t.Size }),
	intField("mod-time", func(t *Track) *Stamp { return &t.ModTime }),
	intField("added", func(t *Track) *Stamp { return &t.Added }),
	{name: "artwork-source", kind: kindInt, part: partArt,
		get: func(t *Track) uint64 { return uint64(artOf(t).Source) },
		set: func(t *Track, v uint64) bool { artOf(t).Source = ArtworkSource(v); return v <= 255 }},
	{name: "artwork-path", kind: kindString, part: partArt, str: func(t *Track) *string { return &artOf(t).Path }},
	boolField("missing", func(t *Track) *bool { return &t.Missing }),
}

// saveCache writes d atomically to name (see writeFileAtomic).
func saveCache(name string, d *cacheData) error {
	if err := writeFileAtomic(name, func(w io.Writer) error { return writeCache(w, d) }); err != nil {
		return fmt.Errorf("save scan cache: %w", err)
	}
	return nil
}

// cacheWriter encodes a cache, counting and checksumming what it writes.
type cacheWriter struct {
	w    *bufio.Writer
	crc  uint32
	n    uint64
	strs []string          // the string table; index i+1 is strs[i]
	idx  map[string]uint64 // string → index, for strings that repeat
}

func (c *cacheWriter) write(p []byte) {
	c.w.Write(p) // a failure sticks in the bufio.Writer, reported by Flush
	c.crc = crc32.Update(c.crc, crcTable, p)
	c.n += uint64(len(p))
}

// str returns s's index in the string table, adding it if needed.
func (c *cacheWriter) str(s string, unique bool) uint64 {
	if s == "" {
		return 0
	}
	if !unique {
		if i, ok := c.idx[s]; ok {
			return i
		}
	}
	c.strs = append(c.strs, s)
	i := uint64(len(c.strs))
	if !unique {
		c.idx[s] = i
	}
	return i
}

// raw returns the stored value of field f of t.
func (c *cacheWriter) raw(f *trackField, t *Track) (a, b uint64) {
	switch f.kind {
	case kindString:
		return c.str(*f.str(t), f.unique), 0
	case kindInt:
		return f.get(t), 0
	default: // kindTitle
		s := *f.str(t)
		if s != "" {
			if i := strings.LastIndex(t.Path, s); i >= 0 {
				return uint64(i) + 1, uint64(len(s))
			}
		}
		return 0, c.str(s, false)
	}
}

func writeCache(w io.Writer, d *cacheData) error {
	return encodeCache(w, d, trackFields, ScannerVersion)
}

// encodeCache writes d with the given field table and scanner version
// (tests write what daapd never would).
func encodeCache(w io.Writer, d *cacheData, fields []trackField, scanner int) error {
	c := &cacheWriter{w: bufio.NewWriterSize(w, 256<<10), idx: make(map[string]uint64)}
	var b []byte
	b = append(b, cacheMagic...)
	b = binary.LittleEndian.AppendUint32(b, cacheFormat)
	c.write(b)

	saved := d.Saved
	if saved.IsZero() {
		saved = time.Now().UTC()
	}
	b = binary.AppendUvarint(b[:0], uint64(scanner))
	b = appendString(b, d.LibraryID)
	b = binary.AppendVarint(b, saved.Unix())
	b = binary.AppendUvarint(b, uint64(saved.Nanosecond()))
	b = binary.AppendUvarint(b, uint64(len(d.Tracks)))
	b = binary.AppendUvarint(b, uint64(len(d.Playlists)))
	b = binary.AppendUvarint(b, uint64(len(fields)))
	for _, f := range fields {
		b = appendString(b, f.name)
		b = append(b, byte(f.kind))
	}
	c.write(binary.AppendUvarint(nil, uint64(len(b))))
	c.write(b)

	bitmap := (len(fields) + 7) / 8
	prev := make([]uint64, 2*len(fields))
	var block []byte
	for i, t := range d.Tracks {
		if i%trackBlock == 0 {
			c.writeBlock(block)
			block = block[:0]
			clear(prev)
		}
		at := len(block)
		block = append(block, make([]byte, bitmap)...)
		for i := range fields {
			f := &fields[i]
			p := prev[2*i : 2*i+2]
			x, y := c.raw(f, t)
			if x == p[0] && y == p[1] && f.kind != kindTitle { // a title's raw value depends on the path
				continue
			}
			block[at+i/8] |= 1 << (i % 8)
			block = binary.AppendVarint(block, int64(x-p[0]))
			if f.kind.slots() == 2 {
				block = binary.AppendVarint(block, int64(y-p[1]))
			}
			p[0], p[1] = x, y
		}
	}
	c.writeBlock(block)

	playlistsAt := c.n
	for _, p := range d.Playlists {
		c.write(c.appendPlaylist(b[:0], p))
	}

	stringsAt := c.n
	b = binary.AppendUvarint(b[:0], uint64(len(c.strs)))
	for _, s := range c.strs {
		b = binary.AppendUvarint(b, uint64(len(s)))
	}
	for _, s := range c.strs {
		if len(b) >= 64<<10 {
			c.write(b)
			b = b[:0]
		}
		b = append(b, s...)
	}
	c.write(b)

	b = binary.LittleEndian.AppendUint64(b[:0], playlistsAt)
	b = binary.LittleEndian.AppendUint64(b, stringsAt)
	b = binary.LittleEndian.AppendUint64(b, c.n+cacheFooterLen)
	c.write(b)
	c.write(binary.LittleEndian.AppendUint32(b[:0], c.crc))
	return c.w.Flush()
}

// writeBlock writes a block of track records with its length.
func (c *cacheWriter) writeBlock(b []byte) {
	if len(b) > 0 {
		c.write(binary.AppendUvarint(nil, uint64(len(b))))
		c.write(b)
	}
}

// appendPlaylist appends a playlist record: uv id, uv persistent id, uv
// string indexes of name, root, path and query, uv flags (1: smart), uv
// special, uv item count and sv item differences, uv warning count and
// their string indexes.
func (c *cacheWriter) appendPlaylist(b []byte, p *Playlist) []byte {
	b = binary.AppendUvarint(b, uint64(p.ID))
	b = binary.AppendUvarint(b, p.PersistentID)
	for _, s := range []string{p.Name, p.Root, p.Path, p.Query} {
		b = binary.AppendUvarint(b, c.str(s, false))
	}
	var flags uint64
	if p.Smart {
		flags |= 1
	}
	b = binary.AppendUvarint(b, flags)
	b = binary.AppendUvarint(b, uint64(p.Special))
	b = binary.AppendUvarint(b, uint64(len(p.Items)))
	var prev uint32
	for _, id := range p.Items {
		b = binary.AppendVarint(b, int64(id)-int64(prev))
		prev = id
	}
	b = binary.AppendUvarint(b, uint64(len(p.Warnings)))
	for _, w := range p.Warnings {
		b = binary.AppendUvarint(b, c.str(w, false))
	}
	return b
}

func appendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

// loadCache reads the cache at name written for library libID. Any error
// means the cache must be ignored; errors.Is tells fs.ErrNotExist,
// ErrCacheCorrupt, ErrCacheStale and ErrCacheForeign apart.
func loadCache(name, libID string) (*cacheData, error) {
	return loadCacheFile(name, libID, false)
}

// salvageFirstSeen reads when each file was first seen from a cache that
// another scanner version or track layout wrote, which is otherwise
// discarded: the upgrade re-reads every file but keeps those dates. The
// keys are firstSeenKey(root, path).
func salvageFirstSeen(name, libID string) (map[string]Stamp, error) {
	d, err := loadCacheFile(name, libID, true)
	if err != nil {
		return nil, err
	}
	m := make(map[string]Stamp, len(d.Tracks))
	for _, t := range d.Tracks {
		if t.Added != 0 {
			m[firstSeenKey(t.Root, t.Path)] = t.Added
		}
	}
	return m, nil
}

func firstSeenKey(root, path string) string { return root + "\x00" + path }

func loadCacheFile(name, libID string, salvage bool) (*cacheData, error) {
	f, err := regfile.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if fi.Size() > maxCacheBytes || int64(int(fi.Size())) != fi.Size() {
		return nil, fmt.Errorf("%s: %w", name, corrupt("%d bytes is too large", fi.Size()))
	}
	b := make([]byte, fi.Size())
	if _, err := io.ReadFull(f, b); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	d, err := decodeCache(b, libID, salvage)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return d, nil
}

func corrupt(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrCacheCorrupt, fmt.Sprintf(format, args...))
}

// readCache checks and decodes a whole cache file held in b.
func readCache(b []byte, libID string) (*cacheData, error) {
	return decodeCache(b, libID, false)
}

// decodeCache is readCache; salvage accepts another scanner version or
// field table (fields are matched by name and kind; others are skipped).
func decodeCache(b []byte, libID string, salvage bool) (*cacheData, error) {
	if len(b) >= len(gobMagic) && string(b[:len(gobMagic)]) == gobMagic {
		return decodeGobCache(b, libID, salvage)
	}
	if len(b) < cacheHeadLen+cacheFooterLen {
		return nil, corrupt("%d bytes is too short", len(b))
	}
	if string(b[:len(cacheMagic)]) != cacheMagic {
		return nil, corrupt("not a scan cache")
	}
	if v := binary.LittleEndian.Uint32(b[len(cacheMagic):]); v != cacheFormat {
		return nil, fmt.Errorf("%w: format %d, want %d", ErrCacheStale, v, cacheFormat)
	}
	foot := b[len(b)-cacheFooterLen:]
	if got, want := crc32.Checksum(b[:len(b)-4], crcTable), binary.LittleEndian.Uint32(foot[24:]); got != want {
		if n := binary.LittleEndian.Uint64(foot[16:]); n != uint64(len(b)) {
			return nil, corrupt("truncated: %d bytes, written with %d", len(b), n)
		}
		return nil, corrupt("checksum %08x, want %08x", got, want)
	}
	playlistsAt, stringsAt := binary.LittleEndian.Uint64(foot), binary.LittleEndian.Uint64(foot[8:])
	end := uint64(len(b) - cacheFooterLen)
	if stringsAt > end || playlistsAt > stringsAt || playlistsAt < uint64(cacheHeadLen) {
		return nil, corrupt("section offsets %d, %d in %d bytes", playlistsAt, stringsAt, end)
	}

	r := &cacheReader{b: b[:playlistsAt], off: cacheHeadLen}
	hd := r.header()
	if r.err != nil {
		return nil, corrupt("header: %v", r.err)
	}
	plan, err := hd.plan(salvage)
	switch {
	case err != nil:
		return nil, err
	case hd.scanner != ScannerVersion && !salvage:
		return nil, fmt.Errorf("%w: scanner %d, want %d", ErrCacheStale, hd.scanner, ScannerVersion)
	case hd.libID != libID:
		return nil, fmt.Errorf("%w: library id %q, want %q", ErrCacheForeign, hd.libID, libID)
	}

	strs, err := readStrings(b[stringsAt:end])
	if err != nil {
		return nil, err
	}
	d := &cacheData{LibraryID: hd.libID, Saved: hd.saved}
	if d.Tracks, err = decodeTracks(r, hd.tracks, plan, strs, pidPrefix(hd.libID)); err != nil {
		return nil, err
	}
	pr := &cacheReader{b: b[playlistsAt:stringsAt], strs: strs}
	if d.Playlists, err = pr.playlists(hd.playlists); err != nil {
		return nil, err
	}
	if err := d.check(true); err != nil {
		return nil, err
	}
	return d, nil
}

// cacheReader decodes varints from b; the first error sticks.
type cacheReader struct {
	b    []byte
	off  int
	err  error
	strs []string
	pid  uint64 // pidPrefix of the library, for the tracks' persistent ids
}

var errShort = errors.New("unexpected end")

func (r *cacheReader) fail(err error) {
	if r.err == nil {
		r.err = err
	}
	r.off = len(r.b)
}

func (r *cacheReader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b[r.off:])
	if n <= 0 {
		r.fail(errShort)
		return 0
	}
	r.off += n
	return v
}

func (r *cacheReader) varint() int64 {
	v, n := binary.Varint(r.b[r.off:])
	if n <= 0 {
		r.fail(errShort)
		return 0
	}
	r.off += n
	return v
}

// count reads a count of items that each take at least one more byte.
func (r *cacheReader) count() int {
	n := r.uvarint()
	if n > uint64(len(r.b)-r.off) {
		r.fail(fmt.Errorf("count %d in %d bytes", n, len(r.b)-r.off))
		return 0
	}
	return int(n)
}

func (r *cacheReader) bytes(n int) []byte {
	if n > len(r.b)-r.off {
		r.fail(errShort)
		return nil
	}
	p := r.b[r.off : r.off+n]
	r.off += n
	return p
}

func (r *cacheReader) str() string {
	i := r.uvarint()
	if i >= uint64(len(r.strs)) {
		r.fail(fmt.Errorf("string %d of %d", i, len(r.strs)))
		return ""
	}
	return r.strs[i]
}

type cacheHeader struct {
	scanner           uint64
	libID             string
	saved             time.Time
	tracks, playlists int
	fields            []storedField
}

type storedField struct {
	name string
	kind fieldKind
}

func (r *cacheReader) header() cacheHeader {
	n := r.count()
	hr := &cacheReader{b: r.bytes(n)}
	var h cacheHeader
	h.scanner = hr.uvarint()
	h.libID = string(hr.bytes(hr.count()))
	sec, nsec := hr.varint(), hr.uvarint()
	if nsec >= 1e9 {
		hr.fail(fmt.Errorf("saved at %d ns", nsec))
	}
	h.saved = time.Unix(sec, int64(nsec)).UTC()
	// Each track record takes at least a byte; playlist records four.
	h.tracks, h.playlists = int(min(hr.uvarint(), uint64(len(r.b)))), int(min(hr.uvarint(), uint64(len(r.b))))
	nf := hr.count()
	if nf > maxFields {
		hr.fail(fmt.Errorf("%d fields", nf))
	}
	for range nf {
		l := hr.uvarint()
		if l > maxNameLen {
			hr.fail(fmt.Errorf("field name of %d bytes", l))
			break
		}
		name := string(hr.bytes(int(l)))
		kind := fieldKind(0)
		if k := hr.bytes(1); k != nil {
			kind = fieldKind(k[0])
		}
		h.fields = append(h.fields, storedField{name, kind})
	}
	if hr.off != len(hr.b) && hr.err == nil {
		hr.fail(fmt.Errorf("%d bytes after the header", len(hr.b)-hr.off))
	}
	if r.err == nil {
		r.err = hr.err
	}
	return h
}

// planField is one field of a file: its kind, and the row of trackFields
// it fills (nil: skipped).
type planField struct {
	kind fieldKind
	f    *trackField
}

// plan maps the file's fields to trackFields by name and kind. Without
// salvage, the file's fields must be exactly ours, in our order, apart from
// retired ones.
func (h *cacheHeader) plan(salvage bool) ([]planField, error) {
	plan := make([]planField, len(h.fields))
	same, ours := true, 0
	for i, sf := range h.fields {
		if sf.kind != kindString && sf.kind != kindInt && sf.kind != kindTitle {
			// A kind of another version: its records cannot be skipped.
			return nil, fmt.Errorf("%w: field %q of kind %d", ErrCacheStale, sf.name, sf.kind)
		}
		plan[i].kind = sf.kind
		for j := range trackFields {
			if f := &trackFields[j]; f.name == sf.name && f.kind == sf.kind {
				plan[i].f = f
			}
		}
		switch {
		case plan[i].f == nil && slices.Contains(retiredFields, sf):
		case ours < len(trackFields) && plan[i].f == &trackFields[ours]:
			ours++
		default:
			same = false
		}
	}
	if (!same || ours != len(trackFields)) && !salvage {
		return nil, fmt.Errorf("%w: track fields differ", ErrCacheStale)
	}
	return plan, nil
}

// readStrings decodes the string table: one string holds all their bytes,
// and the table's entries are slices of it.
func readStrings(b []byte) ([]string, error) {
	r := &cacheReader{b: b}
	n := r.count()
	strs := make([]string, 1, n+1)
	lens := make([]int, 0, n)
	total := 0
	for range n {
		l := r.uvarint()
		if l > uint64(len(b)) {
			r.fail(fmt.Errorf("string of %d bytes", l))
		}
		lens = append(lens, int(l))
		if total += int(l); total > len(b) {
			r.fail(fmt.Errorf("%d string bytes in %d", total, len(b)))
		}
	}
	if r.err == nil && total != len(b)-r.off {
		r.fail(fmt.Errorf("%d string bytes, section holds %d", total, len(b)-r.off))
	}
	if r.err != nil {
		return nil, corrupt("strings: %v", r.err)
	}
	all := string(b[r.off:])
	for _, l := range lens {
		strs = append(strs, all[:l])
		all = all[l:]
	}
	return strs, nil
}

// decodeTracks decodes the n tracks of the blocks that r holds, the
// blocks spread over up to GOMAXPROCS goroutines, and checks them.
func decodeTracks(r *cacheReader, n int, plan []planField, strs []string, pid uint64) ([]*Track, error) {
	// Each record takes at least its bitmap: checked before allocating.
	bitmap := max((len(plan)+7)/8, 1)
	var blocks [][]byte
	for r.off < len(r.b) && r.err == nil {
		b := r.bytes(r.count())
		if k := min(trackBlock, n-len(blocks)*trackBlock); k < 1 || len(b) < k*bitmap {
			return nil, corrupt("block %d of tracks: %d bytes for %d tracks", len(blocks)+1, len(b), k)
		}
		blocks = append(blocks, b)
	}
	if want := (n + trackBlock - 1) / trackBlock; r.err != nil || len(blocks) != want {
		return nil, corrupt("%d blocks of tracks, want %d for %d tracks (%v)", len(blocks), want, n, r.err)
	}
	ts := make([]*Track, n)
	errs := make([]error, len(blocks))
	workers := min(runtime.GOMAXPROCS(0), len(blocks))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(blocks); i += workers {
				out := ts[i*trackBlock : min(n, (i+1)*trackBlock)]
				br := &cacheReader{b: blocks[i], strs: strs, pid: pid}
				errs[i] = br.block(out, plan)
			}
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return nil, corrupt("block %d of tracks: %v", i+1, err)
		}
		if i > 0 && compareTracks(ts[i*trackBlock-1], ts[i*trackBlock]) >= 0 {
			return nil, corrupt("tracks out of order at %q", ts[i*trackBlock].Path)
		}
	}
	return ts, nil
}

// block decodes a block of len(out) track records laid out as plan says
// and checks each track and their order.
func (r *cacheReader) block(out []*Track, plan []planField) error {
	bitmap := (len(plan) + 7) / 8
	raw := make([]uint64, 2*len(plan))
	var slab []Track
	prev := &Track{}
	for k := range out {
		if len(slab) == 0 {
			slab = make([]Track, min(trackSlab, len(out)-k))
		}
		t := &slab[0]
		slab = slab[1:]
		*t = *prev
		ownExtra, ownArt := false, false // t.Extra and t.Artwork are prev's until copied
		// The fields set in the bitmap, in order: those that differ from
		// the previous track. None after an error.
		for bi, set := range r.bytes(bitmap) {
			for ; set != 0; set &= set - 1 {
				i := bi*8 + bits.TrailingZeros8(set)
				if i >= len(plan) {
					break // padding
				}
				pf := plan[i]
				p := raw[2*i : 2*i+2]
				p[0] += uint64(r.varint())
				if pf.kind.slots() == 2 {
					p[1] += uint64(r.varint())
				}
				if pf.f == nil {
					continue
				}
				switch {
				case pf.f.part == partExtra && !ownExtra:
					x := Extra{}
					if t.Extra != nil {
						x = *t.Extra
					}
					t.Extra, ownExtra = &x, true
				case pf.f.part == partArt && !ownArt:
					a := Artwork{}
					if t.Artwork != nil {
						a = *t.Artwork
					}
					t.Artwork, ownArt = &a, true
				}
				r.apply(pf.f, t, p[0], p[1])
			}
		}
		if ownExtra && *t.Extra == (Extra{}) {
			t.Extra = nil
		}
		if ownArt {
			switch a := *t.Artwork; {
			case a == (Artwork{}):
				t.Artwork = nil
			case a == *embeddedArt:
				t.Artwork = embeddedArt
			}
		}
		if r.err != nil {
			return fmt.Errorf("track %d: %w", k+1, r.err)
		}
		t.PersistentID = trackPID(r.pid, t.ID)
		if err := checkCachedTrack(t); err != nil {
			return fmt.Errorf("track %q: %w", t.Path, err)
		}
		if k > 0 && compareTracks(prev, t) >= 0 {
			return fmt.Errorf("tracks out of order at %q", t.Path)
		}
		out[k] = t
		prev = t
	}
	if r.off != len(r.b) {
		return fmt.Errorf("%d bytes after the tracks", len(r.b)-r.off)
	}
	return nil
}

// apply sets field f of t from its raw value.
func (r *cacheReader) apply(f *trackField, t *Track, a, b uint64) {
	switch f.kind {
	case kindString:
		if a >= uint64(len(r.strs)) {
			r.fail(fmt.Errorf("%s: string %d of %d", f.name, a, len(r.strs)))
			return
		}
		*f.str(t) = r.strs[a]
	case kindInt:
		if !f.set(t, a) {
			r.fail(fmt.Errorf("%s: %d out of range", f.name, a))
		}
	case kindTitle:
		if a == 0 {
			r.apply(&trackField{name: f.name, kind: kindString, str: f.str}, t, b, 0)
			return
		}
		if off := a - 1; off > uint64(len(t.Path)) || b > uint64(len(t.Path))-off {
			r.fail(fmt.Errorf("%s: %d bytes at %d in a path of %d", f.name, b, off, len(t.Path)))
		} else {
			*f.str(t) = t.Path[off : off+b]
		}
	}
}

// playlists decodes n playlist records (see appendPlaylist).
func (r *cacheReader) playlists(n int) ([]*Playlist, error) {
	if n > len(r.b)/4 {
		return nil, corrupt("%d playlists in %d bytes", n, len(r.b))
	}
	pls := make([]*Playlist, 0, n)
	for range n {
		p := &Playlist{}
		id := r.uvarint()
		if id > 1<<32-1 {
			r.fail(fmt.Errorf("playlist id %d", id))
		}
		p.ID = uint32(id)
		p.PersistentID = r.uvarint()
		p.Name, p.Root, p.Path, p.Query = r.str(), r.str(), r.str(), r.str()
		flags := r.uvarint()
		p.Smart = flags&1 != 0
		special := r.uvarint()
		if flags > 1 || special > 255 {
			r.fail(fmt.Errorf("playlist flags %d, special %d", flags, special))
		}
		p.Special = Special(special)
		if k := r.count(); k > 0 {
			p.Items = make([]uint32, k)
			var prev int64
			for i := range p.Items {
				prev += r.varint()
				if prev < 0 || prev > 1<<32-1 {
					r.fail(fmt.Errorf("playlist item %d", prev))
				}
				p.Items[i] = uint32(prev)
			}
		}
		if k := r.count(); k > 0 {
			p.Warnings = make([]string, k)
			for i := range p.Warnings {
				p.Warnings[i] = r.str()
			}
		}
		if r.err != nil {
			return nil, corrupt("playlist %d of %d: %v", len(pls)+1, n, r.err)
		}
		pls = append(pls, p)
	}
	if r.off != len(r.b) {
		return nil, corrupt("%d bytes after the playlists", len(r.b)-r.off)
	}
	return pls, nil
}

// check validates decoded content: tracks (unless checked while decoding),
// unique ids, playlists.
func (d *cacheData) check(tracksChecked bool) error {
	ids := make([]uint32, len(d.Tracks))
	for i, t := range d.Tracks {
		if !tracksChecked {
			if err := checkCachedTrack(t); err != nil {
				return corrupt("track %q: %v", t.Path, err)
			}
			if i > 0 && compareTracks(d.Tracks[i-1], t) >= 0 {
				return corrupt("tracks out of order at %q", t.Path)
			}
		}
		ids[i] = t.ID
	}
	radix.Sort[uint32, struct{}](ids, nil) // a tenth of slices.Sort's time at 1M
	for i := 1; i < len(ids); i++ {
		if ids[i] == ids[i-1] {
			return corrupt("duplicate item id %d", ids[i])
		}
	}
	for _, p := range d.Playlists {
		if p.Root == "" || !validRel(p.Path) {
			return corrupt("playlist %q in %q", p.Path, p.Root)
		}
	}
	return nil
}

func checkCachedTrack(t *Track) error {
	switch {
	case t.Root == "":
		return errors.New("no root")
	case !validRel(t.Path):
		return errors.New("bad path")
	case t.ID < minItemID:
		return fmt.Errorf("item id %d", t.ID)
	case t.Size < 0:
		return fmt.Errorf("size %d", t.Size)
	case t.Art().Path != "" && !validRel(t.Art().Path):
		return errors.New("bad artwork path")
	}
	return nil
}

// validRel reports whether p is a clean, relative, slash-separated path
// (path.Clean(p) == p) that stays below its root: no empty, "." or ".."
// element.
func validRel(p string) bool {
	for p != "" {
		elem, rest, more := strings.Cut(p, "/")
		if elem == "" || elem == "." || elem == ".." || (more && rest == "") {
			return false
		}
		p = rest
		if !more {
			return true
		}
	}
	return false
}

// cacheSaver writes the scan cache at most once per delay, always with the
// latest content; Flush writes any pending content at once.
type cacheSaver struct {
	name  string
	delay time.Duration
	log   *slog.Logger

	mu      sync.Mutex
	pending *cacheData
	timer   *time.Timer

	saveMu sync.Mutex      // serialises writes
	saved  func(err error) // test hook, called after each write
}

func newCacheSaver(name string, delay time.Duration, log *slog.Logger) *cacheSaver {
	return &cacheSaver{name: name, delay: delay, log: log}
}

// cacheSavePerTrack spaces the writes of a large cache: writing a
// million tracks takes seconds of CPU, which would slow the rescans of
// changes that keep coming (an album copied in, then another), so the
// delay grows to 50 s at a million tracks. Flush on shutdown still writes
// at once.
const cacheSavePerTrack = 50 * time.Microsecond

// Schedule arranges for d to be written after the delay (longer for a
// large library, see cacheSavePerTrack). A later Schedule before then
// replaces d, so a burst of changes costs one write.
func (s *cacheSaver) Schedule(d *cacheData) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pending = d
	if s.timer == nil {
		delay := max(s.delay, time.Duration(len(d.Tracks))*cacheSavePerTrack)
		s.timer = time.AfterFunc(delay, func() { s.Flush() })
	}
}

// Flush writes the pending content now, if there is any.
func (s *cacheSaver) Flush() error {
	s.saveMu.Lock()
	defer s.saveMu.Unlock()
	s.mu.Lock()
	d := s.pending
	s.pending = nil
	if s.timer != nil {
		s.timer.Stop()
		s.timer = nil
	}
	s.mu.Unlock()
	if d == nil {
		return nil
	}
	start := time.Now()
	err := saveCache(s.name, d)
	if err != nil {
		s.log.Warn("cannot save scan cache; the previous one (if any) stays, and the next start re-reads what changed since", "err", err)
	} else {
		s.log.Debug("scan cache saved", "tracks", len(d.Tracks), "duration", time.Since(start).Round(time.Millisecond))
	}
	if s.saved != nil {
		s.saved(err)
	}
	return err
}
