package web

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/daapd/daapd/library"
)

// Page sizes.
const (
	tracksPerPage   = 100
	albumsPerPage   = 60
	artistsPerPage  = 120
	problemsPerPage = 200
	searchAlbums    = 12
	searchArtists   = 12
)

// page is what every template gets.
type page struct {
	Title    string
	Nav      string // the active tab
	Name     string // share name
	Q        string // the search box's text
	Locked   bool   // a password is set: offer signing out
	AssetV   string
	Problems int // badge on the Problems tab
	Data     any
}

func (s *Server) newPage(r *http.Request, nav, title string, data any) *page {
	p := &page{Title: title, Nav: nav, Name: s.cfg.Name(), Q: r.URL.Query().Get("q"),
		Locked: s.cfg.Password != "", AssetV: s.assetV, Data: data}
	if nav != "signin" {
		p.Problems = s.problemCount(s.facts())
	}
	return p
}

func (s *Server) render(w http.ResponseWriter, r *http.Request, name string, status int, data any) {
	var p *page
	switch d := data.(type) {
	case *page:
		p = d
	case *signinPage:
		p = &page{Title: "Sign in", Nav: "signin", Name: s.cfg.Name(), AssetV: s.assetV, Data: d}
	}
	var buf bytes.Buffer
	if err := s.pages[name].ExecuteTemplate(&buf, "layout", p); err != nil {
		s.log.Error("rendering page", "page", name, "err", err)
		http.Error(w, "cannot render the page", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		w.Write(buf.Bytes())
	}
}

func (s *Server) notFound(w http.ResponseWriter, r *http.Request, what string) {
	s.render(w, r, "message", http.StatusNotFound, s.newPage(r, "", "Not found",
		&message{Heading: "Not found", Text: what + " is not in the library (any more). A rescan may have changed it."}))
}

type message struct{ Heading, Text string }

// pager is one page of a long list.
type pager struct {
	Page, Pages, Total, From, To int
	Prev, Next                   string // URLs, "" at the ends
}

// paginate picks the page r asks for among total items, per per page, and
// returns it with the slice bounds.
func paginate(r *http.Request, total, per int) (pager, int, int) {
	pages := max(1, (total+per-1)/per)
	n, _ := strconv.Atoi(r.URL.Query().Get("page"))
	n = min(max(n, 1), pages)
	lo, hi := (n-1)*per, min(n*per, total)
	p := pager{Page: n, Pages: pages, Total: total, From: lo + 1, To: hi}
	link := func(k int) string {
		q := r.URL.Query()
		if k == 1 {
			q.Del("page")
		} else {
			q.Set("page", strconv.Itoa(k))
		}
		u := url.URL{Path: r.URL.Path, RawQuery: q.Encode()}
		return u.String()
	}
	if n > 1 {
		p.Prev = link(n - 1)
	}
	if n < pages {
		p.Next = link(n + 1)
	}
	return p, lo, hi
}

// trackList is a list of tracks for the tracks template.
type trackList struct {
	Tracks  []*library.Track
	Pager   pager
	Sort    string // the track list's order
	Numbers bool   // show track numbers (album pages)
	Sorts   bool   // offer orders
}

// --- Status (home) ---

type statusView struct {
	Status    library.Status
	HasStatus bool
	Snap      *library.Snapshot
	Formats   []count
	FormatMax int
	Addr      string
	Announce  Announce
	Version   string
	Uptime    string
	FFmpeg    string
	Transcode string
	Password  bool
	CanRescan bool
	Roots     []rootView
	Live      liveStatus
	HiddenN   int
}

type rootView struct {
	Path string
	OK   bool
}

// liveStatus is what /web/status.json reports and the page updates live.
type liveStatus struct {
	Scanning  bool   `json:"scanning"`
	Files     int    `json:"files"`
	Rate      string `json:"rate"`
	Skipped   int    `json:"skipped"`
	Tracks    string `json:"tracks"`
	Albums    string `json:"albums"`
	Artists   string `json:"artists"`
	Playlists string `json:"playlists"`
	Revision  uint32 `json:"revision"`
	Uptime    string `json:"uptime"`
	LastScan  string `json:"last_scan"`
	Summary   string `json:"summary"`
	Problems  int    `json:"problems"`
}

func (s *Server) live(f *facts, st library.Status) liveStatus {
	snap := f.snap
	l := liveStatus{
		Scanning: st.Scanning, Tracks: num(len(snap.Tracks)), Albums: num(len(snap.Albums)),
		Artists: num(len(snap.Artists)), Playlists: num(len(snap.Playlists)), Revision: snap.Revision,
		Uptime: roundDur(time.Since(s.cfg.Started)), Problems: s.problemCount(f),
	}
	if st.Scanning {
		l.Files, l.Skipped = st.Progress.Files, st.Progress.Skipped
		if d := time.Since(st.Progress.Started); d > 0 && !st.Progress.Started.IsZero() {
			l.Rate = num(int(float64(st.Progress.Files) / d.Seconds()))
		}
	}
	if !st.LastScan.IsZero() {
		l.LastScan = ago(st.LastScan)
		ls := st.LastStats
		l.Summary = fmt.Sprintf("%s files in %s (%s files/s): %s read, %s unchanged, %s skipped",
			num(ls.Files), roundDur(ls.Duration), num(int(ls.FilesPerSecond())), num(ls.Read), num(ls.Reused), num(ls.Skipped))
		if ls.Kept > 0 {
			l.Summary += fmt.Sprintf(", %s kept from unavailable folders", num(ls.Kept))
		}
	}
	return l
}

func (s *Server) libStatus() (library.Status, bool) {
	if s.cfg.Status == nil {
		snap := s.cfg.Catalog.Snapshot()
		return library.Status{Tracks: len(snap.Tracks), Playlists: len(snap.Playlists), Revision: snap.Revision}, false
	}
	return s.cfg.Status(), true
}

func (s *Server) home(w http.ResponseWriter, r *http.Request) {
	if q := strings.TrimSpace(r.URL.Query().Get("q")); q != "" {
		s.search(w, r, q)
		return
	}
	x := s.facts()
	st, has := s.libStatus()
	v := &statusView{Status: st, HasStatus: has, Snap: x.snap, Formats: x.formats, Addr: s.cfg.Addr,
		Version: s.cfg.Version, Uptime: roundDur(time.Since(s.cfg.Started)), FFmpeg: s.cfg.DAAP.FFmpeg(),
		Transcode: s.cfg.DAAP.TranscodeMode(), Password: s.cfg.Password != "", CanRescan: s.cfg.Rescan != nil,
		Live: s.live(x, st)}
	if len(x.formats) > 0 {
		v.FormatMax = x.formats[0].N
	}
	if s.cfg.Announce != nil {
		v.Announce = s.cfg.Announce()
	} else {
		v.Announce = Announce{Backend: "off", State: "off"}
	}
	for _, root := range st.Roots {
		v.Roots = append(v.Roots, rootView{Path: root, OK: !slices.Contains(st.Unavailable, root)})
	}
	v.HiddenN = len(x.hidden)
	s.render(w, r, "status", http.StatusOK, s.newPage(r, "status", "Status", v))
}

func (s *Server) statusJSON(w http.ResponseWriter, r *http.Request) {
	st, _ := s.libStatus()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(s.live(s.facts(), st))
}

func (s *Server) rescan(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Rescan == nil {
		http.Error(w, "no library to rescan", http.StatusNotFound)
		return
	}
	s.cfg.Rescan()
	if acceptsHTML(r) {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

// --- Search ---

type searchView struct {
	Q       string
	Artists []*library.Artist
	MoreAr  int
	Albums  []*library.Album
	MoreAl  int
	List    trackList
	Empty   bool
}

func (s *Server) search(w http.ResponseWriter, r *http.Request, q string) {
	x := s.index()
	ws := words(q)
	v := &searchView{Q: q}
	ar := x.searchArtists(ws)
	al := x.searchAlbums(ws)
	tr := x.searchTracks(ws)
	v.Artists, v.MoreAr = ar[:min(len(ar), searchArtists)], max(0, len(ar)-searchArtists)
	v.Albums, v.MoreAl = al[:min(len(al), searchAlbums)], max(0, len(al)-searchAlbums)
	p, lo, hi := paginate(r, len(tr), tracksPerPage)
	v.List = trackList{Tracks: tr[lo:hi], Pager: p}
	v.Empty = len(ar)+len(al)+len(tr) == 0
	s.render(w, r, "search", http.StatusOK, s.newPage(r, "search", "“"+q+"”", v))
}

// --- Browse ---

func (s *Server) tracks(w http.ResponseWriter, r *http.Request) {
	key := r.URL.Query().Get("sort")
	ts := s.cfg.Catalog.Snapshot().Tracks // by folder and file
	if _, ok := trackSorts[key]; ok {
		ts = s.index().tracksBy(key)
	} else {
		key = ""
	}
	p, lo, hi := paginate(r, len(ts), tracksPerPage)
	s.render(w, r, "tracks", http.StatusOK, s.newPage(r, "tracks", "Tracks",
		&trackList{Tracks: ts[lo:hi], Pager: p, Sort: key, Sorts: true}))
}

type albumsView struct {
	Albums []*library.Album
	Pager  pager
}

func (s *Server) albums(w http.ResponseWriter, r *http.Request) {
	snap := s.cfg.Catalog.Snapshot()
	p, lo, hi := paginate(r, len(snap.Albums), albumsPerPage)
	s.render(w, r, "albums", http.StatusOK, s.newPage(r, "albums", "Albums", &albumsView{Albums: snap.Albums[lo:hi], Pager: p}))
}

type albumView struct {
	Album    *library.Album
	Year     int
	Duration uint32
	List     trackList
}

func (s *Server) album(w http.ResponseWriter, r *http.Request) {
	snap := s.cfg.Catalog.Snapshot()
	id, err := strconv.ParseUint(chi.URLParam(r, "id"), 10, 64)
	a, ok := snap.Album(id)
	if err != nil || !ok {
		s.notFound(w, r, "This album")
		return
	}
	v := &albumView{Album: a}
	ts := tracksOf(snap, a.Tracks)
	albumOrder(ts)
	for _, t := range ts {
		v.Duration += t.DurationMS
		v.Year = max(v.Year, int(t.Year))
	}
	v.List = trackList{Tracks: ts, Numbers: true}
	s.render(w, r, "album", http.StatusOK, s.newPage(r, "albums", a.Name, v))
}

func tracksOf(snap *library.Snapshot, ids []uint32) []*library.Track {
	ts := make([]*library.Track, 0, len(ids))
	for _, id := range ids {
		if t, ok := snap.Track(id); ok {
			ts = append(ts, t)
		}
	}
	return ts
}

type artistsView struct {
	Artists []*library.Artist
	Pager   pager
}

func (s *Server) artists(w http.ResponseWriter, r *http.Request) {
	snap := s.cfg.Catalog.Snapshot()
	p, lo, hi := paginate(r, len(snap.Artists), artistsPerPage)
	s.render(w, r, "artists", http.StatusOK, s.newPage(r, "artists", "Artists", &artistsView{Artists: snap.Artists[lo:hi], Pager: p}))
}

type artistView struct {
	Artist *library.Artist
	Albums []*library.Album
	List   trackList // tracks on no album
}

func (s *Server) artist(w http.ResponseWriter, r *http.Request) {
	snap := s.cfg.Catalog.Snapshot()
	id, err := strconv.ParseUint(chi.URLParam(r, "id"), 10, 64)
	a, ok := snap.Artist(id)
	if err != nil || !ok {
		s.notFound(w, r, "This artist")
		return
	}
	v := &artistView{Artist: a}
	seen := map[uint64]bool{}
	var loose []*library.Track
	for _, t := range tracksOf(snap, a.Tracks) {
		if t.Album == "" {
			loose = append(loose, t)
			continue
		}
		if !seen[t.AlbumID] {
			seen[t.AlbumID] = true
			if al, ok := snap.Album(t.AlbumID); ok {
				v.Albums = append(v.Albums, al)
			}
		}
	}
	v.List = trackList{Tracks: loose}
	s.render(w, r, "artist", http.StatusOK, s.newPage(r, "artists", a.Name, v))
}

type playlistsView struct{ Playlists []*library.Playlist }

func (s *Server) playlists(w http.ResponseWriter, r *http.Request) {
	snap := s.cfg.Catalog.Snapshot()
	s.render(w, r, "playlists", http.StatusOK, s.newPage(r, "playlists", "Playlists", &playlistsView{Playlists: snap.Playlists}))
}

type playlistView struct {
	Playlist *library.Playlist
	List     trackList
}

func (s *Server) playlist(w http.ResponseWriter, r *http.Request) {
	snap := s.cfg.Catalog.Snapshot()
	id, err := strconv.ParseUint(chi.URLParam(r, "id"), 10, 32)
	p, ok := snap.Playlist(uint32(id))
	if err != nil || !ok {
		s.notFound(w, r, "This playlist")
		return
	}
	ts := tracksOf(snap, p.Items)
	pg, lo, hi := paginate(r, len(ts), tracksPerPage*5)
	s.render(w, r, "playlist", http.StatusOK, s.newPage(r, "playlists", p.Name,
		&playlistView{Playlist: p, List: trackList{Tracks: ts[lo:hi], Pager: pg}}))
}

// --- Streams and artwork ---

// browserPlays are the codecs a browser is assumed to play when it did not
// say (the ok parameter, from audio.canPlayType).
var browserPlays = []string{"mp3", "aac", "flac", "vorbis", "opus", "wav"}

// playKey names t's codec as the player asks the browser about it.
func playKey(t *library.Track) string {
	switch t.Codec {
	case "pcm":
		if t.Format == "wav" {
			return "wav"
		}
		return "aiff"
	case "":
		return t.Format
	}
	return t.Codec
}

// stream serves a track for the browser's audio element: the file as it
// is when the browser plays its codec (ok=mp3.aac... from canPlayType),
// else a WAV transcode when ffmpeg is there.
func (s *Server) stream(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseUint(chi.URLParam(r, "id"), 10, 32)
	t, ok := s.cfg.Catalog.Snapshot().Track(uint32(id))
	if err != nil || !ok {
		http.Error(w, "no such track", http.StatusNotFound)
		return
	}
	plays := browserPlays
	if v := r.URL.Query().Get("ok"); v != "" {
		plays = strings.Split(v, ".")
	}
	s.cfg.DAAP.ServeTrack(w, r, t, !slices.Contains(plays, playKey(t)))
}

// art serves the cover of the track with the given id, scaled to s px.
func (s *Server) art(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseUint(chi.URLParam(r, "id"), 10, 32)
	t, ok := s.cfg.Catalog.Snapshot().Track(uint32(id))
	if err != nil || !ok {
		http.Error(w, "no such track", http.StatusNotFound)
		return
	}
	size, _ := strconv.Atoi(r.URL.Query().Get("s"))
	size = min(max(size, 48), 1024)
	r2 := r.Clone(r.Context())
	r2.URL.RawQuery = fmt.Sprintf("mw=%d&mh=%d", size, size)
	s.cfg.DAAP.ServeArtwork(w, r2, t)
}

// --- Template helpers ---

// num formats n with thin thousands separators: 100 000.
func num(n int) string {
	s := strconv.Itoa(n)
	if len(s) <= 4 {
		return s
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteString("\u202f")
		}
		b.WriteRune(c)
	}
	return b.String()
}

// clock formats milliseconds as m:ss or h:mm:ss.
func clock(ms uint32) string {
	sec := int(ms+500) / 1000
	if sec >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", sec/3600, sec/60%60, sec%60)
	}
	return fmt.Sprintf("%d:%02d", sec/60, sec%60)
}

// roundDur formats d for people: 3 h 12 min, 41 s, 850 ms.
func roundDur(d time.Duration) string {
	switch {
	case d < time.Second:
		return fmt.Sprintf("%d ms", d.Milliseconds())
	case d < time.Minute:
		return fmt.Sprintf("%.1f s", d.Seconds())
	case d < time.Hour:
		return fmt.Sprintf("%d min %d s", int(d.Minutes()), int(d.Seconds())%60)
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h %d min", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%d days %d h", int(d.Hours())/24, int(d.Hours())%24)
}

func ago(t time.Time) string {
	d := time.Since(t)
	if d < 5*time.Second {
		return "just now"
	}
	return roundDur(d.Truncate(time.Second)) + " ago"
}

// relRoot shortens a root for display: its last two elements.
func relRoot(root string) string {
	dir, base := filepath.Split(strings.TrimRight(root, "/"))
	if p := filepath.Base(dir); p != "/" && p != "." {
		return p + "/" + base
	}
	return cmp.Or(base, root)
}
