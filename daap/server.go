// Package daap serves a library.Catalog over DAAP: DMAP-tagged HTTP as
// spoken by iTunes, Music.app, Rhythmbox (libdmapsharing) and Remote.
//
// Routes: /server-info, /content-codes, /login, /logout, /activity,
// /update (long-poll), /databases, and under /databases/1: items,
// items/{id}.{ext} (streams with Range), items/{id}/extra_data/artwork,
// containers, containers/{id}/items, browse/{artists,albums,genres,composers},
// groups and groups/{id}/extra_data/artwork.
//
// Replies differ by client only where clients need it: libdmapsharing
// 2.9.41 (User-Agent "iTunes/4.x (Windows; N)" with Client-DAAP-Version
// 3.0) gets only the content codes its table knows, iTunes and Music.app
// are never offered groups, and Client-DAAP-Version 1.0/2.0 get older
// protocol versions. iTunes and Music.app cannot play FLAC, Vorbis, Opus
// and some other formats: depending on Config.Transcode they see those
// tracks as WAV, which ffmpeg makes on the fly (transcode.go), or not at
// all; every other client gets the original files. Listings are encoded
// once per revision and request shape and kept, gzipped only, in a
// byte-bounded cache; clients that do not take gzip get them inflated as
// they are sent.
package daap

import (
	"cmp"
	"context"
	"hash/fnv"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"github.com/daapd/daapd/library"
)

// Config configures a Server.
type Config struct {
	Name      string // share name (minm, Machine Name)
	LibraryID string // seeds the database's persistent id; "" = the name
	Password  string // "" = none
	Version   string // daapd version for the DAAP-Server header
	Catalog   *library.Catalog
	Log       *slog.Logger

	// Limits (see "Limits" in README.md); zero means the default.

	// MaxSessions bounds the session table; default 200. When it is full,
	// a login evicts the least recently used idle session; when every
	// session is busy or was used within SessionRecent, the login is
	// refused with 503.
	MaxSessions int
	// SessionRecent is how recently used a session must be to be safe
	// from eviction; default 5 minutes.
	SessionRecent time.Duration
	// ListingBytes bounds the memory of encoded listings: cached, being
	// built (by estimate, reserved before the build starts) or being
	// sent; default 256 MiB. Builds that do not fit wait their turn.
	ListingBytes int
	// StallTimeout cuts off a client that reads nothing of a stream
	// (direct or transcoded) or a listing for this long; default 2
	// minutes.
	StallTimeout time.Duration

	// Transcode says what iTunes and Music.app get for tracks they cannot
	// play (FLAC, Vorbis, Opus, ...): TranscodeAuto ("" too), TranscodeOff
	// or TranscodeHide. Other clients always get the original files.
	Transcode string
	// FFmpeg is the ffmpeg binary, a name looked up in PATH at startup or
	// a path; default "ffmpeg".
	FFmpeg string
	// MaxTranscodes bounds concurrent ffmpeg processes; default 4.
	MaxTranscodes int
	// Middleware runs on every request after daap's own (metrics).
	Middleware []func(http.Handler) http.Handler
}

// Defaults of the limits in Config; artBytes bounds the artwork cache.
const (
	cacheBytes    = 256 << 20
	maxSessions   = 200
	sessionRecent = 5 * time.Minute
	stallTimeout  = 2 * time.Minute
	artBytes      = 64 << 20
	// artWorkers bounds concurrent artwork extraction (Music.app asks for
	// every track at once on first connect).
	artWorkers = 4
)

// Server is the DAAP HTTP server. Create it with New.
type Server struct {
	cfg      Config
	log      *slog.Logger
	name     atomic.Pointer[string]
	dbPID    uint64 // persistent id of the one database
	sessions *sessions
	cache    *lru
	art      *lru
	artSem   chan struct{}
	scaleSem chan struct{} // bounds artwork rescaling
	onScale  func()        // tests: called after each rescale
	// open opens the files requests read: openRegular, but for tests that
	// need errors a root user cannot cause.
	open   func(path string) (*os.File, fs.FileInfo, error)
	fields *fieldTable

	unknownMu sync.Mutex
	unknown   map[string]bool // query fields already logged
	loggedMu  sync.Mutex
	logged    map[string]bool // file problems already logged

	transcodeState

	parked    atomic.Int32  // /update requests waiting for a change
	done      chan struct{} // closed by Close: releases parked /update requests
	closeOnce sync.Once
}

// New returns a Server for cfg.
func New(cfg Config) *Server {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxSessions <= 0 {
		cfg.MaxSessions = maxSessions
	}
	if cfg.SessionRecent <= 0 {
		cfg.SessionRecent = sessionRecent
	}
	if cfg.ListingBytes <= 0 {
		cfg.ListingBytes = cacheBytes
	}
	if cfg.StallTimeout <= 0 {
		cfg.StallTimeout = stallTimeout
	}
	if cfg.Version == "" {
		cfg.Version = "dev"
	}
	if cfg.Catalog == nil {
		cfg.Catalog = library.NewCatalog()
	}
	// The database's mper follows the library, so renaming the share does
	// not make clients see a new database.
	h := fnv.New64a()
	h.Write([]byte("daapd database\x00" + cmp.Or(cfg.LibraryID, cfg.Name)))
	s := &Server{
		cfg:      cfg,
		log:      cfg.Log,
		dbPID:    h.Sum64(),
		sessions: newSessions(cfg.MaxSessions, sessionIdle, cfg.SessionRecent),
		cache:    newLRU(cfg.ListingBytes),
		art:      newLRU(artBytes),
		artSem:   make(chan struct{}, artWorkers),
		scaleSem: make(chan struct{}, scaleWorkers),
		fields:   itemFields(),
		unknown:  make(map[string]bool),
		logged:   make(map[string]bool),
		open:     openRegular,
		done:     make(chan struct{}),
	}
	s.cache.polishMin = polishMin
	name := cfg.Name
	s.name.Store(&name)
	s.initTranscode()
	return s
}

// SetName changes the share name reported in /server-info and /databases,
// e.g. after the mDNS announcement had to rename the service.
func (s *Server) SetName(name string) { s.name.Store(&name) }

// Name returns the current share name.
func (s *Server) Name() string { return *s.name.Load() }

// Close releases parked /update requests (they answer 503) so that an
// http.Server can shut down, and stops recompressing cached listings. The
// server keeps answering other requests.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		close(s.done)
		s.cache.stopPolishing()
	})
}

// closed reports whether Close has been called.
func (s *Server) closed() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// NewHTTPServer wraps h with the timeouts daapd wants: a bounded header read
// and idle time, and no write timeout (streams and /update are long-lived).
func NewHTTPServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
}

// Handler returns the route table. Absolute-form request URIs
// (http://host:3689/…, daap://…) are routed by their path. Other packages
// may add routes of their own (the web pages) that DAAP does not use.
func (s *Server) Handler() *chi.Mux {
	r := chi.NewRouter()
	r.Use(middleware.Recoverer, s.logRequests, absoluteForm, middleware.GetHead)
	r.Use(s.cfg.Middleware...)
	r.NotFound(func(w http.ResponseWriter, r *http.Request) { s.fail(w, r, errNotFound) })
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, &httpError{status: http.StatusMethodNotAllowed, msg: "method not allowed"})
	})

	r.Get("/server-info", s.dmap(s.serverInfo))
	r.Get("/content-codes", s.dmap(s.contentCodes))
	r.Get("/login", s.dmap(s.login))

	// Everything else needs a session (or the password) when a password
	// is set; TestRoutesNeedPassword checks every route.
	r.Group(func(r chi.Router) {
		r.Use(s.requireSession)
		r.Get("/logout", s.logout)
		r.Get("/activity", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
		r.Get("/update", s.update)
		r.Get("/databases", s.dmap(s.databases))
		r.Route("/databases/{db}", func(r chi.Router) {
			r.Use(s.checkDB)
			r.Get("/items", s.dmap(s.items))
			r.Get("/items/{item}.{ext}", s.stream)
			r.Get("/items/{item}", s.stream)
			r.Get("/items/{item}/extra_data/artwork", s.itemArtwork)
			r.Get("/containers", s.dmap(s.containers))
			r.Get("/containers/{id}/items", s.dmap(s.containerItems))
			r.Get("/browse/{kind}", s.dmap(s.browse))
			r.Get("/groups", s.dmap(s.groups))
			r.Get("/groups/{id}/extra_data/artwork", s.groupArtwork)
		})
	})
	return r
}

// databaseID is the id of the one library database.
const databaseID = 1

func (s *Server) checkDB(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if chi.URLParam(r, "db") != "1" {
			s.fail(w, r, errNotFound)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// absoluteForm makes sure a request sent with an absolute URI
// (GET daap://host:3689/databases/… HTTP/1.1) is routed by its path.
func absoluteForm(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "" && r.URL.Opaque != "" {
			// "daap:/x" style opaque forms: take what follows the host.
			p := r.URL.Opaque
			if i := strings.Index(p, "/"); i >= 0 {
				r.URL.Path = p[i:]
			}
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.log.Enabled(r.Context(), slog.LevelDebug) {
			next.ServeHTTP(w, r)
			return
		}
		start := time.Now()
		ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
		next.ServeHTTP(ww, r)
		s.log.Debug("request", "method", r.Method, "uri", r.RequestURI, "status", ww.Status(),
			"bytes", ww.BytesWritten(), "duration", time.Since(start), "remote", r.RemoteAddr,
			"agent", r.UserAgent())
	})
}

// closing returns a context that ends with the request or with Close.
func (s *Server) closing(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(ctx)
	go func() {
		select {
		case <-s.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, cancel
}
