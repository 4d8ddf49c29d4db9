package web

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/go-chi/chi/v5"

	"github.com/daapd/daapd/daap"
	"github.com/daapd/daapd/internal/testkit"
	"github.com/daapd/daapd/library"
)

// benchServer serves a synthetic catalog of n tracks: 10 per album, 10
// albums per artist.
func benchServer(b *testing.B, n int) (http.Handler, *Server) {
	cat := library.NewCatalog()
	tracks := make([]*library.Track, n)
	for i := range tracks {
		ar, al := i/100, i/10
		tracks[i] = &library.Track{
			ID: uint32(i + 1), PersistentID: uint64(i + 1), AlbumID: uint64(al + 1), ArtistID: uint64(ar + 1),
			Root: "/music", Path: fmt.Sprintf("Artist %d/Album %d/%02d Song %d.flac", ar, al, i%10+1, i),
			Title: fmt.Sprintf("Song %d", i), Artist: fmt.Sprintf("Artist %d", ar), Album: fmt.Sprintf("Album %d", al),
			TrackNumber: uint16(i%10 + 1), Codec: "flac", Format: "flac", DurationMS: 200_000, Size: 30 << 20,
		}
	}
	cat.Publish(tracks, nil)
	d := daap.New(daap.Config{Name: "Bench", Catalog: cat, Transcode: daap.TranscodeOff})
	b.Cleanup(d.Close)
	s := New(Config{Catalog: cat, DAAP: d})
	r := chi.NewRouter()
	s.Mount(r)
	return r, s
}

func BenchmarkPage(b *testing.B) {
	h, s := benchServer(b, 100_000)
	s.index()
	for _, path := range []string{"/", "/albums", "/albums?page=500", "/artists", "/tracks", "/tracks?page=1000",
		"/tracks?sort=title", "/?q=song+4242", "/?q=zzz", "/albums/77", "/problems"} {
		b.Run(path, func(b *testing.B) {
			b.ReportAllocs()
			var size int
			cpu := testkit.CPUTime()
			for b.Loop() {
				req := httptest.NewRequest("GET", path, nil)
				req.Header.Set("Accept", "text/html")
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				if w.Code != 200 {
					b.Fatalf("%s: %d", path, w.Code)
				}
				size = w.Body.Len()
			}
			b.ReportMetric(float64(size), "bytes/page")
			b.ReportMetric(float64(testkit.CPUTime()-cpu)/float64(b.N), "cpu-ns/op")
		})
	}
}

// BenchmarkIndex is the once-per-revision cost of search text and counts.
func BenchmarkIndex(b *testing.B) {
	_, s := benchServer(b, 100_000)
	snap := s.cfg.Catalog.Snapshot()
	b.ReportAllocs()
	cpu := testkit.CPUTime()
	for b.Loop() {
		buildIndex(snap)
	}
	b.ReportMetric(float64(testkit.CPUTime()-cpu)/float64(b.N), "cpu-ns/op")
}
