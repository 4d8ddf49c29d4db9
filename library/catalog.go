package library

import (
	"context"
	"errors"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// FirstRevision is the revision of an empty catalog. DAAP clients treat
// revision 1 as "I know nothing", so the first real revision is 2.
const FirstRevision = 2

// historyLen is how many past snapshots are kept to answer delta requests.
const historyLen = 16

// ErrClosed is returned by Wait once the catalog has been closed (shutdown).
var ErrClosed = errors.New("catalog closed")

// Snapshot is an immutable view of the library. Handlers take one with
// Catalog.Snapshot and use it for the whole request.
type Snapshot struct {
	Revision  uint32
	Published time.Time
	Tracks    []*Track // sorted by root, then path
	Playlists []*Playlist
	Albums    []*Album  // sorted by artist, then name
	Artists   []*Artist // sorted by name

	byID      map[uint32]*Track
	albumByID map[uint64]*Album
	artByID   map[uint64]*Artist
	plByID    map[uint32]*Playlist
}

// Track returns the track with the given item id.
func (s *Snapshot) Track(id uint32) (*Track, bool) { t, ok := s.byID[id]; return t, ok }

// Album returns the album with the given id.
func (s *Snapshot) Album(id uint64) (*Album, bool) { a, ok := s.albumByID[id]; return a, ok }

// Artist returns the artist group with the given id.
func (s *Snapshot) Artist(id uint64) (*Artist, bool) { a, ok := s.artByID[id]; return a, ok }

// Playlist returns the playlist with the given id.
func (s *Snapshot) Playlist(id uint32) (*Playlist, bool) { p, ok := s.plByID[id]; return p, ok }

// Catalog holds the current snapshot behind an atomic pointer and lets
// callers wait for the next revision.
type Catalog struct {
	cur atomic.Pointer[Snapshot]

	mu      sync.Mutex
	changed chan struct{} // closed and replaced on every new revision
	closed  bool
	history []*Snapshot // oldest first, includes the current one
}

// NewCatalog returns an empty catalog at FirstRevision.
func NewCatalog() *Catalog {
	c := &Catalog{changed: make(chan struct{})}
	s := buildSnapshot(FirstRevision, nil, nil)
	c.cur.Store(s)
	c.history = []*Snapshot{s}
	return c
}

// Snapshot returns the current snapshot. It never blocks.
func (c *Catalog) Snapshot() *Snapshot { return c.cur.Load() }

// Revision returns the current revision.
func (c *Catalog) Revision() uint32 { return c.cur.Load().Revision }

// Publish replaces the catalog's content. The revision increases only if
// the tracks or playlists really differ from the current snapshot; the
// returned bool says whether it did. Publish takes ownership of the slices.
func (c *Catalog) Publish(tracks []*Track, playlists []*Playlist) (*Snapshot, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	old := c.cur.Load()
	sortTracks(tracks)
	if sameTracks(old.Tracks, tracks) && samePlaylists(old.Playlists, playlists) {
		return old, false
	}
	s := buildSnapshot(old.Revision+1, tracks, playlists)
	c.cur.Store(s)
	c.history = append(c.history, s)
	if len(c.history) > historyLen {
		c.history = slices.Delete(c.history, 0, len(c.history)-historyLen)
	}
	close(c.changed)
	c.changed = make(chan struct{})
	return s, true
}

// Wait blocks until the revision is greater than after, ctx is done, or the
// catalog is closed, and returns the snapshot then current.
func (c *Catalog) Wait(ctx context.Context, after uint32) (*Snapshot, error) {
	for {
		c.mu.Lock()
		s, ch, closed := c.cur.Load(), c.changed, c.closed
		c.mu.Unlock()
		if s.Revision > after {
			return s, nil
		}
		if closed {
			return s, ErrClosed
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return c.cur.Load(), ctx.Err()
		}
	}
}

// Close releases every Wait with ErrClosed. Used at shutdown.
func (c *Catalog) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.closed {
		c.closed = true
		close(c.changed)
		c.changed = make(chan struct{})
	}
}

// Delta lists what changed between revision from and snapshot to: tracks
// added or changed (in to's order) and ids deleted. ok is false when from
// is no longer (or never was) in the history; callers then send everything.
func (c *Catalog) Delta(from uint32, to *Snapshot) (changed []*Track, deleted []uint32, ok bool) {
	c.mu.Lock()
	var old *Snapshot
	for _, s := range c.history {
		if s.Revision == from {
			old = s
		}
	}
	c.mu.Unlock()
	if old == nil || from > to.Revision {
		return nil, nil, false
	}
	for _, t := range to.Tracks {
		if o, found := old.byID[t.ID]; !found || *o != *t {
			changed = append(changed, t)
		}
	}
	for _, t := range old.Tracks {
		if _, found := to.byID[t.ID]; !found {
			deleted = append(deleted, t.ID)
		}
	}
	return changed, deleted, true
}

func sortTracks(ts []*Track) {
	slices.SortFunc(ts, func(a, b *Track) int {
		if c := strings.Compare(a.Root, b.Root); c != 0 {
			return c
		}
		return strings.Compare(a.Path, b.Path)
	})
}

func sameTracks(a, b []*Track) bool {
	return slices.EqualFunc(a, b, func(x, y *Track) bool { return x == y || *x == *y })
}

func samePlaylists(a, b []*Playlist) bool {
	return slices.EqualFunc(a, b, func(x, y *Playlist) bool {
		return x.ID == y.ID && x.PersistentID == y.PersistentID && x.Name == y.Name &&
			x.Root == y.Root && x.Path == y.Path && slices.Equal(x.Items, y.Items) &&
			x.Smart == y.Smart && x.Special == y.Special
	})
}

// compilationArtist is the album artist shown for compilations.
const compilationArtist = "Various Artists"

func buildSnapshot(rev uint32, tracks []*Track, playlists []*Playlist) *Snapshot {
	s := &Snapshot{
		Revision:  rev,
		Published: time.Now(),
		Tracks:    tracks,
		Playlists: playlists,
		byID:      make(map[uint32]*Track, len(tracks)),
		albumByID: make(map[uint64]*Album),
		artByID:   make(map[uint64]*Artist),
		plByID:    make(map[uint32]*Playlist, len(playlists)),
	}
	albumsOfArtist := make(map[uint64]map[uint64]bool)
	for _, t := range tracks {
		s.byID[t.ID] = t
		if t.Album != "" {
			a := s.albumByID[t.AlbumID]
			if a == nil {
				a = &Album{ID: t.AlbumID, Name: t.Album, SortName: t.SortAlbum, Compilation: t.Compilation}
				a.Artist, a.SortArtist = t.GroupArtist()
				s.albumByID[t.AlbumID] = a
				s.Albums = append(s.Albums, a)
			}
			a.Tracks = append(a.Tracks, t.ID)
			if a.ArtworkFrom == 0 && t.Artwork.Source != ArtworkNone {
				a.ArtworkFrom = t.ID
			}
		}
		name, sortName := t.GroupArtist()
		if name != "" {
			ar := s.artByID[t.ArtistID]
			if ar == nil {
				ar = &Artist{ID: t.ArtistID, Name: name, SortName: sortName}
				s.artByID[t.ArtistID] = ar
				s.Artists = append(s.Artists, ar)
				albumsOfArtist[t.ArtistID] = make(map[uint64]bool)
			}
			ar.Tracks = append(ar.Tracks, t.ID)
			if t.Album != "" && !albumsOfArtist[t.ArtistID][t.AlbumID] {
				albumsOfArtist[t.ArtistID][t.AlbumID] = true
				ar.Albums++
			}
		}
	}
	for _, p := range playlists {
		s.plByID[p.ID] = p
	}
	sort.SliceStable(s.Albums, func(i, j int) bool {
		a, b := s.Albums[i], s.Albums[j]
		if a.Artist != b.Artist {
			return a.Artist < b.Artist
		}
		return a.Name < b.Name
	})
	sort.SliceStable(s.Artists, func(i, j int) bool { return s.Artists[i].Name < s.Artists[j].Name })
	return s
}

// GroupArtist is the name a track's album and artist groups are listed
// under, with its sort name: the album artist, "Various Artists" for
// compilations without one, else the artist.
func (t *Track) GroupArtist() (name, sortName string) {
	switch {
	case t.AlbumArtist != "":
		return t.AlbumArtist, t.SortAlbumArtist
	case t.Compilation:
		return compilationArtist, ""
	default:
		return t.Artist, t.SortArtist
	}
}
