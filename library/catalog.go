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

// historyLen is how many past revisions Delta can answer from.
const historyLen = 16

// historySlack bounds the ids the history holds beyond the library's size:
// a delta larger than the library is no use, a full listing is smaller.
const historySlack = 1 << 16

// ErrClosed is returned by Wait once the catalog has been closed (shutdown).
var ErrClosed = errors.New("catalog closed")

// Snapshot is an immutable view of the library. Handlers take one with
// Catalog.Snapshot and use it for the whole request. Successive snapshots
// share their indexes' unchanged parts and their unchanged tracks, albums
// and artists.
type Snapshot struct {
	Revision  uint32
	Published time.Time
	Tracks    []*Track // sorted by root, then path
	Playlists []*Playlist
	Albums    []*Album  // sorted by artist, then name
	Artists   []*Artist // sorted by name

	byID      index[*Track]
	albumByID index[*Album]
	artByID   index[*Artist]
	plByID    map[uint32]*Playlist
}

// Track returns the track with the given item id.
func (s *Snapshot) Track(id uint32) (*Track, bool) { return s.byID.get(uint64(id)) }

// Album returns the album with the given id.
func (s *Snapshot) Album(id uint64) (*Album, bool) { return s.albumByID.get(id) }

// Artist returns the artist group with the given id.
func (s *Snapshot) Artist(id uint64) (*Artist, bool) { return s.artByID.get(id) }

// Playlist returns the playlist with the given id.
func (s *Snapshot) Playlist(id uint32) (*Playlist, bool) { p, ok := s.plByID[id]; return p, ok }

// Catalog holds the current snapshot behind an atomic pointer and lets
// callers wait for the next revision. Past revisions are remembered as the
// ids each one changed, not as snapshots, so memory does not grow with the
// history kept for Delta.
type Catalog struct {
	cur atomic.Pointer[Snapshot]

	mu      sync.Mutex
	changed chan struct{} // closed and replaced on every new revision
	closed  bool
	history []revDiff // oldest first; the last one made the current revision
	histIDs int       // ids held by history
}

// revDiff is what one revision changed, by track id.
type revDiff struct {
	rev     uint32
	added   []uint32
	changed []uint32
	deleted []uint32
}

func (d *revDiff) size() int { return len(d.added) + len(d.changed) + len(d.deleted) }

// NewCatalog returns an empty catalog at FirstRevision.
func NewCatalog() *Catalog {
	c := &Catalog{changed: make(chan struct{})}
	c.cur.Store(&Snapshot{Revision: FirstRevision, Published: time.Now()})
	return c
}

// Snapshot returns the current snapshot. It never blocks.
func (c *Catalog) Snapshot() *Snapshot { return c.cur.Load() }

// Revision returns the current revision.
func (c *Catalog) Revision() uint32 { return c.cur.Load().Revision }

// Publish replaces the catalog's content. The revision increases only if
// the tracks or playlists really differ from the current snapshot; the
// returned bool says whether it did. Publish takes ownership of the slices.
//
// Tracks already in the catalog are recognised by pointer (the scanner
// reuses unchanged ones), so publishing costs one pass over the pointers
// plus O(k log k) in the k tracks that differ; a list already in catalog
// order is not sorted again.
func (c *Catalog) Publish(tracks []*Track, playlists []*Playlist) (*Snapshot, bool) {
	if !slices.IsSortedFunc(tracks, compareTracks) {
		sortTracks(tracks)
	}
	return c.publishSorted(tracks, fixed(playlists))
}

// fixed is a playlists function for playlists already known.
func fixed(pls []*Playlist) func() []*Playlist { return func() []*Playlist { return pls } }

// publishSorted is Publish for tracks already in catalog order, with the
// playlists from playlists(), which a big publish calls while it builds
// the rest of the snapshot.
func (c *Catalog) publishSorted(tracks []*Track, playlists func() []*Playlist) (*Snapshot, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	old := c.cur.Load()
	return c.commit(old, tracks, diffTracks(old.Tracks, tracks), playlists)
}

// PublishChanges publishes the current tracks with put added or replacing
// the tracks of the same root and path, and the tracks at the root and path
// of each of del removed; playlists replace the current ones. It costs
// O(k log k) in the changes plus copying the track pointers once.
func (c *Catalog) PublishChanges(put, del []*Track, playlists []*Playlist) (*Snapshot, bool) {
	return c.publishChanges(put, del, func([]*Track) []*Playlist { return playlists })
}

// publishChanges is PublishChanges with the playlists made from the new
// list of tracks, by playlists(tracks).
func (c *Catalog) publishChanges(put, del []*Track, playlists func(tracks []*Track) []*Playlist) (*Snapshot, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	old := c.cur.Load()
	put, del = slices.Clone(put), slices.Clone(del)
	sortTracks(put)
	sortTracks(del)
	tracks, ch := mergeTracks(old.Tracks, put, del)
	return c.commit(old, tracks, ch, func() []*Playlist { return playlists(tracks) })
}

// commit publishes the snapshot following old, unless nothing changed.
func (c *Catalog) commit(old *Snapshot, tracks []*Track, ch trackChanges, playlists func() []*Playlist) (*Snapshot, bool) {
	if ch.empty() {
		pls := playlists()
		if samePlaylists(old.Playlists, pls) {
			return old, false
		}
		playlists = fixed(pls)
	}
	s := old.next(tracks, playlists, ch)
	c.cur.Store(s)
	c.remember(s, ch)
	close(c.changed)
	c.changed = make(chan struct{})
	return s, true
}

// remember appends what revision s changed to the history, dropping the
// oldest entries beyond historyLen or beyond the id budget.
func (c *Catalog) remember(s *Snapshot, ch trackChanges) {
	d := revDiff{rev: s.Revision}
	for _, t := range ch.added {
		d.added = append(d.added, t.ID)
	}
	for _, t := range ch.changed {
		d.changed = append(d.changed, t.ID)
	}
	for _, t := range ch.removed {
		d.deleted = append(d.deleted, t.ID)
	}
	c.history = append(c.history, d)
	c.histIDs += d.size()
	drop := 0
	for len(c.history)-drop > historyLen || (c.histIDs > len(s.Tracks)+historySlack && len(c.history)-drop > 1) {
		c.histIDs -= c.history[drop].size()
		drop++
	}
	if drop > 0 {
		c.history = slices.Delete(c.history, 0, drop)
	}
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
// added or changed (in to's order) and ids deleted (ascending). ok is false
// when from is no longer (or never was) in the history; callers then send
// everything. It costs O(k log k) in the ids changed meanwhile.
func (c *Catalog) Delta(from uint32, to *Snapshot) (changed []*Track, deleted []uint32, ok bool) {
	if from > to.Revision {
		return nil, nil, false
	}
	if from == to.Revision {
		return nil, nil, true
	}
	// existed[id] says whether the id was in revision from: its first
	// event after from is a change or a deletion, not an addition.
	existed := make(map[uint32]bool)
	c.mu.Lock()
	i := slices.IndexFunc(c.history, func(d revDiff) bool { return d.rev == from+1 })
	for ; i >= 0 && i < len(c.history) && c.history[i].rev <= to.Revision; i++ {
		d := &c.history[i]
		for _, id := range d.added {
			if _, seen := existed[id]; !seen {
				existed[id] = false
			}
		}
		for _, ids := range [][]uint32{d.changed, d.deleted} {
			for _, id := range ids {
				if _, seen := existed[id]; !seen {
					existed[id] = true
				}
			}
		}
		ok = d.rev == to.Revision
	}
	c.mu.Unlock()
	if !ok {
		return nil, nil, false
	}
	for id, was := range existed {
		if t, found := to.Track(id); found {
			changed = append(changed, t)
		} else if was {
			deleted = append(deleted, id)
		}
	}
	sortTracks(changed)
	slices.Sort(deleted)
	return changed, deleted, true
}

// compareTracks is catalog order: by root, then path.
func compareTracks(a, b *Track) int {
	if a.Root != b.Root { // one string per root: usually the same pointer
		return strings.Compare(a.Root, b.Root)
	}
	return strings.Compare(a.Path, b.Path)
}

func sortTracks(ts []*Track) { slices.SortFunc(ts, compareTracks) }

// mergeSorted merges two lists in catalog order into a new one.
func mergeSorted(a, b []*Track) []*Track { return mergeBy(a, b, compareTracks) }

// trackChanges is what turns one track list into the next.
type trackChanges struct {
	added   []*Track // new keys, or a key whose id changed
	changed []*Track // new versions of tracks keeping their key and id
	prior   []*Track // the old versions of changed, in the same order
	removed []*Track // old tracks gone, or replaced under another id
	same    []*Track // new pointers to tracks equal to the old ones
}

func (ch *trackChanges) empty() bool {
	return len(ch.added) == 0 && len(ch.changed) == 0 && len(ch.removed) == 0
}

// pair records that o (old, possibly nil) became n (possibly nil) under the
// same key.
func (ch *trackChanges) pair(o, n *Track) {
	switch {
	case o == n:
	case o == nil:
		ch.added = append(ch.added, n)
	case n == nil:
		ch.removed = append(ch.removed, o)
	case o.ID != n.ID:
		ch.removed = append(ch.removed, o)
		ch.added = append(ch.added, n)
	case *o != *n:
		ch.changed = append(ch.changed, n)
		ch.prior = append(ch.prior, o)
	default:
		ch.same = append(ch.same, n)
	}
}

// diffTracks compares two lists in catalog order. Shared pointers are
// skipped without looking at the tracks.
func diffTracks(a, b []*Track) trackChanges {
	var ch trackChanges
	for len(a) > 0 || len(b) > 0 {
		if len(a) > 0 && len(b) > 0 && a[0] == b[0] {
			a, b = a[1:], b[1:]
			continue
		}
		c := -1
		switch {
		case len(a) == 0:
			c = 1
		case len(b) > 0:
			c = compareTracks(a[0], b[0])
		}
		switch {
		case c < 0:
			ch.pair(a[0], nil)
			a = a[1:]
		case c > 0:
			ch.pair(nil, b[0])
			b = b[1:]
		default:
			ch.pair(a[0], b[0])
			a, b = a[1:], b[1:]
		}
	}
	return ch
}

// mergeTracks applies put (new or replacing tracks) and del (keys to drop,
// unless put has them too), both in catalog order, to old: it copies the
// unchanged runs of old and finds each change by binary search.
func mergeTracks(old, put, del []*Track) ([]*Track, trackChanges) {
	var ch trackChanges
	out := make([]*Track, 0, len(old)+len(put))
	for len(put) > 0 || len(del) > 0 {
		var next *Track
		isDel := len(put) == 0 || (len(del) > 0 && compareTracks(del[0], put[0]) < 0)
		if isDel {
			next, del = del[0], del[1:]
		} else {
			next, put = put[0], put[1:]
			for len(del) > 0 && compareTracks(del[0], next) == 0 {
				del = del[1:] // put wins
			}
		}
		i, found := slices.BinarySearchFunc(old, next, compareTracks)
		out, old = append(out, old[:i]...), old[i:]
		var o *Track
		if found {
			o, old = old[0], old[1:]
		}
		if isDel {
			if o != nil {
				ch.pair(o, nil)
			}
			continue
		}
		ch.pair(o, next)
		out = append(out, next)
	}
	return append(out, old...), ch
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

// parallelRegroup is the number of changed tracks from which a publish
// regroups albums and artists in two goroutines.
const parallelRegroup = 4096

// next builds the snapshot after s from the new track list and what
// changed: the indexes are updated, and only the albums and artists of
// changed tracks are rebuilt.
func (s *Snapshot) next(tracks []*Track, playlists func() []*Playlist, ch trackChanges) *Snapshot {
	n := &Snapshot{
		Revision:  s.Revision + 1,
		Published: time.Now(),
		Tracks:    tracks,
	}
	del := make([]uint64, 0, len(ch.removed))
	for _, t := range ch.removed {
		del = append(del, uint64(t.ID))
	}
	put := slices.Concat(ch.added, ch.changed, ch.same)
	if len(put)+len(del) < parallelRegroup {
		n.byID = s.byID.with(put, del)
		n.regroupAlbums(s, ch)
		n.regroupArtists(s, ch)
		n.Playlists = playlists()
	} else {
		// A big publish (a restart, a first scan) builds at once what is
		// independent: the playlists (from the tracks alone), albums and
		// artists (both only read n.byID), and the index itself when the
		// groups look nothing up in it, as there are no old members to
		// find when s is empty.
		var wg sync.WaitGroup
		wg.Go(func() { n.Playlists = playlists() })
		if len(s.Tracks) == 0 {
			wg.Go(func() { n.byID = s.byID.with(put, del) })
		} else {
			n.byID = s.byID.with(put, del)
		}
		wg.Go(func() { n.regroupAlbums(s, ch) })
		n.regroupArtists(s, ch)
		wg.Wait()
	}
	n.plByID = make(map[uint32]*Playlist, len(n.Playlists))
	for _, p := range n.Playlists {
		n.plByID[p.ID] = p
	}
	return n
}

// groupChange collects the changed albums or artists in the order they
// were first met (catalog order for the joins), so groups are built in an
// order close to their sorted one, and for each the tracks that joined it.
type groupChange struct {
	at     map[uint64]int // group id → its index in order and joined
	order  []uint64
	joined [][]*Track
	last   int // index of the group joined last, -1 before the first
}

// touch marks a group as changed even when no track joined it, and returns
// its index.
func (g *groupChange) touch(id uint64) int {
	i, ok := g.at[id]
	if !ok {
		i = len(g.order)
		g.at[id] = i
		g.order = append(g.order, id)
		g.joined = append(g.joined, nil)
	}
	return i
}

// join adds t to group id. Tracks come in catalog order, where a group's
// tracks mostly follow each other: those skip the map.
func (g *groupChange) join(id uint64, t *Track) {
	if g.last < 0 || g.order[g.last] != id {
		g.last = g.touch(id)
	}
	g.joined[g.last] = append(g.joined[g.last], t)
}

// changed reports whether group id is in g.
func (g *groupChange) changed(id uint64) bool {
	_, ok := g.at[id]
	return ok
}

// changedGroups lists the groups that changed tracks left or joined; key
// gives a track's group and whether it has one.
func changedGroups(ch trackChanges, key func(*Track) (uint64, bool)) *groupChange {
	g := &groupChange{at: map[uint64]int{}, last: -1}
	for _, t := range ch.removed {
		if id, ok := key(t); ok {
			g.touch(id)
		}
	}
	for _, t := range ch.added {
		if id, ok := key(t); ok {
			g.join(id, t)
		}
	}
	for i, t := range ch.changed {
		oid, ook := key(ch.prior[i])
		if ook {
			g.touch(oid)
		}
		if id, ok := key(t); ok && (!ook || id != oid) {
			g.join(id, t)
		}
	}
	// added and changed are each in catalog order: a group's joins are
	// sorted unless both lists gave some.
	if len(ch.added) > 0 && len(ch.changed) > 0 {
		for _, ts := range g.joined {
			sortTracks(ts)
		}
	}
	return g
}

// members returns the tracks of a group in the new snapshot: the old
// members still in it (by id, through n's index) merged with those that
// joined.
func (n *Snapshot) members(old []uint32, id uint64, key func(*Track) (uint64, bool), joined []*Track) []*Track {
	if len(old) == 0 {
		return joined // a new group (all of them in a restart): nothing to merge
	}
	kept := make([]*Track, 0, len(old)+len(joined))
	for _, tid := range old {
		if t, ok := n.Track(tid); ok {
			if k, has := key(t); has && k == id {
				kept = append(kept, t)
			}
		}
	}
	return mergeSorted(kept, joined)
}

func albumKey(t *Track) (uint64, bool) { return t.AlbumID, t.Album != "" }

func artistKey(t *Track) (uint64, bool) {
	name, _ := t.GroupArtist()
	return t.ArtistID, name != ""
}

func (n *Snapshot) regroupAlbums(s *Snapshot, ch trackChanges) {
	g := changedGroups(ch, albumKey)
	if len(g.order) == 0 {
		n.Albums, n.albumByID = s.Albums, s.albumByID
		return
	}
	var put, fresh []*Album
	var del []uint64
	for gi, id := range g.order {
		joined := g.joined[gi]
		var old []uint32
		if a, ok := s.Album(id); ok {
			old = a.Tracks
		}
		ts := n.members(old, id, albumKey, joined)
		if len(ts) == 0 {
			del = append(del, id)
			continue
		}
		f := ts[0]
		a := &Album{ID: id, Name: f.Album, SortName: f.SortAlbum(), Compilation: f.Compilation, first: f,
			Tracks: make([]uint32, len(ts))}
		a.Artist, a.SortArtist = f.GroupArtist()
		for i, t := range ts {
			a.Tracks[i] = t.ID
			if a.ArtworkFrom == 0 && t.Art().Source != ArtworkNone {
				a.ArtworkFrom = t.ID
			}
		}
		put = append(put, a)
		fresh = append(fresh, a)
	}
	n.albumByID = s.albumByID.with(put, del)
	cmpAlbum := func(a, b *Album) int {
		// Not cmp.Or, which would compute every comparison first.
		if a.Artist != b.Artist { // interned: equal names are mostly the same pointer
			return strings.Compare(a.Artist, b.Artist)
		}
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return compareTracks(a.first, b.first)
	}
	slices.SortFunc(fresh, cmpAlbum)
	kept := make([]*Album, 0, len(s.Albums)+len(fresh))
	for _, a := range s.Albums {
		if !g.changed(a.ID) {
			kept = append(kept, a)
		}
	}
	n.Albums = mergeBy(kept, fresh, cmpAlbum)
}

func (n *Snapshot) regroupArtists(s *Snapshot, ch trackChanges) {
	g := changedGroups(ch, artistKey)
	if len(g.order) == 0 {
		n.Artists, n.artByID = s.Artists, s.artByID
		return
	}
	var put, fresh []*Artist
	var del []uint64
	for gi, id := range g.order {
		joined := g.joined[gi]
		var old []uint32
		if a, ok := s.Artist(id); ok {
			old = a.Tracks
		}
		ts := n.members(old, id, artistKey, joined)
		if len(ts) == 0 {
			del = append(del, id)
			continue
		}
		ar := &Artist{ID: id, first: ts[0], Tracks: make([]uint32, len(ts))}
		ar.Name, ar.SortName = ts[0].GroupArtist()
		albums := make(map[uint64]bool)
		for i, t := range ts {
			ar.Tracks[i] = t.ID
			if t.Album != "" && !albums[t.AlbumID] {
				albums[t.AlbumID] = true
				ar.Albums++
			}
		}
		put = append(put, ar)
		fresh = append(fresh, ar)
	}
	n.artByID = s.artByID.with(put, del)
	cmpArtist := func(a, b *Artist) int {
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return compareTracks(a.first, b.first)
	}
	slices.SortFunc(fresh, cmpArtist)
	kept := make([]*Artist, 0, len(s.Artists)+len(fresh))
	for _, a := range s.Artists {
		if !g.changed(a.ID) {
			kept = append(kept, a)
		}
	}
	n.Artists = mergeBy(kept, fresh, cmpArtist)
}

// mergeBy merges two sorted lists into a new one, a's elements first
// among equal ones. It gallops: each step copies the run of one list that
// goes before the other's head, found by exponential search, so merging a
// few tracks into a million costs a few comparisons per track plus the
// copy.
func mergeBy[T any](a, b []T, cmp func(x, y T) int) []T {
	out := make([]T, 0, len(a)+len(b))
	for len(a) > 0 && len(b) > 0 {
		i := gallop(a, func(x T) bool { return cmp(b[0], x) < 0 })
		out, a = append(out, a[:i]...), a[i:]
		if len(a) == 0 {
			break
		}
		j := gallop(b, func(y T) bool { return cmp(y, a[0]) >= 0 })
		out, b = append(out, b[:j]...), b[j:]
	}
	return append(append(out, a...), b...)
}

// gallop returns the first index of s where pred, false then true along
// s, holds (len(s) if nowhere), in O(log i) calls.
func gallop[T any](s []T, pred func(T) bool) int {
	hi := 1
	for hi < len(s) && !pred(s[hi-1]) {
		hi *= 2
	}
	lo, hi := hi/2, min(hi, len(s))
	return lo + sort.Search(hi-lo, func(i int) bool { return pred(s[lo+i]) })
}

// GroupArtist is the name a track's album and artist groups are listed
// under, with its sort name: the album artist, "Various Artists" for
// compilations without one, else the artist.
func (t *Track) GroupArtist() (name, sortName string) {
	switch {
	case t.AlbumArtist != "":
		return t.AlbumArtist, t.SortAlbumArtist()
	case t.Compilation:
		return compilationArtist, ""
	default:
		return t.Artist, t.SortArtist()
	}
}
