// Command daapd shares a folder of music with iTunes, Music.app, Rhythmbox
// and other DAAP clients on the local network.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strconv"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/daapd/daapd/announce"
	"github.com/daapd/daapd/daap"
	"github.com/daapd/daapd/library"
	"github.com/daapd/daapd/web"
)

// version is set at build time with -ldflags "-X main.version=..." (the
// release tool does).
var version = ""

// daapdVersion is the release version, else the module version the go
// command recorded (a tag, or a pseudo-version naming the commit), else the
// VCS revision and time, else "devel" and why.
func daapdVersion() string {
	if version != "" {
		return version
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return buildVersion(&debug.BuildInfo{})
	}
	return buildVersion(bi)
}

func buildVersion(bi *debug.BuildInfo) string {
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev, at, dirty string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			at = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "+dirty"
			}
		}
	}
	if rev == "" {
		return "devel (no VCS information in this build)"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if at != "" {
		return "devel-" + rev + dirty + " (" + at + ")"
	}
	return "devel-" + rev + dirty
}

// stopGrace is how long a signal waits for the orderly shutdown before the
// process exits anyway, whatever step (a hung NFS mount, say) holds it.
const stopGrace = 8 * time.Second

func main() {
	if len(os.Args) > 1 && (os.Args[1] == "scan" || os.Args[1] == "playlists") {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		args := os.Args[2:]
		if os.Args[1] == "playlists" {
			args = append([]string{"--playlists"}, args...)
		}
		code := runScan(ctx, args, os.Stdout, os.Stderr)
		stop()
		os.Exit(code)
	}
	if len(os.Args) > 1 && os.Args[1] == "healthcheck" {
		os.Exit(runHealthcheck(os.Args[2:], os.Getenv, os.Stderr))
	}
	ctx, stop := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	hup := make(chan struct{}, 1)
	go func() {
		stopping := false
		for s := range sigs {
			switch {
			case s == syscall.SIGHUP:
				select {
				case hup <- struct{}{}:
				default:
				}
			case stopping:
				fmt.Fprintln(os.Stderr, "daapd: second signal, exiting immediately")
				os.Exit(130)
			default:
				stopping = true
				stop()
				time.AfterFunc(stopGrace, func() {
					fmt.Fprintf(os.Stderr, "daapd: did not stop within %v of %v; exiting\n", stopGrace, s)
					os.Exit(1)
				})
			}
		}
	}()
	err := run(ctx, os.Args[1:], os.Getenv, os.Stderr, &hooks{rescan: hup, stdout: os.Stdout})
	switch {
	case errors.Is(err, flag.ErrHelp):
		os.Exit(0)
	case err != nil:
		fmt.Fprintln(os.Stderr, "daapd:", err)
		os.Exit(1)
	}
}

// hooks connects run to the process (signals, stdout) and to tests.
type hooks struct {
	rescan <-chan struct{}     // SIGHUP: rescan the library
	ready  func(addr net.Addr) // called once the HTTP server is serving
	stdout io.Writer           // --help and --version; nil: discarded
}

// run is the whole daemon: it returns when ctx is cancelled (after a clean
// shutdown) or when startup fails. --help returns flag.ErrHelp.
func run(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer, h *hooks) error {
	started := time.Now()
	if h == nil {
		h = &hooks{}
	}
	stdout := h.stdout
	if stdout == nil {
		stdout = io.Discard
	}
	fs, fv := newFlagSet()
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printHelp(stdout)
			return err
		}
		return fmt.Errorf("%w\nrun 'daapd --help' for usage", err)
	}
	if fv.version {
		fmt.Fprintf(stdout, "daapd %s (%s %s/%s)\n", daapdVersion(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
		return nil
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q (did you mean --music %s?)", fs.Arg(0), fs.Arg(0))
	}
	cfg, err := loadConfig(fv, getenv)
	if err != nil {
		return fmt.Errorf("invalid configuration:\n%w", err)
	}
	log := newLogger(stderr, cfg)
	log.Info("daapd starting", "version", daapdVersion(), "config", cfg.logValue())

	if err := os.MkdirAll(cfg.StateDir, 0o755); err != nil {
		return fmt.Errorf("state directory: %w", err)
	}
	libID, err := library.LoadOrCreateLibraryID(cfg.StateDir)
	if err != nil {
		return fmt.Errorf("state directory: %w", err)
	}
	if ctx.Err() != nil {
		log.Info("stopped")
		return nil
	}

	// Listen first, so a taken port fails fast and clearly.
	ln, err := listen(cfg.Listen)
	if err != nil {
		return err
	}
	port := ln.Addr().(*net.TCPAddr).Port

	smartDefs, err := cfg.smartPlaylists() // validated by loadConfig
	if err != nil {
		return err
	}
	lib, err := library.New(library.Config{
		Roots:          cfg.Music,
		StateDir:       cfg.StateDir,
		LibraryID:      libID,
		Workers:        cfg.ScanWorkers,
		RescanInterval: time.Duration(cfg.RescanInterval),
		Watch:          cfg.Watch,
		Log:            log.With("component", "library"),

		Smart:            library.SmartConfig{Playlists: smartDefs, RecentlyAddedDays: cfg.RecentlyAddedDays},
		AudiobookFolders: cfg.AudiobookFolders,
		PodcastFolders:   cfg.PodcastFolders,
	})
	if err != nil {
		ln.Close()
		return err
	}
	metrics := web.NewMetrics()
	dsrv := daap.New(daap.Config{
		Name:       cfg.Name,
		LibraryID:  libID,
		Password:   cfg.password,
		Version:    daapdVersion(),
		Catalog:    lib.Catalog(),
		Log:        log.With("component", "daap"),
		Transcode:  cfg.Transcode,
		Middleware: []func(http.Handler) http.Handler{metrics.Middleware},
	})
	var ann struct {
		sync.Mutex
		a *announce.Announcer
	}
	// announcement is the backend publishing now and the names it holds
	// (auto mode follows avahi-daemon; conflicts rename).
	announcement := func() announce.Status {
		ann.Lock()
		defer ann.Unlock()
		if ann.a == nil {
			return announce.Status{Backend: "off"}
		}
		return ann.a.Status()
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		st := lib.Status()
		as := announcement()
		body := map[string]any{
			"status":        "ok",
			"scanning":      st.Scanning,
			"tracks":        st.Tracks,
			"revision":      st.Revision,
			"announce":      as.Backend,
			"announce_name": as.Name,
			"announce_host": as.Host,
			"version":       daapdVersion(),
			"last_scan":     st.LastScan,
			"error":         st.LastError,
			// files the last scan skipped, and why
			"skipped":    st.LastStats.Skipped,
			"skipped_by": st.LastStats.SkippedBy,
		}
		if isLoopback(r) { // process internals, for the soak test and for debugging
			body["goroutines"] = runtime.NumGoroutine()
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(body)
	})
	mux.HandleFunc("POST /rescan", func(w http.ResponseWriter, r *http.Request) {
		if !rescanAllowed(r, dsrv, cfg.password) {
			w.Header().Set("WWW-Authenticate", `Basic realm="daapd"`)
			http.Error(w, "rescan needs a request from this machine or the share password", http.StatusUnauthorized)
			return
		}
		lib.Rescan()
		w.WriteHeader(http.StatusAccepted)
		io.WriteString(w, "rescan started\n")
	})
	router := dsrv.Handler()
	web.New(web.Config{
		Addr:     "http://" + net.JoinHostPort(displayHost(ln.Addr()), strconv.Itoa(port)) + "/",
		Version:  daapdVersion(),
		Started:  started,
		Password: cfg.password,
		Catalog:  lib.Catalog(),
		Status:   lib.Status,
		Rescan:   lib.Rescan,
		DAAP:     dsrv,
		Metrics:  metrics,
		Log:      log.With("component", "web"),
		Announce: func() web.Announce {
			if cfg.MDNS == "off" {
				return web.Announce{Backend: "off", State: "off"}
			}
			ann.Lock()
			started := ann.a != nil
			ann.Unlock()
			if !started {
				return web.Announce{Backend: cfg.MDNS, State: "starting", Name: cfg.Name}
			}
			as := announcement()
			switch {
			case as.Backend == "off":
				return web.Announce{Backend: "off", State: "off"}
			case as.Host == "":
				return web.Announce{Backend: as.Backend, State: "probing", Name: as.Name}
			}
			return web.Announce{Backend: as.Backend, State: "announced", Name: as.Name}
		},
	}).Mount(router)
	mux.Handle("/", router)
	hs := daap.NewHTTPServer(mux)
	// Requests get a context of their own, cancelled only after the
	// announcement is withdrawn and parked /update requests are answered,
	// so that shutdown keeps the documented order.
	reqCtx, cancelReqs := context.WithCancel(context.Background())
	defer cancelReqs()
	hs.BaseContext = func(net.Listener) context.Context { return reqCtx }
	hs.ErrorLog = slog.NewLogLogger(log.Handler(), slog.LevelDebug)
	url := "http://" + net.JoinHostPort(displayHost(ln.Addr()), strconv.Itoa(port)) + "/"

	// Everything below runs in one group: whichever part fails, ctx's end
	// or the first error starts the same ordered shutdown.
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		if err := hs.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("http server: %w", err)
		}
		return nil
	})
	log.Info("serving DAAP", "url", url)
	if h.ready != nil {
		h.ready(ln.Addr())
	}

	// Serve the cached catalog and scan in the background (clients see the
	// library grow through /update), while the announcement probes its
	// name. The library stops last, after HTTP, so its cache is saved with
	// no request left.
	libCtx, stopLib := context.WithCancel(context.Background())
	libDone := make(chan struct{})
	g.Go(func() error {
		defer close(libDone)
		if err := lib.Run(libCtx); err != nil && !errors.Is(err, context.Canceled) {
			log.Warn("library", "err", err)
		}
		return nil
	})

	g.Go(func() error {
		limitMemory(gctx, getenv, func(ctx context.Context) error {
			_, err := lib.Catalog().Wait(ctx, library.FirstRevision)
			return err
		})
		return nil
	})

	withdrawn := make(chan struct{}) // closed once no announcement is left
	g.Go(func() error {
		defer close(withdrawn)
		if cfg.MDNS == "off" {
			log.Info("not announcing (mdns: off); clients connect by address", "url", url)
			return nil
		}
		a, err := announce.Start(gctx, announce.Service{
			Name:       cfg.Name,
			Port:       port,
			DatabaseID: libID,
			Password:   cfg.password != "",
		}, announce.Options{
			Mode:       announce.Mode(cfg.MDNS),
			Interfaces: cfg.Interfaces,
			IPv4Only:   cfg.IPv4Only,
			Log:        log.With("component", "announce"),
		})
		if err != nil {
			if gctx.Err() != nil { // stopped while announcing
				return nil
			}
			return fmt.Errorf("announce: %w", err)
		}
		ann.Lock()
		ann.a = a
		ann.Unlock()
		dsrv.SetName(a.Name()) // announce logs what it published, and under which name
		<-gctx.Done()
		// Not under ann's lock: /healthz must not wait for the goodbye packets.
		if err := a.Close(); err != nil {
			log.Warn("withdrawing the announcement", "err", err)
		}
		return nil
	})

	g.Go(func() error {
		for {
			select {
			case <-gctx.Done():
				return nil
			case <-h.rescan:
				log.Info("rescan requested (SIGHUP)")
				lib.Rescan()
			}
		}
	})

	// Stop order: withdraw the announcement, release parked /update
	// requests, shut HTTP down with a deadline, then flush library state.
	g.Go(func() error {
		<-gctx.Done()
		log.Info("shutting down")
		<-withdrawn
		dsrv.Close()
		lib.Catalog().Close()
		cancelReqs()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := hs.Shutdown(sctx); err != nil {
			log.Warn("http shutdown", "err", err)
			hs.Close()
		}
		stopLib()
		<-libDone
		return nil
	})
	err = g.Wait()
	log.Info("stopped")
	return err
}

// listen opens the HTTP listener, hinting at another server only when the
// port is taken.
func listen(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	switch {
	case errors.Is(err, syscall.EADDRINUSE):
		return nil, fmt.Errorf("cannot listen on %s: the port is in use (is another DAAP server running? choose another port with --listen)", addr)
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return nil, fmt.Errorf("cannot listen on %s: no network interface of this machine has that address (use :3689 to listen on all)", addr)
	case err != nil:
		return nil, fmt.Errorf("cannot listen on %s: %w", addr, err)
	}
	return ln, nil
}

func newLogger(w io.Writer, cfg Config) *slog.Logger {
	var lvl slog.Level
	lvl.UnmarshalText([]byte(cfg.LogLevel)) // validated already
	opts := &slog.HandlerOptions{Level: lvl}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// displayHost is the host part of the URL logged at startup.
func displayHost(a net.Addr) string {
	ip := a.(*net.TCPAddr).IP
	if ip == nil || ip.IsUnspecified() {
		if h, err := os.Hostname(); err == nil {
			return h
		}
		return "localhost"
	}
	return ip.String()
}

// rescanAllowed admits POST /rescan from loopback, or with the share
// password (HTTP Basic, any user name, checked as DAAP requests are) when
// one is set.
func rescanAllowed(r *http.Request, dsrv *daap.Server, password string) bool {
	return isLoopback(r) || password != "" && dsrv.Authorized(r)
}

// isLoopback reports a request from this machine.
func isLoopback(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// runHealthcheck asks a running daapd for /healthz (for Docker's
// HEALTHCHECK, where no curl exists) and returns the exit status. It takes
// the daemon's own flags, environment and config file to find the address.
func runHealthcheck(args []string, getenv func(string) string, stderr io.Writer) int {
	fs, fv := newFlagSet()
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printHelp(stderr)
			return 0
		}
		fmt.Fprintf(stderr, "healthcheck: %v\nrun 'daapd --help' for usage\n", err)
		return 2
	}
	// Only the listen address matters here; other problems are the
	// daemon's to report.
	cfg, _ := loadConfig(fv, getenv)
	listen := cfg.Listen
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		fmt.Fprintln(stderr, "healthcheck:", err)
		return 1
	}
	if host == "" || net.ParseIP(host).IsUnspecified() {
		host = "127.0.0.1"
	}
	c := &http.Client{Timeout: 4 * time.Second}
	resp, err := c.Get("http://" + net.JoinHostPort(host, port) + "/healthz")
	if err != nil {
		fmt.Fprintln(stderr, "healthcheck:", err)
		return 1
	}
	defer resp.Body.Close()
	io.Copy(stderr, io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return 1
	}
	return 0
}
