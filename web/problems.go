package web

import (
	"cmp"
	"net/http"
	"slices"
	"strings"

	"github.com/daapd/daapd/library"
)

// problem is one row of the Problems page.
type problem struct {
	Root   string // music folder
	Path   string // relative to Root ("" for the folder itself)
	Kind   string
	Reason string
	Fix    string
	Track  uint32 // a track in the catalog (hidden from Apple clients), 0 if none
}

// Kinds the page adds to library's skip kinds.
const (
	kindRoot   = "folder unavailable"
	kindHidden = "hidden from Apple"
)

// fixes tells what to do about each kind of problem.
var fixes = map[string]string{
	library.SkipUnreadable:  "Check that daapd's user may read the file, and that the disk or share is healthy; then rescan.",
	library.SkipTimeout:     "Reading the file took too long: check the disk or network share, then rescan.",
	library.SkipTruncated:   "The file is cut short, as after an interrupted copy or download: copy or rip it again.",
	library.SkipUnsupported: "daapd does not serve this format: convert the file to FLAC, ALAC, AAC or MP3 (ffmpeg does this).",
	library.SkipNoAudio:     "The file holds no audio: delete it, or replace it with a good copy.",
	library.SkipBroken:      "The file's content is not audio in the format its name says: replace it, or fix its extension.",
	library.SkipUndecodable: "No decoder can play this file as it is (an unsupported version, an impossible channel layout, damaged headers or missing audio data): replace it with a good copy, or re-encode it from the source.",
	library.SkipPlaylist:    "Fix the entries' paths (relative to the playlist's folder, or to the music folder) or remove them.",
	kindRoot:                "Mount the disk or share, or fix the path in the configuration. Its tracks stay listed (unplayable) until it is back.",
}

var kindOrder = []string{kindRoot, library.SkipUnreadable, library.SkipTimeout, library.SkipTruncated,
	library.SkipBroken, library.SkipUndecodable, library.SkipNoAudio, library.SkipUnsupported, library.SkipPlaylist, kindHidden}

// hiddenProblem is the row of a track hidden from Apple clients.
func hiddenProblem(t *library.Track, why string) problem {
	fix := "Install ffmpeg and keep transcode: auto, so daapd transcodes it for them; or set transcode: off to list it anyway."
	if strings.Contains(why, "duration") {
		fix = "Re-encode or repair the file so its length can be read; other clients play it as it is."
	}
	return problem{Root: t.Root, Path: t.Path, Kind: kindHidden, Reason: why, Fix: fix, Track: t.ID}
}

// problemList gathers every problem: unavailable roots, skipped files,
// tracks hidden from Apple clients.
func (s *Server) problemList(f *facts) []problem {
	st, _ := s.libStatus()
	var ps []problem
	for _, root := range st.Unavailable {
		ps = append(ps, problem{Root: root, Kind: kindRoot, Reason: "The music folder is missing, not a folder, unreadable, or suddenly empty.", Fix: fixes[kindRoot]})
	}
	for _, sk := range st.Skips {
		ps = append(ps, problem{Root: sk.Root, Path: sk.Path, Kind: sk.Kind, Reason: sk.Reason, Fix: fixes[sk.Kind]})
	}
	return append(ps, f.hidden...)
}

// problemCount is the number of problems, for the tab's badge.
func (s *Server) problemCount(f *facts) int {
	if s.cfg.Status == nil {
		return len(f.hidden)
	}
	st := s.cfg.Status()
	return len(st.Unavailable) + len(st.Skips) + len(f.hidden)
}

type problemsView struct {
	Rows   []problem
	Pager  pager
	Total  int
	Kinds  []count // problems by kind
	Kind   string  // the kind shown, "" = all
	Sort   string
	Q      string
	Skips  int // skipped files counted by the last scan
	Capped bool
}

// problemSorts are the columns the table sorts by.
var problemSorts = map[string]func(a, b problem) int{
	"path": func(a, b problem) int {
		return cmp.Or(strings.Compare(a.Path, b.Path), strings.Compare(a.Root, b.Root))
	},
	"kind": func(a, b problem) int {
		return cmp.Or(kindRank(a.Kind)-kindRank(b.Kind), strings.Compare(a.Path, b.Path))
	},
	"folder": func(a, b problem) int {
		return cmp.Or(strings.Compare(a.Root, b.Root), strings.Compare(a.Path, b.Path))
	},
	"reason": func(a, b problem) int {
		return cmp.Or(strings.Compare(a.Reason, b.Reason), strings.Compare(a.Path, b.Path))
	},
}

func kindRank(k string) int {
	if i := slices.Index(kindOrder, k); i >= 0 {
		return i
	}
	return len(kindOrder)
}

func (s *Server) problems(w http.ResponseWriter, r *http.Request) {
	all := s.problemList(s.facts())
	q := r.URL.Query()
	v := &problemsView{Kind: q.Get("kind"), Sort: cmp.Or(q.Get("sort"), "kind"), Q: q.Get("filter")}
	st, _ := s.libStatus()
	v.Skips = st.LastStats.Skipped
	v.Capped = len(st.Skips) >= library.MaxSkips
	byKind := map[string]int{}
	ws := words(v.Q)
	var rows []problem
	for _, p := range all {
		byKind[p.Kind]++
		if v.Kind != "" && p.Kind != v.Kind {
			continue
		}
		if len(ws) > 0 && !matches(fold(p.Root+"/"+p.Path+"\x00"+p.Reason+"\x00"+p.Kind), ws) {
			continue
		}
		rows = append(rows, p)
	}
	for _, k := range kindOrder {
		if byKind[k] > 0 {
			v.Kinds = append(v.Kinds, count{k, byKind[k]})
		}
	}
	less, ok := problemSorts[v.Sort]
	if !ok {
		v.Sort, less = "kind", problemSorts["kind"]
	}
	slices.SortStableFunc(rows, less)
	v.Total = len(all)
	p, lo, hi := paginate(r, len(rows), problemsPerPage)
	v.Rows, v.Pager = rows[lo:hi], p
	s.render(w, r, "problems", http.StatusOK, s.newPage(r, "problems", "Problems", v))
}
