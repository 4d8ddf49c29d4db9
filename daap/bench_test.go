package daap

import (
	"bytes"
	stdgzip "compress/gzip"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/daapd/daapd/internal/testkit"
	"github.com/daapd/daapd/library"
)

// syntheticTracks makes n tracks with realistic tag lengths: 10 tracks an
// album, 10 albums an artist.
func syntheticTracks(n int) []*library.Track {
	genres := []string{"Rock", "Jazz", "Electronic", "Classical", "Hip-Hop", "Folk"}
	ts := make([]*library.Track, n)
	for i := range ts {
		album, artist := i/10, i/100
		ts[i] = &library.Track{
			ID: uint32(i + 1), PersistentID: 0x8000000000000000 | uint64(i+1)*2654435761,
			AlbumID: uint64(album+1) * 11400714819323198485, ArtistID: uint64(artist+1) * 14029467366897019727,
			Root: "/music", Path: fmt.Sprintf("Artist %d/Album %d/%02d Track title number %d.mp3", artist, album, i%10+1, i),
			Title: fmt.Sprintf("Track title number %d", i), Artist: fmt.Sprintf("Artist Name %d", artist),
			AlbumArtist: fmt.Sprintf("Artist Name %d", artist), Album: fmt.Sprintf("The Album Called %d", album),
			Genre: genres[i%len(genres)], Extra: &library.Extra{Composer: fmt.Sprintf("Composer %d", artist)},
			Year: uint16(1960 + i%60), TrackNumber: uint16(i%10 + 1), TrackCount: 10, DiscNumber: 1, DiscCount: 1,
			DurationMS: uint32(120000 + i%240000), Bitrate: 256, SampleRate: 44100, Channels: 2,
			Codec: "mp3", Format: "mp3", Size: int64(4000000 + i), ModTime: library.StampOf(epoch), Added: library.StampOf(epoch),
			Artwork: &library.Artwork{Source: library.ArtworkEmbedded},
		}
	}
	return ts
}

// discard is a ResponseWriter that drops the body, so benchmarks measure
// the server's own time.
type discard struct {
	h http.Header
	n int
}

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) WriteHeader(int)             {}
func (d *discard) Write(p []byte) (int, error) { d.n += len(p); return len(p), nil }

// BenchmarkItems measures /databases/1/items with iTunes' meta list over
// 10,000 and 100,000 tracks: built (empty cache; the build compresses at
// fastLevel whatever the client takes) and served from the cache, plain
// (inflated as sent) and gzipped, and the background recompression
// ("polish": CPU, and the body's size after it). "cached-bytes" is what
// the cache holds for the listing.
func BenchmarkItems(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) { benchmarkItems(b, n) })
	}
}

func benchmarkItems(b *testing.B, tracks int) {
	strictEncoding = false
	defer func() { strictEncoding = true }()
	cat := library.NewCatalog()
	cat.Publish(syntheticTracks(tracks), nil)
	s := New(Config{Name: "bench", Catalog: cat})
	h := s.Handler()
	target := "/databases/1/items?session-id=1&revision-number=3&delta=0&type=music&meta=" + url.QueryEscape(itunesMeta)
	serve := func(b *testing.B, gzip bool) int {
		r := httptest.NewRequest("GET", target, nil)
		r.Header.Set("User-Agent", uaITunes)
		if gzip {
			r.Header.Set("Accept-Encoding", "gzip")
		}
		w := &discard{h: http.Header{}}
		h.ServeHTTP(w, r)
		if w.n == 0 || (gzip && w.h.Get("Content-Encoding") != "gzip") {
			b.Fatalf("bad reply: %d bytes, %v", w.n, w.h)
		}
		return w.n
	}
	// CPU time is reported too: on a loaded machine wall time mostly
	// measures waiting for a core.
	b.Run("build", func(b *testing.B) {
		var n int
		cpu := testkit.CPUTime()
		for b.Loop() {
			s.cache = newLRU(cacheBytes)
			n = serve(b, false)
		}
		b.ReportMetric(float64(testkit.CPUTime()-cpu)/float64(b.N), "cpu-ns/op")
		b.ReportMetric(float64(n), "bytes/reply")
	})
	b.Run("build+gzip", func(b *testing.B) {
		var n int
		cpu := testkit.CPUTime()
		for b.Loop() {
			s.cache = newLRU(cacheBytes)
			n = serve(b, true)
		}
		b.ReportMetric(float64(testkit.CPUTime()-cpu)/float64(b.N), "cpu-ns/op")
		b.ReportMetric(float64(n), "bytes/reply")
	})
	b.Run("polish", func(b *testing.B) {
		s.cache = newLRU(cacheBytes)
		serve(b, true)
		fast := cachedBytes(s.cache)
		var n int
		cpu := testkit.CPUTime()
		for b.Loop() {
			z, err := recompress(context.Background(), fast)
			if err != nil {
				b.Fatal(err)
			}
			n = len(z)
		}
		b.ReportMetric(float64(testkit.CPUTime()-cpu)/float64(b.N), "cpu-ns/op")
		b.ReportMetric(float64(n), "bytes/reply")
		b.ReportMetric(float64(n)/float64(tracks), "bytes/track")
	})
	// The cached runs serve the recompressed body, as a server does once
	// its background work is done.
	s.cache = newLRU(cacheBytes)
	s.cache.polishMin = polishMin
	serve(b, true)
	for !s.cache.idle() {
		time.Sleep(time.Millisecond)
	}
	b.Run("cached", func(b *testing.B) {
		var n int
		cpu := testkit.CPUTime()
		for b.Loop() {
			n = serve(b, false)
		}
		b.ReportMetric(float64(testkit.CPUTime()-cpu)/float64(b.N), "cpu-ns/op")
		b.ReportMetric(float64(n), "bytes/reply")
		b.ReportMetric(float64(len(cachedBytes(s.cache))), "cached-bytes")
	})
	b.Run("cached-gzip", func(b *testing.B) {
		var n int
		for b.Loop() {
			n = serve(b, true)
		}
		b.ReportMetric(float64(n), "bytes/reply")
		b.ReportMetric(float64(n)/float64(tracks), "bytes/track")
	})
}

// cachedBytes returns the body of the one entry in c.
func cachedBytes(c *lru) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, el := range c.byKey {
		return el.Value.(*cacheEntry).data
	}
	return nil
}

// BenchmarkGzipLevels compresses a 100,000-track iTunes listing with
// compress/gzip and klauspost/compress at the levels considered for the
// listing cache: CPU per listing and bytes per track.
func BenchmarkGzipLevels(b *testing.B) {
	strictEncoding = false
	defer func() { strictEncoding = true }()
	const tracks = 100_000
	cat := library.NewCatalog()
	cat.Publish(syntheticTracks(tracks), nil)
	s := New(Config{Name: "bench", Catalog: cat})
	r := httptest.NewRequest("GET", "/databases/1/items?meta="+url.QueryEscape(itunesMeta), nil)
	r.Header.Set("User-Agent", uaITunes)
	w := httptest.NewRecorder()
	s.Handler().ServeHTTP(w, r)
	plain := w.Body.Bytes()
	type writer interface {
		io.Writer
		Close() error
	}
	for _, c := range []struct {
		name string
		new  func(io.Writer, int) (writer, error)
	}{
		{"std", func(w io.Writer, l int) (writer, error) { return stdgzip.NewWriterLevel(w, l) }},
		{"klauspost", func(w io.Writer, l int) (writer, error) { return gzip.NewWriterLevel(w, l) }},
	} {
		for _, level := range []int{1, 6, 7, 9} {
			b.Run(fmt.Sprintf("%s-%d", c.name, level), func(b *testing.B) {
				var out bytes.Buffer
				cpu := testkit.CPUTime()
				for b.Loop() {
					out.Reset()
					zw, err := c.new(&out, level)
					if err != nil {
						b.Fatal(err)
					}
					zw.Write(plain)
					zw.Close()
				}
				b.ReportMetric(float64(testkit.CPUTime()-cpu)/float64(b.N), "cpu-ns/op")
				b.ReportMetric(float64(out.Len())/tracks, "bytes/track")
			})
		}
	}
}

// TestItemsScale checks the 100,000-track listing end to end once: every
// item is present and the body decodes (timing is for BenchmarkItems).
func TestItemsScale(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 100,000-track listing")
	}
	cat := library.NewCatalog()
	cat.Publish(syntheticTracks(100_000), nil)
	s := New(Config{Name: "scale", Catalog: cat})
	r := httptest.NewRequest("GET", "/databases/1/items?meta="+url.QueryEscape(itunesMeta), nil)
	w := httptest.NewRecorder()
	start := time.Now()
	s.Handler().ServeHTTP(w, r)
	t.Logf("built %d bytes in %v", w.Body.Len(), time.Since(start))
	if w.Code != 200 || strings.Count(w.Body.String(), "mikd") != 100_000 {
		t.Fatalf("status %d, %d items", w.Code, strings.Count(w.Body.String(), "mikd"))
	}
}
