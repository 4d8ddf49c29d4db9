package daap

import (
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/daapd/daapd/daap/dmap"
	"github.com/daapd/daapd/library"
)

func TestLRU(t *testing.T) {
	c := newLRU(1000)
	val := func(n int) func() ([]byte, string, error) {
		return func() ([]byte, string, error) { return make([]byte, n), "", nil }
	}
	c.get("a", 1, val(400))
	c.get("b", 1, val(400))
	c.get("a", 1, val(0)) // a is now the most recently used
	c.get("c", 1, val(400))
	if _, ok := c.byKey["b"]; ok {
		t.Error("b survived; it was the least recently used")
	}
	if _, ok := c.byKey["a"]; !ok {
		t.Error("a was evicted")
	}
	if c.size > 1000 {
		t.Errorf("size %d over the bound", c.size)
	}
	// A newer revision drops older entries.
	c.get("d", 2, val(10))
	if len(c.byKey) != 1 || c.size != c.byKey["d"].Value.(*cacheEntry).size {
		t.Errorf("after revision 2: %d entries, size %d", len(c.byKey), c.size)
	}
	// Errors are not cached; panics become errors.
	if _, err := c.get("e", 2, func() ([]byte, string, error) { return nil, "", errors.New("x") }); err == nil {
		t.Error("error lost")
	}
	if _, err := c.get("e", 2, func() ([]byte, string, error) { panic("boom") }); err == nil {
		t.Error("panic not reported")
	}
	if e, err := c.get("e", 2, val(3)); err != nil || len(e.data) != 3 {
		t.Errorf("rebuild after error: %v", err)
	}
}

func TestLRUBuildsOnce(t *testing.T) {
	c := newLRU(1 << 20)
	var builds atomic.Int32
	release := make(chan struct{})
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e, err := c.get("k", 1, func() ([]byte, string, error) {
				builds.Add(1)
				<-release
				return []byte("v"), "", nil
			})
			if err != nil || string(e.data) != "v" {
				t.Errorf("got %q, %v", e.data, err)
			}
		}()
	}
	close(release)
	wg.Wait()
	if n := builds.Load(); n != 1 {
		t.Errorf("%d builds, want 1", n)
	}
}

// FuzzMeta: any meta= value resolves to a valid, ordered field set with
// mikd and miid first, which encodes and decodes.
func FuzzMeta(f *testing.F) {
	for _, s := range []string{"", "all", itunesMeta, rbMeta, contMeta, "dmap.itemname,,all", ",", "daap.songextradata",
		"dmap.itemid, dmap.itemname ,daap.songalbum", "\xff\x00", strings.Repeat("dmap.itemname,", 50)} {
		f.Add(s, false)
		f.Add(s, true)
	}
	ft := itemFields()
	tr := &library.Track{ID: 7, PersistentID: 1 << 63, AlbumID: 1<<64 - 1, Title: "t\xffx", Album: "a", Year: 70000,
		Size: 1 << 40, Artwork: library.Artwork{Source: library.ArtworkEmbedded}}
	f.Fuzz(func(t *testing.T, meta string, classic bool) {
		set := ft.parse(meta, classic)
		if len(set) < 2 || set[0] != 0 || set[1] != 1 || ft.rows[0].tag != "mikd" || ft.rows[1].tag != "miid" {
			t.Fatalf("set %v does not start with mikd, miid", set)
		}
		for i, r := range set {
			if r < 0 || r >= len(ft.rows) || (i > 0 && r <= set[i-1]) {
				t.Fatalf("set %v not strictly increasing row indexes", set)
			}
			if classic && !ft.rows[r].classic {
				t.Fatalf("classic set has %s", ft.rows[r].tag)
			}
		}
		b := &dmap.Builder{Strict: true}
		b.Container("mlit", func(b *dmap.Builder) { ft.encode(b, set, tr) })
		elems, err := dmap.Decode(b.Bytes())
		if err != nil || len(elems) != 1 {
			t.Fatalf("decode: %v", err)
		}
		if kids := elems[0].Children; len(kids) < 2 || kids[0].Tag != "mikd" || kids[1].Tag != "miid" {
			t.Fatalf("item does not start with mikd, miid: %v", kids)
		}
	})
}
