package daap

import (
	"bufio"
	"cmp"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"

	"github.com/daapd/daapd/daap/dmap"
	"github.com/daapd/daapd/daap/query"
	"github.com/daapd/daapd/library"
)

// span is an index= range: items from..to inclusive; to < 0 means "to the end".
type span struct {
	from, to int
	set      bool
}

// parseIndex parses index=: "a-b", "a" or "a-".
func parseIndex(v string) (span, error) {
	if v == "" {
		return span{}, nil
	}
	a, b, dash := strings.Cut(v, "-")
	from, err := strconv.ParseUint(a, 10, 31)
	if err != nil {
		return span{}, badRequest("index %q: want a, a-b or a-", v)
	}
	sp := span{from: int(from), to: int(from), set: true}
	if dash {
		sp.to = -1
		if b != "" {
			to, err := strconv.ParseUint(b, 10, 31)
			if err != nil || int(to) < sp.from {
				return span{}, badRequest("index %q: want a, a-b or a- with a <= b", v)
			}
			sp.to = int(to)
		}
	}
	return sp, nil
}

// apply cuts n items down to the span and returns the bounds.
func (sp span) apply(n int) (lo, hi int) {
	if !sp.set {
		return 0, n
	}
	lo = min(sp.from, n)
	hi = n
	if sp.to >= 0 {
		hi = min(sp.to+1, n)
	}
	return lo, hi
}

func (sp span) String() string {
	if !sp.set {
		return ""
	}
	return fmt.Sprintf("%d-%d", sp.from, sp.to)
}

// listParams are the listing parameters shared by items, container items,
// browse and groups.
type listParams struct {
	client  client
	meta    fieldSet
	query   *query.Query
	index   span
	sort    string
	headers bool   // include-sort-headers
	delta   uint32 // 0: a full listing
	view    view   // how tracks the client cannot play are listed
}

func (s *Server) listParams(r *http.Request, c client, defaultMeta string) (listParams, error) {
	q := r.URL.Query()
	p := listParams{client: c, sort: q.Get("sort"), view: s.viewFor(r, c)}
	meta := q.Get("meta")
	if meta == "" {
		meta = defaultMeta
	}
	p.meta = s.fields.parse(meta, c.classic)
	var err error
	if p.index, err = parseIndex(q.Get("index")); err != nil {
		return p, err
	}
	if qs := q.Get("query"); qs != "" {
		if p.query, err = query.Parse(qs); err != nil {
			return p, badRequest("%v", err) // the error starts with "query:"
		}
	}
	switch v := q.Get("include-sort-headers"); v {
	case "", "0":
	case "1":
		p.headers = !c.classic // libdmapsharing 2.9.41 does not know mshl
	default:
		return p, badRequest("include-sort-headers %q: want 0 or 1", v)
	}
	delta, err := uintParam(r, "delta", 0)
	if err != nil {
		return p, err
	}
	if _, err := uintParam(r, "revision-number", 0); err != nil {
		return p, err
	}
	p.delta = uint32(delta)
	return p, nil
}

// key identifies what a listing reply depends on besides the revision.
func (p listParams) key() string {
	qs := ""
	if p.query != nil {
		qs = p.query.String()
	}
	return fmt.Sprintf("%s|%s|%s|%s|%s|%s|%t|%d", p.client.profile(), p.view, p.meta.key(), qs, p.index, p.sort, p.headers, p.delta)
}

// cached returns the reply stored under key, building it once, pinned in
// the listing cache until the body is released. need estimates the
// build's peak memory, reserved from the listing budget before it starts
// (see lru); build writes the reply to w, which compresses it as it
// comes, and gets a context that ends when every request waiting for it
// has gone, and should stop then.
func (s *Server) cached(ctx context.Context, rev uint32, key string, need func() int, build func(ctx context.Context, w io.Writer) error) (body, error) {
	e, err := s.cache.getReply(ctx, key, rev, need, func(ctx context.Context) (reply, error) {
		z := new(zbody)
		defer z.drop()
		if err := build(ctx, z); err != nil {
			return reply{}, err
		}
		return z.reply()
	})
	if err != nil {
		return body{}, err
	}
	return body{entry: e, cache: s.cache}, nil
}

// whole adapts a build that makes its small reply in one piece to cached.
func whole(build func(context.Context) ([]byte, error)) func(context.Context, io.Writer) error {
	return func(ctx context.Context, w io.Writer) error {
		b, err := build(ctx)
		if err == nil {
			_, err = w.Write(b)
		}
		return err
	}
}

// items answers /databases/1/items.
func (s *Server) items(r *http.Request, c client) (body, error) {
	p, err := s.listParams(r, c, "")
	if err != nil {
		return body{}, err
	}
	snap := s.cfg.Catalog.Snapshot()
	key := fmt.Sprintf("items|%d|%s", snap.Revision, p.key())
	need := func() int { return s.listingNeed(snap.Tracks, len(snap.Tracks), p, false) }
	return s.cached(r.Context(), snap.Revision, key, need, func(ctx context.Context, w io.Writer) error {
		tracks, muty := snap.Tracks, 0
		var deleted []uint32
		if p.delta != 0 {
			if changed, del, ok := s.cfg.Catalog.Delta(p.delta, snap); ok {
				tracks, deleted, muty = changed, del, 1
			}
		}
		entries := make([]entry, 0, len(tracks))
		for _, t := range tracks {
			if listed, wav := p.view.pick(t); listed {
				entries = append(entries, entry{t: t, wav: wav})
			}
		}
		return s.trackListing(ctx, w, "adbs", entries, p, muty, deleted, false)
	})
}

// listingNeed estimates the peak memory of building a track listing of up
// to n items drawn from tracks: the compressed items, sized from a sample
// of tracks encoded (DMAP listings compress 8–10× at fastLevel; a sixth
// is assumed), the compressor, and the entries and sort keys made on the
// way.
func (s *Server) listingNeed(tracks []*library.Track, n int, p listParams, container bool) int {
	const sample = 64
	encode := s.itemEncoder(p, container)
	k := min(len(tracks), sample)
	total := 0
	for i := range k {
		total += len(encode(entry{t: tracks[i*len(tracks)/k]}))
	}
	per := 64 // entry, query filter copy
	if k > 0 {
		per += total / k / 6
	}
	if p.sort != "" {
		per += 96 // sort keys
	}
	return n*per + compressorNeed
}

// smallNeed estimates the peak memory of building a browse, groups or
// containers listing over snap: small per track, whatever the query.
func smallNeed(snap *library.Snapshot) int {
	return len(snap.Tracks)*128 + compressorNeed
}

// compressorNeed is the memory of a build's compressor and buffers.
const compressorNeed = 1 << 20

// entry is one listed track; cti is its container item id (mcti) in a
// playlist listing. A track the view lists as its WAV stand-in is made
// one only as it is encoded (see listed): a listing holds no copies.
type entry struct {
	t   *library.Track
	cti uint32
	wav bool
}

// listed returns en's track as the listing shows it, using scratch for a
// WAV stand-in.
func (en entry) listed(scratch *library.Track) *library.Track {
	if !en.wav {
		return en.t
	}
	asWAV(scratch, en.t)
	return scratch
}

// trackListing writes adbs/apso{mstt, muty, mtco, mrco, mlcl{mlit…}},
// then mudl for deleted ids and mshl for sort headers, to w.
//
// A 100,000-track listing is tens of megabytes plain, so it is never held
// whole: the items are encoded twice, one at a time into a small reused
// Builder, first to add up the container lengths that head the reply,
// then to stream them into w. The second pass costs CPU (about 0.3 s per
// 100,000 items here) but holds nothing, where one pass would have to
// hold the plain listing.
func (s *Server) trackListing(ctx context.Context, w io.Writer, top string, entries []entry, p listParams, muty int, deleted []uint32, container bool) error {
	if p.query != nil {
		kept := make([]entry, 0, len(entries))
		var scratch library.Track
		for i, en := range entries {
			if i%cancelEvery == 0 && ctx.Err() != nil {
				return ctx.Err()
			}
			if p.query.Match(s.trackGetter(en.listed(&scratch))) {
				kept = append(kept, en)
			}
		}
		entries = kept
	}
	var keys []string
	if sortKey := trackSorts[p.sort]; sortKey != nil {
		entries, keys = sortEntries(entries, sortKey)
	}
	lo, hi := p.index.apply(len(entries))
	list := entries[lo:hi]

	head := newEnc(p.client)
	head.Int("mstt", http.StatusOK)
	head.Int("muty", int64(muty))
	head.Int("mtco", int64(len(entries)))
	head.Int("mrco", int64(len(list)))
	tail := newEnc(p.client)
	if muty == 1 {
		tail.Container("mudl", func(b *dmap.Builder) {
			for _, id := range deleted {
				b.Int("miid", int64(id))
			}
		})
	}
	if p.headers && keys != nil {
		sortHeaders(tail.Builder, keys[lo:hi])
	}

	encode := s.itemEncoder(p, container)
	items := 0
	for i, en := range list {
		if i%cancelEvery == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		items += len(encode(en))
	}
	if uint64(items)+uint64(head.Len()+tail.Len())+16 > math.MaxUint32 {
		return fmt.Errorf("listing of %d items: %d bytes is over the DMAP limit", len(list), items)
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	out := appendHeader(nil, top, head.Len()+8+items+tail.Len())
	out = append(out, head.Bytes()...)
	out = appendHeader(out, "mlcl", items)
	bw.Write(out)
	for i, en := range list {
		if i%cancelEvery == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		bw.Write(encode(en))
	}
	bw.Write(tail.Bytes())
	return bw.Flush()
}

// cancelEvery is how many items a listing build handles between checks
// that someone still wants it.
const cancelEvery = 1024

// itemEncoder returns a function encoding one listing item with p's
// fields into a reused buffer: the bytes are valid until the next call.
func (s *Server) itemEncoder(p listParams, container bool) func(entry) []byte {
	ft, rest := s.fields, p.meta[2:] // mikd and miid are written first
	item := newEnc(p.client)
	scratch := new(library.Track)
	return func(en entry) []byte {
		item.Reset()
		t := en.listed(scratch)
		item.Container("mlit", func(b *dmap.Builder) {
			b.Int("mikd", 2)
			b.Int("miid", int64(t.ID))
			if container {
				b.Int("mcti", int64(en.cti))
			}
			ft.encode(b, rest, t)
		})
		return item.Bytes()
	}
}

// appendHeader appends the header of a container holding n bytes.
func appendHeader(b []byte, tag string, n int) []byte {
	b = append(b, tag[0], tag[1], tag[2], tag[3])
	return binary.BigEndian.AppendUint32(b, uint32(n))
}

// trackSorts are the sort= orders for tracks; each gives the sort key
// whose first letter heads the sort headers.
var trackSorts = map[string]func(t *library.Track) string{
	"name":   func(t *library.Track) string { return cmp.Or(t.SortTitle(), t.Title) },
	"album":  func(t *library.Track) string { return cmp.Or(t.SortAlbum(), t.Album) },
	"artist": func(t *library.Track) string { return cmp.Or(t.SortArtist(), t.Artist) },
}

// sortEntries orders entries by key (case-insensitively), then album
// position, keeping the original order for ties.
func sortEntries(entries []entry, key func(*library.Track) string) ([]entry, []string) {
	type keyed struct {
		e entry
		k string
	}
	ks := make([]keyed, len(entries))
	for i, e := range entries {
		ks[i] = keyed{e, strings.ToLower(key(e.t))}
	}
	slices.SortStableFunc(ks, func(a, b keyed) int {
		return cmp.Or(strings.Compare(a.k, b.k),
			cmp.Compare(a.e.t.DiscNumber, b.e.t.DiscNumber),
			cmp.Compare(a.e.t.TrackNumber, b.e.t.TrackNumber))
	})
	out := make([]entry, len(ks))
	keys := make([]string, len(ks))
	for i, k := range ks {
		out[i], keys[i] = k.e, k.k
	}
	return out, keys
}

// headerChar is the sort-header letter of a key: its first letter upper
// cased, or '#' for digits, punctuation and empty keys.
func headerChar(k string) rune {
	r, _ := utf8.DecodeRuneInString(k)
	if !unicode.IsLetter(r) || r > 0xFFFF {
		return '#'
	}
	return unicode.ToUpper(r)
}

// sortHeaders appends mshl{mlit{mshc, mshi, mshn}…}: for each run of items
// starting with the same letter, the letter, the run's index and length.
func sortHeaders(b *dmap.Builder, keys []string) {
	b.Container("mshl", func(b *dmap.Builder) {
		for i := 0; i < len(keys); {
			c := headerChar(keys[i])
			j := i + 1
			for j < len(keys) && headerChar(keys[j]) == c {
				j++
			}
			b.Container("mlit", func(b *dmap.Builder) {
				b.Int("mshc", int64(c))
				b.Int("mshi", int64(i))
				b.Int("mshn", int64(j-i))
			})
			i = j
		}
	})
}

// containerItems answers /databases/1/containers/{id}/items. Each entry's
// miid is the song; mcti is unique within the playlist (its position), so
// a track listed twice stays two entries.
func (s *Server) containerItems(r *http.Request, c client) (body, error) {
	id, err := parseID32(chi.URLParam(r, "id"))
	if err != nil {
		return body{}, badRequest("container id %q", chi.URLParam(r, "id"))
	}
	p, err := s.listParams(r, c, "dmap.itemkind,dmap.itemid,dmap.containeritemid")
	if err != nil {
		return body{}, err
	}
	snap := s.cfg.Catalog.Snapshot()
	var pl *library.Playlist
	if id != basePlaylistID {
		var ok bool
		if pl, ok = snap.Playlist(id); !ok {
			return body{}, errNotFound
		}
	}
	p.delta = 0 // playlists are always sent whole
	key := fmt.Sprintf("citems|%d|%d|%s", snap.Revision, id, p.key())
	need := func() int {
		if pl != nil {
			return s.listingNeed(snap.Tracks, len(pl.Items), p, true)
		}
		return s.listingNeed(snap.Tracks, len(snap.Tracks), p, true)
	}
	return s.cached(r.Context(), snap.Revision, key, need, func(ctx context.Context, w io.Writer) error {
		var entries []entry
		if pl == nil {
			entries = make([]entry, 0, len(snap.Tracks))
			for i, t := range snap.Tracks {
				if listed, wav := p.view.pick(t); listed {
					entries = append(entries, entry{t: t, cti: uint32(i + 1), wav: wav})
				}
			}
		} else {
			entries = playlistEntries(snap, pl, p.view)
		}
		return s.trackListing(ctx, w, "apso", entries, p, 0, nil, true)
	})
}

// playlistEntries resolves a playlist's track ids, skipping ids the
// snapshot no longer has and tracks view v hides; mcti is the 1-based
// position in the playlist.
func playlistEntries(snap *library.Snapshot, pl *library.Playlist, v view) []entry {
	entries := make([]entry, 0, len(pl.Items))
	for i, id := range pl.Items {
		if t, ok := snap.Track(id); ok {
			if listed, wav := v.pick(t); listed {
				entries = append(entries, entry{t: t, cti: uint32(i + 1), wav: wav})
			}
		}
	}
	return entries
}

// playlistCount is len(playlistEntries(snap, pl, v)), without the slice.
func playlistCount(snap *library.Snapshot, pl *library.Playlist, v view) int {
	n := 0
	for _, id := range pl.Items {
		if t, ok := snap.Track(id); ok {
			if listed, _ := v.pick(t); listed {
				n++
			}
		}
	}
	return n
}
