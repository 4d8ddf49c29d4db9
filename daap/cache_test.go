package daap

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/daapd/daapd/daap/dmap"
	"github.com/daapd/daapd/library"
)

// buildOf returns a build making n bytes.
func buildOf(n int) func(context.Context) ([]byte, string, error) {
	return func(context.Context) ([]byte, string, error) { return make([]byte, n), "", nil }
}

// fetch gets key and releases it at once.
func fetch(t *testing.T, c *lru, key string, rev uint32, build func(context.Context) ([]byte, string, error)) (*cacheEntry, error) {
	t.Helper()
	e, err := c.get(context.Background(), key, rev, nil, build)
	if err == nil {
		c.release(e)
	}
	return e, err
}

func TestLRU(t *testing.T) {
	c := newLRU(1000)
	fetch(t, c, "a", 1, buildOf(400))
	fetch(t, c, "b", 1, buildOf(400))
	fetch(t, c, "a", 1, buildOf(0)) // a is now the most recently used
	fetch(t, c, "c", 1, buildOf(400))
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
	fetch(t, c, "d", 2, buildOf(10))
	if len(c.byKey) != 1 || c.size != c.byKey["d"].Value.(*cacheEntry).size {
		t.Errorf("after revision 2: %d entries, size %d", len(c.byKey), c.size)
	}
	// Errors are not cached; panics become errors.
	if _, err := fetch(t, c, "e", 2, func(context.Context) ([]byte, string, error) { return nil, "", errors.New("x") }); err == nil {
		t.Error("error lost")
	}
	if _, err := fetch(t, c, "e", 2, func(context.Context) ([]byte, string, error) { panic("boom") }); err == nil {
		t.Error("panic not reported")
	}
	if e, err := fetch(t, c, "e", 2, buildOf(3)); err != nil || len(e.data) != 3 {
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
			e, err := c.get(context.Background(), "k", 1, func() int { return 100 }, func(context.Context) ([]byte, string, error) {
				builds.Add(1)
				<-release
				return []byte("v"), "", nil
			})
			if err != nil || string(e.data) != "v" {
				t.Errorf("got %v, %v", e, err)
				return
			}
			c.release(e)
		}()
	}
	close(release)
	wg.Wait()
	if n := builds.Load(); n != 1 {
		t.Errorf("%d builds, want 1", n)
	}
}

// TestLRUBudget: however many distinct builds are asked for at once, only
// as many run as their estimates fit in the budget, the others wait their
// turn, and everything counted stays within it.
func TestLRUBudget(t *testing.T) {
	const budget, need = 1000, 300
	c := newLRU(budget)
	var running, most atomic.Int32
	gate := make(chan struct{})
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e, err := c.get(context.Background(), fmt.Sprint("k", i), 1, func() int { return need },
				func(context.Context) ([]byte, string, error) {
					n := running.Add(1)
					for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
					}
					if u := c.used(); u > budget {
						t.Errorf("%d bytes counted, over the budget", u)
					}
					<-gate
					running.Add(-1)
					return make([]byte, need-100), "", nil
				})
			if err != nil {
				t.Error(err)
				return
			}
			c.release(e)
		}()
	}
	// The builds taken off the queue must also have started before the
	// gate opens, or one may finish before the last starts.
	for c.queued() != 50-budget/need || running.Load() != budget/need {
		runtime.Gosched()
	}
	close(gate)
	wg.Wait()
	if m := most.Load(); m != budget/need {
		t.Errorf("%d builds ran at once, want %d", m, budget/need)
	}
	if c.peak > budget {
		t.Errorf("peak %d bytes, over the budget %d", c.peak, budget)
	}
	if u := c.used(); u > budget {
		t.Errorf("%d bytes counted after, over the budget", u)
	}
}

// TestLRUCancel: a queued build whose requester goes away never runs; a
// running build ends when its last requester goes, not before; and the
// next request for the key starts afresh.
func TestLRUCancel(t *testing.T) {
	c := newLRU(100)
	started := make(chan struct{})
	cancelled := make(chan struct{})
	blocking := func(ctx context.Context) ([]byte, string, error) {
		close(started)
		<-ctx.Done()
		close(cancelled)
		return nil, "", ctx.Err()
	}
	ctx1, cancel1 := context.WithCancel(context.Background())
	ctx2, cancel2 := context.WithCancel(context.Background())
	errs := make(chan error, 3)
	go func() { _, err := c.get(ctx1, "run", 1, func() int { return 100 }, blocking); errs <- err }()
	<-started
	go func() { _, err := c.get(ctx2, "run", 1, nil, nil); errs <- err }() // joins the running build
	ctx3, cancel3 := context.WithCancel(context.Background())
	go func() {
		_, err := c.get(ctx3, "queued", 1, func() int { return 50 }, func(context.Context) ([]byte, string, error) {
			t.Error("a build nobody waits for ran")
			return nil, "", nil
		})
		errs <- err
	}()
	// Both requesters of "run" hold it, and "queued" waits its turn.
	refs := func() int {
		c.mu.Lock()
		defer c.mu.Unlock()
		if el := c.byKey["run"]; el != nil {
			return el.Value.(*cacheEntry).refs
		}
		return 0
	}
	for c.queued() != 1 || refs() != 2 {
		runtime.Gosched()
	}
	cancel3()
	if err := <-errs; !errors.Is(err, context.Canceled) {
		t.Errorf("queued: %v", err)
	}
	cancel1()
	if err := <-errs; !errors.Is(err, context.Canceled) {
		t.Errorf("first requester: %v", err)
	}
	select {
	case <-cancelled:
		t.Fatal("the build was cancelled while a requester still waited")
	default:
	}
	cancel2()
	if err := <-errs; !errors.Is(err, context.Canceled) {
		t.Errorf("second requester: %v", err)
	}
	<-cancelled
	if e, err := fetch(t, c, "run", 1, buildOf(10)); err != nil || len(e.data) != 10 {
		t.Errorf("after cancellation: %v", err)
	}
	if c.queued() != 0 {
		t.Errorf("%d builds still queued", c.queued())
	}
}

// TestLRUPinned: an entry evicted while a request still sends it counts
// against the budget until released, so builds wait for it.
func TestLRUPinned(t *testing.T) {
	c := newLRU(1000)
	a, err := c.get(context.Background(), "a", 1, nil, buildOf(800))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan *cacheEntry)
	go func() {
		b, err := c.get(context.Background(), "b", 2, func() int { return 800 }, buildOf(700))
		if err != nil {
			t.Error(err)
		}
		done <- b
	}()
	for c.queued() != 1 {
		runtime.Gosched()
	}
	if _, ok := c.byKey["a"]; ok {
		t.Error("a of revision 1 still cached after revision 2 came")
	}
	if u := c.used(); u < 800 {
		t.Errorf("%d bytes counted while a is being sent", u)
	}
	c.release(a)
	b := <-done
	if u := c.used(); u > 1000 {
		t.Errorf("%d bytes counted, over the budget", u)
	}
	c.release(b)
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
	tr := &library.Track{ID: 7, PersistentID: 1 << 63, AlbumID: 1<<64 - 1, Title: "t\xffx", Album: "a", Year: 65535,
		Size: 1 << 40, Artwork: &library.Artwork{Source: library.ArtworkEmbedded}}
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
