package library

import (
	"bytes"
	"cmp"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/daapd/daapd/internal/regfile"
)

// Identities are derived from a 64-bit FNV-1a hash of the library id, a root
// tag and the track's relative path, finished with the splitmix64 mixer so
// that paths differing in one byte land far apart. Item ids live in
// [minItemID, 2³²) because Music.app misbehaves with small, reused ids.
// A track keeps its ids for as long as its file keeps its path; a new file's
// ids are a pure function of the library id and its path, except in the
// rare case of a collision (see idAlloc). A track's persistent id is its
// item id under a 32-bit prefix hashed from the library id (trackPID):
// unique across libraries, stable with the item id, and cheap on the wire,
// where a listing's gzip finds the item id next to it.

// minItemID is the smallest item or playlist id handed out. Ids below it are
// left to fixed containers (the base playlist is 1).
const minItemID = 1000

// libraryIDFile is the file under the state directory holding the library id.
const libraryIDFile = "library-id"

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

// hasher is an allocation-free FNV-1a 64 over several strings.
type hasher uint64

func newHasher() hasher { return fnvOffset }

func (h hasher) str(s string) hasher {
	for i := 0; i < len(s); i++ {
		h = (h ^ hasher(s[i])) * fnvPrime
	}
	return (h ^ 0xff) * fnvPrime // separator: 0xff never occurs in UTF-8
}

func (h hasher) num(n int) hasher {
	for ; n > 0; n >>= 8 {
		h = (h ^ hasher(n&0xff)) * fnvPrime
	}
	return (h ^ 0xfe) * fnvPrime
}

// mix is the splitmix64 finaliser.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// itemID maps a key hash to an item id in [minItemID, 2³²).
func itemID(h hasher) uint32 {
	return minItemID + uint32(mix(uint64(h)^0x6974656d)%(1<<32-minItemID))
}

// persistentID maps a key hash to a non-zero persistent id.
func persistentID(h hasher) uint64 {
	p := mix(uint64(h) ^ 0x70657273)
	if p == 0 {
		p = 1
	}
	return p
}

// pidPrefix is the upper half of the persistent ids of a library's tracks.
func pidPrefix(libID string) uint64 {
	p := mix(uint64(newHasher().str(libID).str("track-pid"))) >> 32
	if p == 0 {
		p = 1
	}
	return p << 32
}

// trackPID is the persistent id of track id under a library's pidPrefix.
func trackPID(prefix uint64, id uint32) uint64 { return prefix | uint64(id) }

// keyHash is the identity hash of a file: library id, root tag and path.
// The first root's tag is empty, so a single-root library keeps its ids when
// its mount point moves; other roots are told apart by their path.
func keyHash(libID, rootTag, path string, attempt int) hasher {
	return newHasher().str(libID).str(rootTag).str(path).num(attempt)
}

// assignUnique gives each of n items a distinct id. base(i) is item i's
// preferred id; items must be in a deterministic order (the catalog's).
// When several items share a base id the first keeps it and the others try
// rehash(i, 1), rehash(i, 2), … until they find an id that no item wants as
// its base and no earlier item took, so adding a file rarely moves an
// existing id.
func assignUnique[T comparable](n int, base func(i int) T, rehash func(i, attempt int) T) []T {
	ids := make([]T, n)
	taken := make(map[T]bool, n)
	var dup []int
	for i := range n {
		ids[i] = base(i)
		if taken[ids[i]] {
			dup = append(dup, i)
			continue
		}
		taken[ids[i]] = true
	}
	for _, i := range dup {
		for attempt := 1; ; attempt++ {
			id := rehash(i, attempt)
			if !taken[id] {
				taken[id] = true
				ids[i] = id
				break
			}
		}
	}
	return ids
}

// idAlloc hands out track ids during a scan. A file keeps the ids of its
// previous track, so existing ids never move. A new file gets the item id
// its key hashes to, or, when a previous track or a file found earlier in
// the scan holds that id, the first free rehash: collisions are resolved
// against an index of ids in use, never by revisiting other tracks. Its
// persistent id follows its item id (trackPID).
type idAlloc struct {
	libID string
	pid   uint64              // pidPrefix(libID)
	tags  map[string]string   // root → identity tag
	prev  []uint32            // ids in use before the scan, sorted
	inUse func(uint32) bool   // ids in use before the scan, when prev is not kept
	used  map[uint32]struct{} // ids handed out by this scan
}

func newIDAlloc(libID string, tags map[string]string, prev []*Track) *idAlloc {
	a := &idAlloc{libID: libID, pid: pidPrefix(libID), tags: tags, prev: make([]uint32, len(prev)), used: make(map[uint32]struct{})}
	for i, t := range prev {
		a.prev[i] = t.ID
	}
	slices.Sort(a.prev)
	return a
}

func (a *idAlloc) taken(id uint32) bool {
	if _, ok := a.used[id]; ok {
		return true
	}
	if a.inUse != nil {
		return a.inUse(id)
	}
	_, ok := slices.BinarySearch(a.prev, id)
	return ok
}

// assign sets t's ids: those of prev, t's previous track at the same path,
// when there is one, else new ones.
func (a *idAlloc) assign(t, prev *Track) {
	if prev != nil && prev.ID != 0 {
		t.ID, t.PersistentID = prev.ID, trackPID(a.pid, prev.ID)
		return
	}
	tag := a.tags[t.Root]
	for attempt := 0; ; attempt++ {
		id := itemID(keyHash(a.libID, tag, t.Path, attempt))
		if !a.taken(id) {
			a.used[id] = struct{}{}
			t.ID, t.PersistentID = id, trackPID(a.pid, id)
			return
		}
	}
}

// assignPlaylistIDs does for playlists what assignIDs does for tracks, in a
// separate key space ("playlist" prefix) so a playlist file never shares a
// hash with a track.
func assignPlaylistIDs(libID string, rootTags map[string]string, pls []*Playlist) {
	slices.SortFunc(pls, func(a, b *Playlist) int {
		return cmp.Or(strings.Compare(a.Root, b.Root), strings.Compare(a.Path, b.Path))
	})
	hash := func(i, attempt int) hasher {
		p := pls[i]
		return keyHash(libID, "playlist\xff"+rootTags[p.Root], p.Path, attempt)
	}
	items := assignUnique(len(pls),
		func(i int) uint32 { return itemID(hash(i, 0)) },
		func(i, a int) uint32 { return itemID(hash(i, a)) })
	for i, p := range pls {
		p.ID, p.PersistentID = items[i], persistentID(hash(i, 0))
	}
}

// albumKeyID is the album id for an album artist and album name; a
// compilation is keyed by its album name alone. Names are compared
// case-insensitively and trimmed.
func albumKeyID(libID, albumArtist, album string, compilation bool) uint64 {
	h := newHasher().str(libID).str("album")
	if compilation {
		h = h.str("\x01compilation")
	} else {
		h = h.str(foldKey(albumArtist))
	}
	return persistentID(h.str(foldKey(album)))
}

// artistKeyID is the artist id for an (album) artist name.
func artistKeyID(libID, name string) uint64 {
	return persistentID(newHasher().str(libID).str("artist").str(foldKey(name)))
}

// foldKey normalises a name for grouping: trimmed and lower-cased.
func foldKey(s string) string {
	s = strings.TrimSpace(s)
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 0x80 || ('A' <= c && c <= 'Z') {
			return strings.ToLower(s)
		}
	}
	return s
}

// setGroupIDs fills AlbumID and ArtistID from the track's tags.
func setGroupIDs(libID string, t *Track) {
	name, _ := t.GroupArtist()
	t.ArtistID = artistKeyID(libID, name)
	if t.Album != "" {
		aa := t.AlbumArtist
		if aa == "" {
			aa = t.Artist
		}
		t.AlbumID = albumKeyID(libID, aa, t.Album, t.Compilation)
	}
}

// ErrBadLibraryID means the library-id file exists but is not 16 hex digits.
var ErrBadLibraryID = errors.New("malformed library id")

// ReadLibraryID reads the library id persisted under stateDir. It returns an
// error wrapping fs.ErrNotExist when there is none yet.
func ReadLibraryID(stateDir string) (string, error) {
	name := filepath.Join(stateDir, libraryIDFile)
	b, err := regfile.ReadFile(name, 4096)
	if err != nil {
		return "", err
	}
	id := string(bytes.TrimSpace(b))
	if len(id) != 16 {
		return "", fmt.Errorf("%s: %w: %q", name, ErrBadLibraryID, id)
	}
	if _, err := hex.DecodeString(id); err != nil {
		return "", fmt.Errorf("%s: %w: %q", name, ErrBadLibraryID, id)
	}
	return strings.ToLower(id), nil
}

// LoadOrCreateLibraryID returns the library id persisted in
// <stateDir>/library-id, creating stateDir and a random 16-hex-digit id on
// first use. The id seeds every track, album and playlist id, and the daemon
// announces it as the mDNS Database ID. A malformed file is an error, never
// silently replaced, since a new id would change every id clients cached.
func LoadOrCreateLibraryID(stateDir string) (string, error) {
	id, err := ReadLibraryID(stateDir)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return id, err
	}
	var b [8]byte
	rand.Read(b[:])
	id = hex.EncodeToString(b[:])
	if err := os.MkdirAll(stateDir, 0o755); err != nil {
		return "", fmt.Errorf("create state dir: %w", err)
	}
	if err := writeFileAtomic(filepath.Join(stateDir, libraryIDFile), func(w io.Writer) error {
		_, err := io.WriteString(w, id+"\n")
		return err
	}); err != nil {
		return "", err
	}
	return id, nil
}

// writeFileAtomic replaces name with what write produces: a temporary file
// in the same directory, fsynced, renamed over name, then the directory
// fsynced. A failure leaves name as it was.
func writeFileAtomic(name string, write func(io.Writer) error) error {
	dir := filepath.Dir(name)
	f, err := os.CreateTemp(dir, "."+filepath.Base(name)+".tmp*")
	if err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	tmp := f.Name()
	err = write(f)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = regfile.Check(name) // never replace a FIFO or device someone put there
	}
	if err == nil {
		err = os.Rename(tmp, name)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", name, err)
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
