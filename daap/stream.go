package daap

import (
	"fmt"
	"io"
	"net/http"
	"path"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/daapd/daapd/library"
)

// audioTypes maps a file extension to the Content-Type of its stream.
var audioTypes = map[string]string{
	"mp3":  "audio/mpeg",
	"m4a":  "audio/mp4",
	"m4b":  "audio/mp4",
	"m4p":  "audio/mp4",
	"mp4":  "audio/mp4",
	"aac":  "audio/aac",
	"alac": "audio/mp4",
	"flac": "audio/flac",
	"ogg":  "audio/ogg",
	"oga":  "audio/ogg",
	"opus": "audio/ogg",
	"wav":  "audio/wav",
	"aif":  "audio/aiff",
	"aiff": "audio/aiff",
	"aifc": "audio/aiff",
	"wma":  "audio/x-ms-wma",
	"dsf":  "audio/x-dsf",
	"dff":  "audio/x-dff",
}

// trackParam looks up the {item} route parameter in the current snapshot.
func (s *Server) trackParam(r *http.Request) (*library.Track, error) {
	v := chi.URLParam(r, "item")
	id, err := parseID32(v)
	if err != nil {
		return nil, badRequest("item id %q", v)
	}
	t, ok := s.cfg.Catalog.Snapshot().Track(id)
	if !ok {
		return nil, errNotFound
	}
	return t, nil
}

// stream serves a track's file with Range support (206, 416,
// Accept-Ranges), or its WAV transcode to iTunes and Music.app when they
// cannot play the file (see transcodes). Otherwise the extension in the
// URL is ignored: clients build it from asfm, or put "Unknown" there.
// The Range header is judged by parseRange, as for transcodes;
// http.ServeContent then sends the one range or the whole file (with
// sendfile), and the conditional requests it knows. A client that reads
// nothing for the stall timeout is cut off.
func (s *Server) stream(w http.ResponseWriter, r *http.Request) {
	t, err := s.trackParam(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if s.transcodes(r, t) {
		s.streamWAV(w, r, t)
		return
	}
	s.serveFile(w, r, t)
}

// serveFile serves t's file as it is.
func (s *Server) serveFile(w http.ResponseWriter, r *http.Request, t *library.Track) {
	p := t.AbsPath()
	f, fi, err := s.open(p)
	if err != nil {
		s.fail(w, r, s.fileError(t, p, err))
		return
	}
	defer f.Close()
	h := w.Header()
	h.Set("DAAP-Server", s.serverHeader())
	h.Set("Accept-Ranges", "bytes")
	ct := audioTypes[songFormat(t)]
	if ct == "" {
		ct = "application/octet-stream"
	}
	h.Set("Content-Type", ct)

	rangeHdr := r.Header.Get("Range")
	if !ifRangeHolds(r, fi.ModTime()) {
		rangeHdr = "" // the client's copy is of another version: send it whole
	}
	start, end, partial, err := parseRange(rangeHdr, fi.Size())
	if err != nil {
		s.rangeNotSatisfiable(w, r, fi.Size())
		return
	}
	r = r.Clone(r.Context())
	r.Header.Del("If-Range")
	r.Header.Del("Range")
	if partial {
		r.Header.Set("Range", fmt.Sprintf("bytes=%d-%d", start, end))
	}
	rc := http.NewResponseController(w)
	defer rc.SetWriteDeadline(time.Time{})
	http.ServeContent(&stallResponse{ResponseWriter: w, rc: rc, timeout: s.cfg.StallTimeout}, r, path.Base(t.Path), fi.ModTime(), f)
}

// stallPiece is how much of a file is sent between renewals of the write
// deadline.
const stallPiece = 1 << 20

// stallResponse renews a write deadline of timeout before each piece it
// writes, so a client that stops reading is cut off. File bodies are still
// sent with sendfile, a piece at a time.
type stallResponse struct {
	http.ResponseWriter
	rc      *http.ResponseController
	timeout time.Duration
}

func (sr *stallResponse) Unwrap() http.ResponseWriter { return sr.ResponseWriter }

func (sr *stallResponse) Write(p []byte) (int, error) {
	sr.rc.SetWriteDeadline(time.Now().Add(sr.timeout)) // unsupported by some writers: then no deadline
	return sr.ResponseWriter.Write(p)
}

// ReadFrom copies src, which http.ServeContent passes as an
// io.LimitedReader over the file, in pieces of stallPiece.
func (sr *stallResponse) ReadFrom(src io.Reader) (int64, error) {
	rf, ok := sr.ResponseWriter.(io.ReaderFrom)
	lr, limited := src.(*io.LimitedReader)
	if !ok || !limited {
		return io.Copy(struct{ io.Writer }{sr}, src)
	}
	var total int64
	for lr.N > 0 {
		sr.rc.SetWriteDeadline(time.Now().Add(sr.timeout))
		n, err := rf.ReadFrom(&io.LimitedReader{R: lr.R, N: min(lr.N, stallPiece)})
		total += n
		lr.N -= n
		if err != nil || n == 0 {
			return total, err
		}
	}
	return total, nil
}
