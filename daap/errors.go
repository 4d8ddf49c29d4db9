package daap

import (
	"errors"
	"fmt"
	"net/http"
)

// httpError is an error with the HTTP status it maps to.
type httpError struct {
	status int
	msg    string
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
)

// badRequest reports a malformed parameter.
func badRequest(format string, args ...any) error {
	return &httpError{status: http.StatusBadRequest, msg: fmt.Sprintf(format, args...)}
}

// fail writes err as a plain-text HTTP error; anything that is not an
// httpError is a 500 and is logged.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
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
	w.WriteHeader(he.status)
	fmt.Fprintln(w, he.msg)
}
