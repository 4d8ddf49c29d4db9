package library

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	fixtures "github.com/daapd/daapd/music-fixtures"
)

// countingReader counts the ReadAt calls the parsers make and the bytes
// they ask for.
type countingReader struct {
	r     *bytes.Reader
	calls int
	bytes int64
}

func (c *countingReader) ReadAt(p []byte, off int64) (int, error) {
	c.calls++
	c.bytes += int64(len(p))
	return c.r.ReadAt(p, off)
}

// BenchmarkReadFacts runs the per-file reader (probe and tags) alone over
// the audio files of $DAAPD_BENCH_LIB (else music-fixtures), held in
// memory, without the scanner's window cache: CPU per file, and the ReadAt
// calls and bytes the parsers ask for per file.
func BenchmarkReadFacts(b *testing.B) {
	dir := os.Getenv("DAAPD_BENCH_LIB")
	if dir == "" {
		dir = fixtures.Dir()
	}
	var files [][]byte
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() && audioExts[ext(d.Name())] && len(files) < 2000 {
			if data, err := os.ReadFile(p); err == nil {
				files = append(files, data)
			}
		}
		return nil
	})
	if len(files) == 0 {
		b.Skip("no audio files in " + dir)
	}
	var calls int
	var n int64
	cpu0 := cpuTime()
	b.ResetTimer()
	for range b.N {
		for _, f := range files {
			c := &countingReader{r: bytes.NewReader(f)}
			readFacts(c, int64(len(f)))
			calls += c.calls
			n += c.bytes
		}
	}
	b.StopTimer()
	per := float64(b.N * len(files))
	b.ReportMetric(float64(cpuTime()-cpu0)/1e3/per, "cpu-µs/file")
	b.ReportMetric(float64(calls)/per, "reads/file")
	b.ReportMetric(float64(n)/per, "bytes/file")
}
