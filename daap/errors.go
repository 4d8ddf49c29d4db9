package daap

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"

	"github.com/daapd/daapd/internal/regfile"
	"github.com/daapd/daapd/library"
)

// httpError is an error with the HTTP status it maps to.
type httpError struct {
	status int
	msg    string
	retry  string // Retry-After, for 503s
}

func (e *httpError) Error() string { return e.msg }

var (
	errNotFound  = &httpError{status: http.StatusNotFound, msg: "not found"}
	errNoSession = &httpError{status: http.StatusForbidden, msg: "no valid session-id"}
	errAuth      = &httpError{status: http.StatusUnauthorized, msg: "password required"}
	errClosing   = &httpError{status: http.StatusServiceUnavailable, msg: "server shutting down"}
	// errUnavailable answers streams of tracks whose music folder was
	// unavailable at the last scan (an unmounted share).
	errUnavailable = &httpError{status: http.StatusServiceUnavailable, msg: "music folder unavailable"}
	// errUnreadable answers streams of files daapd may not read.
	errUnreadable = &httpError{status: http.StatusForbidden, msg: "track file not readable"}
	// errFileFailed answers streams of files that fail to open otherwise
	// (the failure is logged once per file, not on every request).
	errFileFailed = &httpError{status: http.StatusInternalServerError, msg: "track file cannot be opened"}
)

// fileError maps a failure to open t's file (at path) to a reply:
//   - 503 while t's music folder is unavailable (the track is kept,
//     marked Missing);
//   - 404 for a file that is gone, not logged (the next scan drops it);
//   - 404 for a file replaced by a FIFO, a device or a directory, and 403
//     for one daapd may not read: logged once per file, as the owner has
//     to fix them;
//   - 500 for anything else (I/O errors), logged once per file too.
func (s *Server) fileError(t *library.Track, path string, err error) error {
	switch {
	case t.Missing:
		return errUnavailable
	case errors.Is(err, fs.ErrNotExist):
		return errNotFound
	case errors.Is(err, regfile.ErrNotRegular):
		s.logFileOnce(path, "not a regular file (a FIFO, device or directory?); answering 404", err)
		return errNotFound
	case errors.Is(err, fs.ErrPermission):
		s.logFileOnce(path, "permission denied; answering 403", err)
		return errUnreadable
	}
	s.logFileOnce(path, "cannot open; answering 500", err)
	return errFileFailed
}

// maxLoggedFiles bounds the set of files whose problem was logged; when
// full it starts over, so a problem may then be logged once more.
const maxLoggedFiles = 1024

// logFileOnce logs a file's problem at Warn the first time the file
// fails (to stream or for its artwork).
func (s *Server) logFileOnce(path, msg string, err error) {
	s.loggedMu.Lock()
	seen := s.logged[path]
	if !seen {
		if len(s.logged) >= maxLoggedFiles {
			clear(s.logged)
		}
		s.logged[path] = true
	}
	s.loggedMu.Unlock()
	if !seen {
		s.log.Warn("track file: "+msg, "path", path, "err", err)
	}
}

// badRequest reports a malformed parameter.
func badRequest(format string, args ...any) error {
	return &httpError{status: http.StatusBadRequest, msg: fmt.Sprintf(format, args...)}
}

// fail writes err as a plain-text HTTP error; anything that is not an
// httpError is a 500 and is logged.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	if r.Context().Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
		return // the client is gone: nobody to answer, nothing to log
	}
	var he *httpError
	if !errors.As(err, &he) {
		s.log.Error("request failed", "uri", r.RequestURI, "err", err)
		he = &httpError{status: http.StatusInternalServerError, msg: "internal error"}
	}
	h := w.Header()
	h.Set("DAAP-Server", s.serverHeader())
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	if he.status == http.StatusUnauthorized {
		h.Set("WWW-Authenticate", fmt.Sprintf("Basic realm=%q", s.Name()))
	}
	if he.retry != "" {
		h.Set("Retry-After", he.retry)
	}
	w.WriteHeader(he.status)
	fmt.Fprintln(w, he.msg)
}
