package daap

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/daapd/daapd/daap/dmap"
	"github.com/daapd/daapd/library"
)

// enc wraps a Builder for one client: to libdmapsharing 2.9.41 it drops
// every code that library does not know.
type enc struct {
	*dmap.Builder
	classic bool
}

func newEnc(c client) *enc {
	return &enc{Builder: &dmap.Builder{Strict: strictEncoding}, classic: c.classic}
}

// strictEncoding makes every Builder check tags and types; tests set it.
var strictEncoding = false

// ok reports whether tag may be sent to this client.
func (e *enc) ok(tag string) bool {
	if !e.classic {
		return true
	}
	c, found := dmap.Lookup(tag)
	return found && c.Classic
}

func (e *enc) int(tag string, v int64) {
	if e.ok(tag) {
		e.Int(tag, v)
	}
}

func (e *enc) str(tag, v string) {
	if e.ok(tag) {
		e.String(tag, v)
	}
}

func (e *enc) reply() body { return body{plain: e.Bytes()} }

// Protocol versions announced in /server-info (OwnTone's field-tested values).
var (
	dmapVersion = [3]int{2, 0, 10}
	daapVersion = [3]int{3, 0, 12}
)

const musicSharingVersion = 3<<16 | 12 // com.apple.itunes.music-sharing-version 3.0.12

// serverInfo answers /server-info, in OwnTone's order. Apple clients do
// not get asgr (groups broke iTunes 12.1 and Catalina) and nobody gets
// aeFP (it starts a FairPlay handshake).
func (s *Server) serverInfo(r *http.Request, c client) (body, error) {
	mpro, apro := dmapVersion, daapVersion
	switch c.daapVersion {
	case 1:
		mpro, apro = [3]int{1, 0, 0}, [3]int{1, 0, 0}
	case 2:
		mpro, apro = [3]int{1, 0, 0}, [3]int{2, 0, 0}
	}
	auth := int64(0)
	if s.cfg.Password != "" {
		auth = 2 // password only
	}
	e := newEnc(c)
	e.Container("msrv", func(*dmap.Builder) {
		e.int("mstt", http.StatusOK)
		e.Version("mpro", uint16(mpro[0]), uint8(mpro[1]), uint8(mpro[2]))
		e.str("minm", s.Name())
		e.Version("apro", uint16(apro[0]), uint8(apro[1]), uint8(apro[2]))
		e.int("aeSV", musicSharingVersion)
		e.int("ated", 7)
		if !c.apple {
			e.int("asgr", 3)
		}
		e.int("aeMQ", 1)
		e.int("aeTr", 1)
		e.int("aeSL", 1)
		e.int("aeSR", 1)
		e.int("msed", 0)
		e.int("mslr", 1)
		e.int("mstm", 1800)
		e.int("msal", 1)
		e.int("msau", auth)
		e.int("msup", 1)
		e.int("mspi", 1)
		e.int("msex", 1)
		e.int("msbr", 1)
		e.int("msqy", 1)
		e.int("msix", 1)
		e.int("msdc", 1)
	})
	return e.reply(), nil
}

// contentCodes answers /content-codes: every code daapd sends.
func (s *Server) contentCodes(r *http.Request, c client) (body, error) {
	e := newEnc(c)
	e.Container("mccr", func(b *dmap.Builder) {
		b.Int("mstt", http.StatusOK)
		for _, code := range dmap.Codes {
			b.Container("mdcl", func(b *dmap.Builder) {
				b.Raw("mcnm", []byte(code.Tag))
				b.String("mcna", code.Name)
				b.Int("mcty", int64(code.Type))
			})
		}
	})
	return e.reply(), nil
}

// login answers /login with a session id. With a password set it needs
// HTTP Basic credentials and answers 401 otherwise.
func (s *Server) login(r *http.Request, c client) (body, error) {
	if !s.Authorized(r) {
		return body{}, errAuth
	}
	var want uint32
	if v := r.URL.Query().Get("request-session-id"); v != "" {
		n, err := parseID32(v)
		if err != nil {
			return body{}, badRequest("request-session-id %q: not a 32-bit number", v)
		}
		want = n
	}
	id, err := s.sessions.create(want)
	if err != nil {
		return body{}, err
	}
	if c.apple {
		s.sessions.setApple(id)
	}
	e := newEnc(c)
	e.Container("mlog", func(*dmap.Builder) {
		e.int("mstt", http.StatusOK)
		e.int("mlid", int64(id))
	})
	return e.reply(), nil
}

// logout ends the session; it always answers 204.
func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if id, ok := sessionID(r); ok {
		s.sessions.remove(id)
	}
	w.Header().Set("DAAP-Server", s.serverHeader())
	w.WriteHeader(http.StatusNoContent)
}

// update answers /update. Revision 1 (or none, or one the server does not
// have) is answered at once with the current revision; the current revision
// is held until the catalog changes, the client goes away or Close is
// called (503).
func (s *Server) update(w http.ResponseWriter, r *http.Request) {
	rev, err := uintParam(r, "revision-number", 1)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	snap := s.cfg.Catalog.Snapshot()
	if uint64(snap.Revision) == rev {
		ctx, cancel := s.closing(r.Context())
		s.parked.Add(1)
		snap, err = s.cfg.Catalog.Wait(ctx, uint32(rev))
		s.parked.Add(-1)
		cancel()
		switch {
		case err == nil:
		case s.closed() || errors.Is(err, library.ErrClosed):
			s.fail(w, r, errClosing)
			return
		default:
			return // the client left
		}
	}
	e := newEnc(clientOf(r))
	e.Container("mupd", func(*dmap.Builder) {
		e.int("mstt", http.StatusOK)
		e.int("musr", int64(snap.Revision))
	})
	s.write(w, r, e.reply())
}

// uintParam parses an optional unsigned 32-bit query parameter.
func uintParam(r *http.Request, name string, deflt uint64) (uint64, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return deflt, nil
	}
	n, err := strconv.ParseUint(v, 10, 32)
	if err != nil {
		return 0, badRequest("%s %q: not a 32-bit number", name, v)
	}
	return n, nil
}

// databases answers /databases: the one library database.
func (s *Server) databases(r *http.Request, c client) (body, error) {
	snap := s.cfg.Catalog.Snapshot()
	e := newEnc(c)
	e.Container("avdb", func(*dmap.Builder) {
		e.int("mstt", http.StatusOK)
		e.int("muty", 0)
		e.int("mtco", 1)
		e.int("mrco", 1)
		e.Container("mlcl", func(*dmap.Builder) {
			e.Container("mlit", func(*dmap.Builder) {
				e.int("miid", databaseID)
				e.int("mper", u64(s.dbPID))
				e.str("minm", s.Name())
				e.int("mimc", int64(s.trackCount(snap, s.viewFor(r, c))))
				e.int("mctc", int64(len(snap.Playlists)+1))
				e.int("mdbk", 1)
				e.int("aeCs", 1)
				e.int("meds", 3)
			})
		})
	})
	return e.reply(), nil
}
