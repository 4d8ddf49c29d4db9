package daap

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// dmapType is the Content-Type of every DMAP reply.
const dmapType = "application/x-dmap-tagged"

// gzipMin is the smallest body worth compressing.
const gzipMin = 1 << 10

// body is an encoded reply: plain bytes, or a cached listing, whose body
// is usually kept gzipped only.
type body struct {
	plain []byte
	entry *cacheEntry // non-nil when cached: pinned until released
	cache *lru        // the cache holding entry
}

// release unpins a cached body once it has been sent.
func (b body) release() {
	if b.entry != nil {
		b.cache.release(b.entry)
	}
}

// dmapHandler builds a DMAP reply for a request.
type dmapHandler func(r *http.Request, c client) (body, error)

// dmap adapts a dmapHandler: it sets the DAAP headers, gzips when the client
// accepts it, and maps errors to statuses.
func (s *Server) dmap(h dmapHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		b, err := h(r, clientOf(r))
		if err != nil {
			s.fail(w, r, err)
			return
		}
		defer b.release()
		s.write(w, r, b)
	}
}

func (s *Server) serverHeader() string { return "daapd/" + s.cfg.Version }

func (s *Server) write(w http.ResponseWriter, r *http.Request, b body) {
	h := w.Header()
	h.Set("Content-Type", dmapType)
	h.Set("DAAP-Server", s.serverHeader())
	h.Set("Vary", "Accept-Encoding")
	gz := acceptsGzip(r.Header.Get("Accept-Encoding"))
	if b.entry != nil {
		s.writeCached(w, r, b.entry.reply, gz)
		return
	}
	data := b.plain
	if len(data) >= gzipMin && gz {
		if z := gzipBytes(data); z != nil && len(z) < len(data) {
			h.Set("Content-Encoding", "gzip")
			data = z
		}
	}
	h.Set("Content-Length", strconv.Itoa(len(data)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		s.writeAll(w, data)
	}
}

// writeCached sends a cached reply: as it is kept when it is plain or the
// client accepts gzip, else inflated as it goes out, with the plain
// length known from the build.
func (s *Server) writeCached(w http.ResponseWriter, r *http.Request, rp reply, gz bool) {
	h := w.Header()
	n := len(rp.data)
	if rp.zipped && gz {
		h.Set("Content-Encoding", "gzip")
	} else {
		n = rp.plain
	}
	h.Set("Content-Length", strconv.Itoa(n))
	w.WriteHeader(http.StatusOK)
	switch {
	case r.Method == http.MethodHead:
	case !rp.zipped || gz:
		s.writeAll(w, rp.data)
	default:
		rc := http.NewResponseController(w)
		defer rc.SetWriteDeadline(time.Time{})
		sw := &stallWriter{w: w, rc: rc, timeout: s.cfg.StallTimeout}
		if m, err := inflate(sw, rp.data); err != nil && m < int64(n) {
			s.log.Debug("plain listing not sent whole", "path", r.URL.Path, "sent", m, "of", n, "err", err)
		}
	}
}

// writeAll writes data in pieces, each with a write deadline of the stall
// timeout: a client that stops reading a big listing is cut off rather
// than pinning it in memory. The deadline is cleared after, as the
// connection may serve further requests.
func (s *Server) writeAll(w http.ResponseWriter, data []byte) {
	const piece = 256 << 10
	rc := http.NewResponseController(w)
	defer rc.SetWriteDeadline(time.Time{})
	sw := &stallWriter{w: w, rc: rc, timeout: s.cfg.StallTimeout}
	for len(data) > 0 {
		n := min(len(data), piece)
		if _, err := sw.Write(data[:n]); err != nil {
			return
		}
		data = data[n:]
	}
}

// acceptsGzip reports whether an Accept-Encoding header allows gzip
// (honouring q=0).
func acceptsGzip(ae string) bool {
	for part := range strings.SplitSeq(ae, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		name = strings.ToLower(strings.TrimSpace(name))
		if name != "gzip" && name != "x-gzip" && name != "*" {
			continue
		}
		q := 1.0
		for p := range strings.SplitSeq(params, ";") {
			k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
			if ok && strings.EqualFold(strings.TrimSpace(k), "q") {
				if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
					q = f
				}
			}
		}
		if q > 0 {
			return true
		}
		if name != "*" {
			return false
		}
	}
	return false
}

// client is what a request's headers say about the client.
type client struct {
	// classic: libdmapsharing 2.9.41 (Rhythmbox), which truncates a
	// container at the first code it does not know. It gets only codes in
	// its table.
	classic bool
	// apple: iTunes or Music.app. They must not see asgr or aeFP.
	apple bool
	// daapVersion is Client-DAAP-Version's major number (0 when absent).
	daapVersion int
}

func clientOf(r *http.Request) client {
	ua := r.UserAgent()
	var c client
	if v := r.Header.Get("Client-DAAP-Version"); v != "" {
		major, _, _ := strings.Cut(strings.TrimSpace(v), ".")
		c.daapVersion, _ = strconv.Atoi(major)
	}
	switch {
	case strings.HasPrefix(ua, "iTunes/4.") && strings.Contains(ua, "(Windows; N)") && c.daapVersion == 3:
		c.classic = true
	case strings.HasPrefix(ua, "iTunes/"), strings.HasPrefix(ua, "Music/"), strings.HasPrefix(ua, "iTunes_Music/"):
		c.apple = true
	}
	return c
}

// profile is the cache-key part that depends on the client.
func (c client) profile() string {
	if c.classic {
		return "classic"
	}
	return "full"
}
