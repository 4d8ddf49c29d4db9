package daap

import (
	"context"
	"fmt"
	"hash/fnv"
	"net/http"
	"slices"
	"strconv"

	"github.com/daapd/daapd/daap/dmap"
	"github.com/daapd/daapd/library"
)

// basePlaylistID is the id of the base playlist, which holds every track.
const (
	basePlaylistID   = 1
	basePlaylistName = "Library"
)

// container is one entry of /containers.
type container struct {
	id      uint32
	pid     uint64
	name    string
	count   int
	base    bool
	smart   bool
	special library.Special
}

// containers answers /databases/1/containers: the base playlist "Library"
// (abpl=1) first, then the playlist files.
func (s *Server) containers(r *http.Request, c client) (body, error) {
	p, err := s.listParams(r, c, "")
	if err != nil {
		return body{}, err
	}
	p.meta, p.delta = nil, 0 // the fields of playlists are fixed; they are always sent whole
	snap := s.cfg.Catalog.Snapshot()
	key := fmt.Sprintf("containers|%d|%s", snap.Revision, p.key())
	need := func() int { return smallNeed(snap) }
	return s.cached(r.Context(), snap.Revision, key, need, whole(func(context.Context) ([]byte, error) {
		list := []container{{id: basePlaylistID, pid: s.basePID(), name: basePlaylistName, count: s.trackCount(snap, p.view), base: true}}
		for _, pl := range snap.Playlists {
			if pl.ID == basePlaylistID {
				continue // cannot happen with hashed ids; never shadow the base
			}
			list = append(list, container{id: pl.ID, pid: pl.PersistentID, name: pl.Name, count: playlistCount(snap, pl, p.view),
				smart: pl.Smart, special: pl.Special})
		}
		if p.query != nil {
			list = slices.DeleteFunc(list, func(ct container) bool { return !p.query.Match(s.containerGetter(ct)) })
		}
		lo, hi := p.index.apply(len(list))
		e := newEnc(c)
		e.Container("aply", func(b *dmap.Builder) {
			b.Int("mstt", http.StatusOK)
			b.Int("muty", 0)
			b.Int("mtco", int64(len(list)))
			b.Int("mrco", int64(hi-lo))
			b.Container("mlcl", func(b *dmap.Builder) {
				for _, ct := range list[lo:hi] {
					b.Container("mlit", func(b *dmap.Builder) {
						b.Int("miid", int64(ct.id))
						b.String("minm", ct.name)
						b.Int("mper", u64(ct.pid))
						b.Int("mimc", int64(ct.count))
						b.Int("mpco", 0)
						if ct.base {
							b.Int("abpl", 1)
						}
						if ct.smart || ct.special != 0 {
							b.Int("aeSP", 1)
						}
						if ct.special != 0 {
							b.Int("aePS", int64(ct.special))
						}
					})
				}
			})
		})
		return e.Bytes(), nil
	}))
}

// basePID is the base playlist's persistent id, derived from the database's.
func (s *Server) basePID() uint64 {
	h := fnv.New64a()
	h.Write([]byte(strconv.FormatUint(s.dbPID, 16) + "/base"))
	return h.Sum64()
}

// containerGetter answers query fields for a playlist. Every playlist
// answers media kind 1 (music), so Music.app's container query, which asks
// for kinds 1, 32, 128 and 65537, lists the Audiobooks and Podcasts ones too.
func (s *Server) containerGetter(ct container) func(string) (string, bool) {
	return func(field string) (string, bool) {
		switch field {
		case "dmap.itemid":
			return strconv.FormatUint(uint64(ct.id), 10), true
		case "dmap.itemname":
			return ct.name, true
		case "dmap.persistentid":
			return strconv.FormatUint(ct.pid, 10), true
		case "dmap.itemcount":
			return strconv.Itoa(ct.count), true
		case "dmap.parentcontainerid":
			return "0", true
		case "daap.baseplaylist":
			return boolValue(ct.base), true
		case "com.apple.itunes.mediakind", "com.apple.itunes.extended-media-kind":
			return "1", true
		case "com.apple.itunes.smart-playlist":
			return boolValue(ct.smart || ct.special != 0), true
		case "com.apple.itunes.special-playlist":
			return strconv.Itoa(int(ct.special)), true
		case "com.apple.itunes.is-podcast-playlist":
			return boolValue(ct.special == library.SpecialPodcasts), true
		case "com.apple.itunes.saved-genius", "dmap.haschildcontainers":
			return "0", true
		}
		s.unknownField(field)
		return "", false
	}
}

func boolValue(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// trackGetter answers query fields for a track from the item field table.
func (s *Server) trackGetter(t *library.Track) func(string) (string, bool) {
	return func(field string) (string, bool) {
		if i, ok := s.fields.byName[field]; ok {
			return s.fields.rows[i].value(t), true
		}
		s.unknownField(field)
		return "", false
	}
}

// maxLoggedFields bounds the set of unknown query fields remembered for
// logging once.
const maxLoggedFields = 256

// unknownField logs a query field daapd does not know, once per field. Its
// clauses are dropped from ANDs and false in ORs (the query package's rule).
func (s *Server) unknownField(field string) {
	s.unknownMu.Lock()
	defer s.unknownMu.Unlock()
	if s.unknown[field] || len(s.unknown) >= maxLoggedFields {
		return
	}
	s.unknown[field] = true
	s.log.Info("query on an unknown field; clause ignored", "field", field)
}
