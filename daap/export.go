package daap

import (
	"net/http"
	"strings"

	"github.com/daapd/daapd/library"
	"github.com/daapd/daapd/transcode"
)

// This file is what the web pages use of the DAAP server: its streams,
// artwork, transcoding and counters.

// ServeTrack serves t as a DAAP stream does (Range, 404/503 for vanished
// or unavailable files): its WAV transcode when wav is set and
// CanTranscode(t), else the file as it is.
func (s *Server) ServeTrack(w http.ResponseWriter, r *http.Request, t *library.Track, wav bool) {
	if wav && s.CanTranscode(t) {
		s.streamWAV(w, r, t)
		return
	}
	s.serveFile(w, r, t)
}

// ServeArtwork serves t's cover as the artwork endpoints do, scaled to fit
// the request's mw×mh (cached per album and size); 204 when it has none.
func (s *Server) ServeArtwork(w http.ResponseWriter, r *http.Request, t *library.Track) {
	s.serveArt(w, r, t)
}

// CanTranscode reports whether t can be streamed as WAV: ffmpeg is in use
// and t's duration is known.
func (s *Server) CanTranscode(t *library.Track) bool {
	return s.ffmpeg != "" && transcode.Frames(t.DurationMS) > 0
}

// FFmpeg is the ffmpeg binary used for transcoding, "" when transcoding is
// off or ffmpeg was not found.
func (s *Server) FFmpeg() string { return s.ffmpeg }

// TranscodeMode is the configured Config.Transcode, "auto" for "".
func (s *Server) TranscodeMode() string {
	if s.cfg.Transcode == "" {
		return TranscodeAuto
	}
	return s.cfg.Transcode
}

// HiddenFromApple says why iTunes and Music.app do not list t, "" when
// they do.
func (s *Server) HiddenFromApple(t *library.Track) string {
	if (view{transcode.Apple, s.mode}).decide(t) != transcode.Hidden {
		return ""
	}
	switch {
	case s.mode == transcode.ModeWAV:
		return "iTunes and Music.app cannot play " + formatName(t) + ", and its duration is unknown (or over 6.7 hours), so it cannot be transcoded to WAV"
	case s.TranscodeMode() == TranscodeHide:
		return "iTunes and Music.app cannot play " + formatName(t) + ", and transcode is set to hide"
	default:
		return "iTunes and Music.app cannot play " + formatName(t) + ", and ffmpeg was not found to transcode it"
	}
}

func formatName(t *library.Track) string {
	return strings.ToUpper(codecKey(t))
}

// Stats are the server's counters, for metrics.
type Stats struct {
	Sessions   int // DAAP login sessions
	Parked     int // /update requests waiting for a change
	Transcodes int // ffmpeg processes running
	Listings   CacheStats
	Artwork    CacheStats
}

// CacheStats describes one cache.
type CacheStats struct {
	Bytes, Entries int
	Hits, Misses   uint64
}

// Stats returns the server's counters.
func (s *Server) Stats() Stats {
	s.sessions.mu.Lock()
	n := len(s.sessions.byID)
	s.sessions.mu.Unlock()
	return Stats{
		Sessions:   n,
		Parked:     int(s.parked.Load()),
		Transcodes: len(s.transSem),
		Listings:   s.cache.stats(),
		Artwork:    s.art.stats(),
	}
}

func (c *lru) stats() CacheStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return CacheStats{Bytes: c.size, Entries: c.order.Len(), Hits: c.hits, Misses: c.misses}
}

// IsClient reports whether r comes from a DAAP client rather than a web
// browser: it names a DAAP version, or its User-Agent is one of the DAAP
// clients' (iTunes, Music.app and their audio engine, Remote, Rhythmbox).
func IsClient(r *http.Request) bool {
	h := r.Header
	if h.Get("Client-DAAP-Version") != "" || h.Get("Client-DAAP-Access-Index") != "" || h.Get("Viewer-Only-Client") != "" {
		return true
	}
	ua := r.UserAgent()
	for _, p := range []string{"iTunes", "Music/", "AppleCoreMedia/", "Remote/", "Rhythmbox", "libdmapsharing", "Banshee", "DAAP"} {
		if strings.HasPrefix(ua, p) {
			return true
		}
	}
	return false
}
