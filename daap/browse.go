package daap

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/daapd/daapd/daap/dmap"
	"github.com/daapd/daapd/library"
	"github.com/daapd/daapd/transcode"
)

// browseKinds maps /browse/{kind} to its listing tag, the track value
// listed and the sort name it is ordered by ("The Beatles" under B).
var browseKinds = map[string]struct {
	tag        string
	value, key func(t *library.Track) string
}{
	"artists": {"abar", func(t *library.Track) string { return cmp.Or(t.Artist, t.AlbumArtist) },
		func(t *library.Track) string {
			if t.Artist == "" {
				return t.SortAlbumArtist()
			}
			return t.SortArtist()
		}},
	"albums":    {"abal", func(t *library.Track) string { return t.Album }, func(t *library.Track) string { return t.SortAlbum() }},
	"genres":    {"abgn", func(t *library.Track) string { return t.Genre }, func(t *library.Track) string { return "" }},
	"composers": {"abcp", func(t *library.Track) string { return t.Composer() }, func(t *library.Track) string { return t.SortComposer() }},
}

// matching returns the snapshot's tracks that p's view lists and that
// match p's query; it stops early when ctx ends. A query sees a track as
// the view lists it (a WAV stand-in, made in one scratch Track), but the
// result holds the catalog's own tracks: browse and groups read only
// names and ids, the same in a stand-in, so a build copies nothing.
func (s *Server) matching(ctx context.Context, snap *library.Snapshot, p listParams) ([]*library.Track, error) {
	if p.query == nil && p.view.mode == transcode.ModeOff {
		return snap.Tracks, nil
	}
	var (
		out     []*library.Track
		scratch library.Track
	)
	for i, t := range snap.Tracks {
		if i%cancelEvery == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		listed, wav := p.view.pick(t)
		if !listed {
			continue
		}
		if p.query != nil {
			u := t
			if wav {
				asWAV(&scratch, t)
				u = &scratch
			}
			if !p.query.Match(s.trackGetter(u)) {
				continue
			}
		}
		out = append(out, t)
	}
	return out, nil
}

// browse answers /databases/1/browse/{artists,albums,genres,composers}:
// abro{mstt, mtco, mrco, abar{mlit "name"…}}; the mlits hold bare strings.
func (s *Server) browse(r *http.Request, c client) (body, error) {
	kind := chi.URLParam(r, "kind")
	bk, ok := browseKinds[kind]
	if !ok {
		return body{}, errNotFound
	}
	p, err := s.listParams(r, c, "")
	if err != nil {
		return body{}, err
	}
	p.meta, p.delta = nil, 0
	snap := s.cfg.Catalog.Snapshot()
	key := fmt.Sprintf("browse|%d|%s|%s", snap.Revision, kind, p.key())
	need := func() int { return smallNeed(snap) }
	return s.cached(r.Context(), snap.Revision, key, need, whole(func(ctx context.Context) ([]byte, error) {
		tracks, err := s.matching(ctx, snap, p)
		if err != nil {
			return nil, err
		}
		keys := make(map[string]string) // name → sort key
		var names []string
		for _, t := range tracks {
			v := strings.ToValidUTF8(bk.value(t), "\uFFFD")
			if _, seen := keys[v]; v == "" || seen {
				continue
			}
			keys[v] = strings.ToLower(cmp.Or(bk.key(t), v))
			names = append(names, v)
		}
		slices.SortFunc(names, func(a, b string) int { return cmp.Or(strings.Compare(keys[a], keys[b]), strings.Compare(a, b)) })
		lo, hi := p.index.apply(len(names))
		e := newEnc(c)
		e.Container("abro", func(b *dmap.Builder) {
			b.Int("mstt", http.StatusOK)
			b.Int("mtco", int64(len(names)))
			b.Int("mrco", int64(hi-lo))
			b.Container(bk.tag, func(b *dmap.Builder) {
				for _, n := range names[lo:hi] {
					b.Raw("mlit", []byte(n))
				}
			})
			if p.headers {
				hk := make([]string, 0, hi-lo)
				for _, n := range names[lo:hi] {
					hk = append(hk, keys[n])
				}
				sortHeaders(b, hk)
			}
		})
		return e.Bytes(), nil
	}))
}

// group is one album or artist of /groups.
type group struct {
	id     uint64
	name   string
	artist string
	sortBy string
	tracks int
	albums int
}

// groups answers /databases/1/groups?group-type=albums|artists (Remote):
// agal/agar{mstt, muty, mtco, mrco, mlcl{mlit{miid, mper, minm, asaa, mimc}…}}.
// Groups come from the tracks matching query=, mimc counts those tracks.
func (s *Server) groups(r *http.Request, c client) (body, error) {
	gt := r.URL.Query().Get("group-type")
	switch gt {
	case "":
		gt = "albums"
	case "albums", "artists":
	default:
		return body{}, badRequest("group-type %q: want albums or artists", gt)
	}
	p, err := s.listParams(r, c, "")
	if err != nil {
		return body{}, err
	}
	p.meta, p.delta = nil, 0 // group fields are fixed
	snap := s.cfg.Catalog.Snapshot()
	key := fmt.Sprintf("groups|%d|%s|%s", snap.Revision, gt, p.key())
	need := func() int { return smallNeed(snap) }
	return s.cached(r.Context(), snap.Revision, key, need, whole(func(ctx context.Context) ([]byte, error) {
		list, err := s.groupList(ctx, snap, p, gt == "albums")
		if err != nil {
			return nil, err
		}
		lo, hi := p.index.apply(len(list))
		top := "agal"
		if gt == "artists" {
			top = "agar"
		}
		e := newEnc(c)
		if !e.ok(top) {
			top = "agal" // libdmapsharing 2.9.41 knows only the album grouping
		}
		e.Container(top, func(*dmap.Builder) {
			e.int("mstt", http.StatusOK)
			e.int("muty", 0)
			e.int("mtco", int64(len(list)))
			e.int("mrco", int64(hi-lo))
			e.Container("mlcl", func(*dmap.Builder) {
				for _, g := range list[lo:hi] {
					e.Container("mlit", func(*dmap.Builder) {
						e.int("miid", int64(uint32(g.id)))
						e.int("mper", u64(g.id))
						e.str("minm", g.name)
						if g.artist != "" {
							e.str("asaa", g.artist)
						}
						e.int("mimc", int64(g.tracks))
						if gt == "artists" {
							e.int("agac", int64(g.albums))
						} else {
							e.int("asai", u64(g.id))
						}
					})
				}
			})
			if p.headers {
				keys := make([]string, 0, hi-lo)
				for _, g := range list[lo:hi] {
					keys = append(keys, g.sortBy)
				}
				sortHeaders(e.Builder, keys)
			}
		})
		return e.Bytes(), nil
	}))
}

// groupList builds the albums (or artists) of the tracks matching p.
func (s *Server) groupList(ctx context.Context, snap *library.Snapshot, p listParams, albums bool) ([]group, error) {
	tracks, err := s.matching(ctx, snap, p)
	if err != nil {
		return nil, err
	}
	counts := make(map[uint64]int)
	albumsOf := make(map[uint64]map[uint64]bool)
	for _, t := range tracks {
		if albums {
			if t.Album != "" {
				counts[t.AlbumID]++
			}
			continue
		}
		counts[t.ArtistID]++
		if t.Album != "" {
			if albumsOf[t.ArtistID] == nil {
				albumsOf[t.ArtistID] = make(map[uint64]bool)
			}
			albumsOf[t.ArtistID][t.AlbumID] = true
		}
	}
	var list []group
	if albums {
		for _, a := range snap.Albums {
			if n := counts[a.ID]; n > 0 {
				list = append(list, group{id: a.ID, name: a.Name, artist: a.Artist,
					sortBy: strings.ToLower(cmp.Or(a.SortName, a.Name)), tracks: n})
			}
		}
	} else {
		for _, a := range snap.Artists {
			if n := counts[a.ID]; n > 0 {
				list = append(list, group{id: a.ID, name: a.Name,
					sortBy: strings.ToLower(cmp.Or(a.SortName, a.Name)), tracks: n, albums: len(albumsOf[a.ID])})
			}
		}
	}
	switch p.sort {
	case "album", "name":
		slices.SortStableFunc(list, func(a, b group) int { return strings.Compare(a.sortBy, b.sortBy) })
	case "artist":
		slices.SortStableFunc(list, func(a, b group) int {
			return cmp.Or(strings.Compare(strings.ToLower(a.artist), strings.ToLower(b.artist)), strings.Compare(a.sortBy, b.sortBy))
		})
	}
	return list, nil
}
