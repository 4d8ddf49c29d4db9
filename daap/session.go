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

// sessions tracks login sessions in a table of at most max. Expiry is
// lazy. A login into a full table evicts the least recently used session
// that is idle: no request in progress (a parked /update or a stream keeps
// its session busy) and unused for at least recent. When every session is
// busy or recent, the login is refused (503), so a burst of fresh logins
// can never push out the clients that are really using the share.
type sessions struct {
	mu     sync.Mutex
	max    int
	idle   time.Duration // unused this long: expired
	recent time.Duration // used within this: never evicted
	byID   map[uint32]*session
	now    func() time.Time
}

// session is one login.
type session struct {
	last time.Time // start of its latest request
	busy int       // requests in progress
	// apple marks sessions that logged in as iTunes or Music.app: their
	// stream requests may carry another User-Agent (AppleCoreMedia).
	apple bool
}

// errSessionsFull refuses a login when every session is in use.
var errSessionsFull = &httpError{status: http.StatusServiceUnavailable, msg: "too many clients are connected; retry later", retry: "60"}

func newSessions(max int, idle, recent time.Duration) *sessions {
	return &sessions{max: max, idle: idle, recent: recent, byID: make(map[uint32]*session), now: time.Now}
}

// create starts a session, with id want when it is free and non-zero, or
// fails with errSessionsFull.
func (ss *sessions) create(want uint32) (uint32, error) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	now := ss.now()
	if len(ss.byID) >= ss.max {
		ss.expire(now)
	}
	for len(ss.byID) >= ss.max {
		var victim uint32
		var oldest time.Time
		for id, se := range ss.byID {
			if se.busy == 0 && now.Sub(se.last) >= ss.recent && (victim == 0 || se.last.Before(oldest)) {
				victim, oldest = id, se.last
			}
		}
		if victim == 0 {
			return 0, errSessionsFull
		}
		delete(ss.byID, victim)
	}
	id := want
	for _, taken := ss.byID[id]; id == 0 || taken; _, taken = ss.byID[id] {
		var b [4]byte
		rand.Read(b[:])
		id = binary.BigEndian.Uint32(b[:]) & 0x7fffffff // positive even to signed readers
	}
	ss.byID[id] = &session{last: now}
	return id, nil
}

// enter reports whether id is a live session and, if so, marks it used
// and busy until the matching exit.
func (ss *sessions) enter(id uint32) bool {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	now := ss.now()
	se, ok := ss.byID[id]
	if !ok {
		return false
	}
	if se.busy == 0 && now.Sub(se.last) > ss.idle {
		delete(ss.byID, id)
		return false
	}
	se.last = now
	se.busy++
	return true
}

// exit ends a request that enter let in.
func (ss *sessions) exit(id uint32) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if se, ok := ss.byID[id]; ok {
		se.busy--
		se.last = ss.now()
	}
}

func (ss *sessions) remove(id uint32) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	delete(ss.byID, id)
}

// setApple marks a live session as an Apple client's.
func (ss *sessions) setApple(id uint32) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if se, ok := ss.byID[id]; ok {
		se.apple = true
	}
}

// isApple reports whether session id logged in as an Apple client.
func (ss *sessions) isApple(id uint32) bool {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	se, ok := ss.byID[id]
	return ok && se.apple
}

func (ss *sessions) expire(now time.Time) {
	for id, se := range ss.byID {
		if se.busy == 0 && now.Sub(se.last) > ss.idle {
			delete(ss.byID, id)
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
		live := ok && s.sessions.enter(id)
		if live {
			defer s.sessions.exit(id)
		}
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
