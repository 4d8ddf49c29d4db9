// Package web serves daapd's pages for people, on the DAAP server's own
// router: the library's status, its problems (files left out and why),
// browsing and search, playback in the browser, and Prometheus metrics.
//
// Pages are rendered on the server with html/template from the catalog
// snapshot of the request, paginated, so a 100,000-track library costs no
// more than a small one; a little vanilla JavaScript (static/app.js) keeps
// the player bar alive across page changes, updates the status live, and
// picks streams the browser can play. Everything is embedded; nothing is
// fetched from elsewhere.
//
// A request is for the pages when it is not from a DAAP client (see
// daap.IsClient), and for "/" only when it also accepts text/html: DAAP
// clients get the DAAP server's replies exactly as before. With a password
// set, every page, stream and /metrics needs it: a sign-in form sets a
// session cookie (HttpOnly, SameSite=Strict), and HTTP Basic with the
// share password works too (for Prometheus and scripts).
//
// The package reads the catalog and the library's status; neither knows
// about it.
package web

import (
	"cmp"
	"crypto/hmac"
	"crypto/sha256"
	"embed"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"github.com/daapd/daapd/daap"
	"github.com/daapd/daapd/library"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Config configures a Server.
type Config struct {
	Name     func() string         // the share name as announced; nil: DAAP's
	Addr     string                // the address clients connect to, for the status page
	Version  string                // daapd version
	Started  time.Time             // when the daemon started (uptime)
	Password string                // the share password; "" = open
	Catalog  *library.Catalog      // required
	Status   func() library.Status // the library's status; nil: none
	Rescan   func()                // starts a rescan; nil: no rescan button
	DAAP     *daap.Server          // streams, artwork, transcoding; required
	Announce func() Announce       // the mDNS announcement; nil: off
	Metrics  *Metrics              // nil: no /metrics
	Log      *slog.Logger
}

// Announce describes the mDNS announcement for the status page.
type Announce struct {
	Backend string // avahi, embedded or off
	State   string // starting, announced, off, failed
	Name    string // the name actually taken (dnssd may rename)
}

// Server renders the pages.
type Server struct {
	cfg    Config
	log    *slog.Logger
	pages  map[string]*template.Template
	static http.Handler
	assetV string // cache-busting version of the static files
	key    []byte // signs session cookies

	idxMu sync.Mutex // one index build at a time
	idx   atomic.Pointer[index]
	faxMu sync.Mutex
	fax   atomic.Pointer[facts]
}

// New returns the pages' server for cfg.
func New(cfg Config) *Server {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Name == nil {
		cfg.Name = cfg.DAAP.Name
	}
	if cfg.Started.IsZero() {
		cfg.Started = time.Now()
	}
	cfg.Version = cmp.Or(cfg.Version, "dev")
	s := &Server{cfg: cfg, log: cfg.Log, pages: parsePages()}
	sub, _ := fs.Sub(staticFS, "static")
	s.static = http.StripPrefix("/web/static/", http.FileServerFS(sub))
	s.assetV = assetVersion(sub)
	// The cookie key follows the password: changing it signs everyone out,
	// and nobody without it can make a cookie.
	m := hmac.New(sha256.New, []byte(cfg.Password))
	m.Write([]byte("daapd web session key"))
	s.key = m.Sum(nil)
	if cfg.Metrics != nil {
		cfg.Metrics.watch(s)
	}
	return s
}

// Mount adds the pages to r, the DAAP server's router (daap.Server.Handler).
func (s *Server) Mount(r *chi.Mux) {
	daapNotFound := r.NotFoundHandler()
	pages := func(strict bool) func(http.Handler) http.Handler {
		return func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if daap.IsClient(r) || (strict && !acceptsHTML(r)) {
					daapNotFound(w, r)
					return
				}
				h := w.Header()
				h.Set("X-Content-Type-Options", "nosniff")
				h.Set("Referrer-Policy", "same-origin")
				h.Set("X-Frame-Options", "DENY")
				h.Set("Content-Security-Policy", "default-src 'self'; style-src 'self'; style-src-attr 'unsafe-inline'; img-src 'self' data:; media-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")
				next.ServeHTTP(w, r)
			})
		}
	}
	csrf := http.NewCrossOriginProtection()
	gz := middleware.Compress(5, "text/html", "text/css", "text/javascript", "application/json", "image/svg+xml", "text/plain")
	r.With(pages(true), gz, s.auth).Get("/", s.home)
	r.Group(func(r chi.Router) {
		r.Use(pages(false))
		if s.cfg.Metrics != nil {
			r.With(s.auth).Get("/metrics", s.cfg.Metrics.handler().ServeHTTP) // promhttp compresses itself
		}
		r.With(gz).Get("/web/static/*", s.serveStatic)
		r.With(gz).Get("/signin", s.signinForm)
		r.With(csrf.Handler).Post("/signin", s.signin)
		r.With(csrf.Handler).Post("/signout", s.signout)
		r.Group(func(r chi.Router) {
			r.Use(s.auth)
			r.Group(func(r chi.Router) {
				r.Use(gz)
				r.Get("/problems", s.problems)
				r.Get("/artists", s.artists)
				r.Get("/artists/{id}", s.artist)
				r.Get("/albums", s.albums)
				r.Get("/albums/{id}", s.album)
				r.Get("/tracks", s.tracks)
				r.Get("/playlists", s.playlists)
				r.Get("/playlists/{id}", s.playlist)
				r.Get("/web/status.json", s.statusJSON)
			})
			r.Get("/web/stream/{id}", s.stream)
			r.Get("/web/art/{id}", s.art)
			r.With(csrf.Handler).Post("/web/rescan", s.rescan)
		})
	})
}

// acceptsHTML reports whether r's Accept header names text/html (what
// browsers send for a page).
func acceptsHTML(r *http.Request) bool {
	return strings.Contains(strings.ToLower(r.Header.Get("Accept")), "text/html")
}

func (s *Server) serveStatic(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Get("v") == s.assetV {
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		w.Header().Set("Cache-Control", "no-cache")
	}
	s.static.ServeHTTP(w, r)
}

// assetVersion hashes the static files, for URLs that change with them.
func assetVersion(fsys fs.FS) string {
	h := sha256.New()
	fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := fs.ReadFile(fsys, p)
			h.Write([]byte(p))
			h.Write(b)
		}
		return nil
	})
	return strings.ToLower(strings.TrimRight(encodeBase32(h.Sum(nil)[:8]), "="))
}
