package daap

import (
	"errors"
	"io/fs"
	"net/http"
	"os"
	"path"

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
	f, err := os.Open(t.AbsPath())
	if err != nil {
		s.fail(w, r, openError(t, err))
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		s.fail(w, r, errNotFound)
		return
	}
	h := w.Header()
	h.Set("DAAP-Server", s.serverHeader())
	h.Set("Accept-Ranges", "bytes")
	ct := audioTypes[songFormat(t)]
	if ct == "" {
		ct = "application/octet-stream"
	}
	h.Set("Content-Type", ct)
	http.ServeContent(w, r, path.Base(t.Path), fi.ModTime(), f)
}

// openError maps a failure to open t's file to a reply: 503 while its
// music folder is unavailable (the track is kept, marked Missing), 404 for a
// file that is gone, anything else a logged 500.
func openError(t *library.Track, err error) error {
	switch {
	case t.Missing:
		return errUnavailable
	case errors.Is(err, fs.ErrNotExist):
		return errNotFound
	}
	return err
}
