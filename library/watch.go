package library

import (
	"cmp"
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Debounce defaults for a Watcher.
const (
	DefaultWatchQuiet   = time.Second     // no event for this long: the batch is done
	DefaultWatchMaxWait = 5 * time.Second // a batch is looked at no later than this
	DefaultWatchPoll    = 2 * time.Second // how often each root is checked for a return or a swap
)

// Watcher reports changed paths under the music roots. It keeps one inotify
// watch per folder, adds folders as they appear, ignores attribute-only
// changes, and debounces: a batch of paths is delivered once no event came
// for Quiet (or MaxWait after the batch began), and a file whose size or
// modification time still changes between its last event and then waits
// for the next round. Folders on network or FUSE filesystems are left to
// the periodic rescan; every folder beyond the inotify watch limit is
// polled for added and removed entries (pollBudget folders per Poll), and
// left to the periodic rescan for edits to files already there. Complete
// reports whether either happened.
//
// A root that disappears (moved away, deleted, unmounted) and comes back,
// or is replaced by another folder, is watched again and reported whole:
// the watcher watches each root's parent folder for the root's name, and
// checks every root's existence and identity (device and inode) every Poll,
// which also covers parents that cannot be watched and unmounts, which send
// no event.
type Watcher struct {
	roots   []string
	quiet   time.Duration
	maxWait time.Duration
	poll    time.Duration
	log     *slog.Logger

	out     chan []string
	ready   chan struct{}
	resync  chan chan struct{}
	stopped chan struct{} // closed when Run returns

	complete  atomic.Bool
	exhausted atomic.Bool      // the watch limit was hit (logged once)
	logged    bool             // the watch limit was logged
	polled    map[string]stamp // folders left unwatched by the limit -> their stamp at the last look
	pollList  []string         // polled's keys in the order they are looked at
	pollNext  int              // where the next poll round goes on in pollList
	remote    map[string]bool  // remote mount points found (each logged once)
	watched   map[string]bool
	parents   map[string]bool        // parent folders of roots -> watched now
	rootID    map[string]os.FileInfo // each watched root when its watch was added
	present   map[string]bool        // roots that were folders at the last look

	// Hooks for tests.
	now       func() time.Time
	add       func(dir string) error
	fsnAdd    func(dir string) error // the real add, for hooks that wrap it
	addParent func(dir string) error // defaults to add
	removed   func(dir string)
	stat      func(path string) stamp
	remoteF   func(dir string) (bool, string)
}

// WatchConfig configures NewWatcher. Zero durations take the defaults.
type WatchConfig struct {
	Roots   []string // absolute music folders
	Quiet   time.Duration
	MaxWait time.Duration
	Poll    time.Duration // root checks; 0 means DefaultWatchPoll
	Log     *slog.Logger
}

// NewWatcher returns a watcher for cfg.Roots; Run starts it.
func NewWatcher(cfg WatchConfig) *Watcher {
	w := &Watcher{
		roots:   slices.Clone(cfg.Roots),
		quiet:   cmp.Or(cfg.Quiet, DefaultWatchQuiet),
		maxWait: cmp.Or(cfg.MaxWait, DefaultWatchMaxWait),
		poll:    cmp.Or(cfg.Poll, DefaultWatchPoll),
		log:     cfg.Log,
		out:     make(chan []string),
		ready:   make(chan struct{}),
		resync:  make(chan chan struct{}),
		stopped: make(chan struct{}),
		remote:  make(map[string]bool),
		watched: make(map[string]bool),
		parents: make(map[string]bool),
		rootID:  make(map[string]os.FileInfo),
		present: make(map[string]bool),
		polled:  make(map[string]stamp),
		now:     time.Now,
		stat:    statPath,
		remoteF: remoteFilesystem,
	}
	if w.log == nil {
		w.log = slog.New(slog.DiscardHandler)
	}
	w.maxWait = max(w.maxWait, w.quiet)
	w.complete.Store(true)
	return w
}

// Changes delivers batches of changed absolute paths: files or folders
// created, written, renamed or removed, sorted, with paths below another
// path of the batch left out (a folder stands for everything in it). A
// path that no longer exists was removed or renamed away.
func (w *Watcher) Changes() <-chan []string { return w.out }

// Ready is closed once the initial watches are in place: changes made
// after that are reported.
func (w *Watcher) Ready() <-chan struct{} { return w.ready }

// Complete reports whether every folder is watched on a filesystem that
// sends events. When it is false, only a periodic rescan sees some changes.
func (w *Watcher) Complete() bool { return w.complete.Load() }

// Resync makes Run watch the folders it could not watch before, such as a
// root that was unmounted and is back, and returns once it has (or once
// Run has returned).
func (w *Watcher) Resync() {
	ack := make(chan struct{})
	select {
	case w.resync <- ack:
	case <-w.stopped:
		return
	}
	select {
	case <-ack:
	case <-w.stopped:
	}
}

// Run watches until ctx is done. It fails only when ctx is; if inotify
// cannot be used at all, it logs that and leaves the work to the periodic
// rescan.
func (w *Watcher) Run(ctx context.Context) error {
	defer close(w.stopped)
	fsn, err := fsnotify.NewWatcher()
	if err != nil {
		w.complete.Store(false)
		w.exhausted.Store(true) // out of inotify instances: the same remedy
		close(w.ready)
		w.log.Warn("cannot watch the music folders; changes are found by the periodic rescan only", "err", err)
		<-ctx.Done()
		return ctx.Err()
	}
	defer fsn.Close()
	w.fsnAdd = fsn.Add
	if w.add == nil {
		w.add = fsn.Add
	}
	if w.addParent == nil {
		w.addParent = w.add
	}
	if w.removed == nil {
		w.removed = func(dir string) { fsn.Remove(dir) }
	}
	for _, r := range w.roots {
		w.watchRoot(r)
		w.present[r] = w.watched[r] || isDir(r)
		w.parents[filepath.Dir(r)] = false
	}
	w.watchParents()
	close(w.ready)
	w.logExhausted()
	w.log.Debug("watching music folders", "folders", len(w.watched), "complete", w.Complete())

	d := newDebouncer(w.quiet, w.maxWait, w.stat)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	pollTick := time.NewTicker(w.poll)
	defer pollTick.Stop()
	var (
		batch []string      // ready, not yet delivered
		out   chan []string // w.out while batch is non-empty
	)
	rearm := func() {
		timer.Stop()
		if at, ok := d.deadline(); ok {
			timer.Reset(max(at.Sub(w.now()), 0))
		}
	}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case ev, ok := <-fsn.Events:
			if !ok {
				return ctx.Err()
			}
			if w.handle(ev) {
				d.add(ev.Name, w.now())
				rearm()
			}
			w.logExhausted()
		case err, ok := <-fsn.Errors:
			if !ok {
				return ctx.Err()
			}
			if errors.Is(err, fsnotify.ErrEventOverflow) {
				w.log.Warn("too many file changes at once; rescanning every root")
				for _, r := range w.roots {
					d.add(r, w.now())
				}
				rearm()
				continue
			}
			w.log.Warn("watching music folders", "err", err)
		case <-timer.C:
			if r := d.fire(w.now()); len(r) > 0 {
				w.log.Debug("changes settled", "paths", len(r), "waiting", len(d.pending))
				batch = collapse(append(batch, r...), filepath.Separator)
				out = w.out
			}
			rearm()
		case out <- batch:
			batch, out = nil, nil
		case <-pollTick.C:
			q := w.pollRoots(d)
			if w.pollFolders(d, pollBudget) {
				q = true
			}
			if q {
				rearm()
			}
			w.logExhausted()
		case ack := <-w.resync:
			n := len(w.watched)
			for _, r := range w.roots {
				w.watchRoot(r)
			}
			if len(w.watched) > n {
				w.log.Debug("watching more folders", "new", len(w.watched)-n)
			}
			w.logExhausted()
			close(ack)
		}
	}
}

// handle updates the watches for one event and reports whether its path
// belongs to the next batch.
func (w *Watcher) handle(ev fsnotify.Event) bool {
	base := filepath.Base(ev.Name)
	if base == "" || base[0] == '.' || skipDirs[base] {
		return false // hidden and NAS housekeeping files: the scanner skips them
	}
	if _, ok := w.parents[ev.Name]; ok && ev.Op&(fsnotify.Remove|fsnotify.Rename) != 0 {
		w.parents[ev.Name] = false // its watch is gone; pollRoots adds it again
	}
	if dir := filepath.Dir(ev.Name); !w.watched[dir] {
		if _, ok := w.parents[dir]; ok {
			if !slices.Contains(w.roots, ev.Name) {
				return false // a sibling of a root
			}
			if ev.Has(fsnotify.Create) {
				w.forget(ev.Name) // a new folder under the root's name
				w.watchRoot(ev.Name)
				w.present[ev.Name] = true
				w.log.Info("music folder is back; watching it again", "path", ev.Name)
				return true
			}
		}
	}
	if ev.Op&^fsnotify.Chmod == 0 {
		return false // attribute changes (and Spotlight-like noise)
	}
	if ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename) {
		w.forget(ev.Name)
	}
	if ev.Has(fsnotify.Create) {
		if fi, err := os.Lstat(ev.Name); err == nil && fi.IsDir() {
			w.addTree(ev.Name) // watch first; the batch then scans the folder
		}
	}
	return true
}

// watchRoot watches root and its folders, and records its identity.
func (w *Watcher) watchRoot(root string) {
	w.addTree(root)
	if w.watched[root] {
		w.rootID[root], _ = statDir(root)
	}
}

// watchParents watches the parent folder of each root not watched yet, for
// events on the root's name only (handle drops the others). A parent that
// cannot be watched is left to pollRoots.
func (w *Watcher) watchParents() {
	if w.exhausted.Load() {
		return
	}
	for p, ok := range w.parents {
		if ok || w.watched[p] {
			continue
		}
		if err := w.addParent(p); err == nil {
			w.parents[p] = true
		}
	}
}

// pollRoots looks at every root: one that came back, or was replaced or
// remounted since its watch was added, is watched again and queued whole
// on d; one that vanished without an event is queued too. It reports
// whether it queued anything.
func (w *Watcher) pollRoots(d *debouncer) bool {
	queued := false
	for _, r := range w.roots {
		fi, ok := statDir(r)
		was := w.present[r]
		w.present[r] = ok
		switch {
		case !ok:
			if !w.watched[r] {
				continue // reported by its event already, or never here
			}
			w.forget(r) // gone without an event (its watch was lost)
		case w.watched[r] && w.rootID[r] != nil && os.SameFile(fi, w.rootID[r]):
			continue
		default:
			w.forget(r) // the watches follow the old folder, if any
			w.watchRoot(r)
			if w.watched[r] {
				w.log.Info("music folder is back; watching it again", "path", r)
			} else if was {
				continue // present, but not watchable (remote, out of watches)
			}
		}
		d.add(r, w.now())
		queued = true
	}
	w.watchParents()
	return queued
}

// statDir stats path if it is a folder. os.SameFile on two results tells
// the same folder from another under the same name (re-created, or a
// mount).
func statDir(path string) (os.FileInfo, bool) {
	fi, err := os.Stat(path)
	if err != nil || !fi.IsDir() {
		return nil, false
	}
	return fi, true
}

func isDir(path string) bool { _, ok := statDir(path); return ok }

// addTree watches dir and every folder below it not watched yet, skipping
// what the scanner skips (hidden folders, NAS housekeeping, symlinked
// folders) and folders on remote filesystems.
func (w *Watcher) addTree(dir string) {
	if w.exhausted.Load() {
		w.pollTree(dir)
		return
	}
	if !w.watched[dir] {
		if remote, kind := w.remoteF(dir); remote {
			w.complete.Store(false)
			if !w.remote[dir] {
				w.remote[dir] = true
				w.log.Warn("music folder is on a network filesystem, which sends no change events; the periodic rescan (rescan_interval) finds its changes",
					"path", dir, "filesystem", kind)
			}
			return
		}
		if err := w.add(dir); err != nil {
			switch {
			case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EMFILE):
				w.exhausted.Store(true)
				w.complete.Store(false)
				w.pollTree(dir)
			case errors.Is(err, fs.ErrNotExist):
			default:
				w.log.Debug("cannot watch folder", "path", dir, "err", err)
			}
			return
		}
		w.watched[dir] = true
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() && name[0] != '.' && !skipDirs[name] {
			w.addTree(filepath.Join(dir, name)) // polled once out of watches
		}
	}
}

// pollBudget is how many unwatched folders one poll (every Poll) looks at:
// a stat each, about 20 ms of CPU every 2 s, so a library whose folders
// are all beyond the watch limit still sees a new album within
// folders/pollBudget polls.
const pollBudget = 10_000

// pollTree records dir and the folders below it for polling, once the
// watch limit is reached: a folder whose modification time changes (a
// file or folder was added, removed or renamed in it) is reported whole.
// Changes to the content of existing files there are left to the periodic
// rescan.
func (w *Watcher) pollTree(dir string) {
	if _, ok := w.polled[dir]; ok || w.watched[dir] {
		return
	}
	st := w.stat(dir)
	if !st.dir {
		return
	}
	w.polled[dir] = st
	w.pollList = append(w.pollList, dir)
	w.pollChildren(dir)
}

// pollChildren polls the folders in dir not watched or polled yet.
func (w *Watcher) pollChildren(dir string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() && name[0] != '.' && !skipDirs[name] {
			w.pollTree(filepath.Join(dir, name))
		}
	}
}

// pollFolders looks at up to budget polled folders, going on where the
// last call stopped, and queues on d those that changed or vanished. It
// reports whether it queued anything.
func (w *Watcher) pollFolders(d *debouncer, budget int) bool {
	if len(w.pollList) == 0 {
		return false
	}
	queued := false
	for range min(budget, len(w.pollList)) {
		if w.pollNext >= len(w.pollList) {
			// A new round: drop the folders that went away.
			w.pollList = slices.DeleteFunc(w.pollList, func(p string) bool { _, ok := w.polled[p]; return !ok })
			w.pollNext = 0
			if len(w.pollList) == 0 {
				break
			}
		}
		dir := w.pollList[w.pollNext]
		w.pollNext++
		old, ok := w.polled[dir]
		if !ok {
			continue
		}
		st := w.stat(dir)
		if st.same(old) {
			continue
		}
		if st.dir {
			w.polled[dir] = st
			w.pollChildren(dir) // new folders in it are polled from now on
		} else {
			delete(w.polled, dir)
		}
		d.add(dir, w.now())
		queued = true
	}
	return queued
}

// logExhausted logs once that the watch limit was reached, with what it
// takes to raise it.
func (w *Watcher) logExhausted() {
	if w.logged || !w.exhausted.Load() {
		return
	}
	w.logged = true
	limit, _ := os.ReadFile("/proc/sys/fs/inotify/max_user_watches")
	cur := strings.TrimSpace(string(limit))
	want := len(w.watched) + len(w.polled)
	if n, err := strconv.Atoi(cur); err == nil {
		want += n // other programs' watches stay
	}
	want = (want + 65535) / 65536 * 65536
	w.log.Warn("out of inotify watches: folders beyond the limit are polled, so new music there shows up within a poll round, and changes to files already there only at the periodic rescan; for instant updates raise fs.inotify.max_user_watches (as root: sysctl -w fs.inotify.max_user_watches=N, and set it in /etc/sysctl.d/ to keep it), then restart daapd",
		"watched", len(w.watched), "polled", len(w.polled), "max_user_watches", cur, "suggested", want,
		"poll_round", (time.Duration((len(w.polled)+pollBudget-1)/pollBudget) * w.poll).String())
}

// forget drops the watches of path and the folders below it (a folder
// renamed or removed; a renamed one is watched again under its new name).
func (w *Watcher) forget(path string) {
	prefix := path + string(filepath.Separator)
	for dir := range w.watched {
		if dir == path || strings.HasPrefix(dir, prefix) {
			delete(w.watched, dir)
			w.removed(dir)
		}
	}
}

// stamp is what the debouncer compares to decide a file has settled.
type stamp struct {
	exists bool
	dir    bool
	size   int64
	mtime  time.Time
}

func (s stamp) same(o stamp) bool {
	return s.exists == o.exists && s.dir == o.dir && s.size == o.size && s.mtime.Equal(o.mtime)
}

func statPath(path string) stamp {
	fi, err := os.Lstat(path)
	if err != nil {
		return stamp{}
	}
	return stamp{exists: true, dir: fi.IsDir(), size: fi.Size(), mtime: fi.ModTime()}
}

// debouncer collects changed paths into batches. It is pure apart from
// stat, so tests drive it with fake times and stats.
type debouncer struct {
	quiet, maxWait time.Duration
	stat           func(string) stamp
	pending        map[string]pending
	first, last    time.Time // first and last event of the current batch
}

type pending struct {
	st   stamp     // at the last event, or at the last fire that found it unsettled
	last time.Time // of that event or fire
}

func newDebouncer(quiet, maxWait time.Duration, stat func(string) stamp) *debouncer {
	return &debouncer{quiet: quiet, maxWait: maxWait, stat: stat, pending: make(map[string]pending)}
}

// add records an event on path at now.
func (d *debouncer) add(path string, now time.Time) {
	if len(d.pending) == 0 {
		d.first = now
	}
	d.last = now
	d.pending[path] = pending{st: d.stat(path), last: now}
}

// deadline is when fire should run next; ok is false when nothing waits.
func (d *debouncer) deadline() (at time.Time, ok bool) {
	if len(d.pending) == 0 {
		return time.Time{}, false
	}
	at = d.last.Add(d.quiet)
	if limit := d.first.Add(d.maxWait); limit.Before(at) {
		at = limit
	}
	return at, true
}

// fire returns the paths that have settled by now: no event for quiet, and
// the same size and modification time as at their last event. The others
// stay pending with their new stat.
func (d *debouncer) fire(now time.Time) []string {
	if at, ok := d.deadline(); !ok || now.Before(at) {
		return nil
	}
	var ready []string
	for p, pd := range d.pending {
		if now.Sub(pd.last) < d.quiet {
			continue // still busy: only the max-wait deadline came
		}
		if st := d.stat(p); !st.same(pd.st) {
			d.pending[p] = pending{st: st, last: now} // still being written
			continue
		}
		ready = append(ready, p)
		delete(d.pending, p)
	}
	if len(d.pending) > 0 {
		// The rest start a new batch: busy paths keep their last event, the
		// unsettled ones count from now.
		d.first, d.last = now, time.Time{}
		for _, pd := range d.pending {
			if pd.last.After(d.last) {
				d.last = pd.last
			}
		}
	}
	return collapse(ready, filepath.Separator)
}

// collapse sorts paths (separated by sep), removes duplicates and drops
// every path that lies below another one of the list.
func collapse(paths []string, sep byte) []string {
	slices.Sort(paths)
	paths = slices.Compact(paths)
	set := make(map[string]bool, len(paths))
	for _, p := range paths {
		set[p] = true
	}
	out := paths[:0]
	for _, p := range paths {
		if !hasAncestor(set, p, sep) {
			out = append(out, p)
		}
	}
	return out
}

func hasAncestor(set map[string]bool, p string, sep byte) bool {
	for {
		i := strings.LastIndexByte(p, sep)
		if i <= 0 {
			return false
		}
		p = p[:i]
		if set[p] {
			return true
		}
	}
}
