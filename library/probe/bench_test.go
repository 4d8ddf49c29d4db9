package probe

import (
	"bytes"
	"os"
	"testing"
)

// BenchmarkProbe probes every supported corpus and fixture file once per
// iteration, from memory and from open files (warm page cache), and
// reports per-file cost and I/O.
func BenchmarkProbe(b *testing.B) {
	roots := sources(b)
	var paths []string
	var blobs [][]byte
	for _, p := range audioFiles(roots) {
		path, _ := resolve(roots, p)
		data, err := os.ReadFile(path)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Probe(bytes.NewReader(data), int64(len(data))); err == nil {
			paths, blobs = append(paths, path), append(blobs, data)
		}
	}
	if len(paths) == 0 {
		b.Skip("no corpus or fixtures")
	}
	b.Run("mem", func(b *testing.B) {
		var calls, read int64
		for b.Loop() {
			for _, data := range blobs {
				cr := &countingReader{r: bytes.NewReader(data)}
				Probe(cr, int64(len(data)))
				calls += cr.calls.Load()
				read += cr.bytes.Load()
			}
		}
		report(b, len(blobs), calls, read)
	})
	b.Run("file", func(b *testing.B) {
		files := make([]*os.File, len(paths))
		sizes := make([]int64, len(paths))
		for i, p := range paths {
			f, err := os.Open(p)
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			st, _ := f.Stat()
			files[i], sizes[i] = f, st.Size()
		}
		var calls, read int64
		for b.Loop() {
			for i, f := range files {
				cr := &countingReader{r: f}
				Probe(cr, sizes[i])
				calls += cr.calls.Load()
				read += cr.bytes.Load()
			}
		}
		report(b, len(files), calls, read)
	})
}

func report(b *testing.B, files int, calls, read int64) {
	n := float64(b.N * files)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/n, "ns/file")
	b.ReportMetric(float64(read)/n, "B-read/file")
	b.ReportMetric(float64(calls)/n, "ReadAt/file")
}
