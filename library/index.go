package library

import (
	"cmp"
	"slices"
)

// indexBits sets the number of buckets of an index: 4096, about 250 tracks
// each at a million tracks.
const indexBits = 12

// indexed is what an index holds: a value with a 64-bit key.
type indexed interface {
	*Track | *Album | *Artist
	key() uint64
}

func (t *Track) key() uint64  { return uint64(t.ID) }
func (a *Album) key() uint64  { return a.ID }
func (a *Artist) key() uint64 { return a.ID }

// index is a persistent map from key to value: buckets of entries sorted
// by key, the key stored beside the value so a lookup touches one array. An
// update copies only the buckets it touches (and the bucket table), so
// successive snapshots share everything else and publishing k changes costs
// O(k log k) plus the copied buckets, not O(size).
type index[V indexed] struct {
	buckets [][]entry[V] // nil until the first value
	n       int
}

type entry[V indexed] struct {
	k uint64
	v V
}

func cmpEntry[V indexed](e entry[V], k uint64) int { return cmp.Compare(e.k, k) }

// bucketOf spreads keys over the buckets (Fibonacci hashing), whatever
// their distribution.
func bucketOf(k uint64) int { return int((k * 0x9e3779b97f4a7c15) >> (64 - indexBits)) }

// get returns the value with key k.
func (ix *index[V]) get(k uint64) (V, bool) {
	var zero V
	if ix.buckets == nil {
		return zero, false
	}
	b := ix.buckets[bucketOf(k)]
	i, ok := slices.BinarySearchFunc(b, k, cmpEntry[V])
	if !ok {
		return zero, false
	}
	return b[i].v, true
}

// len is the number of values held.
func (ix *index[V]) len() int { return ix.n }

// with returns a copy of ix in which the keys in del are removed, then the
// values in put are set (replacing a value of the same key; of equal keys in
// put the last wins). ix is unchanged.
func (ix *index[V]) with(put []V, del []uint64) index[V] {
	if len(put) == 0 && len(del) == 0 {
		return *ix
	}
	out := index[V]{n: ix.n}
	if ix.buckets == nil {
		out.buckets = make([][]entry[V], 1<<indexBits)
	} else {
		out.buckets = slices.Clone(ix.buckets)
	}
	owned := make([]bool, 1<<indexBits)
	own := func(bi int) []entry[V] {
		if !owned[bi] {
			owned[bi] = true
			out.buckets[bi] = slices.Clone(out.buckets[bi])
		}
		return out.buckets[bi]
	}
	for _, k := range del {
		bi := bucketOf(k)
		if i, ok := slices.BinarySearchFunc(out.buckets[bi], k, cmpEntry[V]); ok {
			out.buckets[bi] = slices.Delete(own(bi), i, i+1)
			out.n--
		}
	}
	if len(put) <= 4<<indexBits {
		for _, v := range put {
			k := v.key()
			bi := bucketOf(k)
			b := own(bi)
			i, ok := slices.BinarySearchFunc(b, k, cmpEntry[V])
			if ok {
				b[i].v = v
				continue
			}
			out.buckets[bi] = slices.Insert(b, i, entry[V]{k, v})
			out.n++
		}
		return out
	}
	// Many values (a whole library): count them per bucket, copy each
	// bucket they go to once at its new size, append them, then sort each
	// bucket once and drop the values replaced.
	before := make([]int, 1<<indexBits) // puts per bucket, then its length before them (-1: untouched)
	for _, v := range put {
		before[bucketOf(v.key())]++
	}
	for bi, n := range before {
		if n == 0 {
			before[bi] = -1
			continue
		}
		b := out.buckets[bi]
		before[bi] = len(b)
		out.buckets[bi] = append(make([]entry[V], 0, len(b)+n), b...)
		owned[bi] = true
	}
	for _, v := range put {
		k := v.key()
		bi := bucketOf(k)
		out.buckets[bi] = append(out.buckets[bi], entry[V]{k, v})
	}
	for bi, had := range before {
		if had < 0 {
			continue
		}
		b := out.buckets[bi]
		slices.SortStableFunc(b, func(x, y entry[V]) int { return cmp.Compare(x.k, y.k) })
		w := 0
		for i, e := range b {
			if i+1 < len(b) && b[i+1].k == e.k {
				continue // replaced by a later value
			}
			b[w] = e
			w++
		}
		clear(b[w:])
		out.buckets[bi] = b[:w:w]
		out.n += w - had
	}
	return out
}

// all calls f for every value, in no particular order.
func (ix *index[V]) all(f func(V)) {
	for _, b := range ix.buckets {
		for _, e := range b {
			f(e.v)
		}
	}
}
