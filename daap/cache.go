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
//   - a recompression in progress, by its reservation (see polish).
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

	// Recompression of finished gzip bodies, one at a time (see polish).
	polishMin  int         // smallest body worth it; 0: never
	polishQ    list.List   // *cacheEntry waiting, oldest first, at most polishMax
	polishing  *cacheEntry // being recompressed
	stopPolish context.CancelFunc
	polished   uint64                                        // bodies swapped for a smaller copy
	squeeze    func(context.Context, []byte) ([]byte, error) // recompress; tests replace it
}

// polishMax bounds the entries waiting for recompression; the oldest
// waiting one gives way to a newer one.
const polishMax = 8

// polishState is the memory a recompression uses besides its output: the
// compressor's tables and the copy buffer.
const polishState = 1 << 20

// reply is what a build makes.
type reply struct {
	data   []byte
	mime   string // artwork only
	plain  int    // length of the body once inflated
	zipped bool   // data is gzip
}

// cacheEntry is one reply, from its queued build to its last sender.
type cacheEntry struct {
	key   string
	rev   uint32
	ready chan struct{} // closed when the reply (or err) is set
	reply
	err error

	// Guarded by the lru's mu.
	size   int // bytes counted: the reservation while building, then the reply
	need   int // estimate reserved when the build starts
	refs   int // requests waiting for or sending this entry
	done   bool
	cached bool          // in byKey (and order once done)
	queued *list.Element // in the queue, waiting for budget
	polish *list.Element // in polishQ
	build  func(context.Context) (reply, error)
	ctx    context.Context
	cancel context.CancelFunc
}

func newLRU(max int) *lru {
	return &lru{max: max, order: list.New(), byKey: make(map[string]*list.Element), squeeze: recompress}
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
	return c.getReply(ctx, key, rev, need, func(ctx context.Context) (reply, error) {
		data, mime, err := build(ctx)
		return reply{data: data, mime: mime, plain: len(data)}, err
	})
}

// getReply is get for a build that makes a reply.
func (c *lru) getReply(ctx context.Context, key string, rev uint32, need func() int, build func(context.Context) (reply, error)) (*cacheEntry, error) {
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
func (c *lru) start(key string, rev uint32, need int, build func(context.Context) (reply, error)) *cacheEntry {
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
	c.kick()
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
	var r reply
	err := e.ctx.Err()
	if err == nil {
		r, err = safeBuild(e.ctx, e.build)
	}
	e.cancel()
	c.mu.Lock()
	defer c.mu.Unlock()
	e.reply, e.err = r, err
	e.done, e.build = true, nil
	c.running--
	c.size -= e.size
	e.size = 0
	if err == nil {
		e.size = len(r.data) + len(e.key) + 64
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
	if e.cached && e.zipped && c.polishMin > 0 && len(e.data) >= c.polishMin {
		e.polish = c.polishQ.PushBack(e)
		if c.polishQ.Len() > polishMax {
			old := c.polishQ.Front().Value.(*cacheEntry)
			c.polishQ.Remove(old.polish)
			old.polish = nil
		}
	}
	c.free(e)
	c.trim()
	c.grant()
}

// safeBuild runs build, turning a panic into an error.
func safeBuild(ctx context.Context, build func(context.Context) (reply, error)) (r reply, err error) {
	defer func() {
		if p := recover(); p != nil {
			r, err = reply{}, errPanic{p}
		}
	}()
	return build(ctx)
}

// kick starts recompressing the oldest waiting body when nothing else is
// being built or recompressed, so that it never competes with a request.
// A body whose recompression does not fit the budget now, without
// evicting anything, keeps its fast copy.
func (c *lru) kick() {
	if c.polishing != nil || c.running > 0 || c.queue.Len() > 0 {
		return
	}
	for el := c.polishQ.Front(); el != nil; el = c.polishQ.Front() {
		e := el.Value.(*cacheEntry)
		c.polishQ.Remove(el)
		e.polish = nil
		need := len(e.data) + polishState
		if c.size+need > c.max {
			continue
		}
		c.grow(need)
		ctx, cancel := context.WithCancel(context.Background())
		c.polishing, c.stopPolish = e, cancel
		go c.polish(ctx, e, need)
		return
	}
}

// stopPolishing cancels the recompression in progress and drops those
// waiting; none starts after.
func (c *lru) stopPolishing() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.polishMin = 0
	for el := c.polishQ.Front(); el != nil; el = c.polishQ.Front() {
		el.Value.(*cacheEntry).polish = nil
		c.polishQ.Remove(el)
	}
	if c.polishing != nil {
		c.stopPolish()
	}
}

// polish recompresses e's body at polishLevel and, unless e left the
// cache meanwhile (evicted, or its revision superseded, which cancels
// ctx), puts a new entry with the smaller body in its place. e itself is
// not changed: requests may be sending its bytes.
func (c *lru) polish(ctx context.Context, e *cacheEntry, need int) {
	data, err := c.squeeze(ctx, e.data)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stopPolish()
	c.polishing, c.stopPolish = nil, nil
	c.size -= need
	if el := c.byKey[e.key]; err == nil && e.cached && el != nil && el.Value == e && len(data) < len(e.data) {
		ne := &cacheEntry{key: e.key, rev: e.rev, ready: e.ready, done: true, cached: true, err: nil,
			reply: reply{data: data, plain: e.plain, zipped: true}}
		ne.size = len(data) + len(ne.key) + 64
		el.Value = ne
		e.cached = false
		c.free(e)
		c.grow(ne.size)
		c.polished++
	}
	c.trim()
	c.grant()
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
	if e.polish != nil {
		c.polishQ.Remove(e.polish)
		e.polish = nil
	}
	if c.polishing == e {
		c.stopPolish()
	}
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

// idle reports whether no build or recompression is queued or running
// (tests).
func (c *lru) idle() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.queue.Len() == 0 && c.running == 0 && c.polishQ.Len() == 0 && c.polishing == nil
}

type errPanic struct{ v any }

func (e errPanic) Error() string { return "panic while building reply" }
