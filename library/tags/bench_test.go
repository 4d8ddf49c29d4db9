package tags

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	fixtures "github.com/daapd/daapd/music-fixtures"
)

// BenchmarkRead reads the tags of one music fixture per tag flavour from
// memory, reporting ReadAt calls and bytes read per file.
func BenchmarkRead(b *testing.B) {
	exp, err := fixtures.Load()
	if err != nil {
		b.Skipf("music fixtures not available: %v", err)
	}
	seen := map[string]bool{}
	for _, tr := range exp.Tracks {
		if seen[tr.Tags] {
			continue
		}
		seen[tr.Tags] = true
		file, err := os.ReadFile(filepath.Join(fixtures.Dir(), filepath.FromSlash(tr.Path)))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(tr.Tags, func(b *testing.B) {
			cr := &countingReader{r: bytes.NewReader(file)}
			b.ReportAllocs()
			for b.Loop() {
				Read(cr, int64(len(file)), tr.Container)
			}
			b.ReportMetric(float64(cr.calls)/float64(b.N), "reads/op")
			b.ReportMetric(float64(cr.bytes)/float64(b.N), "B-read/op")
		})
	}
}

// BenchmarkReadBigCover reads an MP3 whose 2 MiB cover precedes the text.
func BenchmarkReadBigCover(b *testing.B) {
	bigPic := append(append([]byte(nil), jpegData...), make([]byte, 2<<20)...)
	file := cat(id3(3, 0, frame(3, "APIC", apic("image/jpeg", 3, bigPic)), frame(3, "TIT2", latin1("After"))), make([]byte, 1<<20))
	cr := &countingReader{r: bytes.NewReader(file)}
	b.ReportAllocs()
	for b.Loop() {
		Read(cr, int64(len(file)), "mp3")
	}
	b.ReportMetric(float64(cr.calls)/float64(b.N), "reads/op")
	b.ReportMetric(float64(cr.bytes)/float64(b.N), "B-read/op")
}
