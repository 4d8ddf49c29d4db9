package library

import (
	"bufio"
	"encoding/binary"
	"encoding/gob"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"path"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/daapd/daapd/internal/regfile"
)

// The scan cache is one file under the state directory holding everything
// the scanner learned, so a restart serves the catalog at once and re-reads
// only files whose size or modification time changed.
//
// Layout:
//
//	magic        cacheMagic (16 bytes)
//	gob stream   cacheHeader, then cacheChunk values (tracks grouped by
//	             root, at most cacheChunkLen each), then cachePlaylists
//	footer       body length (uint64 BE), CRC-32C of magic+body (uint32 BE)
//
// A load first checks the footer and the CRC in one streaming pass, so a
// truncated or damaged file never reaches the gob decoder, then decodes and
// validates everything before returning: the caller gets the whole catalog
// or an error, never a part of it.

// cacheFile is the scan cache's name under the state directory.
const cacheFile = "scan-cache"

// cacheMagic starts every cache file.
const cacheMagic = "daapd scancache\n"

// cacheSchema is the version of the file layout above. Bump it when the
// layout changes in a way gob cannot absorb.
const cacheSchema = 1

// ScannerVersion names what the scanner extracts from a file. Bump it when a
// tag or audio parser changes what it reports: every cache written by an
// older scanner is then discarded and each file read again.
const ScannerVersion = 2 // 2: new formats, APEv2 in MP3, the ffprobe fallback

// cacheChunkLen is the number of tracks per gob message; it bounds the
// decoder's buffer while loading.
const cacheChunkLen = 512

// maxCacheTracks bounds the header's track count, so a damaged header
// cannot make the loader reserve absurd amounts of memory.
const maxCacheTracks = 20_000_000

const cacheFooterLen = 12

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// Errors a cache load can return besides I/O errors. Each means "no usable
// cache": the library logs it and scans everything.
var (
	ErrCacheCorrupt = errors.New("scan cache is damaged")
	ErrCacheStale   = errors.New("scan cache was written by another version")
	ErrCacheForeign = errors.New("scan cache belongs to another library")
)

// cacheHeader is the first gob value.
type cacheHeader struct {
	Schema    int
	Layout    uint64 // fingerprint of the Track and Playlist types
	Scanner   int
	LibraryID string
	Roots     []string
	Tracks    int
	Playlists int
	Saved     time.Time
}

// cacheChunk holds tracks of one root, their Root field cleared.
type cacheChunk struct {
	Root   int // index into cacheHeader.Roots
	Tracks []Track
}

// salvageChunk is the part of a cacheChunk an upgrade keeps: gob matches
// fields by name, so it decodes the chunks of any earlier track layout.
type salvageChunk struct {
	Root   int
	Tracks []struct {
		Path  string
		Added Stamp
	}
}

type cachePlaylists struct {
	Playlists []cachePlaylist
}

type cachePlaylist struct {
	Root int
	P    Playlist // Root cleared
}

// cacheData is the content of a scan cache.
type cacheData struct {
	LibraryID string
	Tracks    []*Track // in catalog order (root, then path)
	Playlists []*Playlist
	Saved     time.Time
}

// layoutFingerprint hashes the names and types of every field of Track and
// Playlist (recursively), so a struct change made without bumping
// cacheSchema still invalidates old caches instead of loading zero values.
var layoutFingerprint = func() uint64 {
	h := newHasher()
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		h = h.str(t.Kind().String()).str(t.String())
		switch t.Kind() {
		case reflect.Struct:
			if t == reflect.TypeFor[time.Time]() {
				return
			}
			for f := range t.Fields() {
				if !f.IsExported() {
					continue // gob skips it
				}
				h = h.str(f.Name)
				walk(f.Type)
			}
		case reflect.Slice, reflect.Pointer, reflect.Array:
			walk(t.Elem())
		}
	}
	walk(reflect.TypeFor[Track]())
	walk(reflect.TypeFor[Playlist]())
	return mix(uint64(h))
}()

// saveCache writes d atomically to name (see writeFileAtomic).
func saveCache(name string, d *cacheData) error {
	if err := writeFileAtomic(name, func(w io.Writer) error { return writeCache(w, d) }); err != nil {
		return fmt.Errorf("save scan cache: %w", err)
	}
	return nil
}

// crcWriter feeds everything written through it into a CRC and counts it.
type crcWriter struct {
	w   io.Writer
	crc uint32
	n   uint64
}

func (c *crcWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.crc = crc32.Update(c.crc, crcTable, p[:n])
	c.n += uint64(n)
	return n, err
}

func writeCache(w io.Writer, d *cacheData) error {
	bw := bufio.NewWriterSize(w, 256<<10)
	cw := &crcWriter{w: bw}
	io.WriteString(cw, cacheMagic)
	enc := gob.NewEncoder(cw)

	var roots []string
	rootIdx := make(map[string]int)
	idx := func(r string) int {
		i, ok := rootIdx[r]
		if !ok {
			i = len(roots)
			rootIdx[r] = i
			roots = append(roots, r)
		}
		return i
	}
	for _, t := range d.Tracks {
		idx(t.Root)
	}
	pls := cachePlaylists{Playlists: make([]cachePlaylist, len(d.Playlists))}
	for i, p := range d.Playlists {
		pls.Playlists[i] = cachePlaylist{Root: idx(p.Root), P: *p}
		pls.Playlists[i].P.Root = ""
	}
	saved := d.Saved
	if saved.IsZero() {
		saved = time.Now().UTC()
	}
	if err := enc.Encode(&cacheHeader{
		Schema:    cacheSchema,
		Layout:    layoutFingerprint,
		Scanner:   ScannerVersion,
		LibraryID: d.LibraryID,
		Roots:     roots,
		Tracks:    len(d.Tracks),
		Playlists: len(d.Playlists),
		Saved:     saved,
	}); err != nil {
		return err
	}
	chunk := cacheChunk{Tracks: make([]Track, 0, cacheChunkLen)}
	flush := func() error {
		if len(chunk.Tracks) == 0 {
			return nil
		}
		err := enc.Encode(&chunk)
		chunk.Tracks = chunk.Tracks[:0]
		return err
	}
	for _, t := range d.Tracks {
		r := rootIdx[t.Root]
		if r != chunk.Root || len(chunk.Tracks) == cacheChunkLen {
			if err := flush(); err != nil {
				return err
			}
			chunk.Root = r
		}
		chunk.Tracks = append(chunk.Tracks, *t)
		chunk.Tracks[len(chunk.Tracks)-1].Root = ""
	}
	if err := flush(); err != nil {
		return err
	}
	if err := enc.Encode(&pls); err != nil {
		return err
	}
	var foot [cacheFooterLen]byte
	binary.BigEndian.PutUint64(foot[:8], cw.n)
	binary.BigEndian.PutUint32(foot[8:], cw.crc)
	if _, err := bw.Write(foot[:]); err != nil {
		return err
	}
	return bw.Flush()
}

// loadCache reads the cache at name written for library libID. Any error
// means the cache must be ignored; errors.Is tells fs.ErrNotExist,
// ErrCacheCorrupt, ErrCacheStale and ErrCacheForeign apart.
func loadCache(name, libID string) (*cacheData, error) {
	f, err := regfile.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	d, err := readCache(f, fi.Size(), libID)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return d, nil
}

func corrupt(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrCacheCorrupt, fmt.Sprintf(format, args...))
}

// readCache checks and decodes a cache of the given size read from r.
func readCache(r io.ReaderAt, size int64, libID string) (*cacheData, error) {
	return decodeCache(r, size, libID, nil)
}

// salvageFirstSeen reads when each file was first seen from a cache that
// another scanner version or track layout wrote, which is otherwise
// discarded: the upgrade re-reads every file but keeps those dates. The
// keys are firstSeenKey(root, path).
func salvageFirstSeen(name, libID string) (map[string]Stamp, error) {
	f, err := regfile.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	m := make(map[string]Stamp)
	_, err = decodeCache(f, fi.Size(), libID, func(root, path string, added Stamp) {
		if added != 0 {
			m[firstSeenKey(root, path)] = added
		}
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

func firstSeenKey(root, path string) string { return root + "\x00" + path }

// decodeCache is readCache. With salvage set, it accepts another scanner
// version or track layout and, instead of returning the tracks, calls
// salvage with the root, path and date added of each.
func decodeCache(r io.ReaderAt, size int64, libID string, salvage func(root, path string, added Stamp)) (*cacheData, error) {
	if size < int64(len(cacheMagic))+cacheFooterLen {
		return nil, corrupt("%d bytes is too short", size)
	}
	var magic [len(cacheMagic)]byte
	if _, err := r.ReadAt(magic[:], 0); err != nil {
		return nil, err
	}
	if string(magic[:]) != cacheMagic {
		return nil, corrupt("not a scan cache")
	}
	var foot [cacheFooterLen]byte
	if _, err := r.ReadAt(foot[:], size-cacheFooterLen); err != nil {
		return nil, err
	}
	body := int64(binary.BigEndian.Uint64(foot[:8]))
	if body != size-cacheFooterLen {
		return nil, corrupt("truncated: footer says %d bytes, file has %d", body, size-cacheFooterLen)
	}
	// Pass 1: the checksum, streamed, before any decoding.
	h := crc32.New(crcTable)
	if _, err := io.Copy(h, io.NewSectionReader(r, 0, body)); err != nil {
		return nil, err
	}
	if got, want := h.Sum32(), binary.BigEndian.Uint32(foot[8:]); got != want {
		return nil, corrupt("checksum %08x, want %08x", got, want)
	}

	// Pass 2: decode and validate.
	dec := gob.NewDecoder(&gobFrames{r: bufio.NewReaderSize(io.NewSectionReader(r, int64(len(cacheMagic)), body-int64(len(cacheMagic))), 64<<10)})
	var hd cacheHeader
	if err := dec.Decode(&hd); err != nil {
		return nil, corrupt("header: %v", err)
	}
	switch {
	case hd.Schema != cacheSchema:
		return nil, fmt.Errorf("%w: schema %d, want %d", ErrCacheStale, hd.Schema, cacheSchema)
	case hd.Layout != layoutFingerprint && salvage == nil:
		return nil, fmt.Errorf("%w: track layout %016x, want %016x", ErrCacheStale, hd.Layout, layoutFingerprint)
	case hd.Scanner != ScannerVersion && salvage == nil:
		return nil, fmt.Errorf("%w: scanner %d, want %d", ErrCacheStale, hd.Scanner, ScannerVersion)
	case hd.LibraryID != libID:
		return nil, fmt.Errorf("%w: library id %q, want %q", ErrCacheForeign, hd.LibraryID, libID)
	case hd.Tracks < 0 || hd.Tracks > maxCacheTracks || hd.Playlists < 0 || hd.Playlists > maxCacheTracks,
		int64(hd.Tracks+hd.Playlists) > body/4: // a record takes more than 4 bytes
		return nil, corrupt("header counts %d tracks, %d playlists", hd.Tracks, hd.Playlists)
	}
	for _, root := range hd.Roots {
		if root == "" {
			return nil, corrupt("empty root")
		}
	}

	if salvage != nil {
		for n := 0; n < hd.Tracks; {
			var c salvageChunk
			if err := dec.Decode(&c); err != nil {
				return nil, corrupt("tracks after %d of %d: %v", n, hd.Tracks, err)
			}
			if c.Root < 0 || c.Root >= len(hd.Roots) || len(c.Tracks) == 0 {
				return nil, corrupt("bad chunk after %d tracks", n)
			}
			for _, t := range c.Tracks {
				salvage(hd.Roots[c.Root], t.Path, t.Added)
			}
			n += len(c.Tracks)
		}
		return nil, nil
	}
	in := newInterner()
	d := &cacheData{LibraryID: hd.LibraryID, Saved: hd.Saved, Tracks: make([]*Track, 0, hd.Tracks)}
	ids := make(map[uint32]bool, hd.Tracks)
	for len(d.Tracks) < hd.Tracks {
		var c cacheChunk
		if err := dec.Decode(&c); err != nil {
			return nil, corrupt("tracks after %d of %d: %v", len(d.Tracks), hd.Tracks, err)
		}
		if c.Root < 0 || c.Root >= len(hd.Roots) || len(c.Tracks) == 0 || len(c.Tracks) > cacheChunkLen ||
			len(d.Tracks)+len(c.Tracks) > hd.Tracks {
			return nil, corrupt("bad chunk after %d tracks", len(d.Tracks))
		}
		root := hd.Roots[c.Root]
		for i := range c.Tracks {
			t := &c.Tracks[i]
			if err := checkCachedTrack(t); err != nil {
				return nil, corrupt("track %q: %v", t.Path, err)
			}
			if ids[t.ID] {
				return nil, corrupt("duplicate item id %d", t.ID)
			}
			ids[t.ID] = true
			t.Root = root
			in.track(t)
			d.Tracks = append(d.Tracks, t)
		}
	}
	var pls cachePlaylists
	if err := dec.Decode(&pls); err != nil {
		return nil, corrupt("playlists: %v", err)
	}
	if len(pls.Playlists) != hd.Playlists {
		return nil, corrupt("%d playlists, header says %d", len(pls.Playlists), hd.Playlists)
	}
	for i := range pls.Playlists {
		cp := &pls.Playlists[i]
		if cp.Root < 0 || cp.Root >= len(hd.Roots) || !validRel(cp.P.Path) {
			return nil, corrupt("playlist %q", cp.P.Path)
		}
		cp.P.Root = hd.Roots[cp.Root]
		d.Playlists = append(d.Playlists, &cp.P)
	}
	for i := 1; i < len(d.Tracks); i++ {
		a, b := d.Tracks[i-1], d.Tracks[i]
		if a.Root > b.Root || (a.Root == b.Root && a.Path >= b.Path) {
			return nil, corrupt("tracks out of order at %q", b.Path)
		}
	}
	return d, nil
}

// maxGobMessage bounds one gob message of the cache: a chunk of
// cacheChunkLen tracks is far smaller. gob itself accepts up to 1 GiB and
// allocates the whole message before reading it.
const maxGobMessage = 64 << 20

// gobFrames passes a gob stream through, refusing any message longer than
// maxGobMessage before gob can allocate a buffer for it. It implements
// io.ByteReader, so gob reads from it directly.
type gobFrames struct {
	r    *bufio.Reader
	left int // bytes left in the current message; 0 at a length prefix
	hdr  []byte
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
	if n > maxGobMessage {
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

func checkCachedTrack(t *Track) error {
	switch {
	case t.Root != "":
		return errors.New("root set")
	case !validRel(t.Path):
		return errors.New("bad path")
	case t.ID < minItemID:
		return fmt.Errorf("item id %d", t.ID)
	case t.PersistentID == 0:
		return errors.New("no persistent id")
	case t.Size < 0:
		return fmt.Errorf("size %d", t.Size)
	case t.Art().Path != "" && !validRel(t.Art().Path):
		return errors.New("bad artwork path")
	}
	return nil
}

// validRel reports whether p is a clean, relative, slash-separated path.
func validRel(p string) bool {
	return p != "" && p != "." && !strings.HasPrefix(p, "/") && path.Clean(p) == p &&
		p != ".." && !strings.HasPrefix(p, "../")
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
