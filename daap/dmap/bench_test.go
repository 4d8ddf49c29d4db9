package dmap

import (
	"strconv"
	"testing"
	"time"
)

// BenchmarkEncodeItems builds an items reply of 10,000 tracks with the
// fields iTunes asks for most.
func BenchmarkEncodeItems(b *testing.B) {
	const n = 10000
	added := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	titles := make([]string, n)
	for i := range titles {
		titles[i] = "Track number " + strconv.Itoa(i)
	}
	var bld Builder
	for b.Loop() {
		bld.Reset()
		bld.Container("adbs", func(bld *Builder) {
			bld.Int("mstt", 200)
			bld.Int("muty", 0)
			bld.Int("mtco", n)
			bld.Int("mrco", n)
			bld.Container("mlcl", func(bld *Builder) {
				for i := range n {
					bld.Container("mlit", func(bld *Builder) {
						bld.Int("mikd", 2)
						bld.Int("miid", int64(i+1))
						bld.String("minm", titles[i])
						bld.Int("mper", int64(i)*0x1e3779b97f4a7c15)
						bld.String("asal", "Some Album")
						bld.String("asar", "Some Artist")
						bld.Int("asai", int64(i/10))
						bld.String("asgn", "Rock")
						bld.Int("astm", 215000)
						bld.Int("astn", int64(i%10+1))
						bld.Int("asyr", 1999)
						bld.String("asfm", "mp3")
						bld.Int("assz", 3456789)
						bld.Int("asbr", 320)
						bld.Int("assr", 44100)
						bld.Date("asda", added)
						bld.Int("aeMK", 1)
					})
				}
			})
		})
	}
	b.SetBytes(int64(bld.Len()))
}

func BenchmarkDecodeItems(b *testing.B) {
	var bld Builder
	bld.Container("mlcl", func(bld *Builder) {
		for i := range 10000 {
			bld.Container("mlit", func(bld *Builder) {
				bld.Int("mikd", 2)
				bld.Int("miid", int64(i))
				bld.String("minm", "Track")
				bld.Int("astm", 215000)
			})
		}
	})
	data := bld.Bytes()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Decode(data); err != nil {
			b.Fatal(err)
		}
	}
}
