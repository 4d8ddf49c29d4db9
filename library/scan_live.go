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
	sc, err := s.newScan(nil)
	if err != nil {
		return Result{}, err
	}
	sc.fresh = false
	pl := sc.plan(paths)
	if !s.prevSorted && !slices.IsSortedFunc(prev, compareTracks) {
		prev = slices.Clone(prev)
		sortTracks(prev)
	}
	// Only the tracks in the plan's scope are indexed for reuse; the rest
	// are kept as they are, copied in runs, so a new album in a library of
	// a million tracks costs little more than the album.
	scoped, kept := pl.split(sc, prev)
	sc.usePrev(scoped, prev)
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
	// Tracks outside the rescanned paths count as present, so the "root
	// came back empty" rule looks at the whole root.
	for ri := range sc.roots {
		if sc.roots[ri].files == 0 && slices.ContainsFunc(kept[ri], func(t *Track) bool { return !t.Missing }) {
			sc.roots[ri].files++
		}
	}
	// Playlists of the roots the plan touches are read again, so their
	// entries follow the tracks; the others are kept, minus entries whose
	// track is gone.
	var keptPls []*Playlist
	for _, p := range prevPlaylists {
		ri, ok := sc.rootIdx[p.Root]
		switch {
		case !ok || sc.roots[ri].err != nil || pl.covers(ri, p.Path):
		case pl.touched(ri):
			sc.roots[ri].playlists = append(sc.roots[ri].playlists, playlistFile{root: ri, rel: p.Path,
				abs: filepath.Join(sc.roots[ri].abs, filepath.FromSlash(p.Path))})
		default:
			keptPls = append(keptPls, p)
		}
	}
	// The kept runs, root by root in catalog order.
	order := make([]int, len(sc.roots))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return strings.Compare(sc.roots[a].abs, sc.roots[b].abs) })
	var all []*Track
	for _, ri := range order {
		all = append(all, kept[ri]...)
	}
	res := sc.finish(tracks, all, scoped)
	if len(keptPls) > 0 {
		gone := make(map[uint32]bool, len(scoped))
		for _, t := range scoped {
			gone[t.ID] = true
		}
		for _, t := range res.Tracks {
			delete(gone, t.ID) // only the scope's ids can be gone
			if len(gone) == 0 {
				break
			}
		}
		for _, p := range keptPls {
			if slices.ContainsFunc(p.Items, func(id uint32) bool { return gone[id] }) {
				c := *p
				c.Items = slices.DeleteFunc(slices.Clone(p.Items), func(id uint32) bool { return gone[id] })
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

// split divides prev, in catalog order, into the tracks in the plan's
// scope (those of a root walked whole or unavailable, and those at or
// below a folder walked or a path removed) and the tracks kept as they
// are, per root. Tracks of roots no longer configured are in neither.
// Each scope entry is found by binary search: the paths at or below a
// folder are one run of the catalog order.
func (p *pathPlan) split(sc *scan, prev []*Track) (scoped []*Track, kept [][]*Track) {
	kept = make([][]*Track, len(sc.roots))
	for ri, r := range sc.roots {
		lo, _ := slices.BinarySearchFunc(prev, r.abs, func(t *Track, root string) int { return strings.Compare(t.Root, root) })
		n, _ := slices.BinarySearchFunc(prev[lo:], r.abs, func(t *Track, root string) int {
			if t.Root == root {
				return -1
			}
			return strings.Compare(t.Root, root)
		})
		in := prev[lo : lo+n]
		if p.whole[ri] || r.err != nil {
			scoped = append(scoped, in...)
			continue
		}
		if len(p.scope[ri]) == 0 {
			kept[ri] = in
			continue
		}
		type run struct{ lo, hi int }
		var runs []run
		at := func(path string) int {
			i, _ := slices.BinarySearchFunc(in, path, func(t *Track, path string) int { return strings.Compare(t.Path, path) })
			return i
		}
		for rel := range p.scope[ri] {
			if i := at(rel); i < len(in) && in[i].Path == rel {
				runs = append(runs, run{i, i + 1})
			}
			// "d/" up to "d0" ('/'+1) holds every path below d.
			if lo, hi := at(rel+"/"), at(rel+"0"); lo < hi {
				runs = append(runs, run{lo, hi})
			}
		}
		slices.SortFunc(runs, func(a, b run) int { return a.lo - b.lo })
		var k []*Track
		next := 0
		for _, r := range runs {
			if r.lo > next {
				k = append(k, in[next:r.lo]...)
			}
			if r.hi > next {
				scoped = append(scoped, in[max(r.lo, next):r.hi]...)
				next = r.hi
			}
		}
		kept[ri] = append(k, in[next:]...)
	}
	return scoped, kept
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
