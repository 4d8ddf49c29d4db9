package probe

import (
	"bytes"
	"io"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
)

// countingReader counts the ReadAt calls and bytes that reach the file.
type countingReader struct {
	r            io.ReaderAt
	calls, bytes atomic.Int64
}

func (c *countingReader) ReadAt(p []byte, off int64) (int, error) {
	c.calls.Add(1)
	c.bytes.Add(int64(len(p)))
	return c.r.ReadAt(p, off)
}

// maxCalls is the ReadAt budget for any real file: the head, and at most
// a moov at the end or an Ogg/FLAC tail, and one more for a large ID3v2 tag.
const maxCalls = 3

// TestSweep probes every corpus and fixture file, including formats it
// rejects and files that ffprobe cannot read: no panic, and few reads.
func TestSweep(t *testing.T) {
	roots := sources(t)
	files := audioFiles(roots)
	if len(files) == 0 {
		t.Skip("neither the corpus (../../../shared/corpus/taglib or $DAAPD_CORPUS) nor ../../music-fixtures is present")
	}
	hist := map[int64]int{}
	for _, p := range files {
		path, _ := resolve(roots, p)
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		cr := &countingReader{r: bytes.NewReader(data)}
		info, err := Probe(cr, int64(len(data)))
		if err == nil && info.Container == "" {
			t.Errorf("%s: success without a container", p)
		}
		n := cr.calls.Load()
		hist[n]++
		if n > maxCalls {
			t.Errorf("%s: %d ReadAt calls, want ≤ %d", p, n, maxCalls)
		}
	}
	var keys []int64
	for k := range hist {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	for _, k := range keys {
		t.Logf("%d ReadAt calls: %d files", k, hist[k])
	}
}

// TestConcurrentProbe probes the table inputs from several goroutines at
// once (the scanner's workers share the buffer pool) and expects the same
// answers as one at a time.
func TestConcurrentProbe(t *testing.T) {
	type result struct {
		info Info
		err  string
	}
	run := func(data []byte) result {
		info, err := Probe(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return result{info, err.Error()}
		}
		return result{info, ""}
	}
	want := make([]result, len(probeCases))
	for i, tc := range probeCases {
		want[i] = run(tc.data)
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 20 {
				for i, tc := range probeCases {
					if got := run(tc.data); got != want[i] {
						t.Errorf("%s: concurrent %+v, sequential %+v", tc.name, got, want[i])
					}
				}
			}
		})
	}
	wg.Wait()
}
