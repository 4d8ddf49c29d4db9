package library

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"testing"
)

func TestAssignUniqueForcedCollisions(t *testing.T) {
	const n = 50
	rehash := func(i, attempt int) uint32 { return itemID(keyHash("lib", "", string(rune('a'+i)), attempt)) }
	collide := func(int) uint32 { return 4242 } // every item wants the same id
	a := assignUnique(n, collide, rehash)
	b := assignUnique(n, collide, rehash)
	seen := map[uint32]bool{}
	for i, id := range a {
		if seen[id] {
			t.Fatalf("id %d handed out twice", id)
		}
		seen[id] = true
		if id != b[i] {
			t.Fatalf("item %d: %d then %d: not deterministic", i, id, b[i])
		}
	}
	if a[0] != 4242 {
		t.Errorf("the first item in order should keep its base id, got %d", a[0])
	}
	// A rehash never takes an id that another item has as its base.
	bases := func(i int) uint32 { return uint32(i % 3) }
	small := func(i, attempt int) uint32 { return uint32(attempt) } // 1, 2, 3, …
	got := assignUnique(6, bases, small)
	want := []uint32{0, 1, 2, 3, 4, 5}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
}

// assignIDs gives fresh ids to tracks, in their order, as a first scan
// finding them in that order would.
func assignIDs(libID string, rootTags map[string]string, tracks []*Track) {
	a := newIDAlloc(libID, rootTags, nil)
	for _, t := range tracks {
		a.assign(t, nil)
	}
}

func TestAssignIDsStable(t *testing.T) {
	mk := func(paths ...string) []*Track {
		var ts []*Track
		for _, p := range paths {
			ts = append(ts, &Track{Root: "/music", Path: p})
		}
		return ts
	}
	tags := map[string]string{"/music": ""}
	a := mk("a.mp3", "b/c.flac", "d.ogg")
	assignIDs("lib1", tags, a)
	b := mk("new.mp3", "a.mp3", "b/c.flac", "d.ogg")
	assignIDs("lib1", tags, b)
	for i := range a {
		if a[i].ID != b[i+1].ID || a[i].PersistentID != b[i+1].PersistentID {
			t.Errorf("%s: ids depend on the other files", a[i].Path)
		}
		if a[i].ID < minItemID || a[i].PersistentID == 0 {
			t.Errorf("%s: reserved id %d/%d", a[i].Path, a[i].ID, a[i].PersistentID)
		}
	}
	other := mk("a.mp3")
	assignIDs("lib2", tags, other)
	if other[0].ID == a[0].ID || other[0].PersistentID == a[0].PersistentID {
		t.Error("another library id gave the same ids")
	}
	moved := []*Track{{Root: "/mnt/nas/music", Path: "a.mp3"}}
	assignIDs("lib1", map[string]string{"/mnt/nas/music": ""}, moved)
	if moved[0].ID != a[0].ID {
		t.Error("moving a single root changed its ids")
	}
}

// TestIDAllocCollisions forces every path onto the same base id: the ids
// stay distinct, a previous track keeps its ids even when a new file would
// hash to them, and the ids in use are never handed out again.
func TestIDAllocCollisions(t *testing.T) {
	tags := map[string]string{"/m": ""}
	first := &Track{Root: "/m", Path: "z.mp3"}
	a := newIDAlloc("lib", tags, nil)
	a.assign(first, nil)
	// A later scan: first is known; a new file whose base id is first's
	// must not take it, even though it sorts earlier.
	clash := &Track{Root: "/m", Path: "a.mp3"}
	b := newIDAlloc("lib", tags, []*Track{first})
	b.used[itemID(keyHash("lib", "", clash.Path, 0))] = struct{}{} // pretend a third file holds a's base
	b.prev = append(b.prev, itemID(keyHash("lib", "", clash.Path, 1)))
	slices.Sort(b.prev)
	again := &Track{Root: "/m", Path: "z.mp3", Title: "retagged"}
	b.assign(again, first)
	b.assign(clash, nil)
	if again.ID != first.ID || again.PersistentID != first.PersistentID {
		t.Errorf("a re-read file got new ids %d/%d, had %d/%d", again.ID, again.PersistentID, first.ID, first.PersistentID)
	}
	if want := itemID(keyHash("lib", "", clash.Path, 2)); clash.ID != want {
		t.Errorf("colliding file got %d, want the second rehash %d", clash.ID, want)
	}
	if clash.PersistentID != trackPID(pidPrefix("lib"), clash.ID) || again.PersistentID != trackPID(pidPrefix("lib"), again.ID) {
		t.Errorf("persistent ids %x, %x do not follow item ids %d, %d", clash.PersistentID, again.PersistentID, clash.ID, again.ID)
	}
}

func TestItemIDSpread(t *testing.T) {
	seen := map[uint32]bool{}
	for i := range 100000 {
		id := itemID(keyHash("0123456789abcdef", "", "Artist/Album/"+strconv.Itoa(i)+".mp3", 0))
		if id < minItemID {
			t.Fatalf("id %d below %d", id, minItemID)
		}
		seen[id] = true
	}
	// 100k random 32-bit ids expect about one collision.
	if len(seen) < 100000-10 {
		t.Errorf("%d collisions among 100k ids", 100000-len(seen))
	}
}

func TestGroupIDs(t *testing.T) {
	tests := []struct {
		name string
		a, b Track
		same bool
	}{
		{"album case and spaces", Track{AlbumArtist: "The Band", Album: "Hits"}, Track{AlbumArtist: "the band ", Album: "HITS"}, true},
		{"artist falls back", Track{Artist: "Solo", Album: "One"}, Track{AlbumArtist: "Solo", Album: "One"}, true},
		{"different artists", Track{AlbumArtist: "A", Album: "Greatest Hits"}, Track{AlbumArtist: "B", Album: "Greatest Hits"}, false},
		{"compilation by album alone", Track{Artist: "A", Album: "Now 42", Compilation: true}, Track{Artist: "B", Album: "now 42", Compilation: true}, true},
		{"unicode case", Track{AlbumArtist: "ÉMILE", Album: "Été"}, Track{AlbumArtist: "émile", Album: "été"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			setGroupIDs("lib", &tt.a)
			setGroupIDs("lib", &tt.b)
			if (tt.a.AlbumID == tt.b.AlbumID) != tt.same || tt.a.AlbumID == 0 {
				t.Errorf("album ids %x %x, same=%v", tt.a.AlbumID, tt.b.AlbumID, tt.same)
			}
		})
	}
	var a, b Track = Track{Artist: "X"}, Track{AlbumArtist: "x"}
	setGroupIDs("lib", &a)
	setGroupIDs("lib", &b)
	if a.ArtistID != b.ArtistID || a.AlbumID != 0 {
		t.Errorf("artist ids %x %x, album id %x", a.ArtistID, b.ArtistID, a.AlbumID)
	}
}

func TestLoadOrCreateLibraryID(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	if _, err := ReadLibraryID(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("read before create: %v", err)
	}
	id, err := LoadOrCreateLibraryID(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^[0-9a-f]{16}$`).MatchString(id) {
		t.Fatalf("id %q is not 16 hex digits", id)
	}
	again, err := LoadOrCreateLibraryID(dir)
	if err != nil || again != id {
		t.Fatalf("second load: %q, %v; want %q", again, err, id)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("state dir holds %d files, want only library-id", len(entries))
	}
	os.WriteFile(filepath.Join(dir, "library-id"), []byte("not hex!"), 0o644)
	if _, err := LoadOrCreateLibraryID(dir); !errors.Is(err, ErrBadLibraryID) {
		t.Errorf("malformed id: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "library-id")); string(b) != "not hex!" {
		t.Error("a malformed id was overwritten")
	}
}
