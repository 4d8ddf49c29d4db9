package library

import (
	"cmp"
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// skipDirs are folder names NAS systems fill with thumbnails and deleted
// files (Synology, Windows); never music.
var skipDirs = map[string]bool{"@eaDir": true, "#recycle": true, "#snapshot": true, "$RECYCLE.BIN": true, "lost+found": true}

// dirInfo is one folder of a root, shared by the jobs of its files.
type dirInfo struct {
	rel     string   // relative to the root, NFC, "" for the root itself
	diskRel string   // relative to the root as on disk
	abs     string   // absolute path on disk
	art     *Artwork // folder artwork, nil when there is none; shared by its tracks
}

// job is one audio file to read.
type job struct {
	root    int
	dir     *dirInfo
	rel     string // relative to the root, NFC
	diskRel string // relative to the root as on disk, "" when equal to rel
	abs     string
	statted bool // size and mtime are known; else the worker fstats
	size    int64
	mtime   time.Time
	added   Stamp  // from the previous track of the same path, if any
	prev    *Track // the previous track of the same path, if any
}

// playlistFile is a playlist found by the walk, read after the tracks.
type playlistFile struct {
	root int
	rel  string // NFC, relative to the root
	abs  string
}

// rootState is what the walk learned about one root.
type rootState struct {
	abs        string
	tag        string // identity tag for ids: "" for the first root
	err        error  // the root could not be walked at all
	files      int    // audio files found
	failedDirs []string
	playlists  []playlistFile
}

// walkRoot walks root ri, sending each audio file to jobs, or to results
// when prev holds it unchanged.
func (sc *scan) walkRoot(ctx context.Context, ri int, jobs chan<- job, results chan<- result) {
	st := &sc.roots[ri]
	fi, err := os.Stat(st.abs)
	switch {
	case err != nil:
		st.err = fmt.Errorf("%w: %w", ErrRootUnavailable, err)
		return
	case !fi.IsDir():
		st.err = fmt.Errorf("%w: %s: not a directory", ErrRootUnavailable, st.abs)
		return
	}
	if err := sc.walkDir(ctx, ri, &dirInfo{abs: st.abs}, jobs, results); err != nil {
		st.err = fmt.Errorf("%w: %w", ErrRootUnavailable, err)
	}
}

// walkDir walks one folder. Only an error reading the root itself is
// returned; an unreadable subfolder is logged and remembered, so the tracks
// it held are kept.
func (sc *scan) walkDir(ctx context.Context, ri int, d *dirInfo, jobs chan<- job, results chan<- result) error {
	if ctx.Err() != nil {
		return nil
	}
	st := &sc.roots[ri]
	start := time.Now()
	entries, dst, done, err := readDir(d.abs)
	cold := time.Since(start) > coldFolder
	if done != nil {
		defer done()
	}
	if err != nil {
		if d.rel == "" {
			return err
		}
		sc.log.Warn("cannot read folder; keeping its tracks", "path", d.abs, "err", err)
		st.failedDirs = append(st.failedDirs, d.rel)
		if len(entries) == 0 {
			return nil
		}
	}
	var toRead []queued
	best := 0
	for _, e := range entries {
		if r := artRank(e.Name()); r > best && e.Type().IsRegular() {
			best = r
			d.art = &Artwork{Source: ArtworkFile, Path: joinRel(d.diskRel, e.Name())}
		}
	}
	for _, e := range entries {
		name := e.Name()
		if name[0] == '.' || ctx.Err() != nil {
			continue
		}
		abs := d.abs + string(filepath.Separator) + name
		typ := e.Type()
		var info fs.FileInfo
		if typ&fs.ModeSymlink != 0 {
			// Symlinked files are followed; symlinked folders are not, so a
			// link loop cannot trap the walk.
			info, err = os.Stat(abs)
			if err != nil {
				sc.log.Debug("skipping broken symlink", "path", abs, "err", err)
				continue
			}
			if info.IsDir() {
				sc.log.Debug("not following symlinked folder", "path", abs)
				continue
			}
			typ = info.Mode().Type()
		}
		if typ.IsDir() {
			if skipDirs[name] {
				continue
			}
			n := nfc(name)
			if n != name && hasName(entries, n) {
				n = name
			}
			sub := &dirInfo{rel: joinRel(d.rel, n), diskRel: joinRel(d.diskRel, name), abs: abs}
			sc.walkDir(ctx, ri, sub, jobs, results)
			continue
		}
		if !typ.IsRegular() {
			continue
		}
		x := ext(name)
		if playlistExts[x] {
			st.playlists = append(st.playlists, playlistFile{root: ri, rel: joinRel(d.rel, nfc(name)), abs: abs})
			continue
		}
		if !audioExts[x] {
			sc.ignored(x, abs)
			continue
		}
		st.files++
		n := nfc(name)
		if n != name && hasName(entries, n) {
			n = name // both spellings exist: keep them apart
		}
		j := job{root: ri, dir: d, abs: abs, added: sc.added}
		j.rel = joinRel(d.rel, n)
		if t, ok := sc.firstSeen[firstSeenKey(sc.roots[ri].abs, j.rel)]; ok {
			j.added = t // from an outdated cache
		}
		if n != name || d.diskRel != d.rel {
			j.diskRel = joinRel(d.diskRel, name)
		}
		// A file seen before is stat'ed here to decide on reuse; a new one
		// is stat'ed by its worker once open (fstat is cheaper).
		p := sc.prev[prevKey{ri, j.rel}]
		if p == nil && info == nil {
			toRead = append(toRead, queued{j, inode(e), name})
			continue
		}
		j.statted = true
		if info != nil {
			j.size, j.mtime = info.Size(), info.ModTime().UTC()
		} else if j.size, j.mtime, err = dst.lstat(name); err != nil {
			results <- result{abs: abs, err: err}
			continue
		}
		if t := sc.reuse(&j, p); t != nil {
			results <- result{t: t, reused: true}
			continue
		}
		toRead = append(toRead, queued{j, inode(e), name})
	}
	sc.queue(ctx, toRead, jobs, dst, cold)
	return nil
}

// queued is a file of a folder to read, with its inode number and its
// name on disk.
type queued struct {
	j    job
	ino  uint64
	name string
}

// coldFolder is how long listing a folder takes only when the disk had to
// be read (a cached folder lists in microseconds): its files are then most
// likely not cached either, and worth reading ahead.
const coldFolder = 250 * time.Microsecond

// prefetchAhead is how many files of a folder the walk asks the kernel to
// read ahead of the one it queues: a whole album, which on a cold disk
// turns the workers' one-at-a-time reads into a batch the disk can order.
const prefetchAhead = 16

// queue sends the files of one folder (listed by d) to the workers in
// inode order, which is about the order of their inodes, and usually of
// their data, on disk, where names give a scattered order for files copied
// in another order. In a cold folder it asks the kernel to read up to
// prefetchAhead files ahead; in a cached one that would only cost system
// calls.
func (sc *scan) queue(ctx context.Context, files []queued, jobs chan<- job, d dirStater, cold bool) {
	slices.SortStableFunc(files, func(a, b queued) int { return cmp.Compare(a.ino, b.ino) })
	for i := range files {
		if ctx.Err() != nil {
			return
		}
		switch {
		case !cold:
		case i == 0:
			for _, f := range files[:min(len(files), prefetchAhead)] {
				d.prefetch(f.name)
			}
		case i+prefetchAhead-1 < len(files):
			d.prefetch(files[i+prefetchAhead-1].name)
		}
		jobs <- files[i].j
	}
}

// ignored counts a non-audio file, remembering known audio formats daapd
// does not play for the summary.
func (sc *scan) ignored(x, abs string) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	sc.stats.Ignored++
	if unsupportedAudioExts[x] {
		sc.unsupported[x]++
		sc.unsupportedSkip(abs, x)
	}
	sc.log.Debug("ignoring file: not a supported audio or playlist format", "path", abs)
}

// reuse returns the previous track for j when its file is unchanged, fixing
// up (on a copy) what the folder may have changed around it. A changed file
// keeps the previous track's date added.
func (sc *scan) reuse(j *job, p *Track) *Track {
	if p == nil {
		return nil
	}
	sc.seen[p] = true
	j.added, j.prev = p.Added, p
	if p.Size != j.size || p.ModTime != StampOf(j.mtime) {
		return nil
	}
	art := p.Artwork
	if art == nil || art.Source != ArtworkEmbedded {
		art = j.dir.art
	}
	kind := sc.kindOf(p.Root, p.Path, p.TagKind)
	if p.Missing || p.DiskPath() != j.diskRel || !sameArt(p.Artwork, art) || p.MediaKind != kind {
		c := *p
		c.Missing, c.Artwork, c.MediaKind = false, art, kind
		c.setDiskPath(j.diskRel)
		return &c
	}
	return p
}

// hasName reports whether entries, sorted by name, hold name.
func hasName(entries []os.DirEntry, name string) bool {
	_, ok := slices.BinarySearchFunc(entries, name, func(e os.DirEntry, n string) int { return strings.Compare(e.Name(), n) })
	return ok
}

func joinRel(dir, name string) string {
	if dir == "" {
		return name
	}
	return dir + "/" + name
}
