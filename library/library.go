package library

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"
)

// Config configures a Library.
type Config struct {
	Roots          []string      // music folders
	StateDir       string        // holds library-id and the scan cache
	LibraryID      string        // overrides the one in StateDir when set
	Workers        int           // scan workers; 0 means runtime.NumCPU()
	FileTimeout    time.Duration // per-file limit; 0 means DefaultFileTimeout
	RescanInterval time.Duration // periodic full rescan; 0 disables it
	Watch          bool          // watch the roots and rescan changed folders (watch.go)
	Log            *slog.Logger

	// Smart playlists besides .smartpl files, and the folders whose
	// tracks are audiobooks or podcasts whatever their tags say.
	Smart            SmartConfig
	AudiobookFolders []string
	PodcastFolders   []string
	// Now is the clock smart playlists count relative dates from;
	// nil means time.Now.
	Now func() time.Time
}

// smartRefresh is how often smart playlists are evaluated again without a
// change to the library, so relative dates ("Recently Added") move on.
const smartRefresh = time.Hour

// Status is a summary of the library for logs and status pages.
type Status struct {
	Scanning  bool
	Tracks    int
	Playlists int
	Revision  uint32
	LastScan  time.Time // when the last scan finished; zero before
	LastStats Stats
	LastError string // unavailable roots or the last scan's failure

	Roots       []string // the music folders, absolute
	Unavailable []string // roots found unavailable by the last scan
	Progress    Progress // the running scan's progress, while Scanning
	Skips       []Skip   // files the scans left out (at most MaxSkips); shared, do not modify
	Watch       string   // how changes are noticed, and why
	Scans       int      // scans published since start (full and watched paths)
}

// Library keeps a Catalog up to date with the music roots: an initial scan,
// then rescans on request and every RescanInterval.
type Library struct {
	cfg     Config
	log     *slog.Logger
	cat     *Catalog
	scanner *Scanner
	trigger chan struct{}

	saver     *cacheSaver      // nil without a state directory
	cachedRev uint32           // the revision the scan cache holds; Run only
	firstSeen map[string]Stamp // salvaged from an outdated cache for the first scan; Run only

	watchQuiet, watchMaxWait, watchPoll time.Duration // watcher timing; 0 means the defaults

	// unavailable holds the roots the last scan found missing or empty;
	// Run only. A change reported in one of them rescans it whole, so
	// tracks deleted while it was away disappear.
	unavailable map[string]bool

	mu      sync.Mutex
	status  Status
	watcher *Watcher // set by Run
}

// New checks cfg and returns a library with an empty catalog. The library
// id comes from cfg.LibraryID, else from cfg.StateDir (created if needed).
func New(cfg Config) (*Library, error) {
	if len(cfg.Roots) == 0 {
		return nil, errors.New("library: no music folders configured")
	}
	if cfg.RescanInterval < 0 || cfg.FileTimeout < 0 || cfg.Workers < 0 {
		return nil, errors.New("library: negative workers, file timeout or rescan interval")
	}
	roots := make([]string, len(cfg.Roots))
	for i, r := range cfg.Roots {
		abs, err := filepath.Abs(r)
		if err != nil {
			return nil, err
		}
		roots[i] = abs
	}
	cfg.Roots = roots
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	for _, dirs := range []*[]string{&cfg.AudiobookFolders, &cfg.PodcastFolders} {
		abs := make([]string, len(*dirs))
		for i, d := range *dirs {
			a, err := filepath.Abs(d)
			if err != nil {
				return nil, err
			}
			abs[i] = a
		}
		*dirs = abs
	}
	if cfg.LibraryID == "" {
		if cfg.StateDir == "" {
			return nil, errors.New("library: need a state dir or a library id")
		}
		id, err := LoadOrCreateLibraryID(cfg.StateDir)
		if err != nil {
			return nil, err
		}
		cfg.LibraryID = id
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	l := &Library{
		cfg:     cfg,
		log:     log,
		cat:     NewCatalog(),
		trigger: make(chan struct{}, 1),
		scanner: &Scanner{
			Roots:       cfg.Roots,
			LibraryID:   cfg.LibraryID,
			Workers:     cfg.Workers,
			FileTimeout: cfg.FileTimeout,
			Log:         log,

			AudiobookFolders: cfg.AudiobookFolders,
			PodcastFolders:   cfg.PodcastFolders,
			warned:           map[string]string{},
		},
	}
	if name := cacheName(cfg.StateDir); name != "" {
		l.saver = newCacheSaver(name, cacheSaveDelay, log)
	}
	l.status.Revision = l.cat.Revision()
	l.status.Roots = roots
	return l, nil
}

// LibraryID is the id seeding every track id; the daemon announces it as
// the mDNS Database ID.
func (l *Library) LibraryID() string { return l.cfg.LibraryID }

// Catalog is the catalog the library publishes to.
func (l *Library) Catalog() *Catalog { return l.cat }

// Rescan asks Run for a rescan. It never blocks; requests made while one is
// pending coalesce.
func (l *Library) Rescan() {
	select {
	case l.trigger <- struct{}{}:
	default:
	}
}

// Status reports what the library is doing.
func (l *Library) Status() Status {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.status
	// Counts come from the snapshot itself, so they never lag behind
	// what clients already see.
	snap := l.cat.Snapshot()
	s.Revision, s.Tracks, s.Playlists = snap.Revision, len(snap.Tracks), len(snap.Playlists)
	s.Watch = l.watchMode(l.watcher)
	return s
}

// Run publishes the catalog saved in the scan cache at once, starts
// watching the roots (when Config.Watch is set), scans the roots in the
// background (re-reading only files whose size or modification time
// changed; without a cache, partial results are published every ~1.5 s so
// clients see the library grow), then rescans the folders the watcher
// reports, everything on Rescan and every RescanInterval, until ctx is done.
// It saves the scan cache after changes and before returning, closes the
// catalog when it returns, releasing waiters, and returns nil after a clean
// shutdown.
func (l *Library) Run(ctx context.Context) error {
	defer l.cat.Close()
	if l.saver != nil {
		defer func() {
			// What is published is saved, even a first scan's partial
			// catalog: the next start then reads only the rest.
			l.saveSnapshot(l.cat.Snapshot())
			l.saver.Flush()
		}()
	}
	l.setScanning() // the scan below clears it
	prev := l.restore()
	wctx, stopWatch := context.WithCancel(ctx)
	w, watchDone := l.startWatcher(wctx)
	l.mu.Lock()
	l.watcher = w
	l.mu.Unlock()
	defer func() {
		stopWatch()
		<-watchDone
	}()
	l.scan(ctx, prev, len(prev) == 0)

	var tick <-chan time.Time
	if l.cfg.RescanInterval > 0 {
		t := time.NewTicker(l.cfg.RescanInterval)
		defer t.Stop()
		tick = t.C
	}
	refresh := time.NewTicker(smartRefresh)
	defer refresh.Stop()
	var changes <-chan []string
	if w != nil {
		changes = w.Changes()
		if !w.Complete() && tick == nil && !w.exhausted.Load() {
			l.log.Warn("rescan_interval is 0: changes in folders that cannot be watched are seen only after SIGHUP or POST /rescan")
		}
	}
	for {
		if tick == nil && w != nil && w.exhausted.Load() {
			l.log.Warn("not every folder can be watched and rescan_interval is 0; rescanning periodically anyway", "every", fallbackRescan)
			t := time.NewTicker(fallbackRescan)
			defer t.Stop()
			tick = t.C
		}
		select {
		case <-ctx.Done():
			return nil
		case paths := <-changes:
			l.scanPaths(ctx, paths)
			continue
		case <-refresh.C:
			l.refreshSmart()
			continue
		case <-l.trigger:
		case <-tick:
		}
		if w != nil {
			w.Resync() // watch a root that came back, then scan it
		}
		l.scan(ctx, l.cat.Snapshot().Tracks, false)
	}
}

// restore publishes the scan cache's tracks and playlists and returns the
// tracks. The heap grows by the whole catalog here, nearly all of it kept, so
// the collector is paused meanwhile: each cycle would only mark a heap still
// being built (at a million tracks, a quarter of the restart's CPU and half
// a second). A GOMEMLIMIT still holds.
func (l *Library) restore() []*Track {
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	prev, pls, legacy := l.loadCache()
	if len(prev) > 0 || len(pls) > 0 {
		// Every load checks the tracks' order.
		snap, _ := l.publishSorted(slices.Clone(prev), pls)
		if !legacy {
			l.cachedRev = snap.Revision
		}
		l.mu.Lock()
		l.status.Tracks, l.status.Playlists = len(snap.Tracks), len(snap.Playlists)
		l.mu.Unlock()
	}
	return prev
}

// scan runs one scan against prev and publishes the result. With
// progressive set, partial results are published while it runs.
func (l *Library) scan(ctx context.Context, prev []*Track, progressive bool) {
	l.setScanning()
	sc := *l.scanner
	sc.progress = l.setProgress
	sc.firstSeen, l.firstSeen = l.firstSeen, nil // the first scan after an upgrade only
	if progressive {
		// Playlists already published (from the cache) stay listed; their
		// entries appear as their tracks are found. The built-in and
		// configured smart playlists are evaluated on each partial result
		// (playlist files are read once the walk is done).
		sc.partial = func(found []*Track) {
			l.cat.publishChanges(found, nil, func(tracks []*Track) []*Playlist {
				return EvalPlaylists(l.cfg.LibraryID, tracks, l.cat.Snapshot().Playlists, l.cfg.Smart, l.cfg.Now())
			})
		}
	}
	res, err := sc.Scan(ctx, prev)
	l.publish(ctx, res, err)
}

// scanPaths rescans the paths a watcher reported and publishes the result.
func (l *Library) scanPaths(ctx context.Context, paths []string) {
	l.setScanning()
	for i, p := range paths {
		for r := range l.unavailable {
			if p == r || strings.HasPrefix(p, r+string(filepath.Separator)) {
				paths[i] = r
			}
		}
	}
	l.log.Debug("rescanning changed paths", "paths", len(paths), "first", paths[0])
	snap := l.cat.Snapshot()
	sc := *l.scanner
	sc.progress = l.setProgress
	sc.inUse = func(id uint32) bool { _, ok := snap.Track(id); return ok }
	sc.prevSorted = true
	res, err := sc.ScanPaths(ctx, snap.Tracks, snap.Playlists, paths)
	if err == nil {
		// Skips outside the rescanned paths still hold.
		l.mu.Lock()
		res.Skips = mergeSkips(l.status.Skips, res.Skips, paths)
		l.mu.Unlock()
	}
	l.publish(ctx, res, err)
}

func (l *Library) setScanning() {
	l.mu.Lock()
	l.status.Scanning = true
	l.status.Progress = Progress{Started: time.Now()}
	l.mu.Unlock()
}

func (l *Library) setProgress(p Progress) {
	l.mu.Lock()
	l.status.Progress = p
	l.mu.Unlock()
}

// publish publishes a scan's result and schedules a cache write.
func (l *Library) publish(ctx context.Context, res Result, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.status.Scanning = false
	if err != nil {
		if ctx.Err() == nil {
			l.log.Error("scan failed", "err", err)
			l.status.LastError = err.Error()
		}
		return
	}
	pls := l.keepPlaylists(res)
	clear(l.unavailable)
	for _, r := range res.UnavailableRoots {
		if l.unavailable == nil {
			l.unavailable = make(map[string]bool)
		}
		l.unavailable[r] = true
	}
	snap, _ := l.publishSorted(res.Tracks, pls)
	l.status.Tracks, l.status.Playlists = len(snap.Tracks), len(snap.Playlists)
	l.status.LastScan, l.status.LastStats = time.Now(), res.Stats
	l.status.Scans++
	l.status.LastError = ""
	l.status.Unavailable = res.UnavailableRoots
	l.status.Skips = res.Skips
	if err := res.Err(); err != nil {
		l.status.LastError = err.Error()
	}
	l.saveSnapshot(snap)
}

// keepPlaylists adds to the scan's playlists those of the current snapshot
// that live in roots the scan found unavailable, so an unmounted share
// keeps its playlists as well as its tracks.
func (l *Library) keepPlaylists(res Result) []*Playlist {
	pls := res.Playlists
	if len(res.UnavailableRoots) == 0 {
		return pls
	}
	found := make(map[[2]string]bool, len(pls))
	for _, p := range pls {
		found[[2]string{p.Root, p.Path}] = true
	}
	for _, p := range l.cat.Snapshot().Playlists {
		if slices.Contains(res.UnavailableRoots, p.Root) && !found[[2]string{p.Root, p.Path}] {
			pls = append(pls, p)
		}
	}
	slices.SortFunc(pls, func(a, b *Playlist) int {
		return cmp.Or(strings.Compare(a.Root, b.Root), strings.Compare(a.Path, b.Path))
	})
	return pls
}

// publishAll publishes tracks with the playlists files gave (pls) and the
// smart playlists evaluated against them (see EvalPlaylists).
func (l *Library) publishAll(tracks []*Track, pls []*Playlist) (*Snapshot, bool) {
	if !slices.IsSortedFunc(tracks, compareTracks) {
		sortTracks(tracks) // EvalPlaylists lists matches in catalog order
	}
	return l.publishSorted(tracks, pls)
}

// publishSorted is publishAll for tracks known to be in catalog order (a
// scan's result, a snapshot's tracks): at a million tracks, checking the
// order costs more than the rest of publishing a new album.
func (l *Library) publishSorted(tracks []*Track, pls []*Playlist) (*Snapshot, bool) {
	return l.cat.publishSorted(tracks, func() []*Playlist {
		return EvalPlaylists(l.cfg.LibraryID, tracks, pls, l.cfg.Smart, l.cfg.Now())
	})
}

// refreshSmart evaluates the smart playlists again; a new revision is
// published only if one of them changed (a track aged out of Recently
// Added, a new day's random pick).
func (l *Library) refreshSmart() {
	snap := l.cat.Snapshot()
	if s, changed := l.publishSorted(slices.Clone(snap.Tracks), snap.Playlists); changed {
		l.log.Debug("smart playlists changed with the date", "revision", s.Revision)
	}
}
