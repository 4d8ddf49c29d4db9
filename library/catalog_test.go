package library

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// refGroups builds albums and artists from scratch, the way a snapshot of
// tracks (in catalog order) must show them: groups in order of their first
// track, then stably sorted.
func refGroups(tracks []*Track) ([]*Album, []*Artist) {
	var albums []*Album
	var artists []*Artist
	albumByID := map[uint64]*Album{}
	artByID := map[uint64]*Artist{}
	albumsOf := map[uint64]map[uint64]bool{}
	for _, t := range tracks {
		if t.Album != "" {
			a := albumByID[t.AlbumID]
			if a == nil {
				a = &Album{ID: t.AlbumID, Name: t.Album, SortName: t.SortAlbum(), Compilation: t.Compilation}
				a.Artist, a.SortArtist = t.GroupArtist()
				albumByID[t.AlbumID] = a
				albums = append(albums, a)
			}
			a.Tracks = append(a.Tracks, t.ID)
			if a.ArtworkFrom == 0 && t.Art().Source != ArtworkNone {
				a.ArtworkFrom = t.ID
			}
		}
		if name, sortName := t.GroupArtist(); name != "" {
			ar := artByID[t.ArtistID]
			if ar == nil {
				ar = &Artist{ID: t.ArtistID, Name: name, SortName: sortName}
				artByID[t.ArtistID] = ar
				artists = append(artists, ar)
				albumsOf[t.ArtistID] = map[uint64]bool{}
			}
			ar.Tracks = append(ar.Tracks, t.ID)
			if t.Album != "" && !albumsOf[t.ArtistID][t.AlbumID] {
				albumsOf[t.ArtistID][t.AlbumID] = true
				ar.Albums++
			}
		}
	}
	sort.SliceStable(albums, func(i, j int) bool {
		a, b := albums[i], albums[j]
		if a.Artist != b.Artist {
			return a.Artist < b.Artist
		}
		return a.Name < b.Name
	})
	sort.SliceStable(artists, func(i, j int) bool { return artists[i].Name < artists[j].Name })
	return albums, artists
}

// refDelta is Delta computed from two whole snapshots.
func refDelta(from, to []*Track) (changed []*Track, deleted []uint32) {
	old := map[uint32]*Track{}
	for _, t := range from {
		old[t.ID] = t
	}
	now := map[uint32]bool{}
	for _, t := range to {
		now[t.ID] = true
		if o, ok := old[t.ID]; !ok || *o != *t {
			changed = append(changed, t)
		}
	}
	for _, t := range from {
		if !now[t.ID] {
			deleted = append(deleted, t.ID)
		}
	}
	slices.Sort(deleted)
	return changed, deleted
}

// randomTrack makes a track of a small world of artists and albums, so
// that edits move tracks between groups, make compilations and ties.
func randomTrack(r *rand.Rand, path string, id uint32) *Track {
	t := &Track{ID: id, PersistentID: uint64(id) * 7, Root: "/m", Path: path,
		Title: path, Artist: fmt.Sprintf("Artist %d", r.IntN(5)), Album: fmt.Sprintf("Album %d", r.IntN(6))}
	switch r.IntN(6) {
	case 0:
		t.Album = ""
	case 1:
		t.Compilation = true
	case 2:
		t.AlbumArtist = "Same Name"
	case 3:
		t.Artist = ""
	}
	if r.IntN(3) == 0 {
		t.Artwork = embeddedArt
	}
	if r.IntN(8) == 0 {
		t.Root = "/n"
	}
	setGroupIDs("lib", t)
	return t
}

// TestCatalogIncremental publishes random additions, edits and deletions,
// as whole lists and as changes, and checks every snapshot against one
// built from scratch, and every delta the history can answer against the
// difference of the two snapshots.
func TestCatalogIncremental(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	c := NewCatalog()
	var (
		cur    []*Track
		nextID uint32 = minItemID
		past          = map[uint32][]*Track{FirstRevision: {}}
	)
	opts := []cmp.Option{cmpopts.IgnoreUnexported(Album{}, Artist{}), cmpopts.EquateEmpty()}
	for step := range 150 {
		var put, del []*Track
		next := slices.Clone(cur)
		for range 1 + r.IntN(8) {
			switch k := r.IntN(4); {
			case k == 0 && len(next) > 0: // delete
				i := r.IntN(len(next))
				del = append(del, next[i])
				next = slices.Delete(next, i, i+1)
			case k == 1 && len(next) > 0: // retag, same path and id
				i := r.IntN(len(next))
				o := next[i]
				n := randomTrack(r, o.Path, o.ID)
				n.Root, n.PersistentID = o.Root, o.PersistentID
				next[i] = n
				put = append(put, n)
			default: // add
				nextID++
				n := randomTrack(r, fmt.Sprintf("%c/%05d.mp3", 'a'+r.IntN(4), r.IntN(100000)), nextID)
				if slices.ContainsFunc(next, func(x *Track) bool { return compareTracks(x, n) == 0 }) {
					continue
				}
				next = append(next, n)
				put = append(put, n)
			}
		}
		// A track both retagged and deleted in one step is only deleted.
		put = slices.DeleteFunc(put, func(p *Track) bool {
			return !slices.Contains(next, p)
		})
		sortTracks(next)
		var snap *Snapshot
		if step%2 == 0 {
			snap, _ = c.Publish(slices.Clone(next), nil)
		} else {
			snap, _ = c.PublishChanges(put, del, nil)
		}
		if diff := cmp.Diff(next, snap.Tracks); diff != "" {
			t.Fatalf("step %d: tracks (-want +got):\n%s", step, diff)
		}
		cur = next
		past[snap.Revision] = cur
		wantAlbums, wantArtists := refGroups(cur)
		if diff := cmp.Diff(wantAlbums, snap.Albums, opts...); diff != "" {
			t.Fatalf("step %d: albums (-want +got):\n%s", step, diff)
		}
		if diff := cmp.Diff(wantArtists, snap.Artists, opts...); diff != "" {
			t.Fatalf("step %d: artists (-want +got):\n%s", step, diff)
		}
		if snap.byID.len() != len(cur) {
			t.Fatalf("step %d: index holds %d tracks, want %d", step, snap.byID.len(), len(cur))
		}
		for _, tr := range cur {
			if got, ok := snap.Track(tr.ID); !ok || got != tr {
				t.Fatalf("step %d: Track(%d) = %v, %v", step, tr.ID, got, ok)
			}
		}
		for _, a := range wantAlbums {
			if got, ok := snap.Album(a.ID); !ok || got.Name != a.Name {
				t.Fatalf("step %d: Album(%d) = %v, %v", step, a.ID, got, ok)
			}
		}
		for f := max(int(snap.Revision)-historyLen-1, 0); f <= int(snap.Revision); f++ {
			from := uint32(f)
			changed, deleted, ok := c.Delta(from, snap)
			old, known := past[from]
			if from == snap.Revision {
				known = true
			}
			if !known {
				if ok {
					t.Fatalf("step %d: delta from unknown revision %d answered", step, from)
				}
				continue
			}
			if !ok {
				if snap.Revision-from < historyLen {
					t.Fatalf("step %d: delta from %d (now %d) not answered", step, from, snap.Revision)
				}
				continue
			}
			wantChanged, wantDeleted := refDelta(old, cur)
			if from == snap.Revision {
				wantChanged, wantDeleted = nil, nil
			}
			// Delta may list a track changed and changed back; it must
			// list every real change and nothing outside the window.
			for _, w := range wantChanged {
				if !slices.Contains(changed, w) {
					t.Fatalf("step %d: delta %d→%d misses %s", step, from, snap.Revision, w.Path)
				}
			}
			for _, g := range changed {
				if !slices.Contains(cur, g) {
					t.Fatalf("step %d: delta %d→%d lists %s, not in the snapshot", step, from, snap.Revision, g.Path)
				}
			}
			if !slices.IsSortedFunc(changed, compareTracks) {
				t.Fatalf("step %d: delta not in catalog order", step)
			}
			if diff := cmp.Diff(wantDeleted, deleted, cmpopts.EquateEmpty()); diff != "" {
				t.Fatalf("step %d: deleted %d→%d (-want +got):\n%s", step, from, snap.Revision, diff)
			}
		}
	}
}

// TestCatalogSharesSnapshots publishes many one-track revisions of a large
// catalog: the heap must not grow with the revisions kept for Delta, and
// consecutive snapshots share their indexes' untouched buckets.
func TestCatalogSharesSnapshots(t *testing.T) {
	const n = 50_000
	c := NewCatalog()
	tracks := benchTracks(n)
	c.Publish(slices.Clone(tracks), nil)
	retag := func(i int) {
		o := c.Snapshot().Tracks[i%n]
		x := *o
		x.Title += "!"
		c.PublishChanges([]*Track{&x}, nil, nil)
	}
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	for i := range historyLen {
		retag(i)
	}
	before := heap()
	for i := range 10 * historyLen {
		retag(historyLen + i)
	}
	after := heap()
	// A full copy per revision would be over 1 MB (n pointers and index
	// entries) each, 160 MB in all; allow 2 MB of noise.
	if after > before+2<<20 {
		t.Errorf("heap grew from %d to %d bytes over %d revisions", before, after, 10*historyLen)
	}
	a := c.Snapshot()
	retag(7)
	b := c.Snapshot()
	shared := 0
	for i := range a.byID.buckets {
		if len(a.byID.buckets[i]) > 0 && &a.byID.buckets[i][0] == &b.byID.buckets[i][0] {
			shared++
		}
	}
	if shared < len(a.byID.buckets)-2 {
		t.Errorf("only %d of %d index buckets shared after a one-track change", shared, len(a.byID.buckets))
	}
	if len(c.history) > historyLen {
		t.Errorf("history holds %d revisions, want at most %d", len(c.history), historyLen)
	}
}

// TestMergeBy checks the galloping merge against a plain sort, on lists
// of every shape: empty, one much longer than the other, interleaved, and
// with equal keys (a's first).
func TestMergeBy(t *testing.T) {
	type kv struct{ k, from int }
	cmpK := func(x, y kv) int { return x.k - y.k }
	tests := []struct {
		name string
		a, b []int
	}{
		{"empty", nil, nil},
		{"a only", []int{1, 2, 3}, nil},
		{"b only", nil, []int{1, 2}},
		{"few into many", []int{0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24}, []int{5, 17}},
		{"many into few", []int{7}, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13}},
		{"interleaved", []int{1, 3, 5, 7, 9}, []int{2, 4, 6, 8, 10}},
		{"ties", []int{1, 2, 2, 3}, []int{2, 2, 3, 3}},
		{"b before a", []int{10, 11}, []int{1, 2, 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var a, b []kv
			for _, k := range tt.a {
				a = append(a, kv{k, 0})
			}
			for _, k := range tt.b {
				b = append(b, kv{k, 1})
			}
			want := slices.Concat(a, b)
			slices.SortStableFunc(want, cmpK) // a's before b's among equals
			if got := mergeBy(a, b, cmpK); !slices.Equal(got, want) {
				t.Errorf("mergeBy(%v, %v) = %v, want %v", tt.a, tt.b, got, want)
			}
		})
	}
}
