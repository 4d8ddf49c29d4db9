package web

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/hex"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

const (
	cookieName = "daapd_session"
	sessionAge = 30 * 24 * time.Hour
)

func encodeBase32(b []byte) string { return base32.StdEncoding.EncodeToString(b) }

// auth lets a request through when no password is set, or it carries a
// valid session cookie or the password in HTTP Basic. Otherwise a page
// request is sent to the sign-in form and anything else gets 401.
func (s *Server) auth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.signedIn(r) {
			next.ServeHTTP(w, r)
			return
		}
		if r.Method == http.MethodGet && acceptsHTML(r) {
			http.Redirect(w, r, "/signin?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		// Only /metrics asks for Basic credentials: elsewhere a challenge
		// would pop a browser's password dialog over the sign-in form.
		if r.URL.Path == "/metrics" {
			w.Header().Set("WWW-Authenticate", `Basic realm="daapd", charset="UTF-8"`)
		}
		http.Error(w, "this daapd has a password: sign in at /signin, or use HTTP Basic with the share password", http.StatusUnauthorized)
	})
}

// signedIn reports whether r may see the library.
func (s *Server) signedIn(r *http.Request) bool {
	if s.cfg.Password == "" {
		return true
	}
	if c, err := r.Cookie(cookieName); err == nil && s.validSession(c.Value, time.Now()) {
		return true
	}
	return r.Header.Get("Authorization") != "" && s.cfg.DAAP.Authorized(r)
}

// session makes a cookie value valid until exp: the expiry and its MAC.
func (s *Server) session(exp time.Time) string {
	v := strconv.FormatInt(exp.Unix(), 10)
	return v + "." + s.mac(v)
}

func (s *Server) mac(v string) string {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(v))
	return hex.EncodeToString(m.Sum(nil))
}

func (s *Server) validSession(v string, now time.Time) bool {
	exp, sum, ok := strings.Cut(v, ".")
	if !ok || !hmac.Equal([]byte(sum), []byte(s.mac(exp))) {
		return false
	}
	n, err := strconv.ParseInt(exp, 10, 64)
	return err == nil && now.Unix() < n
}

// safeNext is where to go after signing in: a local path, else "/".
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/"
	}
	return next
}

func (s *Server) signinForm(w http.ResponseWriter, r *http.Request) {
	if s.signedIn(r) {
		http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
		return
	}
	s.render(w, r, "signin", http.StatusOK, &signinPage{Next: safeNext(r.URL.Query().Get("next"))})
}

type signinPage struct {
	Next  string
	Wrong bool
}

func (s *Server) signin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	next := safeNext(r.PostForm.Get("next"))
	got := sha256.Sum256([]byte(r.PostForm.Get("password")))
	want := sha256.Sum256([]byte(s.cfg.Password))
	if s.cfg.Password == "" {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	if subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
		time.Sleep(500 * time.Millisecond) // slows guessing down
		s.render(w, r, "signin", http.StatusUnauthorized, &signinPage{Next: next, Wrong: true})
		return
	}
	exp := time.Now().Add(sessionAge)
	http.SetCookie(w, &http.Cookie{
		Name: cookieName, Value: s.session(exp), Path: "/", Expires: exp,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil,
	})
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (s *Server) signout(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, "/signin", http.StatusSeeOther)
}
