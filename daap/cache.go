package daap

import (
	"container/list"
	"sync"
)

// lru is a byte-bounded cache of encoded replies. Concurrent requests for a
// key that is being built wait for the one build.
type lru struct {
	mu    sync.Mutex
	max   int
	size  int
	order *list.List // front = most recently used; values are *cacheEntry
	byKey map[string]*list.Element
	rev   uint32 // newest revision seen; older entries are dropped

	hits, misses uint64 // under mu
}

// cacheEntry is one cached reply.
type cacheEntry struct {
	key   string
	rev   uint32
	ready chan struct{} // closed when data (or err) is set
	data  []byte
	mime  string // artwork only
	err   error
	size  int

	gzOnce sync.Once
	gz     []byte
}

func newLRU(max int) *lru {
	return &lru{max: max, order: list.New(), byKey: make(map[string]*list.Element)}
}

// get returns the entry for key, building it with build if needed. Errors
// are not cached. rev is the catalog revision the entry belongs to: the
// first entry of a newer revision drops the finished entries of older
// ones, which no request will ask for again.
func (c *lru) get(key string, rev uint32, build func() ([]byte, string, error)) (*cacheEntry, error) {
	c.mu.Lock()
	if rev > c.rev {
		c.rev = rev
		for el := c.order.Front(); el != nil; {
			next := el.Next()
			if e := el.Value.(*cacheEntry); e.rev < rev && e.size > 0 {
				c.order.Remove(el)
				delete(c.byKey, e.key)
				c.size -= e.size
			}
			el = next
		}
	}
	if el, ok := c.byKey[key]; ok {
		c.hits++
		c.order.MoveToFront(el)
		e := el.Value.(*cacheEntry)
		c.mu.Unlock()
		<-e.ready
		return e, e.err
	}
	c.misses++
	e := &cacheEntry{key: key, rev: rev, ready: make(chan struct{})}
	el := c.order.PushFront(e)
	c.byKey[key] = el
	c.mu.Unlock()

	func() {
		defer func() {
			if p := recover(); p != nil {
				e.err = errPanic{p}
			}
			close(e.ready)
		}()
		e.data, e.mime, e.err = build()
	}()

	c.mu.Lock()
	defer c.mu.Unlock()
	if e.err != nil {
		if c.byKey[key] == el {
			delete(c.byKey, key)
			c.order.Remove(el)
		}
		return e, e.err
	}
	e.size = len(e.data) + len(key) + 64
	c.size += e.size
	c.evict()
	return e, nil
}

// evict drops least recently used, finished entries until the cache fits.
// The newest entry always stays, even when it alone is over the limit.
func (c *lru) evict() {
	for el := c.order.Back(); el != nil && c.size > c.max && c.order.Len() > 1; {
		prev := el.Prev()
		e := el.Value.(*cacheEntry)
		if e.size > 0 { // built; size 0 means still building
			c.order.Remove(el)
			delete(c.byKey, e.key)
			c.size -= e.size
		}
		el = prev
	}
}

// gzipped returns the gzip copy of e's data, built once. Its size counts
// against the cache's budget.
func (c *lru) gzipped(e *cacheEntry) []byte {
	e.gzOnce.Do(func() {
		e.gz = gzipBytes(e.data)
		c.mu.Lock()
		defer c.mu.Unlock()
		if el, ok := c.byKey[e.key]; ok && el.Value == e {
			e.size += len(e.gz)
			c.size += len(e.gz)
			c.evict()
		}
	})
	return e.gz
}

type errPanic struct{ v any }

func (e errPanic) Error() string { return "panic while building reply" }
