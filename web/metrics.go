package web

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics are daapd's Prometheus metrics. Create them with NewMetrics, put
// Middleware on the DAAP router (daap.Config.Middleware) and hand them to
// New, which serves them at /metrics.
type Metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	bytes    *prometheus.CounterVec
	inflight *prometheus.GaugeVec
	streams  prometheus.Gauge
}

// NewMetrics registers the request metrics and the Go and process
// collectors.
func NewMetrics() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "daapd_http_requests_total", Help: "HTTP requests by route pattern, method and status.",
	}, []string{"route", "method", "status"})
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "daapd_http_request_duration_seconds", Help: "Time to the end of the response, by route pattern (streams last as long as playback).",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 60, 600},
	}, []string{"route"})
	m.bytes = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "daapd_http_response_bytes_total", Help: "Response body bytes served, by route pattern.",
	}, []string{"route"})
	m.inflight = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "daapd_http_responses_in_flight", Help: "Responses being written, by route pattern.",
	}, []string{"route"})
	m.streams = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "daapd_streams_in_flight", Help: "Audio streams being sent (DAAP and browser), transcoded or not.",
	})
	m.reg.MustRegister(m.requests, m.latency, m.bytes, m.inflight, m.streams,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// isStream reports whether a route pattern serves audio.
func isStream(route string) bool {
	return route == "/web/stream/{id}" || strings.HasPrefix(route, "/databases/{db}/items/{item}") && !strings.HasSuffix(route, "artwork")
}

// Middleware counts requests by their chi route pattern (unmatched paths
// count as "other", so scanners cannot blow up the label set).
func (m *Metrics) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
		var route string
		started := false
		hook := func() {
			if started {
				return
			}
			started = true
			route = routeOf(r)
			m.inflight.WithLabelValues(route).Inc()
			if isStream(route) {
				m.streams.Inc()
			}
		}
		defer func() { // also when the handler panics (Recoverer is outside)
			if !started {
				hook()
			}
			m.inflight.WithLabelValues(route).Dec()
			if isStream(route) {
				m.streams.Dec()
			}
			status := ww.Status()
			if status == 0 {
				status = http.StatusOK
			}
			m.requests.WithLabelValues(route, r.Method, strconv.Itoa(status)).Inc()
			m.latency.WithLabelValues(route).Observe(time.Since(start).Seconds())
			m.bytes.WithLabelValues(route).Add(float64(ww.BytesWritten()))
		}()
		next.ServeHTTP(&hookWriter{WrapResponseWriter: ww, first: hook}, r)
	})
}

func routeOf(r *http.Request) string {
	if rc := chi.RouteContext(r.Context()); rc != nil {
		if p := rc.RoutePattern(); p != "" && !strings.HasSuffix(p, "/*") || p == "/web/static/*" {
			return p
		}
	}
	return "other"
}

// hookWriter calls first before the response's first header or byte.
type hookWriter struct {
	middleware.WrapResponseWriter
	first func()
}

func (h *hookWriter) WriteHeader(code int) { h.first(); h.WrapResponseWriter.WriteHeader(code) }
func (h *hookWriter) Write(p []byte) (int, error) {
	h.first()
	return h.WrapResponseWriter.Write(p)
}

// ReadFrom keeps sendfile for file streams.
func (h *hookWriter) ReadFrom(r io.Reader) (int64, error) {
	h.first()
	if rf, ok := h.WrapResponseWriter.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(h.WrapResponseWriter, r)
}

// Unwrap lets http.ResponseController reach the connection (write
// deadlines of streams).
func (h *hookWriter) Unwrap() http.ResponseWriter { return h.WrapResponseWriter.Unwrap() }

func (m *Metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// watch registers the collector of s's state: library, catalog, DAAP and
// announcement.
func (m *Metrics) watch(s *Server) {
	m.reg.MustRegister(&stateCollector{s: s})
}

var (
	descSessions   = prometheus.NewDesc("daapd_daap_sessions", "DAAP login sessions.", nil, nil)
	descParked     = prometheus.NewDesc("daapd_daap_update_waiting", "DAAP /update requests parked until the library changes.", nil, nil)
	descTranscodes = prometheus.NewDesc("daapd_transcodes_in_flight", "ffmpeg processes transcoding a stream.", nil, nil)
	descTranscoder = prometheus.NewDesc("daapd_transcoding_available", "1 when ffmpeg was found and transcoding is on.", nil, nil)
	descCacheBytes = prometheus.NewDesc("daapd_cache_bytes", "Bytes held by a cache.", []string{"cache"}, nil)
	descCacheItems = prometheus.NewDesc("daapd_cache_entries", "Entries held by a cache.", []string{"cache"}, nil)
	descCacheHits  = prometheus.NewDesc("daapd_cache_hits_total", "Cache lookups answered from the cache.", []string{"cache"}, nil)
	descCacheMiss  = prometheus.NewDesc("daapd_cache_misses_total", "Cache lookups that had to build the entry.", []string{"cache"}, nil)
	descScans      = prometheus.NewDesc("daapd_scans_total", "Library scans finished (full and watched folders).", nil, nil)
	descScanning   = prometheus.NewDesc("daapd_scan_running", "1 while a scan runs.", nil, nil)
	descScanFiles  = prometheus.NewDesc("daapd_scan_files", "Audio files of the last scan, by outcome (read, reused, skipped, kept) and in all (found).", []string{"outcome"}, nil)
	descScanDur    = prometheus.NewDesc("daapd_scan_duration_seconds", "Duration of the last scan.", nil, nil)
	descScanLast   = prometheus.NewDesc("daapd_scan_last_timestamp_seconds", "When the last scan finished (Unix time).", nil, nil)
	descScanProg   = prometheus.NewDesc("daapd_scan_progress_files", "Files done by the running scan.", nil, nil)
	descSkips      = prometheus.NewDesc("daapd_library_problems", "Files left out of the library, by kind (the list is bounded).", []string{"kind"}, nil)
	descRootsDown  = prometheus.NewDesc("daapd_library_roots_unavailable", "Music folders found unavailable by the last scan.", nil, nil)
	descCatalog    = prometheus.NewDesc("daapd_catalog_items", "Items in the catalog by kind.", []string{"kind"}, nil)
	descRevision   = prometheus.NewDesc("daapd_catalog_revision", "The catalog's revision (DAAP revision-number).", nil, nil)
	descAnnounce   = prometheus.NewDesc("daapd_announce_state", "1 for the announcement's current backend and state.", []string{"backend", "state"}, nil)
	descStart      = prometheus.NewDesc("daapd_start_time_seconds", "When daapd started (Unix time).", nil, nil)
	descBuild      = prometheus.NewDesc("daapd_build_info", "daapd's version.", []string{"version"}, nil)
)

// stateCollector reads the current state on every scrape.
type stateCollector struct{ s *Server }

func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	prometheus.DescribeByCollect(c, ch)
}

func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.s
	g := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	ctr := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
	}
	ds := s.cfg.DAAP.Stats()
	g(descSessions, float64(ds.Sessions))
	g(descParked, float64(ds.Parked))
	g(descTranscodes, float64(ds.Transcodes))
	g(descTranscoder, b2f(s.cfg.DAAP.FFmpeg() != ""))
	for name, cs := range map[string]struct {
		b, n int
		h, m uint64
	}{
		"listings": {ds.Listings.Bytes, ds.Listings.Entries, ds.Listings.Hits, ds.Listings.Misses},
		"artwork":  {ds.Artwork.Bytes, ds.Artwork.Entries, ds.Artwork.Hits, ds.Artwork.Misses},
	} {
		g(descCacheBytes, float64(cs.b), name)
		g(descCacheItems, float64(cs.n), name)
		ctr(descCacheHits, float64(cs.h), name)
		ctr(descCacheMiss, float64(cs.m), name)
	}
	snap := s.cfg.Catalog.Snapshot()
	g(descCatalog, float64(len(snap.Tracks)), "tracks")
	g(descCatalog, float64(len(snap.Albums)), "albums")
	g(descCatalog, float64(len(snap.Artists)), "artists")
	g(descCatalog, float64(len(snap.Playlists)), "playlists")
	g(descRevision, float64(snap.Revision))
	if s.cfg.Status != nil {
		st := s.cfg.Status()
		ctr(descScans, float64(st.Scans))
		g(descScanning, b2f(st.Scanning))
		ls := st.LastStats
		g(descScanFiles, float64(ls.Files), "found")
		g(descScanFiles, float64(ls.Read), "read")
		g(descScanFiles, float64(ls.Reused), "reused")
		g(descScanFiles, float64(ls.Skipped), "skipped")
		g(descScanFiles, float64(ls.Kept), "kept")
		g(descScanDur, ls.Duration.Seconds())
		if !st.LastScan.IsZero() {
			g(descScanLast, float64(st.LastScan.UnixMilli())/1000)
		}
		if st.Scanning {
			g(descScanProg, float64(st.Progress.Files))
		} else {
			g(descScanProg, 0)
		}
		kinds := map[string]int{}
		for _, sk := range st.Skips {
			kinds[sk.Kind]++
		}
		for k, n := range kinds {
			g(descSkips, float64(n), k)
		}
		g(descRootsDown, float64(len(st.Unavailable)))
	}
	a := Announce{Backend: "off", State: "off"}
	if s.cfg.Announce != nil {
		a = s.cfg.Announce()
	}
	g(descAnnounce, 1, a.Backend, a.State)
	g(descStart, float64(s.cfg.Started.UnixMilli())/1000)
	g(descBuild, 1, s.cfg.Version)
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
