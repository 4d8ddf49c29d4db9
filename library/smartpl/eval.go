package smartpl

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/daapd/daapd/internal/radix"
)

// Item gives a smart playlist a track's values. Text answers text fields,
// Int integer ones (compilation 0 or 1; media_kind a Kind value; data_kind
// and scan_kind 0), Time the dates (zero when unknown).
type Item interface {
	Text(Field) string
	Int(Field) int64
	Time(Field) time.Time
}

// Select returns the indexes of the items (0..n-1) that p matches, in p's
// order and within its limit; item(i) gives item i. Ties, and playlists
// without order by, keep the index order. Relative dates count from now.
// order by random shuffles with a generator seeded by seed and now's date,
// so the selection stays the same all day and changes the next.
func (p *Playlist) Select(now time.Time, seed uint64, n int, item func(i int) Item) []int {
	dates := make([]time.Time, p.dates)
	p.expr.resolve(now, dates)
	var out []int
	for i := range n {
		if p.expr.match(item(i), dates) {
			out = append(out, i)
		}
	}
	switch {
	case p.Random:
		y, m, d := now.Date()
		r := rand.New(rand.NewPCG(seed, uint64(y)<<16|uint64(m)<<8|uint64(d)))
		r.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	case p.Order != NoField:
		f := p.Order
		switch fieldTypes[f] {
		case textType:
			sortBy(out, p.Desc, item, func(it Item) textKey { s := it.Text(f); return textKey{strings.ToLower(s), s} },
				func(a, b textKey) int { return cmp.Or(cmp.Compare(a.fold, b.fold), cmp.Compare(a.s, b.s)) })
		case dateType:
			sortInts(out, p.Desc, func(i int) int64 { return dateOrder(item(i).Time(f)) })
		default:
			sortInts(out, p.Desc, func(i int) int64 { return item(i).Int(f) })
		}
	}
	if p.Limit > 0 && len(out) > p.Limit {
		out = out[:p.Limit]
	}
	return out
}

// textKey orders text case-insensitively, then exactly (for a stable
// order between spellings).
type textKey struct{ fold, s string }

// dateOrder maps an instant to a number in its order: Unix nanoseconds,
// the zero time first. Instants beyond what int64 nanoseconds hold (before
// 1678 or after 2262; a Track's times never are) tie at the ends.
func dateOrder(t time.Time) int64 {
	switch {
	case t.IsZero():
		return math.MinInt64
	case t.Before(minNano):
		return math.MinInt64 + 1
	case t.After(maxNano):
		return math.MaxInt64
	}
	return t.UnixNano()
}

var minNano, maxNano = time.Unix(0, math.MinInt64+1), time.Unix(0, math.MaxInt64)

// sortInts orders idx, which is ascending, by key (descending with desc;
// ties keep index order), reading each key once, with a radix sort: a
// million-track order by time_added costs tens of milliseconds.
func sortInts(idx []int, desc bool, key func(int) int64) {
	ks := make([]uint64, len(idx))
	for j, i := range idx {
		ks[j] = uint64(key(i)) ^ 1<<63 // the order of int64 in uint64
		if desc {
			ks[j] = ^ks[j]
		}
	}
	radix.Sort(ks, idx)
}

// sortBy orders idx by each item's key (descending with desc; ties keep
// index order), reading each key once: a million-track order by would
// otherwise fetch, convert and lower-case values on each of some 20
// million comparisons. The index breaks ties, so the faster unstable sort
// gives the stable order.
func sortBy[K any](idx []int, desc bool, item func(int) Item, key func(Item) K, compare func(a, b K) int) {
	type keyed struct {
		k K
		i int
	}
	ks := make([]keyed, len(idx))
	for j, i := range idx {
		ks[j] = keyed{key(item(i)), i}
	}
	slices.SortFunc(ks, func(a, b keyed) int {
		c := compare(a.k, b.k)
		if desc {
			c = -c
		}
		return cmp.Or(c, cmp.Compare(a.i, b.i))
	})
	for j, k := range ks {
		idx[j] = k.i
	}
}

// Match reports whether p's expression matches one item, dates relative to now.
func (p *Playlist) Match(it Item, now time.Time) bool {
	dates := make([]time.Time, p.dates)
	p.expr.resolve(now, dates)
	return p.expr.match(it, dates)
}

func (n *node) resolve(now time.Time, dates []time.Time) {
	if n.kind == predNode {
		if n.op == Before || n.op == After {
			dates[n.di] = n.date.resolve(now)
		}
		return
	}
	for _, k := range n.kids {
		k.resolve(now, dates)
	}
}

func (n *node) match(it Item, dates []time.Time) bool {
	switch n.kind {
	case andNode:
		for _, k := range n.kids {
			if !k.match(it, dates) {
				return false
			}
		}
		return true
	case orNode:
		for _, k := range n.kids {
			if k.match(it, dates) {
				return true
			}
		}
		return false
	case notNode:
		return !n.kids[0].match(it, dates)
	}
	if n.never {
		return false
	}
	switch n.op {
	case Is:
		if n.word != "" { // an enumeration
			return it.Int(n.field) == n.num
		}
		return strings.EqualFold(it.Text(n.field), n.text)
	case IsEmpty:
		return it.Text(n.field) == ""
	case Includes, StartsWith, EndsWith:
		return matchFold(n.op, it.Text(n.field), n.lower)
	case Equal:
		return it.Int(n.field) == n.num
	case Less:
		return it.Int(n.field) < n.num
	case Greater:
		return it.Int(n.field) > n.num
	case LessEqual:
		return it.Int(n.field) <= n.num
	case GreaterEqual:
		return it.Int(n.field) >= n.num
	case Before, After:
		t := it.Time(n.field)
		if t.IsZero() {
			return false // an unknown date is neither
		}
		if n.op == Before {
			return t.Before(dates[n.di])
		}
		return t.After(dates[n.di])
	}
	return false
}

// matchFold reports whether v includes, starts with or ends with lower (a
// lower-cased pattern), ignoring case. ASCII values, the common case, are
// compared without allocating.
func matchFold(op Op, v, lower string) bool {
	if !isASCII(v) {
		v = strings.ToLower(v)
		switch op {
		case StartsWith:
			return strings.HasPrefix(v, lower)
		case EndsWith:
			return strings.HasSuffix(v, lower)
		}
		return strings.Contains(v, lower)
	}
	if len(lower) > len(v) {
		return false
	}
	switch op {
	case StartsWith:
		return equalLowerASCII(v[:len(lower)], lower)
	case EndsWith:
		return equalLowerASCII(v[len(v)-len(lower):], lower)
	}
	for i := 0; i+len(lower) <= len(v); i++ {
		if equalLowerASCII(v[i:i+len(lower)], lower) {
			return true
		}
	}
	return false
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// equalLowerASCII reports whether the ASCII string a, lower-cased, is b.
func equalLowerASCII(a, b string) bool {
	for i := 0; i < len(a); i++ {
		c := a[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != b[i] {
			return false
		}
	}
	return true
}
