package library

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// ScanPaths rescans only the given absolute paths, as reported by a
// Watcher, and keeps every other track of prev as it is. A folder is walked
// with everything below it; a file is rescanned with its folder (whose
// artwork it may be); a path that no longer exists drops the tracks at or
// below it. Paths outside the roots are ignored, and a root itself among
// paths is scanned whole. The unmount rules of Scan hold: a root that is
// gone or would be left without a single track keeps its tracks, marked
// Missing. prevPlaylists are read again unless they were removed, so their
// entries follow the tracks.
func (s *Scanner) ScanPaths(ctx context.Context, prev []*Track, prevPlaylists []*Playlist, paths []string) (Result, error) {
	sc, err := s.newScan(prev)
	if err != nil {
		return Result{}, err
	}
	pl := sc.plan(paths)
	tracks, err := sc.run(ctx, func(ctx context.Context, jobs chan<- job, results chan<- result) {
		for ri := range sc.roots {
			switch {
			case pl.whole[ri]:
				sc.walkRoot(ctx, ri, jobs, results)
			case len(pl.dirs[ri]) > 0:
				for _, d := range pl.dirs[ri] {
					sc.walkDir(ctx, ri, &dirInfo{rel: nfc(d), diskRel: d, abs: filepath.Join(sc.roots[ri].abs, filepath.FromSlash(d))}, jobs, results)
				}
			}
		}
	})
	if err != nil {
		return Result{}, err
	}
	// Tracks outside the rescanned paths stay as they are; they also count
	// as present, so the "root came back empty" rule looks at the whole
	// root.
	var keptTracks []*Track
	for _, t := range prev {
		ri, ok := sc.rootIdx[t.Root]
		if !ok || sc.roots[ri].err != nil || pl.covers(ri, t.Path) {
			continue
		}
		sc.seen[t] = true
		keptTracks = append(keptTracks, t)
		if !t.Missing {
			sc.roots[ri].files++
		}
	}
	// Playlists of the roots the plan touches are read again, so their
	// entries follow the tracks; the others are kept, minus entries whose
	// track is gone.
	var kept []*Playlist
	for _, p := range prevPlaylists {
		ri, ok := sc.rootIdx[p.Root]
		switch {
		case !ok || sc.roots[ri].err != nil || pl.covers(ri, p.Path):
		case pl.touched(ri):
			sc.roots[ri].playlists = append(sc.roots[ri].playlists, playlistFile{root: ri, rel: p.Path,
				abs: filepath.Join(sc.roots[ri].abs, filepath.FromSlash(p.Path))})
		default:
			kept = append(kept, p)
		}
	}
	res := sc.finish(tracks, keptTracks, prev)
	if len(kept) > 0 {
		ids := make(map[uint32]bool, len(res.Tracks))
		for _, t := range res.Tracks {
			ids[t.ID] = true
		}
		for _, p := range kept {
			if slices.ContainsFunc(p.Items, func(id uint32) bool { return !ids[id] }) {
				c := *p
				c.Items = slices.DeleteFunc(slices.Clone(p.Items), func(id uint32) bool { return !ids[id] })
				p = &c
			}
			res.Playlists = append(res.Playlists, p)
		}
		slices.SortFunc(res.Playlists, func(a, b *Playlist) int {
			if c := strings.Compare(a.Root, b.Root); c != 0 {
				return c
			}
			return strings.Compare(a.Path, b.Path)
		})
		res.Stats.Playlists = len(res.Playlists)
	}
	return res, nil
}

// pathPlan is what ScanPaths walks, per root.
type pathPlan struct {
	whole []bool     // the root is walked whole
	dirs  [][]string // on-disk relative folders to walk, none below another
	// scope holds, in NFC, the folders walked and the paths removed: the
	// previous tracks at or below them are replaced by what the walk finds.
	scope []map[string]bool
}

// touched reports whether the plan walks or drops anything in root ri.
func (p *pathPlan) touched(ri int) bool { return p.whole[ri] || len(p.scope[ri]) > 0 }

// covers reports whether rel in root ri lies in the plan's scope. It looks
// up rel and each folder above it, so a batch of thousands of folders
// (a whole library retagged) costs the same per track as one.
func (p *pathPlan) covers(ri int, rel string) bool {
	if p.whole[ri] {
		return true
	}
	scope := p.scope[ri]
	if len(scope) == 0 {
		return false
	}
	for {
		if scope[rel] {
			return true
		}
		i := strings.LastIndexByte(rel, '/')
		if i < 0 {
			return false
		}
		rel = rel[:i]
	}
}

// plan sorts the changed paths into folders to walk and removed paths. A
// root that is not a readable folder is marked unavailable at once, so its
// tracks are kept.
func (sc *scan) plan(paths []string) *pathPlan {
	n := len(sc.roots)
	p := &pathPlan{whole: make([]bool, n), dirs: make([][]string, n), scope: make([]map[string]bool, n)}
	drop := func(ri int, rel string) {
		if p.scope[ri] == nil {
			p.scope[ri] = make(map[string]bool)
		}
		p.scope[ri][rel] = true
	}
	for _, abs := range paths {
		ri, rel, ok := sc.locate(abs)
		if !ok || p.whole[ri] {
			continue
		}
		if rel == "" {
			p.whole[ri] = true
			continue
		}
		fi, err := os.Lstat(abs)
		switch {
		case err == nil && fi.IsDir():
			p.dirs[ri] = append(p.dirs[ri], rel)
			continue
		case err != nil && errors.Is(err, fs.ErrNotExist):
			drop(ri, nfc(rel))
		case err != nil:
			sc.log.Debug("cannot look at changed path", "path", abs, "err", err)
			continue
		}
		// A file, or a removed path: walk its folder (artwork, siblings);
		// at the top of the root that means the whole root.
		dir := path.Dir(rel)
		if dir == "." {
			if err == nil {
				p.whole[ri] = true
			}
			continue
		}
		if fi, err := os.Stat(filepath.Join(sc.roots[ri].abs, filepath.FromSlash(dir))); err == nil && fi.IsDir() {
			p.dirs[ri] = append(p.dirs[ri], dir)
		}
	}
	for ri := range sc.roots {
		if p.whole[ri] {
			p.dirs[ri], p.scope[ri] = nil, nil
			continue
		}
		if len(p.dirs[ri]) == 0 && len(p.scope[ri]) == 0 {
			continue
		}
		r := &sc.roots[ri]
		if fi, err := os.Stat(r.abs); err != nil || !fi.IsDir() {
			// The root itself is gone: nothing is walked or dropped, and
			// finish keeps its tracks, marked Missing.
			if err == nil {
				err = errors.New("not a directory")
			}
			r.err = fmt.Errorf("%w: %s: %w", ErrRootUnavailable, r.abs, err)
			p.dirs[ri], p.scope[ri] = nil, nil
			continue
		}
		p.dirs[ri] = collapse(p.dirs[ri], '/')
		for _, d := range p.dirs[ri] {
			drop(ri, nfc(d))
		}
	}
	return p
}

// locate finds the root holding abs and abs relative to it (slash
// separated, "" for the root itself).
func (sc *scan) locate(abs string) (ri int, rel string, ok bool) {
	abs = filepath.Clean(abs)
	for i, r := range sc.roots {
		if abs == r.abs {
			return i, "", true
		}
		if rest, found := strings.CutPrefix(abs, r.abs+string(filepath.Separator)); found {
			return i, filepath.ToSlash(rest), true
		}
	}
	return 0, "", false
}
