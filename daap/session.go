package daap

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// sessionIdle is how long an unused session lives. Clients ignore mstm and
// keep a session for as long as they show the share, so this is long.
const sessionIdle = 7 * 24 * time.Hour

// sessions tracks login sessions. Expiry is lazy; when the cap is reached
// the least recently used session is dropped.
type sessions struct {
	mu   sync.Mutex
	max  int
	idle time.Duration
	last map[uint32]time.Time
	// apple marks sessions that logged in as iTunes or Music.app: their
	// stream requests may carry another User-Agent (AppleCoreMedia).
	apple map[uint32]bool
	now   func() time.Time
}

func newSessions(max int, idle time.Duration) *sessions {
	return &sessions{max: max, idle: idle, last: make(map[uint32]time.Time), apple: make(map[uint32]bool), now: time.Now}
}

// create starts a session, with id want when it is free and non-zero.
func (ss *sessions) create(want uint32) uint32 {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	now := ss.now()
	ss.expire(now)
	for len(ss.last) >= ss.max {
		var oldest uint32
		var t time.Time
		for id, l := range ss.last {
			if oldest == 0 || l.Before(t) {
				oldest, t = id, l
			}
		}
		delete(ss.last, oldest)
		delete(ss.apple, oldest)
	}
	id := want
	for _, taken := ss.last[id]; id == 0 || taken; _, taken = ss.last[id] {
		var b [4]byte
		rand.Read(b[:])
		id = binary.BigEndian.Uint32(b[:]) & 0x7fffffff // positive even to signed readers
	}
	ss.last[id] = now
	return id
}

// touch reports whether id is a live session and marks it used.
func (ss *sessions) touch(id uint32) bool {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	now := ss.now()
	l, ok := ss.last[id]
	if !ok {
		return false
	}
	if now.Sub(l) > ss.idle {
		delete(ss.last, id)
		delete(ss.apple, id)
		return false
	}
	ss.last[id] = now
	return true
}

func (ss *sessions) remove(id uint32) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	delete(ss.last, id)
	delete(ss.apple, id)
}

// setApple marks a live session as an Apple client's.
func (ss *sessions) setApple(id uint32) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if _, ok := ss.last[id]; ok {
		ss.apple[id] = true
	}
}

// isApple reports whether session id logged in as an Apple client.
func (ss *sessions) isApple(id uint32) bool {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.apple[id]
}

func (ss *sessions) expire(now time.Time) {
	for id, l := range ss.last {
		if now.Sub(l) > ss.idle {
			delete(ss.last, id)
			delete(ss.apple, id)
		}
	}
}

// sessionID returns the request's session-id parameter (0 when absent or
// malformed).
func sessionID(r *http.Request) (uint32, bool) {
	v := r.URL.Query().Get("session-id")
	if v == "" {
		return 0, false
	}
	id, err := parseID32(v)
	return id, err == nil
}

// parseID32 parses a 32-bit id. libdmapsharing reads ids as signed, so an
// id above 2^31 comes back negative (e.g. containers/-862614040/items);
// both spellings are accepted.
func parseID32(v string) (uint32, error) {
	if n, err := strconv.ParseUint(v, 10, 32); err == nil {
		return uint32(n), nil
	}
	n, err := strconv.ParseInt(v, 10, 32)
	if err != nil {
		return 0, err
	}
	return uint32(n), nil
}

// parseID64 parses a 64-bit id, unsigned or as its signed spelling.
func parseID64(v string) (uint64, error) {
	if n, err := strconv.ParseUint(v, 10, 64); err == nil {
		return n, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	return uint64(n), err
}

// requireSession lets a request through when no password is set, or when
// it carries a live session-id (or valid credentials). A session-id that is
// not a number is a 400.
func (s *Server) requireSession(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, ok := sessionID(r)
		if v := r.URL.Query().Get("session-id"); v != "" && !ok {
			s.fail(w, r, badRequest("session-id %q: not a 32-bit number", v))
			return
		}
		live := ok && s.sessions.touch(id)
		if s.cfg.Password != "" && !live && !s.Authorized(r) {
			s.fail(w, r, errNoSession)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// Authorized reports whether r's HTTP Basic credentials carry the share
// password (always true when none is set). The user name is ignored and
// may contain colons (Music.app sends
// "iTunes_Music/1.4.5 (Macintosh; OS X 14.5) …"), so the credentials are
// not split at the first colon: they match when they end with ":" and the
// password. That is the split at the last colon, and it also admits
// passwords that contain colons (curl and libsoup split at the first).
func (s *Server) Authorized(r *http.Request) bool {
	if s.cfg.Password == "" {
		return true
	}
	auth := r.Header.Get("Authorization")
	scheme, cred, ok := strings.Cut(strings.TrimSpace(auth), " ")
	if !ok || !strings.EqualFold(scheme, "Basic") {
		return false
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(cred))
	if err != nil {
		return false
	}
	pw := s.cfg.Password
	n := len(raw) - len(pw)
	if n < 1 || raw[n-1] != ':' {
		return false
	}
	got := sha256.Sum256(raw[n:])
	want := sha256.Sum256([]byte(pw))
	return subtle.ConstantTimeCompare(got[:], want[:]) == 1
}
