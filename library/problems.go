package library

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/daapd/daapd/library/probe"
)

// MaxSkips bounds the skipped files a scan result and the library's status
// keep (the count in Stats is exact).
const MaxSkips = 10000

// Kinds of Skip.
const (
	SkipUnreadable  = "unreadable"  // cannot be opened or read (permissions, I/O error)
	SkipTimeout     = "timed out"   // reading took longer than the file timeout
	SkipTruncated   = "truncated"   // the audio header is cut short
	SkipUnsupported = "unsupported" // a format daapd does not read or serve
	SkipNoAudio     = "no audio"    // a container without an audio stream, or empty
	SkipBroken      = "broken"      // the file's content is not what its name says
	SkipUndecodable = "undecodable" // the headers show no decoder can play it (unsupported version, impossible layout, no audio data)
	SkipPlaylist    = "playlist"    // a playlist that cannot be read, or entries that point nowhere
)

// Skip is a file the last scan left out of the catalog, and why.
type Skip struct {
	Root   string // absolute music root
	Path   string // relative to Root, slash-separated
	Kind   string // one of the Skip* kinds
	Reason string // the error in words
}

// Progress is a running scan's progress.
type Progress struct {
	Started time.Time
	Files   int // audio files done
	Skipped int
}

// skipKind classifies a skip reason.
func skipKind(err error) string {
	var pe *fs.PathError
	switch {
	case errors.Is(err, ErrNeedsFFprobe):
		return SkipUnsupported // without ffprobe; with it, daapd reads the format
	case errors.Is(err, errTimeout):
		return SkipTimeout
	case errors.Is(err, probe.ErrUndecodable):
		return SkipUndecodable
	case errors.Is(err, probe.ErrTruncated):
		return SkipTruncated
	case errors.Is(err, probe.ErrNoAudio), errors.Is(err, errEmpty), errors.Is(err, errNoLength):
		return SkipNoAudio
	case errors.Is(err, probe.ErrUnknownFormat):
		return SkipBroken
	case errors.As(err, &pe):
		return SkipUnreadable
	}
	return SkipBroken
}

// addSkip records a skipped file, up to MaxSkips. The caller holds sc.mu or
// is the only goroutine left.
func (sc *scan) addSkip(abs, kind, reason string) {
	if len(sc.skips) >= MaxSkips {
		return
	}
	root, rel := abs, ""
	for i := range sc.roots {
		r := sc.roots[i].abs
		if p, ok := strings.CutPrefix(abs, strings.TrimSuffix(r, string(filepath.Separator))+string(filepath.Separator)); ok {
			root, rel = r, filepath.ToSlash(p)
			break
		}
	}
	sc.skips = append(sc.skips, Skip{Root: root, Path: nfc(rel), Kind: kind, Reason: reason})
}

func (sc *scan) skip(abs string, err error) {
	sc.mu.Lock()
	sc.addSkip(abs, skipKind(err), err.Error())
	sc.mu.Unlock()
}

func (sc *scan) unsupportedSkip(abs, x string) {
	sc.addSkip(abs, SkipUnsupported, fmt.Sprintf("%s files are not supported", strings.ToUpper(x)))
}

// mergeSkips keeps the skips of old that lie outside the paths a watcher
// rescanned (an existing file's whole folder is rescanned) and adds those
// of the rescan.
func mergeSkips(old, fresh []Skip, paths []string) []Skip {
	scopes := make([]string, len(paths))
	for i, p := range paths {
		scopes[i] = p
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			scopes[i] = filepath.Dir(p)
		}
	}
	out := append([]Skip(nil), fresh...)
	for _, s := range old {
		if len(out) >= MaxSkips {
			break
		}
		abs := filepath.Join(s.Root, filepath.FromSlash(s.Path))
		covered := false
		for _, p := range scopes {
			if within(abs, p) {
				covered = true
				break
			}
		}
		if !covered {
			out = append(out, s)
		}
	}
	return out
}

// within reports whether abs is dir or lies below it.
func within(abs, dir string) bool {
	return abs == dir || strings.HasPrefix(abs, strings.TrimSuffix(dir, string(filepath.Separator))+string(filepath.Separator))
}

// short formats a rescan interval: 15m, 1h, 90s.
func short(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

// watchMode describes how the library notices changes, and why.
func (l *Library) watchMode(w *Watcher) string {
	every := l.cfg.RescanInterval
	switch {
	case w == nil && every > 0:
		return fmt.Sprintf("periodic rescan every %v (watch is off)", short(every))
	case w == nil:
		return "none: rescans only on SIGHUP or POST /rescan (watch is off and rescan_interval is 0)"
	case w.Complete() && every > 0:
		return fmt.Sprintf("inotify, and a full rescan every %v", short(every))
	case w.Complete():
		return "inotify"
	case w.exhausted.Load() && every == 0:
		return fmt.Sprintf("inotify for some folders, the others polled for new files (the watch limit was reached); periodic rescan every %v", short(fallbackRescan))
	case w.exhausted.Load():
		return fmt.Sprintf("inotify for some folders, the others polled for new files (the watch limit was reached); periodic rescan every %v", short(every))
	case every > 0:
		return fmt.Sprintf("inotify, except network or FUSE folders (no events there); periodic rescan every %v", short(every))
	default:
		return "inotify, except network or FUSE folders (no events there; set rescan_interval to see their changes)"
	}
}
