package library

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"

	fixtures "github.com/daapd/daapd/music-fixtures"
)

// benchLibrary returns the library to benchmark: $DAAPD_BENCH_LIB (made by
// `go run ./tools/genlib -n 100000 -out DIR`), else copies of the
// music-fixtures audio files in a temporary folder.
func benchLibrary(b *testing.B, copies int) string {
	if dir := os.Getenv("DAAPD_BENCH_LIB"); dir != "" {
		return dir
	}
	src := fixtures.Dir()
	var files []string
	filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() && audioExts[ext(d.Name())] && d.Name()[0] != '.' {
			files = append(files, p)
		}
		return nil
	})
	if len(files) == 0 {
		b.Skip("no music-fixtures to copy")
	}
	dir := b.TempDir()
	for i := range copies {
		d := filepath.Join(dir, fmt.Sprintf("artist%03d", i/10), fmt.Sprintf("album%d", i%10))
		os.MkdirAll(d, 0o755)
		for j, f := range files {
			data, _ := os.ReadFile(f)
			os.WriteFile(filepath.Join(d, fmt.Sprintf("%02d %s", j, filepath.Base(f))), data, 0o644)
		}
	}
	return dir
}

// BenchmarkScan measures a full first scan (files in the page cache) and
// reports files/s, bytes and read calls per file.
func BenchmarkScan(b *testing.B) {
	dir := benchLibrary(b, 500)
	s := &Scanner{Roots: []string{dir}, LibraryID: "0123456789abcdef"}
	s.Scan(context.Background(), nil) // warm the page cache
	var st Stats
	cpu0 := cpuTime()
	b.ResetTimer()
	for range b.N {
		res, err := s.Scan(context.Background(), nil)
		if err != nil {
			b.Fatal(err)
		}
		st = res.Stats
	}
	b.StopTimer()
	b.ReportMetric(float64(cpuTime()-cpu0)/1e3/float64(b.N*st.Files), "cpu-µs/file")
	perOp := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(float64(st.Files)/perOp, "files/s")
	b.ReportMetric(float64(st.BytesRead)/float64(st.Read), "bytes/file")
	b.ReportMetric(float64(st.Reads)/float64(st.Read), "reads/file")
	b.ReportMetric(float64(st.Skipped), "skipped")
	b.ReportMetric(float64(st.Files), "files")
}

// cpuTime is the process's user+system CPU time in ns: on a shared
// machine it measures the scan's cost better than the wall clock.
func cpuTime() int64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// BenchmarkRescan measures a rescan where nothing changed: a stat per file.
func BenchmarkRescan(b *testing.B) {
	dir := benchLibrary(b, 500)
	s := &Scanner{Roots: []string{dir}, LibraryID: "0123456789abcdef"}
	first, _ := s.Scan(context.Background(), nil)
	b.ResetTimer()
	for range b.N {
		if _, err := s.Scan(context.Background(), first.Tracks); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(first.Tracks))/(b.Elapsed().Seconds()/float64(b.N)), "files/s")
}

// BenchmarkCatalogHeap reports the live heap per track of a scanned and
// published library (tracks, strings, snapshot indexes, albums, artists).
func BenchmarkCatalogHeap(b *testing.B) {
	dir := benchLibrary(b, 500)
	for range b.N {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		s := &Scanner{Roots: []string{dir}, LibraryID: "0123456789abcdef"}
		res, err := s.Scan(context.Background(), nil)
		if err != nil {
			b.Fatal(err)
		}
		cat := NewCatalog()
		cat.Publish(res.Tracks, res.Playlists)
		res = Result{}
		runtime.GC()
		runtime.ReadMemStats(&after)
		n := len(cat.Snapshot().Tracks)
		b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/float64(n), "heapB/track")
		b.ReportMetric(float64(n), "tracks")
		runtime.KeepAlive(cat)
	}
}

// BenchmarkIOFloor is the bare loop the issue compares with: walk, open
// each audio file, read its first 64 KiB and last 8 KiB. On a shared
// machine, BenchmarkScan's files/s divided by this one's is the figure that
// survives the noise.
func BenchmarkIOFloor(b *testing.B) {
	dir := benchLibrary(b, 500)
	buf := make([]byte, 64<<10)
	n := 0
	for range b.N {
		n = 0
		filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() || !audioExts[ext(d.Name())] {
				return nil
			}
			f, err := os.Open(p)
			if err != nil {
				return nil
			}
			fi, _ := f.Stat()
			f.ReadAt(buf, 0)
			f.ReadAt(buf[:8<<10], max(0, fi.Size()-8<<10))
			f.Close()
			n++
			return nil
		})
	}
	b.ReportMetric(float64(n)/(b.Elapsed().Seconds()/float64(b.N)), "files/s")
}
