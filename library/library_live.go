package library

import (
	"context"
	"errors"
	"io/fs"
	"path/filepath"
	"time"

	"github.com/daapd/daapd/internal/regfile"
)

// Defaults for keeping the library current.
const (
	// cacheSaveDelay gathers the scans of a burst of changes into one
	// cache write.
	cacheSaveDelay = 5 * time.Second
	// fallbackRescan is the periodic rescan used when watching is
	// incomplete (out of inotify watches) and RescanInterval is 0.
	fallbackRescan = 15 * time.Minute
)

// loadCache returns the tracks and playlists of the scan cache, keeping
// only those of configured roots. A missing, damaged or outdated cache is
// logged and yields nothing, so the first scan reads every file. A gob
// cache of an older daapd is loaded (legacy), to be rewritten.
func (l *Library) loadCache() (tracks []*Track, pls []*Playlist, legacy bool) {
	if l.saver == nil {
		return nil, nil, false
	}
	start := time.Now()
	d, err := loadCache(l.saver.name, l.cfg.LibraryID)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		l.log.Info("no scan cache yet; reading every file", "path", l.saver.name)
		return nil, nil, false
	case errors.Is(err, regfile.ErrNotRegular):
		l.log.Error("ignoring the scan cache, and not replacing it, since it is not a regular file: remove it; reading every file", "err", err)
		return nil, nil, false
	case errors.Is(err, ErrCacheStale):
		seen, serr := salvageFirstSeen(l.saver.name, l.cfg.LibraryID)
		l.log.Warn("ignoring the scan cache; reading every file", "err", err, "first_seen_dates_kept", len(seen))
		if serr == nil {
			l.firstSeen = seen
		}
		return nil, nil, false
	case err != nil:
		l.log.Warn("ignoring the scan cache; reading every file", "err", err)
		return nil, nil, false
	}
	roots := make(map[string]bool, len(l.cfg.Roots))
	for _, r := range l.cfg.Roots {
		roots[r] = true
	}
	tracks = d.Tracks[:0]
	for _, t := range d.Tracks {
		if roots[t.Root] {
			tracks = append(tracks, t)
		}
	}
	for _, p := range d.Playlists {
		if roots[p.Root] {
			pls = append(pls, p)
		}
	}
	l.log.Info("loaded scan cache", "tracks", len(tracks), "playlists", len(pls),
		"saved", d.Saved.Format(time.RFC3339), "duration", time.Since(start).Round(time.Millisecond))
	if d.Legacy {
		l.log.Info("the scan cache is in the gob format of older versions; it is rewritten in the binary format after this start's scan")
	}
	return tracks, pls, d.Legacy
}

// cacheName is where the scan cache lives, "" without a state directory.
func cacheName(stateDir string) string {
	if stateDir == "" {
		return ""
	}
	return filepath.Join(stateDir, cacheFile)
}

// saveSnapshot schedules a cache write of s unless the cache holds it.
func (l *Library) saveSnapshot(s *Snapshot) {
	if l.saver == nil || s.Revision == l.cachedRev || s.Revision == FirstRevision {
		return
	}
	l.cachedRev = s.Revision
	// Built-in and configured playlists are made again from the config.
	pls := make([]*Playlist, 0, len(s.Playlists))
	for _, p := range s.Playlists {
		if p.Root != "" {
			pls = append(pls, p)
		}
	}
	l.saver.Schedule(&cacheData{LibraryID: l.cfg.LibraryID, Tracks: s.Tracks, Playlists: pls})
}

// startWatcher starts watching the roots and waits until the watches are
// in place, so the scan that follows misses nothing. It returns a nil
// watcher when watching is off; done is closed once the watcher stopped.
func (l *Library) startWatcher(ctx context.Context) (w *Watcher, done <-chan struct{}) {
	ch := make(chan struct{})
	if !l.cfg.Watch {
		close(ch)
		return nil, ch
	}
	w = NewWatcher(WatchConfig{Roots: l.cfg.Roots, Quiet: l.watchQuiet, MaxWait: l.watchMaxWait, Poll: l.watchPoll, Log: l.log})
	go func() {
		defer close(ch)
		w.Run(ctx)
	}()
	select {
	case <-w.Ready():
	case <-ctx.Done():
	}
	return w, ch
}
