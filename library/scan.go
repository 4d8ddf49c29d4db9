package library

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/daapd/daapd/library/probe"
	"github.com/daapd/daapd/library/tags"
)

// ErrRootUnavailable means a music root is missing, not a directory,
// unreadable, or suddenly empty. Its previous tracks are kept.
var ErrRootUnavailable = errors.New("music root unavailable")

// Defaults for a Scanner's zero fields.
const (
	DefaultFileTimeout = 10 * time.Second
	progressLogEvery   = 5 * time.Second
	progressLiveEvery  = 250 * time.Millisecond
	partialEvery       = 1500 * time.Millisecond
	// partialGrowth paces a first scan's partial results: one is published
	// only once the tracks found have grown by 1/partialGrowth since the
	// last, so all of them together cost a small multiple of one publish
	// of the whole library, not one per tick.
	partialGrowth = 4
)

// Scanner reads music roots into tracks and playlists. The zero values of
// Workers, FileTimeout and Log mean runtime.NumCPU(), DefaultFileTimeout
// and no logging. A Scanner only ever opens files read-only.
type Scanner struct {
	Roots       []string // music folders; made absolute
	LibraryID   string   // seeds every id (see LoadOrCreateLibraryID)
	Workers     int
	FileTimeout time.Duration // a file taking longer is abandoned and skipped
	Log         *slog.Logger
	Progress    io.Writer // a live progress line goes here if it is a terminal
	// FFprobe is the ffprobe binary that describes formats without a
	// native reader: "" looks for "ffprobe" in PATH, "off" never runs it.
	// ffmpeg, from PATH, measures lengths ffprobe does not know.
	FFprobe string
	ffFails *ffFailures // ffprobe failures by file version, shared by copies; nil: per scan
	// Tracks under these folders (absolute) are audiobooks or podcasts,
	// whatever their tags say.
	AudiobookFolders []string
	PodcastFolders   []string

	warned    map[string]string // .smartpl path → the text last warned about; nil: always warn
	firstSeen map[string]Stamp  // first-seen dates salvaged from an outdated cache

	open       func(name string) (readCloserAt, error)                        // openRaw; tests inject fakes
	read       func(r io.ReaderAt, size int64) (probe.Info, tags.Tags, error) // readFacts; tests inject fakes
	inUse      func(id uint32) bool                                           // whether a track holds id before the scan; nil: the ids of prev
	prevSorted bool                                                           // ScanPaths's prev is in catalog order (a snapshot's tracks)
	partial    func(found []*Track)                                           // gets the tracks found since the last call (catalog order), see partialGrowth
	progress   func(Progress)                                                 // gets the progress on every tick
	every      struct{ log, live, partial time.Duration }                     // test overrides
}

type readCloserAt interface {
	io.ReaderAt
	io.Closer
}

// Stats counts what a scan did.
type Stats struct {
	Files   int // audio files found
	Tracks  int // tracks in the result, kept ones included
	Read    int // files opened and read
	Reused  int // unchanged files taken from prev without reading
	Skipped int // audio files that could not be read (each logged)
	// SkippedBy counts skipped files by kind of reason ("needs ffprobe
	// (ape)", "truncated or corrupt", "timed out", ...).
	SkippedBy map[string]int
	Kept      int   // tracks kept from unavailable roots or folders
	Ignored   int   // files that are neither audio nor playlists
	Playlists int   // playlists in the result
	Reads     int   // read calls made on audio files
	BytesRead int64 // bytes read from audio files
	Duration  time.Duration
}

// FilesPerSecond is the scan rate.
func (s Stats) FilesPerSecond() float64 {
	if s.Duration <= 0 {
		return 0
	}
	return float64(s.Files) / s.Duration.Seconds()
}

// Result is the outcome of a scan.
type Result struct {
	Tracks    []*Track    // catalog order (root, path), ids assigned
	Playlists []*Playlist // sorted by root and path
	Stats     Stats
	// PlaylistErrors has one error per playlist file that could not be
	// read or parsed (each logged); those playlists are left out.
	PlaylistErrors []error
	// RootErrors has one error per unavailable root, each wrapping
	// ErrRootUnavailable. The previous tracks of those roots are in Tracks,
	// marked Missing; UnavailableRoots names the roots.
	RootErrors       []error
	UnavailableRoots []string
	// Skips lists the files left out and why (at most MaxSkips): audio
	// files that could not be read, audio formats daapd does not read,
	// and playlists that cannot be read or have entries pointing nowhere.
	Skips []Skip
}

// Err joins RootErrors, nil when every root was scanned.
func (r *Result) Err() error { return errors.Join(r.RootErrors...) }

type prevKey struct {
	root int
	path string
}

// result is one file's outcome, sent to the collector.
type result struct {
	t      *Track
	reused bool
	abs    string // for the skip warning
	err    error  // skip reason when t is nil; a tag problem when t is not
	prev   *Track // the file's previous track, kept if it cannot be read now
	reads  int
	bytes  int64
}

// scan is the state of one Scan call.
type scan struct {
	*Scanner
	log     *slog.Logger
	started time.Time
	added   Stamp // date added of new tracks: started, in whole seconds
	fresh   bool  // no previous tracks or dates (no cache): new tracks date from their mtime
	roots   []rootState
	tags    map[string]string  // root → identity tag (see keyHash)
	rootIdx map[string]int     // absolute root → index in roots
	prev    map[prevKey]*Track // read-only during the walk
	seen    map[*Track]bool    // prev tracks found again; walker only
	ids     *idAlloc           // collector only

	playlistErrs []error

	mu          sync.Mutex // guards stats.Ignored, unsupported and skips
	stats       Stats
	unsupported map[string]int
	ff          *ffprober // nil without ffprobe
	skips       []Skip
}

// Scan walks every root and returns its tracks and playlists. Tracks of prev
// whose root, path, size and mtime are unchanged are reused as the same
// pointer without opening the file. A file that cannot be read is logged
// and skipped; a root that is unavailable keeps its previous tracks, marked
// Missing, and is reported in Result.RootErrors. The error is non-nil only
// when the scan could not run or was cancelled.
func (s *Scanner) Scan(ctx context.Context, prev []*Track) (Result, error) {
	sc, err := s.newScan(prev)
	if err != nil {
		return Result{}, err
	}
	tracks, err := sc.run(ctx, func(ctx context.Context, jobs chan<- job, results chan<- result) {
		for ri := range sc.roots {
			sc.walkRoot(ctx, ri, jobs, results)
		}
	})
	if err != nil {
		return Result{}, err
	}
	return sc.finish(tracks, nil, prev), nil
}

// newScan prepares the state of one scan against prev.
func (s *Scanner) newScan(prev []*Track) (*scan, error) {
	if len(s.Roots) == 0 {
		return nil, errors.New("scan: no music roots")
	}
	sc := &scan{Scanner: s, log: s.Log, started: time.Now(), unsupported: map[string]int{}}
	if sc.log == nil {
		sc.log = slog.New(slog.DiscardHandler)
	}
	if sc.open == nil {
		sc.open = openRaw
	}
	if sc.read == nil {
		sc.read = readFacts
	}
	if sc.ffFails == nil {
		sc.ffFails = new(ffFailures)
	}
	if s.FFprobe != "off" {
		timeout := cmp.Or(s.FileTimeout, DefaultFileTimeout)
		sc.ff = newFFprober(s.FFprobe, max(1, runtime.NumCPU()/2), timeout-timeout/5)
	}
	var abss []string
	for _, r := range s.Roots {
		abs, err := filepath.Abs(r)
		if err != nil {
			return nil, fmt.Errorf("scan: root %s: %w", r, err)
		}
		abss = append(abss, abs)
	}
	sc.rootIdx = make(map[string]int)
	for _, abs := range abss {
		if _, dup := sc.rootIdx[abs]; dup {
			continue
		}
		if outer := enclosing(abss, abs); outer != "" {
			sc.log.Warn("music folder is inside another one; scanning it once, as part of the outer one", "folder", abs, "inside", outer)
			continue
		}
		sc.rootIdx[abs] = len(sc.roots)
		tag := ""
		if len(sc.roots) > 0 {
			tag = abs
		}
		sc.roots = append(sc.roots, rootState{abs: abs, tag: tag})
	}
	sc.tags = make(map[string]string, len(sc.roots))
	for _, r := range sc.roots {
		sc.tags[r.abs] = r.tag
	}
	sc.usePrev(prev, prev)
	sc.added = StampOf(sc.started.Truncate(time.Second))
	sc.fresh = len(prev) == 0 && len(s.firstSeen) == 0
	return sc, nil
}

// usePrev makes prev the tracks the walk may reuse, and all (a superset)
// the tracks whose ids new files must not take: the scanner's inUse hook
// answers for them when set, so a rescan of a few folders of a large
// library indexes only their tracks.
func (sc *scan) usePrev(prev, all []*Track) {
	sc.prev = make(map[prevKey]*Track, len(prev))
	sc.seen = make(map[*Track]bool, len(prev))
	for _, t := range prev {
		if ri, ok := sc.rootIdx[t.Root]; ok {
			sc.prev[prevKey{ri, t.Path}] = t
		}
	}
	if sc.inUse != nil {
		sc.ids = newIDAlloc(sc.LibraryID, sc.tags, nil)
		sc.ids.inUse = sc.inUse
		return
	}
	sc.ids = newIDAlloc(sc.LibraryID, sc.tags, all)
}

// run walks with walk, feeding the worker pool, and collects the tracks.
// It fails only when ctx is done.
func (sc *scan) run(ctx context.Context, walk func(ctx context.Context, jobs chan<- job, results chan<- result)) ([]*Track, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	workers := cmp.Or(max(sc.Workers, 0), runtime.NumCPU())
	jobs := make(chan job, 4*workers)
	results := make(chan result, 4*workers)
	p := &pool{sc: sc, jobs: jobs, results: results, timeout: cmp.Or(sc.FileTimeout, DefaultFileTimeout)}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		walk(ctx, jobs, results)
		close(jobs)
	}()
	p.start(ctx, workers)
	tracks := sc.collect(ctx, results)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return tracks, nil
}

// collect receives results until every walker and worker is done, logging
// skipped files and progress, and publishing partial results.
func (sc *scan) collect(ctx context.Context, results <-chan result) []*Track {
	every := sc.every
	every.log = cmp.Or(every.log, progressLogEvery)
	every.live = cmp.Or(every.live, progressLiveEvery)
	every.partial = cmp.Or(every.partial, partialEvery)
	live := isTerminal(sc.Progress)
	tick := time.NewTicker(min(every.log, every.partial, every.live))
	defer tick.Stop()
	lastLog, lastLive, lastPartial := sc.started, sc.started, time.Now()
	intern := newInterner()
	var tracks []*Track
	published := 0 // tracks[:published] went out as partial results
	st := &sc.stats
	for {
		select {
		case r, ok := <-results:
			if !ok {
				if live {
					fmt.Fprint(sc.Progress, "\r\033[K")
				}
				return tracks
			}
			st.Files++
			st.Reads += r.reads
			st.BytesRead += r.bytes
			switch {
			case r.reused:
				st.Reused++
			case r.t == nil && r.prev != nil && transient(r.err):
				// A file that was read before and now fails to open or
				// read (a flaky share) keeps its previous track.
				st.Skipped++
				st.Kept++
				if ctx.Err() == nil {
					sc.log.Warn("cannot read file; keeping its previous track", "path", r.abs, "reason", r.err)
				}
				r.t = r.prev
			case r.t == nil:
				st.Skipped++
				if st.SkippedBy == nil {
					st.SkippedBy = map[string]int{}
				}
				st.SkippedBy[skipReason(r.err)]++ // a few dozen kinds at most
				if ctx.Err() == nil {
					sc.log.Warn("skipping file", "path", r.abs, "reason", r.err)
					sc.skip(r.abs, r.err)
				}
				continue
			default:
				st.Read++
				if r.err != nil {
					sc.log.Warn("cannot read tags; using the file name", "path", r.abs, "reason", r.err)
				}
				intern.track(r.t)
				sc.ids.assign(r.t, r.prev)
			}
			tracks = append(tracks, r.t)
		case now := <-tick.C:
			if ctx.Err() != nil {
				continue
			}
			if sc.progress != nil {
				sc.progress(Progress{Started: sc.started, Files: st.Files, Skipped: st.Skipped})
			}
			if now.Sub(lastLog) >= every.log {
				lastLog = now
				sc.log.Info("scanning", "files", st.Files, "files_per_s", rate(st.Files, now.Sub(sc.started)), "skipped", st.Skipped)
			}
			if live && now.Sub(lastLive) >= every.live {
				lastLive = now
				fmt.Fprintf(sc.Progress, "\rscanning: %d files, %.0f files/s, %d skipped\033[K",
					st.Files, rate(st.Files, now.Sub(sc.started)), st.Skipped)
			}
			if grown := len(tracks) - published; sc.partial != nil && now.Sub(lastPartial) >= every.partial &&
				grown > 0 && grown >= published/partialGrowth {
				lastPartial = now
				part := slices.Clone(tracks[published:])
				published = len(tracks)
				sortTracks(part)
				sc.partial(part)
			}
		}
	}
}

// finish adds to the tracks found (in any order) the previous tracks kept
// as they are (which must be in catalog order) and those of unavailable roots and
// folders, reads the playlists and logs the summary.
func (sc *scan) finish(tracks, kept, prev []*Track) Result {
	var res Result
	perRoot := make([]int, len(sc.roots))
	rootIdx := sc.rootIdx
	for _, t := range prev {
		if ri, ok := rootIdx[t.Root]; ok {
			perRoot[ri]++
		}
	}
	down := make([]bool, len(sc.roots))
	for ri := range sc.roots {
		r := &sc.roots[ri]
		if r.err == nil && r.files == 0 && perRoot[ri] > 0 {
			r.err = fmt.Errorf("%w: %s: no audio files found where there were %d (unmounted?)", ErrRootUnavailable, r.abs, perRoot[ri])
		}
		if r.err != nil {
			down[ri] = true
			sc.log.Error("music root unavailable; keeping its previous tracks", "root", r.abs, "tracks", perRoot[ri], "err", r.err)
			res.RootErrors = append(res.RootErrors, r.err)
			res.UnavailableRoots = append(res.UnavailableRoots, r.abs)
		}
	}
	var missing []*Track
	for _, t := range prev {
		ri, ok := rootIdx[t.Root]
		if !ok || sc.seen[t] || !(down[ri] || under(sc.roots[ri].failedDirs, t.Path)) {
			continue
		}
		if !t.Missing {
			c := *t
			c.Missing = true
			t = &c
		}
		missing = append(missing, t)
		sc.stats.Kept++
	}
	sortTracks(tracks)
	if !slices.IsSortedFunc(missing, compareTracks) {
		sortTracks(missing) // prev was not in catalog order
	}
	tracks = mergeSorted(mergeSorted(tracks, kept), missing)
	res.Tracks = tracks
	res.Playlists = sc.readPlaylists(tracks, sc.tags)
	res.PlaylistErrors = sc.playlistErrs
	st := &sc.stats
	st.Tracks, st.Playlists = len(tracks), len(res.Playlists)
	st.Duration = time.Since(sc.started)
	res.Stats = *st
	sc.mu.Lock()
	res.Skips = sc.skips
	sc.mu.Unlock()
	if len(sc.unsupported) > 0 {
		var list []string
		for _, x := range slices.Sorted(maps.Keys(sc.unsupported)) {
			list = append(list, fmt.Sprintf("%s=%d", x, sc.unsupported[x]))
		}
		sc.log.Info("ignored audio files in formats daapd does not play", "formats", strings.Join(list, " "))
	}
	sc.log.Info("scan finished", "files", st.Files, "tracks", st.Tracks, "playlists", st.Playlists,
		"skipped", st.Skipped, "reused", st.Reused, "kept", st.Kept,
		"duration", st.Duration.Round(time.Millisecond), "files_per_s", rate(st.Files, st.Duration))
	return res
}

// transient reports whether err is an I/O failure or a timeout rather than
// a verdict on the file's content.
func transient(err error) bool {
	var pe *fs.PathError
	return errors.As(err, &pe) || errors.Is(err, errTimeout)
}

// enclosing returns the root of roots that strictly contains dir, or "".
func enclosing(roots []string, dir string) string {
	for _, r := range roots {
		if r != dir && strings.HasPrefix(dir, strings.TrimSuffix(r, string(filepath.Separator))+string(filepath.Separator)) {
			return r
		}
	}
	return ""
}

// under reports whether path lies in one of dirs.
func under(dirs []string, path string) bool {
	for _, d := range dirs {
		if strings.HasPrefix(path, d) && len(path) > len(d) && path[len(d)] == '/' {
			return true
		}
	}
	return false
}

func rate(n int, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(int(float64(n)/d.Seconds()*10)) / 10
}

// kindOf is the media kind of a track at rel under root: the folder's
// when it lies in an audiobook or podcast folder, else what its file says.
func (s *Scanner) kindOf(root, rel string, tagKind MediaKind) MediaKind {
	if len(s.AudiobookFolders)+len(s.PodcastFolders) > 0 {
		abs := filepath.Join(root, filepath.FromSlash(rel))
		if inFolder(s.AudiobookFolders, abs) {
			return MediaAudiobook
		}
		if inFolder(s.PodcastFolders, abs) {
			return MediaPodcast
		}
	}
	if tagKind == 0 {
		return MediaMusic
	}
	return tagKind
}

// inFolder reports whether abs lies under one of dirs.
func inFolder(dirs []string, abs string) bool {
	for _, d := range dirs {
		if strings.HasPrefix(abs, strings.TrimSuffix(d, string(filepath.Separator))+string(filepath.Separator)) {
			return true
		}
	}
	return false
}
