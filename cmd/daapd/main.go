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
	"runtime/debug"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/daapd/daapd/announce"
	"github.com/daapd/daapd/daap"
	"github.com/daapd/daapd/library"
	"github.com/daapd/daapd/web"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = ""

func daapdVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "scan" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		code := runScan(ctx, os.Args[2:], os.Stdout, os.Stderr)
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
			}
		}
	}()
	err := run(ctx, os.Args[1:], os.Getenv, os.Stderr, &hooks{rescan: hup})
	switch {
	case errors.Is(err, flag.ErrHelp):
		os.Exit(0)
	case err != nil:
		fmt.Fprintln(os.Stderr, "daapd:", err)
		os.Exit(1)
	}
}

// hooks connects run to the process (signals) and to tests.
type hooks struct {
	rescan <-chan struct{}     // SIGHUP: rescan the library
	ready  func(addr net.Addr) // called once the HTTP server is serving
}

// run is the whole daemon: it returns when ctx is cancelled (after a clean
// shutdown) or when startup fails.
func run(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer, h *hooks) error {
	started := time.Now()
	if h == nil {
		h = &hooks{}
	}
	fs, fv := newFlagSet(stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fv.version {
		fmt.Println("daapd", daapdVersion())
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

	// Listen first, so a taken port fails fast and clearly.
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("cannot listen on %s: %w (is another DAAP server running? choose another port with --listen)", cfg.Listen, err)
	}
	port := ln.Addr().(*net.TCPAddr).Port

	lib, err := library.New(library.Config{
		Roots:          cfg.Music,
		StateDir:       cfg.StateDir,
		LibraryID:      libID,
		Workers:        cfg.ScanWorkers,
		RescanInterval: time.Duration(cfg.RescanInterval),
		Watch:          cfg.Watch,
		Log:            log.With("component", "library"),
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
		a      *announce.Announcer
		failed bool
	}
	backend := func() string {
		ann.Lock()
		defer ann.Unlock()
		if ann.a == nil {
			return "off"
		}
		return ann.a.Backend()
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		st := lib.Status()
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{
			"status":    "ok",
			"scanning":  st.Scanning,
			"tracks":    st.Tracks,
			"revision":  st.Revision,
			"announce":  backend(),
			"version":   daapdVersion(),
			"last_scan": st.LastScan,
			"error":     st.LastError,
		})
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
	url := "http://" + net.JoinHostPort(displayHost(ln.Addr()), strconv.Itoa(port)) + "/"
	router := dsrv.Handler()
	web.New(web.Config{
		Addr:     url,
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
			ann.Lock()
			defer ann.Unlock()
			switch {
			case cfg.MDNS == "off":
				return web.Announce{Backend: "off", State: "off"}
			case ann.failed:
				return web.Announce{Backend: cfg.MDNS, State: "failed"}
			case ann.a == nil:
				return web.Announce{Backend: cfg.MDNS, State: "starting", Name: cfg.Name}
			case ann.a.Backend() == "off":
				return web.Announce{Backend: "off", State: "off"}
			}
			return web.Announce{Backend: ann.a.Backend(), State: "announced", Name: ann.a.Name()}
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
	serveErr := make(chan error, 1)
	go func() { serveErr <- hs.Serve(ln) }()
	log.Info("serving DAAP", "url", url)
	if h.ready != nil {
		h.ready(ln.Addr())
	}

	// Serve the cached catalog and scan in the background (clients see the
	// library grow through /update), while the announcement probes its name.
	libCtx, stopLib := context.WithCancel(context.Background())
	libDone := make(chan error, 1)
	go func() { libDone <- lib.Run(libCtx) }()

	if cfg.MDNS != "off" {
		a, err := announce.Start(ctx, announce.Service{
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
			ann.Lock()
			ann.failed = true
			ann.Unlock()
			hs.Close()
			stopLib()
			<-libDone
			if ctx.Err() != nil { // stopped by a signal while announcing
				log.Info("stopped")
				return nil
			}
			return fmt.Errorf("announce: %w", err)
		}
		ann.Lock()
		ann.a = a
		ann.Unlock()
		dsrv.SetName(a.Name())
		if a.Backend() != "off" { // "off": announce has logged why
			log.Info("announced", "backend", a.Backend(), "name", a.Name(), "url", url)
		}
	} else {
		log.Info("not announcing (mdns: off); clients connect by address", "url", url)
	}

	var runErr error
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case <-h.rescan:
			log.Info("rescan requested (SIGHUP)")
			lib.Rescan()
		case err := <-serveErr:
			runErr = fmt.Errorf("http server: %w", err)
			break loop
		}
	}

	// Stop order: withdraw the announcement, release parked /update
	// requests, shut HTTP down with a deadline, then flush library state.
	log.Info("shutting down")
	// Not under ann's lock: /healthz must not wait for the goodbye packets.
	ann.Lock()
	a := ann.a
	ann.Unlock()
	if a != nil {
		if err := a.Close(); err != nil {
			log.Warn("withdrawing announcement", "err", err)
		} else if a.Backend() != "off" {
			log.Info("announcement withdrawn")
		}
	}
	dsrv.Close()
	lib.Catalog().Close()
	cancelReqs()
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	if err := hs.Shutdown(sctx); err != nil {
		log.Warn("http shutdown", "err", err)
		hs.Close()
	}
	cancel()
	stopLib()
	if err := <-libDone; err != nil && !errors.Is(err, context.Canceled) {
		log.Warn("library", "err", err)
	}
	log.Info("stopped")
	return runErr
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
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
			return true
		}
	}
	return password != "" && dsrv.Authorized(r)
}

// runHealthcheck asks a running daapd for /healthz (for Docker's
// HEALTHCHECK, where no curl exists) and returns the exit status. It takes
// the daemon's own flags, environment and config file to find the address.
func runHealthcheck(args []string, getenv func(string) string, stderr io.Writer) int {
	fs, fv := newFlagSet(stderr)
	if err := fs.Parse(args); err != nil {
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
