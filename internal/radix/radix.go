// Package radix sorts unsigned integer keys in linear time, a byte at a
// time (least significant first). At a million keys it takes a small
// fraction of a comparison sort's time.
package radix

import "unsafe"

// Sort sorts keys in ascending order and moves vals (nil, or as long as
// keys) with them. It is stable: equal keys keep their order.
func Sort[K ~uint32 | ~uint64, V any](keys []K, vals []V) {
	if len(keys) < 2 {
		return
	}
	k2 := make([]K, len(keys))
	var v2 []V
	if vals != nil {
		v2 = make([]V, len(vals))
	}
	src, dst, vsrc, vdst := keys, k2, vals, v2
	var zero K
	for shift := 0; shift < 8*int(unsafe.Sizeof(zero)); shift += 8 {
		var at [256]int
		for _, k := range src {
			at[k>>shift&0xff]++
		}
		if at[src[0]>>shift&0xff] == len(src) {
			continue // every key has this byte
		}
		sum := 0
		for i, n := range at {
			at[i], sum = sum, sum+n
		}
		for i, k := range src {
			b := k >> shift & 0xff
			dst[at[b]] = k
			if vsrc != nil {
				vdst[at[b]] = vsrc[i]
			}
			at[b]++
		}
		src, dst, vsrc, vdst = dst, src, vdst, vsrc
	}
	if &src[0] != &keys[0] {
		copy(keys, src)
		copy(vals, vsrc)
	}
}
