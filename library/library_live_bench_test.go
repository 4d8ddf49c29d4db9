package library

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// BenchmarkRestart compares, on benchLibrary (DAAPD_BENCH_LIB), a cold
// full scan with a restart from the scan cache: the time until the full
// catalog is published from the cache, and the stat-only rescan that
// follows. Run it with -benchtime 1x.
func BenchmarkRestart(b *testing.B) {
	dir := benchLibrary(b, 500)
	ctx := context.Background()
	name := filepath.Join(b.TempDir(), cacheFile)
	for b.Loop() {
		sc := &Scanner{Roots: []string{dir}, LibraryID: testLibID}
		start := time.Now()
		cold, err := sc.Scan(ctx, nil)
		if err != nil {
			b.Fatal(err)
		}
		coldTime := time.Since(start)

		start = time.Now()
		if err := saveCache(name, &cacheData{LibraryID: testLibID, Tracks: cold.Tracks, Playlists: cold.Playlists}); err != nil {
			b.Fatal(err)
		}
		saveTime := time.Since(start)
		fi, _ := os.Stat(name)
		n := len(cold.Tracks)
		cold = Result{}
		runtime.GC()

		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		start = time.Now()
		d, err := loadCache(name, testLibID)
		if err != nil {
			b.Fatal(err)
		}
		cat := NewCatalog()
		snap, _ := cat.Publish(d.Tracks, d.Playlists)
		served := time.Since(start)
		runtime.ReadMemStats(&after)
		if len(snap.Tracks) != n {
			b.Fatalf("cache served %d tracks, the scan found %d", len(snap.Tracks), n)
		}

		start = time.Now()
		warm, err := sc.Scan(ctx, snap.Tracks)
		if err != nil {
			b.Fatal(err)
		}
		rescan := time.Since(start)
		if warm.Stats.Read != 0 {
			b.Errorf("the rescan of an unchanged library read %d files", warm.Stats.Read)
		}
		if _, changed := cat.Publish(warm.Tracks, warm.Playlists); changed {
			b.Error("the rescan of an unchanged library published a new revision")
		}

		b.ReportMetric(float64(n), "tracks")
		b.ReportMetric(coldTime.Seconds(), "cold-scan-s")
		b.ReportMetric(saveTime.Seconds(), "cache-save-s")
		b.ReportMetric(served.Seconds(), "cache-served-s")
		b.ReportMetric(rescan.Seconds(), "stat-rescan-s")
		b.ReportMetric(float64(fi.Size())/float64(n), "cache-B/track")
		b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/(1<<20), "load-alloc-MiB")
		b.ReportMetric(float64(after.HeapInuse)/(1<<20), "heap-inuse-MiB")
	}
}
