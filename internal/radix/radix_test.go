package radix

import (
	"cmp"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestSort(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 2, 255, 256, 1000, 100_000} {
		for _, spread := range []uint64{1 << 63, 1 << 20, 3} { // wide keys, keys sharing their high bytes, many ties
			keys := make([]uint64, n)
			vals := make([]int, n)
			for i := range keys {
				keys[i], vals[i] = r.Uint64()%spread+1<<62, i
			}
			type kv struct {
				k uint64
				v int
			}
			want := make([]kv, n)
			for i := range keys {
				want[i] = kv{keys[i], vals[i]}
			}
			slices.SortStableFunc(want, func(a, b kv) int { return cmp.Compare(a.k, b.k) })
			ids := make([]uint32, n)
			for i := range ids {
				ids[i] = uint32(keys[i])
			}
			wantIDs := slices.Sorted(slices.Values(ids))

			Sort(keys, vals)
			Sort(ids, []struct{}(nil))
			for i := range want {
				if keys[i] != want[i].k || vals[i] != want[i].v {
					t.Fatalf("n %d, spread %d: at %d got %d/%d, want %d/%d (stable order)", n, spread, i, keys[i], vals[i], want[i].k, want[i].v)
				}
			}
			if !slices.Equal(ids, wantIDs) {
				t.Errorf("n %d, spread %d: uint32 keys not sorted", n, spread)
			}
		}
	}
}

func BenchmarkSort(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	keys := make([]uint64, 1_000_000)
	for i := range keys {
		keys[i] = r.Uint64()
	}
	vals := make([]int, len(keys))
	k, v := slices.Clone(keys), slices.Clone(vals)
	for b.Loop() {
		copy(k, keys)
		Sort(k, v)
	}
}
