package daap

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/daapd/daapd/library"
	"github.com/daapd/daapd/transcode"
)

// Values of Config.Transcode: what Apple clients (iTunes, Music.app) get
// for tracks they cannot play (FLAC, Vorbis, Opus, AIFC alaw/ulaw, ...).
const (
	// TranscodeAuto transcodes to WAV when ffmpeg is found at startup,
	// and otherwise hides those tracks (logging one warning).
	TranscodeAuto = "auto"
	// TranscodeOff lists every track in its own format to every client.
	TranscodeOff = "off"
	// TranscodeHide hides those tracks from Apple clients.
	TranscodeHide = "hide"
)

// TranscodeModes lists the valid values of Config.Transcode.
var TranscodeModes = []string{TranscodeAuto, TranscodeOff, TranscodeHide}

// view is how one listing presents tracks: the client's family and the
// server's mode decide, per track, what it gets (transcode.Decide).
type view struct {
	family transcode.Family
	mode   transcode.Mode
}

func (v view) String() string { return v.family.String() + "/" + v.mode.String() }

// Transcoding limits.
const (
	defaultTranscodes = 4               // concurrent ffmpeg processes
	transcodeQueue    = 2 * time.Second // wait for a free slot before 503
)

// decide is what view v gives track t.
func (v view) decide(t *library.Track) transcode.Action {
	return transcode.Decide(v.family, v.mode, t.Codec, songFormat(t), t.DurationMS)
}

// pick reports whether view v lists t, and whether as its WAV stand-in.
func (v view) pick(t *library.Track) (listed, wav bool) {
	switch v.decide(t) {
	case transcode.Native:
		return true, false
	case transcode.Hidden:
		return false, false
	}
	return true, true
}

// asWAV sets w to t as its WAV stand-in is listed.
func asWAV(w, t *library.Track) {
	*w = *t
	w.Format, w.Codec = "wav", "pcm"
	w.Size = transcode.Size(transcode.Frames(t.DurationMS))
	w.SampleRate, w.Channels = transcode.Rate, transcode.Channels
	w.Bitrate = transcode.Bitrate
}

// hiddenCounts is, for one catalog revision, how many tracks each view
// hides.
type hiddenCounts struct {
	rev uint32
	n   map[view]int
}

// hidden returns how many of snap's tracks view v hides, counted once per
// revision and view.
func (s *Server) hidden(snap *library.Snapshot, v view) int {
	s.hiddenMu.Lock()
	defer s.hiddenMu.Unlock()
	hc := s.hiddenCache
	if hc == nil || hc.rev != snap.Revision {
		if hc != nil && hc.rev > snap.Revision {
			return countHidden(snap, v) // an old snapshot: don't evict the newer counts
		}
		hc = &hiddenCounts{rev: snap.Revision, n: map[view]int{}}
		s.hiddenCache = hc
	}
	n, ok := hc.n[v]
	if !ok {
		n = countHidden(snap, v)
		hc.n[v] = n // at most one entry per family and mode
	}
	return n
}

func countHidden(snap *library.Snapshot, v view) int {
	n := 0
	for _, t := range snap.Tracks {
		if v.decide(t) == transcode.Hidden {
			n++
		}
	}
	return n
}

// trackCount is the number of tracks view v lists.
func (s *Server) trackCount(snap *library.Snapshot, v view) int {
	if v.mode == transcode.ModeOff {
		return len(snap.Tracks)
	}
	return len(snap.Tracks) - s.hidden(snap, v)
}

// viewFor is the view of a listing request: Apple clients (by User-Agent,
// or a session that logged in as one) are the Apple family, everybody
// else the other.
func (s *Server) viewFor(r *http.Request, c client) view {
	if !c.classic && (c.apple || s.appleSession(r)) {
		return view{transcode.Apple, s.mode}
	}
	return view{transcode.Other, s.mode}
}

// appleSession reports whether r's session logged in as an Apple client.
func (s *Server) appleSession(r *http.Request) bool {
	id, ok := sessionID(r)
	return ok && s.sessions.isApple(id)
}

// streamView is the view of a stream request: Apple clients are also
// known by AVFoundation's User-Agent (AppleCoreMedia, which Music.app uses
// for the audio itself).
func (s *Server) streamView(r *http.Request) view {
	c := clientOf(r)
	if !c.classic && (c.apple || s.appleSession(r) || strings.HasPrefix(r.UserAgent(), "AppleCoreMedia/")) {
		return view{transcode.Apple, s.mode}
	}
	return view{transcode.Other, s.mode}
}

// transcodes reports whether a stream request for t gets the WAV
// transcode: the client's view transcodes t, or the client asked for
// .wav (as some view lists it) and t can be transcoded.
func (s *Server) transcodes(r *http.Request, t *library.Track) bool {
	if s.ffmpeg == "" {
		return false
	}
	if s.streamView(r).decide(t) == transcode.WAV {
		return true
	}
	return strings.EqualFold(chi.URLParam(r, "ext"), "wav") && view{transcode.Apple, s.mode}.decide(t) == transcode.WAV
}

// initTranscode resolves Config.Transcode at startup.
func (s *Server) initTranscode() {
	mode := s.cfg.Transcode
	switch mode {
	case "", TranscodeAuto, TranscodeOff, TranscodeHide:
	default:
		s.log.Error("unknown transcode mode; using auto", "transcode", mode, "valid", TranscodeModes)
		mode = TranscodeAuto
	}
	n := s.cfg.MaxTranscodes
	if n <= 0 {
		n = defaultTranscodes
	}
	s.transSem = make(chan struct{}, n)
	s.transWait = transcodeQueue
	switch mode {
	case TranscodeOff:
		s.mode = transcode.ModeOff
		return
	case TranscodeHide:
		s.mode = transcode.ModeHide
		return
	}
	bin := s.cfg.FFmpeg
	if bin == "" {
		bin = "ffmpeg"
	}
	path, err := exec.LookPath(bin)
	if err != nil {
		s.mode = transcode.ModeHide
		s.warnUnplayable(bin)
		return
	}
	s.ffmpeg, s.mode = path, transcode.ModeWAV
	s.log.Info("transcoding to WAV for clients that cannot play a format", "ffmpeg", path)
	s.warnUnplayable("")
}

// warnUnplayable logs, once, the first time the catalog holds tracks
// that Apple clients will not see: every unplayable track when ffmpeg
// (named missing) was not found, or those without a known duration when
// transcoding. The snapshot current at startup is checked at once; later
// ones by a goroutine that ends with the warning or with Close.
func (s *Server) warnUnplayable(missing string) {
	cat := s.cfg.Catalog
	snap := cat.Snapshot()
	if s.logUnplayable(snap, missing) {
		return
	}
	go func() {
		ctx, cancel := s.closing(context.Background())
		defer cancel()
		for {
			var err error
			if snap, err = cat.Wait(ctx, snap.Revision); err != nil || s.logUnplayable(snap, missing) {
				return
			}
		}
	}()
}

// logUnplayable logs the warning of warnUnplayable if snap calls for it.
func (s *Server) logUnplayable(snap *library.Snapshot, missing string) bool {
	counts := map[string]int{}
	total := 0
	for _, t := range snap.Tracks {
		if transcode.Plays(transcode.Apple, t.Codec, songFormat(t)) || (missing == "" && transcode.Frames(t.DurationMS) > 0) {
			continue
		}
		counts[codecKey(t)]++
		total++
	}
	if total == 0 {
		return false
	}
	formats := formatCounts(counts)
	if missing != "" {
		s.log.Warn(fmt.Sprintf("%d tracks in formats iTunes and Music.app cannot play (%s) are hidden from them: "+
			"%s was not found in PATH; install ffmpeg to have daapd transcode them to WAV "+
			"(transcode: off lists them anyway, transcode: hide silences this warning)", total, formats, missing),
			"tracks", total, "formats", formats)
	} else {
		s.log.Warn(fmt.Sprintf("%d tracks in formats iTunes and Music.app cannot play (%s) are hidden from them: "+
			"their duration is unknown (or over 6.7 hours), so the size of their WAV transcode cannot be known", total, formats),
			"tracks", total, "formats", formats)
	}
	return true
}

// formatCounts renders counts as "flac 120, opus 3", largest first.
func formatCounts(counts map[string]int) string {
	keys := slices.Collect(maps.Keys(counts))
	slices.SortFunc(keys, func(a, b string) int { return cmp.Or(cmp.Compare(counts[b], counts[a]), strings.Compare(a, b)) })
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", cmp.Or(k, "unknown"), counts[k])
	}
	return strings.Join(parts, ", ")
}

var (
	errBusy = &httpError{status: http.StatusServiceUnavailable, msg: "too many transcodes in progress; retry shortly", retry: "2"}
)

// streamWAV serves t transcoded to WAV: our own header, then ffmpeg's raw
// PCM, with an exact Content-Length. A Range maps to a sample-accurate
// seek. ffmpeg ends with the request (client gone), and the number of
// concurrent transcodes is bounded (503 with Retry-After beyond).
func (s *Server) streamWAV(w http.ResponseWriter, r *http.Request, t *library.Track) {
	p := t.AbsPath()
	f, fi, err := s.open(p)
	if err != nil {
		s.fail(w, r, s.fileError(t, p, err))
		return
	}
	defer f.Close()
	frames := transcode.Frames(t.DurationMS)
	size := transcode.Size(frames)
	h := w.Header()
	h.Set("DAAP-Server", s.serverHeader())
	h.Set("Accept-Ranges", "bytes")
	h.Set("Content-Type", "audio/wav")
	h.Set("Last-Modified", fi.ModTime().UTC().Format(http.TimeFormat))

	rangeHdr := r.Header.Get("Range")
	if !ifRangeHolds(r, fi.ModTime()) {
		rangeHdr = "" // the client's copy is of another version: send it whole
	}
	start, end, partial, err := parseRange(rangeHdr, size)
	if err != nil {
		s.rangeNotSatisfiable(w, r, size)
		return
	}
	status := http.StatusOK
	if partial {
		status = http.StatusPartialContent
	}
	var pcm *transcode.Stream
	if end >= transcode.HeaderLen && r.Method != http.MethodHead {
		release, err := s.transcodeSlot(r.Context())
		if err != nil {
			if r.Context().Err() != nil {
				return // the client gave up waiting
			}
			s.fail(w, r, err)
			return
		}
		defer release()
		from := max(start-transcode.HeaderLen, 0)
		if pcm, err = transcode.Start(r.Context(), s.ffmpeg, f, from, end-transcode.HeaderLen-from+1); err != nil {
			s.fail(w, r, err)
			return
		}
		defer pcm.Stop()
		// Wait for ffmpeg's first bytes, so a file it cannot decode at
		// all gets an error status rather than a cut-off 200.
		if err := pcm.Started(); err != nil {
			if r.Context().Err() == nil {
				s.fail(w, r, fmt.Errorf("transcode %s: %w", t.Path, err))
			}
			return
		}
	}
	if partial {
		h.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, end, size))
	}
	h.Set("Content-Length", strconv.FormatInt(end-start+1, 10))
	if r.Method == http.MethodHead {
		w.WriteHeader(status)
		return
	}
	var header []byte
	if start < transcode.HeaderLen {
		header = transcode.Header(frames)[start:min(end+1, transcode.HeaderLen)]
	}
	s.log.Debug("transcoding", "path", t.Path, "range", fmt.Sprintf("%d-%d/%d", start, end, size))
	w.WriteHeader(status)
	if _, err := w.Write(header); err != nil || pcm == nil {
		return
	}
	// A client that stops reading for the stall timeout is taken for gone, so
	// it cannot hold an ffmpeg slot forever. The deadline is cleared after,
	// as the connection may serve further requests.
	rc := http.NewResponseController(w)
	defer rc.SetWriteDeadline(time.Time{})
	if err := pcm.CopyTo(&stallWriter{w: w, rc: rc, timeout: s.cfg.StallTimeout}); err != nil {
		s.log.Warn("transcode failed", "path", t.Path, "err", err)
		// Fewer bytes than Content-Length: net/http closes the connection,
		// so the client sees the stream end early rather than bad audio.
	}
}

// stallWriter sets a write deadline of timeout before each write.
type stallWriter struct {
	w       io.Writer
	rc      *http.ResponseController
	timeout time.Duration
}

func (sw *stallWriter) Write(p []byte) (int, error) {
	sw.rc.SetWriteDeadline(time.Now().Add(sw.timeout)) // unsupported by some writers: then no deadline
	return sw.w.Write(p)
}

// transcodeSlot waits for one of the bounded ffmpeg slots.
func (s *Server) transcodeSlot(ctx context.Context) (func(), error) {
	release := func() { <-s.transSem }
	select {
	case s.transSem <- struct{}{}:
		return release, nil
	default:
	}
	timer := time.NewTimer(s.transWait)
	defer timer.Stop()
	select {
	case s.transSem <- struct{}{}:
		return release, nil
	case <-timer.C:
		return nil, errBusy
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// transcodeState is the Server's transcoding state.
type transcodeState struct {
	mode        transcode.Mode // how files a client cannot play are presented
	ffmpeg      string         // ffmpeg's path when transcoding, "" otherwise
	transSem    chan struct{}  // one token per running ffmpeg
	transWait   time.Duration  // how long a stream waits for a token
	hiddenMu    sync.Mutex
	hiddenCache *hiddenCounts
}
