package web

import (
	"cmp"
	"slices"
	"strings"
	"sync"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"github.com/daapd/daapd/library"
)

// index is what the pages need of one snapshot beyond the snapshot itself:
// folded search text and sorted orders. It is built once per revision.
type index struct {
	snap      *library.Snapshot
	trackText []string // per snap.Tracks: folded title, artist, album, album artist
	albumText []string // per snap.Albums: folded name and artist
	artText   []string // per snap.Artists

	sortMu sync.Mutex
	sorted map[string][]*library.Track // track orders by sort key, made on demand
}

// facts are what every page shows of one snapshot: tracks by format and
// the tracks Apple clients do not list. One cheap pass per revision.
type facts struct {
	snap    *library.Snapshot
	formats []count   // tracks by format, largest first
	hidden  []problem // tracks hidden from iTunes and Music.app
}

type count struct {
	Name string
	N    int
}

// facts returns the facts of the current snapshot.
func (s *Server) facts() *facts {
	snap := s.cfg.Catalog.Snapshot()
	if f := s.fax.Load(); f != nil && f.snap == snap {
		return f
	}
	s.faxMu.Lock()
	defer s.faxMu.Unlock()
	if f := s.fax.Load(); f != nil && f.snap == snap {
		return f
	}
	f := &facts{snap: snap}
	formats := map[string]int{}
	for _, t := range snap.Tracks {
		formats[cmp.Or(t.Format, "unknown")]++
		if why := s.cfg.DAAP.HiddenFromApple(t); why != "" {
			f.hidden = append(f.hidden, hiddenProblem(t, why))
		}
	}
	for k, n := range formats {
		f.formats = append(f.formats, count{k, n})
	}
	slices.SortFunc(f.formats, func(a, b count) int { return cmp.Or(cmp.Compare(b.N, a.N), strings.Compare(a.Name, b.Name)) })
	s.fax.Store(f)
	return f
}

// index returns the search index of the current snapshot, built on the
// first search or sorted list of a revision.
func (s *Server) index() *index {
	snap := s.cfg.Catalog.Snapshot()
	if x := s.idx.Load(); x != nil && x.snap == snap {
		return x
	}
	s.idxMu.Lock()
	defer s.idxMu.Unlock()
	if x := s.idx.Load(); x != nil && x.snap == snap {
		return x
	}
	x := buildIndex(snap)
	s.idx.Store(x)
	return x
}

func buildIndex(snap *library.Snapshot) *index {
	x := &index{snap: snap, sorted: make(map[string][]*library.Track)}
	x.trackText = make([]string, len(snap.Tracks))
	folded := make(map[string]string) // artists and albums repeat
	f := func(v string) string {
		if r, ok := folded[v]; ok {
			return r
		}
		r := fold(v)
		folded[v] = r
		return r
	}
	for i, t := range snap.Tracks {
		x.trackText[i] = fold(t.Title) + "\x00" + f(t.Artist) + "\x00" + f(t.Album) + "\x00" + f(t.AlbumArtist)
	}
	x.albumText = make([]string, len(snap.Albums))
	for i, a := range snap.Albums {
		x.albumText[i] = f(a.Name) + "\x00" + f(a.Artist)
	}
	x.artText = make([]string, len(snap.Artists))
	for i, a := range snap.Artists {
		x.artText[i] = f(a.Name)
	}
	return x
}

// fold lowers s and strips its accents, so "sigur ros" finds "Sigur Rós".
func fold(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		return strings.ToLower(s)
	}
	var b strings.Builder
	for _, r := range norm.NFD.String(s) {
		if unicode.Is(unicode.Mn, r) {
			continue
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// words splits a query into folded words.
func words(q string) []string {
	return strings.Fields(fold(q))
}

func matches(text string, ws []string) bool {
	for _, w := range ws {
		if !strings.Contains(text, w) {
			return false
		}
	}
	return true
}

// searchTracks returns the tracks matching every word, in catalog order.
func (x *index) searchTracks(ws []string) []*library.Track {
	var out []*library.Track
	for i, txt := range x.trackText {
		if matches(txt, ws) {
			out = append(out, x.snap.Tracks[i])
		}
	}
	return out
}

func (x *index) searchAlbums(ws []string) []*library.Album {
	var out []*library.Album
	for i, txt := range x.albumText {
		if matches(txt, ws) {
			out = append(out, x.snap.Albums[i])
		}
	}
	return out
}

func (x *index) searchArtists(ws []string) []*library.Artist {
	var out []*library.Artist
	for i, txt := range x.artText {
		if matches(txt, ws) {
			out = append(out, x.snap.Artists[i])
		}
	}
	return out
}

// trackSorts are the orders of the track list: a text key (folded once per
// track, then compared) or a comparison.
var trackSorts = map[string]struct {
	key  func(t *library.Track) string
	less func(a, b *library.Track) int
}{
	"title":  {key: func(t *library.Track) string { return fold(t.Title) }},
	"artist": {key: func(t *library.Track) string { return fold(t.Artist) }},
	"album":  {key: func(t *library.Track) string { return fold(t.Album) }},
	"added":  {less: func(a, b *library.Track) int { return cmp.Compare(b.Added, a.Added) }},
	"length": {less: func(a, b *library.Track) int { return cmp.Compare(a.DurationMS, b.DurationMS) }},
}

// tracksBy returns the tracks in the order key names ("" = catalog order:
// by folder and file), sorted once per revision.
func (x *index) tracksBy(key string) []*library.Track {
	order, ok := trackSorts[key]
	if !ok {
		return x.snap.Tracks
	}
	x.sortMu.Lock()
	defer x.sortMu.Unlock()
	if t, ok := x.sorted[key]; ok {
		return t
	}
	t := slices.Clone(x.snap.Tracks)
	if order.less != nil {
		slices.SortStableFunc(t, order.less)
	} else {
		type keyed struct {
			k string
			t *library.Track
		}
		ks := make([]keyed, len(t))
		for i, tr := range t {
			ks[i] = keyed{order.key(tr), tr}
		}
		slices.SortStableFunc(ks, func(a, b keyed) int { return strings.Compare(a.k, b.k) })
		for i := range ks {
			t[i] = ks[i].t
		}
	}
	x.sorted[key] = t
	return t
}

// albumOrder sorts an album's tracks by disc, track number, then path.
func albumOrder(ts []*library.Track) {
	slices.SortStableFunc(ts, func(a, b *library.Track) int {
		return cmp.Or(cmp.Compare(a.DiscNumber, b.DiscNumber), cmp.Compare(a.TrackNumber, b.TrackNumber),
			strings.Compare(a.Path, b.Path))
	})
}
