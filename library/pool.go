package library

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"
)

// pool is the scan's bounded set of workers and their watchdog. A worker
// stuck on one file past the timeout is abandoned: the watchdog closes its
// file (which fails any read in progress), reports the file as skipped and
// starts a replacement that inherits the worker's place in wg, so the scan
// neither waits for it nor loses a worker. The abandoned goroutine ends when
// its read fails; only a parser spinning without reading would outlive the
// scan, and the parsers bound their loops by the file size.
type pool struct {
	sc      *scan
	jobs    <-chan job
	results chan<- result
	timeout time.Duration

	wg      sync.WaitGroup // walker + live workers; results closes at zero
	mu      sync.Mutex
	workers map[*worker]bool
}

// worker is one worker's state, shared with the watchdog.
type worker struct {
	mu        sync.Mutex
	f         readCloserAt // the open file, nil between files
	abs       string
	prev      *Track
	start     time.Time
	busy      bool
	abandoned bool

	br blockReader // owned by the worker goroutine
}

var (
	errTimeout = errors.New("timed out")
	errEmpty   = errors.New("empty file")
)

// statFile returns the size and modification time (UTC) of an open file.
func statFile(f readCloserAt, name string) (int64, time.Time, error) {
	var fi fs.FileInfo
	var err error
	switch f := f.(type) {
	case interface {
		stat() (int64, time.Time, error)
	}:
		return f.stat()
	case interface{ Stat() (fs.FileInfo, error) }:
		fi, err = f.Stat()
	default:
		fi, err = os.Stat(name)
	}
	if err != nil {
		return 0, time.Time{}, err
	}
	return fi.Size(), fi.ModTime().UTC(), nil
}

func (p *pool) start(ctx context.Context, n int) {
	p.workers = make(map[*worker]bool, n)
	for range n {
		p.wg.Add(1)
		p.spawn(ctx)
	}
	done := make(chan struct{})
	go func() {
		p.wg.Wait()
		close(done)
		close(p.results)
	}()
	go p.watch(ctx, done)
}

// spawn starts a worker; the caller accounts for it in wg.
func (p *pool) spawn(ctx context.Context) {
	w := &worker{}
	p.mu.Lock()
	p.workers[w] = true
	p.mu.Unlock()
	go p.run(ctx, w)
}

func (p *pool) run(ctx context.Context, w *worker) {
	for j := range p.jobs {
		r, ok := p.do(ctx, w, j)
		if !ok {
			return // abandoned: the replacement holds our place in wg
		}
		p.results <- r
	}
	p.mu.Lock()
	delete(p.workers, w)
	p.mu.Unlock()
	p.wg.Done()
}

// do reads one file. ok is false when the watchdog abandoned the worker
// meanwhile; the watchdog has then reported the file.
func (p *pool) do(ctx context.Context, w *worker, j job) (r result, ok bool) {
	r.abs, r.prev = j.abs, j.prev
	if r.err = ctx.Err(); r.err != nil {
		return r, true
	}
	if j.statted && j.size == 0 {
		r.err = errEmpty
		return r, true
	}
	w.mu.Lock()
	w.busy, w.start, w.abs, w.prev, w.f = true, time.Now(), j.abs, j.prev, nil
	w.mu.Unlock()
	f, err := p.sc.open(j.abs)
	w.mu.Lock()
	if w.abandoned {
		w.mu.Unlock()
		if err == nil {
			f.Close()
		}
		return r, false
	}
	if err != nil {
		w.busy = false
		w.mu.Unlock()
		r.err = err
		return r, true
	}
	w.f = f
	w.mu.Unlock()
	if !j.statted {
		j.size, j.mtime, err = statFile(f, j.abs)
		if err == nil && j.size == 0 {
			err = errEmpty
		}
	}

	if err != nil {
		r.err = err
	} else {
		reads, bytes := w.br.reads, w.br.bytes
		r.t, r.err = p.sc.readTrack(&w.br, f, j)
		r.reads, r.bytes = w.br.reads-reads, w.br.bytes-bytes
	}

	w.mu.Lock()
	abandoned := w.abandoned
	w.busy, w.f = false, nil
	w.mu.Unlock()
	if abandoned {
		return r, false
	}
	f.Close()
	return r, true
}

// watch abandons workers stuck past the timeout, and every busy worker once
// ctx is done, until done is closed.
func (p *pool) watch(ctx context.Context, done <-chan struct{}) {
	tick := time.NewTicker(min(max(p.timeout/4, time.Millisecond), time.Second))
	defer tick.Stop()
	cancelled := ctx.Done()
	for {
		select {
		case <-done:
			return
		case <-cancelled:
			cancelled = nil
		case <-tick.C:
		}
		now := time.Now()
		p.mu.Lock()
		var stuck []*worker
		for w := range p.workers {
			w.mu.Lock()
			if w.busy && !w.abandoned && (ctx.Err() != nil || now.Sub(w.start) > p.timeout) {
				w.abandoned = true
				stuck = append(stuck, w)
			}
			w.mu.Unlock()
		}
		for _, w := range stuck {
			delete(p.workers, w)
		}
		p.mu.Unlock()
		for _, w := range stuck {
			w.mu.Lock()
			f, abs, prev := w.f, w.abs, w.prev
			w.mu.Unlock()
			if f != nil {
				f.Close() // fails the stuck read, so the goroutine ends too
			}
			err := ctx.Err()
			if err == nil {
				err = fmt.Errorf("%w after %v; abandoned", errTimeout, p.timeout)
			}
			p.results <- result{abs: abs, err: err, prev: prev}
			p.spawn(ctx)
		}
	}
}

// readTrack reads one open file into a new track. A nil track is a skipped
// file and err says why; a track with an error has unreadable tags.
func (sc *scan) readTrack(br *blockReader, f io.ReaderAt, j job) (t *Track, err error) {
	defer func() {
		if v := recover(); v != nil {
			t, err = nil, fmt.Errorf("panic: %v", v)
		}
	}()
	br.reset(f, j.size)
	info, tg, err := sc.read(br, j.size)
	if needsFallback(info, err) {
		info, tg, err = sc.fallback(j.abs, j.size, j.mtime, info, tg, err)
	}
	if err != nil && !errors.Is(err, errBadTags) {
		return nil, err
	}
	name := j.rel[strings.LastIndexByte(j.rel, '/')+1:]
	t = newTrack(sc.LibraryID, info, tg, name, ext(name), j.dir.art)
	t.Root, t.Path = sc.roots[j.root].abs, j.rel
	t.setDiskPath(j.diskRel)
	t.Size, t.ModTime, t.Added = j.size, StampOf(j.mtime), j.added
	if sc.fresh && j.prev == nil && !j.mtime.IsZero() && t.ModTime < t.Added {
		// Without a scan cache every file would be "first seen" now;
		// its modification time is the better guess.
		t.Added = StampOf(j.mtime.Truncate(time.Second))
	}
	t.MediaKind = sc.kindOf(t.Root, t.Path, t.TagKind)
	return t, err
}

// isTerminal reports whether w is a terminal, for the live progress line.
func isTerminal(w io.Writer) bool {
	f, ok := w.(interface{ Fd() uintptr })
	return ok && term.IsTerminal(int(f.Fd()))
}
