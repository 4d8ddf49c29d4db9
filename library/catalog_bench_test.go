package library

import (
	"fmt"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"testing"
	"time"
	"unsafe"
)

// scanLikeTracks makes n tracks shaped like a scan of tools/genlib's
// libraries: albums of 11 tracks by artists of 11 albums, about 60-byte
// paths, folder covers, and the repeated strings interned as the scanner
// interns them. Ids are assigned.
func scanLikeTracks(n int) []*Track {
	intern := newInterner()
	alloc := newIDAlloc(testLibID, map[string]string{"/srv/music": ""}, nil)
	mod := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	ts := make([]*Track, n)
	for i := range n {
		al, ar := i/11, i/121
		artist, album := "Artist Name "+strconv.Itoa(ar), "Album Title "+strconv.Itoa(al)
		title := "Song Title " + strconv.Itoa(i)
		t := &Track{
			Root: "/srv/music", Path: artist + "/" + album + "/" + fmt.Sprintf("%02d ", i%11+1) + title + ".mp3",
			Title: title, Artist: artist, AlbumArtist: artist, Album: album, Genre: "Rock",
			Year: uint16(1990 + al%30), TrackNumber: uint16(i%11 + 1), TrackCount: 11, DiscNumber: 1, DiscCount: 1,
			DurationMS: uint32(180000 + i%60000), Bitrate: 256, SampleRate: 44100, Channels: 2,
			Codec: "mp3", Format: "mp3", Size: int64(4_000_000 + i), ModTime: StampOf(mod.Add(time.Duration(i) * time.Second)),
			Added:   StampOf(mod),
			Artwork: &Artwork{Source: ArtworkFile, Path: artist + "/" + album + "/cover.jpg"},
		}
		intern.track(t)
		setGroupIDs(testLibID, t)
		alloc.assign(t, nil)
		ts[i] = t
	}
	sortTracks(ts)
	return ts
}

// BenchmarkPublish1kInto1M publishes 1,000 changes (500 retagged tracks,
// 500 new files) into a catalog of a million tracks: the cost of a watched
// folder's update, which must not grow with the library beyond copying its
// track pointers once.
func BenchmarkPublish1kInto1M(b *testing.B) {
	const n = 1_000_000
	c := NewCatalog()
	c.Publish(scanLikeTracks(n), nil)
	step := 0
	var cpu int64
	for b.Loop() {
		b.StopTimer()
		cur := c.Snapshot().Tracks
		put := make([]*Track, 0, 1000)
		for i := range 500 {
			x := *cur[(step*7919+i*1999)%len(cur)]
			x.Title += " (remastered)"
			put = append(put, &x)
			x2 := *cur[i]
			x2.Path = fmt.Sprintf("New Artist/New Album %d/%03d.mp3", step, i)
			x2.ID++
			put = append(put, &x2)
		}
		step++
		runtime.GC() // the setup's garbage is not the publish's cost
		b.StartTimer()
		cpu0 := cpuTime()
		if _, ok := c.PublishChanges(put, nil, nil); !ok {
			b.Fatal("nothing published")
		}
		cpu += cpuTime() - cpu0
	}
	b.ReportMetric(float64(cpu)/1e6/float64(step), "cpu-ms/op")
}

// BenchmarkPublishFirstScan1M publishes a first scan of a million tracks
// the way the scanner does: partial results each time the set grew by
// 1/partialGrowth, then the whole list. Compare with one publish of the
// whole list (BenchmarkPublishWhole1M): the partial results cost a small
// multiple of it.
func BenchmarkPublishFirstScan1M(b *testing.B) {
	ts := scanLikeTracks(1_000_000)
	order := slices.Clone(ts)
	for i := range order { // scan order is not catalog order
		j := int(mix(uint64(i)) % uint64(i+1))
		order[i], order[j] = order[j], order[i]
	}
	cpu0, runs := cpuTime(), 0
	for b.Loop() {
		runs++
		c := NewCatalog()
		published := 0
		for found := 1; found <= len(order); found++ {
			if grown := found - published; grown >= max(published/partialGrowth, 1000) {
				part := slices.Clone(order[published:found])
				sortTracks(part)
				published = found
				c.PublishChanges(part, nil, nil)
			}
		}
		c.Publish(slices.Clone(ts), nil)
	}
	b.ReportMetric(float64(cpuTime()-cpu0)/1e9/float64(runs), "cpu-s/op")
}

// BenchmarkPublishWhole1M publishes a million tracks into an empty catalog.
func BenchmarkPublishWhole1M(b *testing.B) {
	ts := scanLikeTracks(1_000_000)
	cpu0, runs := cpuTime(), 0
	for b.Loop() {
		runs++
		NewCatalog().Publish(slices.Clone(ts), nil)
	}
	b.ReportMetric(float64(cpuTime()-cpu0)/1e9/float64(runs), "cpu-s/op")
}

// BenchmarkCatalogHeap1M reports the heap a published million-track
// catalog holds per track: the tracks with their strings (interned as a
// scan interns them), the snapshot's list and indexes, albums and artists.
func BenchmarkCatalogHeap1M(b *testing.B) {
	const n = 1_000_000
	var perTrack float64
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		c := NewCatalog()
		c.Publish(scanLikeTracks(n), nil)
		runtime.GC()
		runtime.ReadMemStats(&after)
		perTrack = float64(after.HeapAlloc-before.HeapAlloc) / n
		runtime.KeepAlive(c)
	}
	b.ReportMetric(perTrack, "heap-B/track")
	b.ReportMetric(float64(unsafe.Sizeof(Track{})), "struct-B")
}

// BenchmarkRestartFromCache is a restart's path to the full catalog without
// files: load the scan cache of n scan-like tracks, evaluate the built-in
// smart playlists, publish. It reports process CPU per restart, split into
// the load and the rest.
func BenchmarkRestartFromCache(b *testing.B) {
	for _, n := range []int{100_000, 1_000_000} {
		b.Run(fmt.Sprintf("%dk", n/1000), func(b *testing.B) {
			name := filepath.Join(b.TempDir(), cacheFile)
			if err := saveCache(name, &cacheData{LibraryID: testLibID, Tracks: scanLikeTracks(n)}); err != nil {
				b.Fatal(err)
			}
			var load, publish int64
			for b.Loop() {
				b.StopTimer()
				runtime.GC()
				b.StartTimer()
				cpu0 := cpuTime()
				d, err := loadCache(name, testLibID)
				if err != nil {
					b.Fatal(err)
				}
				cpu1 := cpuTime()
				tracks := d.Tracks // in catalog order, as the load checked
				s, _ := NewCatalog().publishSorted(tracks, func() []*Playlist {
					return EvalPlaylists(testLibID, tracks, nil, SmartConfig{}, time.Now())
				})
				if len(s.Tracks) != n {
					b.Fatalf("%d tracks published", len(s.Tracks))
				}
				load += cpu1 - cpu0
				publish += cpuTime() - cpu1
			}
			b.ReportMetric(float64(load)/1e6/float64(b.N), "load-cpu-ms")
			b.ReportMetric(float64(publish)/1e6/float64(b.N), "publish-cpu-ms")
		})
	}
}
