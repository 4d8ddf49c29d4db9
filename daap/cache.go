package daap

import (
	"container/list"
	"context"
	"sync"
)

// lru is a byte-bounded cache of encoded replies, and the memory budget of
// every reply it hands out. Against max count together:
//   - finished entries, cached or evicted while a request still sends them;
//   - builds in progress, by the estimate they reserved before starting;
//   - gzip copies, and the reservation of one being made.
//
// A build starts only when its estimate fits (evicting idle cached entries
// to make room); otherwise it queues, first come first served, and holds no
// memory until it starts. Concurrent requests for one key share one build.
// A build that every requester has left is dropped from the queue or, when
// running, cancelled. So however many distinct listings are asked for at
// once, the replies held in memory stay within max (plus what running
// builds use beyond their estimates, and one entry larger than max on its
// own, which is built alone).
type lru struct {
	mu      sync.Mutex
	max     int
	size    int        // bytes counted against max
	peak    int        // the largest size was (tests, benchmarks)
	running int        // builds in progress
	order   *list.List // cached entries, front = most recently used; values are *cacheEntry
	byKey   map[string]*list.Element
	queue   list.List // *cacheEntry waiting for budget, oldest first
	rev     uint32    // newest revision seen; older entries are dropped

	hits, misses uint64 // lookups that found an entry, and those that started one
}

// cacheEntry is one reply, from its queued build to its last sender.
type cacheEntry struct {
	key   string
	rev   uint32
	ready chan struct{} // closed when data (or err) is set
	data  []byte
	mime  string // artwork only
	err   error

	// Guarded by the lru's mu.
	size   int // bytes counted: the reservation while building, then data and gz
	need   int // estimate reserved when the build starts
	refs   int // requests waiting for or sending this entry
	done   bool
	cached bool          // in byKey (and order once done)
	queued *list.Element // in the queue, waiting for budget
	build  func(context.Context) ([]byte, string, error)
	ctx    context.Context
	cancel context.CancelFunc

	gzMu   sync.Mutex // one gzip copy at a time
	gzDone bool
	gz     []byte
}

func newLRU(max int) *lru {
	return &lru{max: max, order: list.New(), byKey: make(map[string]*list.Element)}
}

// get returns the entry for key, building it if no request has yet, and
// pins it: the caller must release it once done with its bytes. need
// estimates the build's peak memory (nil or 0: none worth reserving, it
// starts at once); it is called only when a build is to be queued. A build runs
// with a context that ends when every request waiting for it has gone.
// Errors are not cached. rev is the catalog revision the entry belongs to:
// the first entry of a newer revision drops the finished entries of older
// ones, which no request will ask for again.
func (c *lru) get(ctx context.Context, key string, rev uint32, need func() int, build func(context.Context) ([]byte, string, error)) (*cacheEntry, error) {
	c.mu.Lock()
	e := c.join(key, rev)
	if e != nil {
		c.hits++
	} else {
		c.mu.Unlock()
		n := 0
		if need != nil {
			n = min(max(need(), 0), c.max)
		}
		c.mu.Lock()
		if e = c.join(key, rev); e == nil { // nobody started it meanwhile
			e = c.start(key, rev, n, build)
			c.misses++
		} else {
			c.hits++
		}
	}
	c.mu.Unlock()

	select {
	case <-e.ready:
	case <-ctx.Done():
		c.mu.Lock()
		if !e.done {
			c.leave(e)
			c.mu.Unlock()
			return nil, ctx.Err()
		}
		c.mu.Unlock()
	}
	if e.err != nil {
		c.release(e)
		return nil, e.err
	}
	return e, nil
}

// join pins the entry for key, if there is one.
func (c *lru) join(key string, rev uint32) *cacheEntry {
	if rev > c.rev {
		c.rev = rev
		for el := c.order.Front(); el != nil; {
			next := el.Next()
			if e := el.Value.(*cacheEntry); e.rev < rev && e.done {
				c.uncache(e)
			}
			el = next
		}
		c.grant()
	}
	el, ok := c.byKey[key]
	if !ok {
		return nil
	}
	e := el.Value.(*cacheEntry)
	if e.done {
		c.order.MoveToFront(el)
	}
	e.refs++
	return e
}

// start adds a pinned entry for key whose build runs as soon as need bytes
// of budget are free.
func (c *lru) start(key string, rev uint32, need int, build func(context.Context) ([]byte, string, error)) *cacheEntry {
	ctx, cancel := context.WithCancel(context.Background())
	e := &cacheEntry{key: key, rev: rev, ready: make(chan struct{}), need: need, refs: 1,
		cached: true, build: build, ctx: ctx, cancel: cancel}
	c.byKey[key] = &list.Element{Value: e} // placeholder until done: not in order
	if need == 0 {
		c.running++
		go c.run(e)
		return e
	}
	e.queued = c.queue.PushBack(e)
	c.grant()
	return e
}

// grant starts queued builds, oldest first, while their estimates fit.
func (c *lru) grant() {
	for el := c.queue.Front(); el != nil; el = c.queue.Front() {
		e := el.Value.(*cacheEntry)
		if !c.makeRoom(e.need) {
			return
		}
		c.queue.Remove(el)
		e.queued = nil
		e.size = e.need
		c.grow(e.size)
		c.running++
		go c.run(e)
	}
}

// makeRoom reports whether n more bytes fit in the budget, evicting idle
// cached entries, least recently used first, when that makes them fit.
func (c *lru) makeRoom(n int) bool {
	if c.size+n <= c.max {
		return true
	}
	idle := 0
	for el := c.order.Back(); el != nil; el = el.Prev() {
		if e := el.Value.(*cacheEntry); e.refs == 0 {
			idle += e.size
		}
	}
	if c.size-idle+n > c.max {
		return false // evicting would not be enough: keep the cache
	}
	for el := c.order.Back(); el != nil && c.size+n > c.max; {
		prev := el.Prev()
		if e := el.Value.(*cacheEntry); e.refs == 0 {
			c.uncache(e)
		}
		el = prev
	}
	return true
}

// run builds e, unless every requester left before it started, and
// publishes the result.
func (c *lru) run(e *cacheEntry) {
	var data []byte
	var mime string
	err := e.ctx.Err()
	if err == nil {
		data, mime, err = safeBuild(e.ctx, e.build)
	}
	e.cancel()
	c.mu.Lock()
	defer c.mu.Unlock()
	e.data, e.mime, e.err = data, mime, err
	e.done, e.build = true, nil
	c.running--
	c.size -= e.size
	e.size = 0
	if err == nil {
		e.size = len(data) + len(e.key) + 64
		c.grow(e.size)
	}
	if el := c.byKey[e.key]; el != nil && el.Value == e {
		if err != nil {
			delete(c.byKey, e.key)
			e.cached = false
		} else {
			c.byKey[e.key] = c.order.PushFront(e)
		}
	}
	close(e.ready)
	if e.cached && e.rev < c.rev {
		c.uncache(e) // a newer revision came while it was built
	}
	c.free(e)
	c.trim()
	c.grant()
}

// safeBuild runs build, turning a panic into an error.
func safeBuild(ctx context.Context, build func(context.Context) ([]byte, string, error)) (data []byte, mime string, err error) {
	defer func() {
		if p := recover(); p != nil {
			data, mime, err = nil, "", errPanic{p}
		}
	}()
	return build(ctx)
}

// leave unpins e for a request that stopped waiting for it. The last one
// to leave ends its build: a queued build is dropped, a running one is
// cancelled, and either way a new request starts afresh.
func (c *lru) leave(e *cacheEntry) {
	e.refs--
	if e.refs > 0 || e.done {
		return
	}
	e.cancel()
	if el := c.byKey[e.key]; el != nil && el.Value == e {
		delete(c.byKey, e.key)
		e.cached = false
	}
	if e.queued != nil {
		c.queue.Remove(e.queued)
		e.queued = nil
		c.grant() // a smaller build behind it may fit
	}
}

// release unpins e for a request done with its bytes.
func (c *lru) release(e *cacheEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e.refs--
	c.free(e)
	c.trim()
	c.grant()
}

// uncache removes a finished entry from the cache; its bytes stay counted
// until its last sender releases it.
func (c *lru) uncache(e *cacheEntry) {
	if el := c.byKey[e.key]; el != nil && el.Value == e {
		delete(c.byKey, e.key)
		c.order.Remove(el)
	}
	e.cached = false
	c.free(e)
}

// free stops counting a finished entry that is neither cached nor pinned.
func (c *lru) free(e *cacheEntry) {
	if e.done && !e.cached && e.refs == 0 {
		c.size -= e.size
		e.size = 0
	}
}

// trim evicts idle entries, least recently used first, while the cache is
// over budget. The most recently used entry stays, even when it alone is
// over the limit.
func (c *lru) trim() {
	for el := c.order.Back(); el != nil && c.size > c.max && c.order.Len() > 1; {
		prev := el.Prev()
		if e := el.Value.(*cacheEntry); e.refs == 0 && el != c.order.Front() {
			c.uncache(e)
		}
		el = prev
	}
}

// gzipped returns the gzip copy of e's data (which the caller has pinned),
// made once. It returns nil, and the caller sends the plain bytes, when
// the budget has no room for it now: compression must never wait.
func (c *lru) gzipped(e *cacheEntry) []byte {
	e.gzMu.Lock()
	defer e.gzMu.Unlock()
	if e.gzDone {
		return e.gz
	}
	need := len(e.data) / 2 // DMAP compresses to well under half
	c.mu.Lock()
	ok := c.queue.Len() == 0 && c.makeRoom(need)
	if ok {
		c.grow(need)
	}
	c.mu.Unlock()
	if !ok {
		return nil
	}
	gz := gzipBytes(e.data)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.size -= need
	e.gz, e.gzDone = gz, true
	e.size += len(gz)
	c.grow(len(gz))
	c.trim()
	c.grant()
	return gz
}

// grow counts n more bytes.
func (c *lru) grow(n int) {
	c.size += n
	c.peak = max(c.peak, c.size)
}

// used returns the bytes counted against the budget (tests).
func (c *lru) used() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.size
}

// queued returns the number of builds waiting for budget (tests).
func (c *lru) queued() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.queue.Len()
}

// idle reports whether no build is queued or running (tests).
func (c *lru) idle() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.queue.Len() == 0 && c.running == 0
}

type errPanic struct{ v any }

func (e errPanic) Error() string { return "panic while building reply" }
