package library

import (
	"math/rand/v2"
	"testing"
)

// TestIndexWith checks both update paths (few values: binary-search
// inserts; many: append and sort per bucket) against a map.
func TestIndexWith(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var ix index[*Track]
	want := map[uint32]*Track{}
	for step := range 40 {
		n := 1 + r.IntN(50)
		if step%5 == 0 {
			n = 5<<indexBits + r.IntN(1000) // the bulk path
		}
		var put []*Track
		var del []uint64
		for range n {
			id := uint32(r.IntN(60000))
			if r.IntN(4) == 0 {
				del = append(del, uint64(id))
				continue
			}
			put = append(put, &Track{ID: id})
		}
		old, oldLen := ix, ix.len()
		ix = ix.with(put, del)
		if old.len() != oldLen {
			t.Fatal("with changed the index it was called on")
		}
		for _, k := range del {
			delete(want, uint32(k))
		}
		for _, v := range put {
			want[v.ID] = v
		}
		if ix.len() != len(want) {
			t.Fatalf("step %d: len %d, want %d", step, ix.len(), len(want))
		}
		for id, v := range want {
			if got, ok := ix.get(uint64(id)); !ok || got != v {
				t.Fatalf("step %d: get(%d) = %p, %v; want %p", step, id, got, ok, v)
			}
		}
		count := 0
		ix.all(func(*Track) { count++ })
		if count != len(want) {
			t.Fatalf("step %d: all visits %d values, want %d", step, count, len(want))
		}
	}
}
