package daap

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/daapd/daapd/library"
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

// view is how a listing presents the tracks a client cannot play.
type view uint8

const (
	viewAll  view = iota // every track as it is (Rhythmbox, unknown clients, transcode: off)
	viewWAV              // Apple clients: unplayable tracks listed as WAV and transcoded
	viewHide             // Apple clients: unplayable tracks left out
)

func (v view) String() string { return [...]string{"all", "wav", "hide"}[v] }

// The transcoded stream: 16-bit little-endian stereo PCM at 44.1 kHz
// behind a 44-byte RIFF/WAVE header.
const (
	wavRate       = 44100
	wavChannels   = 2
	wavFrameBytes = wavChannels * 2
	wavHeaderLen  = 44
	// wavMaxData is the largest data chunk a RIFF header can describe
	// (the RIFF size, 36 + data, is 32 bits), in whole frames: about 6.7
	// hours of audio.
	wavMaxData = (0xFFFFFFFF - 36) / wavFrameBytes * wavFrameBytes
	// seekStep is the seek granularity in 44.1 kHz frames (40 ms): a whole
	// number of samples at every common input rate (8, 11.025, 16, 22.05,
	// 32, 44.1, 48, 88.2, 96, 176.4, 192 kHz), so the frames after a seek
	// line up with those of a whole transcode.
	seekStep = 1764
)

// Transcoding limits.
const (
	defaultTranscodes = 4               // concurrent ffmpeg processes
	transcodeQueue    = 2 * time.Second // wait for a free slot before 503
	ffmpegStderr      = 2 << 10         // bytes of ffmpeg's stderr kept for the log
)

// wavFrames is the number of frames in t's transcode: its duration at
// 44.1 kHz, rounded to the nearest frame. It is 0 when the duration is
// unknown or too long for a WAV header; such tracks cannot be transcoded
// with an exact Content-Length.
func wavFrames(t *library.Track) int64 {
	n := (int64(t.DurationMS)*wavRate + 500) / 1000
	if n*wavFrameBytes > wavMaxData {
		return 0
	}
	return n
}

// wavSize is the byte size of a transcode of frames frames.
func wavSize(frames int64) int64 { return wavHeaderLen + frames*wavFrameBytes }

// wavHeader is the canonical 44-byte header of a PCM WAV file holding
// frames frames of 16-bit stereo at 44.1 kHz.
func wavHeader(frames int64) []byte {
	data := uint32(frames * wavFrameBytes)
	h := make([]byte, 0, wavHeaderLen)
	h = append(h, "RIFF"...)
	h = binary.LittleEndian.AppendUint32(h, 36+data)
	h = append(h, "WAVEfmt "...)
	h = binary.LittleEndian.AppendUint32(h, 16) // fmt chunk size
	h = binary.LittleEndian.AppendUint16(h, 1)  // WAVE_FORMAT_PCM
	h = binary.LittleEndian.AppendUint16(h, wavChannels)
	h = binary.LittleEndian.AppendUint32(h, wavRate)
	h = binary.LittleEndian.AppendUint32(h, wavRate*wavFrameBytes) // bytes per second
	h = binary.LittleEndian.AppendUint16(h, wavFrameBytes)         // block align
	h = binary.LittleEndian.AppendUint16(h, 16)                    // bits per sample
	h = append(h, "data"...)
	return binary.LittleEndian.AppendUint32(h, data)
}

// mp4Formats are the file extensions of MPEG-4 audio files.
var mp4Formats = map[string]bool{"m4a": true, "m4b": true, "m4p": true, "mp4": true}

// applePlays reports whether iTunes and Music.app play t's file as it is:
// MP3, AAC or ALAC in MPEG-4, and integer PCM in WAV or AIFF. Everything
// else (FLAC, Vorbis, Opus, ADTS AAC, float PCM, alaw/ulaw AIFC, WMA, DSD,
// ...) needs a transcode.
func applePlays(t *library.Track) bool {
	f := songFormat(t)
	switch codecKey(t) {
	case "mp3":
		return f == "mp3"
	case "aac", "alac":
		return mp4Formats[f]
	case "aiff":
		return true // integer PCM in an AIFF or AIFC container
	case "pcm", "wav":
		return f == "wav" || f == "aif" || f == "aiff" || f == "aifc"
	}
	return false
}

// presenter presents tracks for one listing build. The WAV copies it
// makes are carved from shared chunks, so a 100,000-track FLAC library
// costs a few large allocations per build (the listing is cached), and no
// memory once the build is done.
type presenter struct {
	v    view
	slab []library.Track
}

// present returns t as the view lists it, or false when it hides it.
func (p *presenter) present(t *library.Track) (*library.Track, bool) {
	if p.v == viewAll || applePlays(t) {
		return t, true
	}
	frames := wavFrames(t)
	if p.v == viewHide || frames == 0 {
		return nil, false
	}
	if len(p.slab) == cap(p.slab) {
		p.slab = make([]library.Track, 0, min(max(2*cap(p.slab), 16), 4096))
	}
	p.slab = append(p.slab, *t)
	w := &p.slab[len(p.slab)-1]
	w.Format, w.Codec = "wav", "pcm"
	w.Size = wavSize(frames)
	w.SampleRate, w.Channels = wavRate, wavChannels
	w.Bitrate = wavRate * wavFrameBytes * 8 / 1000
	return w, true
}

// visible returns tracks as the view lists them, keeping their order.
func (p *presenter) visible(tracks []*library.Track) []*library.Track {
	if p.v == viewAll {
		return tracks
	}
	out := make([]*library.Track, 0, len(tracks))
	for _, t := range tracks {
		if w, ok := p.present(t); ok {
			out = append(out, w)
		}
	}
	return out
}

// hiddenCounts is, for one catalog revision, how many tracks each view
// hides.
type hiddenCounts struct {
	rev uint32
	n   [3]int // by view
}

// hidden returns how many of snap's tracks view v hides, counted once per
// revision.
func (s *Server) hidden(snap *library.Snapshot, v view) int {
	if hc := s.hiddenCache.Load(); hc != nil && hc.rev == snap.Revision {
		return hc.n[v]
	}
	hc := &hiddenCounts{rev: snap.Revision}
	for _, t := range snap.Tracks {
		if !applePlays(t) {
			hc.n[viewHide]++
			if wavFrames(t) == 0 {
				hc.n[viewWAV]++
			}
		}
	}
	if old := s.hiddenCache.Load(); old == nil || old.rev < hc.rev {
		s.hiddenCache.Store(hc) // a racing build of the same revision stores the same counts
	}
	return hc.n[v]
}

// trackCount is the number of tracks view v lists.
func (s *Server) trackCount(snap *library.Snapshot, v view) int {
	if v == viewAll {
		return len(snap.Tracks)
	}
	return len(snap.Tracks) - s.hidden(snap, v)
}

// viewFor is the view of a listing request: Apple clients (by User-Agent,
// or a session that logged in as one) get the configured one, everybody
// else every track as it is.
func (s *Server) viewFor(r *http.Request, c client) view {
	if c.classic {
		return viewAll
	}
	if c.apple {
		return s.appleView
	}
	if id, ok := sessionID(r); ok && s.sessions.isApple(id) {
		return s.appleView
	}
	return viewAll
}

// appleStream reports whether a stream request comes from an Apple
// client: its session logged in as one, or its User-Agent is iTunes's,
// Music.app's or AVFoundation's (AppleCoreMedia, which Music.app uses for
// the audio itself).
func (s *Server) appleStream(r *http.Request) bool {
	c := clientOf(r)
	if c.classic {
		return false
	}
	if id, ok := sessionID(r); ok && s.sessions.isApple(id) {
		return true
	}
	return c.apple || strings.HasPrefix(r.UserAgent(), "AppleCoreMedia/")
}

// transcodes reports whether a stream request for t gets the WAV
// transcode: ffmpeg is in use, t is not playable by Apple clients and can
// be transcoded, and the client asked for .wav (as listed) or is an
// Apple client.
func (s *Server) transcodes(r *http.Request, t *library.Track) bool {
	if s.ffmpeg == "" || applePlays(t) || wavFrames(t) == 0 {
		return false
	}
	return strings.EqualFold(chi.URLParam(r, "ext"), "wav") || s.appleStream(r)
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
		s.appleView = viewAll
		return
	case TranscodeHide:
		s.appleView = viewHide
		return
	}
	bin := s.cfg.FFmpeg
	if bin == "" {
		bin = "ffmpeg"
	}
	path, err := exec.LookPath(bin)
	if err != nil {
		s.appleView = viewHide
		s.warnUnplayable(bin)
		return
	}
	s.ffmpeg, s.appleView = path, viewWAV
	if fi, err := os.Stat("/dev/fd"); err == nil && fi.IsDir() {
		s.devFD = true
	}
	s.log.Info("transcoding to WAV for iTunes and Music.app", "ffmpeg", path)
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
		if applePlays(t) || (missing == "" && wavFrames(t) > 0) {
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
	frames := wavFrames(t)
	size := wavSize(frames)
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
	var pcm *transcode
	if end >= wavHeaderLen && r.Method != http.MethodHead {
		release, err := s.transcodeSlot(r.Context())
		if err != nil {
			if r.Context().Err() != nil {
				return // the client gave up waiting
			}
			s.fail(w, r, err)
			return
		}
		defer release()
		from := max(start-wavHeaderLen, 0)
		if pcm, err = s.startFFmpeg(r.Context(), f, from, end-wavHeaderLen-from+1); err != nil {
			s.fail(w, r, err)
			return
		}
		defer pcm.stop()
		// Wait for ffmpeg's first bytes, so a file it cannot decode at
		// all gets an error status rather than a cut-off 200.
		if err := pcm.started(); err != nil {
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
	if start < wavHeaderLen {
		header = wavHeader(frames)[start:min(end+1, wavHeaderLen)]
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
	if err := pcm.copyTo(&stallWriter{w: w, rc: rc, timeout: s.cfg.StallTimeout}); err != nil {
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

// transcode is one running ffmpeg, writing n bytes of PCM starting skip
// bytes into its output.
type transcode struct {
	cmd    *exec.Cmd
	out    *bufio.Reader // ffmpeg's stdout
	stderr *tailBuffer
	cancel context.CancelFunc
	skip   int64
	n      int64
	waited bool
	err    error
}

// ffmpegArgs is the command line decoding t's first audio stream to raw
// 16-bit stereo 44.1 kHz PCM from frame first, count frames long.
// Seeking is input seeking to a multiple of seekStep (accurate: ffmpeg
// decodes from the preceding key frame and drops what comes before), then
// atrim drops the rest up to the exact frame.
func ffmpegArgs(path string, first, count int64) []string {
	args := []string{"-nostdin", "-hide_banner", "-v", "error"}
	base := first - first%seekStep
	if base > 0 {
		cs := base / seekStep * 4 // centiseconds: seekStep is 40 ms
		args = append(args, "-ss", fmt.Sprintf("%d.%02d", cs/100, cs%100))
	}
	skip := first - base
	return append(args, "-i", "file:"+path,
		"-map", "0:a:0", "-map_metadata", "-1", "-vn", "-sn", "-dn",
		"-af", fmt.Sprintf("aresample=%d,atrim=start_sample=%d:end_sample=%d", wavRate, skip, skip+count),
		"-f", "s16le", "-acodec", "pcm_s16le", "-ac", strconv.Itoa(wavChannels), "-ar", strconv.Itoa(wavRate), "-")
}

// startFFmpeg starts transcoding n bytes of the PCM of f (a regular file
// opened by openRegular) from byte offset from (both relative to the end
// of the WAV header). ffmpeg reads f as its descriptor 3, never by the
// track's path, which may have become a FIFO since it was checked.
func (s *Server) startFFmpeg(ctx context.Context, f *os.File, from, n int64) (*transcode, error) {
	first, skip := from/wavFrameBytes, from%wavFrameBytes
	count := (skip + n + wavFrameBytes - 1) / wavFrameBytes
	ctx, cancel := context.WithCancel(ctx)
	input := f.Name()
	if s.devFD {
		input = "/dev/fd/3"
	}
	cmd := exec.CommandContext(ctx, s.ffmpeg, ffmpegArgs(input, first, count)...)
	cmd.ExtraFiles = []*os.File{f}
	cmd.WaitDelay = 5 * time.Second
	tc := &transcode{cmd: cmd, stderr: &tailBuffer{max: ffmpegStderr}, cancel: cancel, skip: skip, n: n}
	cmd.Stderr = tc.stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		cancel()
		return nil, err
	}
	tc.out = bufio.NewReaderSize(out, 64<<10)
	if err := cmd.Start(); err != nil {
		cancel()
		return nil, fmt.Errorf("start %s: %w", s.ffmpeg, err)
	}
	return tc, nil
}

// started waits until ffmpeg has written its first byte or ended. An
// ffmpeg that ends without output and fails (it cannot open or decode the
// file) returns its error; one that ends cleanly (a seek past the end of
// a file shorter than its stated duration) does not.
func (tc *transcode) started() error {
	if _, err := tc.out.Peek(1); err != nil {
		if werr := tc.wait(); werr != nil {
			return tc.failed(werr)
		}
	}
	return nil
}

// copyTo writes the transcode's n bytes to w. If ffmpeg ends early but
// cleanly (the file is a little shorter than its stated duration), the
// rest is silence; if it fails, the error says why.
func (tc *transcode) copyTo(w io.Writer) error {
	if tc.skip > 0 {
		if _, err := io.CopyN(io.Discard, tc.out, tc.skip); err != nil {
			return tc.failed(err)
		}
	}
	buf := make([]byte, 64<<10)
	left := tc.n
	for left > 0 {
		k, rerr := tc.out.Read(buf[:min(int64(len(buf)), left)])
		if k > 0 {
			if _, err := w.Write(buf[:k]); err != nil {
				return nil // the client went away
			}
			left -= int64(k)
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return tc.failed(rerr)
		}
	}
	if left == 0 {
		return nil
	}
	if err := tc.wait(); err != nil {
		return tc.failed(err)
	}
	clear(buf)
	for left > 0 {
		k := min(int64(len(buf)), left)
		if _, err := w.Write(buf[:k]); err != nil {
			return nil
		}
		left -= k
	}
	return nil
}

// failed describes a failed transcode with what ffmpeg said.
func (tc *transcode) failed(err error) error {
	if werr := tc.wait(); werr != nil {
		err = werr
	}
	if msg := strings.TrimSpace(tc.stderr.String()); msg != "" {
		return fmt.Errorf("ffmpeg: %w: %s", err, msg)
	}
	return fmt.Errorf("ffmpeg: %w", err)
}

// wait reaps ffmpeg once and returns its exit error.
func (tc *transcode) wait() error {
	if !tc.waited {
		tc.waited = true
		tc.err = tc.cmd.Wait()
	}
	return tc.err
}

// stop kills ffmpeg if it still runs and reaps it: no zombies.
func (tc *transcode) stop() {
	tc.cancel()
	tc.wait()
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf bytes.Buffer
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Write(p)
	if extra := b.buf.Len() - b.max; extra > 0 {
		b.buf.Next(extra)
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// transcodeState is the Server's transcoding state.
type transcodeState struct {
	appleView   view          // what Apple clients get for unplayable tracks
	ffmpeg      string        // ffmpeg's path when transcoding, "" otherwise
	transSem    chan struct{} // one token per running ffmpeg
	transWait   time.Duration // how long a stream waits for a token
	hiddenCache atomic.Pointer[hiddenCounts]
	// devFD: /dev/fd/N opens a process's own descriptors (Linux, BSDs,
	// macOS), so ffmpeg can open the file daapd checked by descriptor.
	devFD bool
}
