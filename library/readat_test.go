package library

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"sync"
	"testing"
	"time"
)

// checkBlockReader replays reads (pairs of offset, length) on a blockReader
// and on a bytes.Reader over the same data and compares.
func checkBlockReader(t *testing.T, data []byte, reads [][2]int) *blockReader {
	t.Helper()
	var b blockReader
	b.reset(bytes.NewReader(data), int64(len(data)))
	ref := bytes.NewReader(data)
	for _, rd := range reads {
		off, n := int64(rd[0]), rd[1]
		got, want := make([]byte, n), make([]byte, n)
		gn, gerr := b.ReadAt(got, off)
		wn, werr := ref.ReadAt(want, off)
		if gn != wn || !bytes.Equal(got[:gn], want[:wn]) || (gerr == nil) != (werr == nil) {
			t.Fatalf("ReadAt(%d bytes at %d) on %d: got %d %v, want %d %v", n, off, len(data), gn, gerr, wn, werr)
		}
	}
	return &b
}

func TestBlockReader(t *testing.T) {
	data := make([]byte, 300_000)
	for i := range data {
		data[i] = byte(i * 7 / 3)
	}
	tests := []struct {
		name  string
		size  int
		reads [][2]int
		calls int
	}{
		{"tag parser: tiny reads at the head", 300_000, [][2]int{{0, 10}, {10, 4}, {14, 1}, {15, 1}, {16, 200}, {216, 4000}}, 1},
		{"head then tail (ID3v1, APE footer)", 300_000, [][2]int{{0, 10}, {300_000 - 128, 128}, {300_000 - 160, 32}, {5, 5}}, 2},
		{"backward search from the end", 300_000, [][2]int{{299_000, 100}, {298_000, 100}, {290_000, 100}}, 1},
		{"tail window is 16 KiB", 300_000, [][2]int{{299_000, 100}, {260_000, 100}, {290_000, 100}}, 2},
		{"big read goes straight through", 300_000, [][2]int{{1000, 100_000}, {0, 4}}, 2},
		{"probe and tags share 64 KiB windows", 300_000, [][2]int{{0, 64 << 10}, {46, 64 << 10}, {0, 64 << 10}, {300_000 - 16<<10, 16 << 10}}, 2},
		{"small file", 100, [][2]int{{0, 10}, {90, 20}, {100, 1}, {200, 1}}, 1},
		{"empty", 0, [][2]int{{0, 1}}, 0},
		{"crossing windows", 300_000, [][2]int{{0, 4}, {windowSize - 2, 4}, {windowSize - 2, 4}}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := checkBlockReader(t, data[:tt.size], tt.reads)
			if b.reads != tt.calls {
				t.Errorf("%d reads on the file, want %d", b.reads, tt.calls)
			}
		})
	}
	var b blockReader
	b.reset(bytes.NewReader(data), 10)
	if _, err := b.ReadAt(make([]byte, 1), -1); err == nil {
		t.Error("negative offset accepted")
	}
	if n, err := b.ReadAt(make([]byte, 20), 5); n != 5 || err != io.EOF {
		t.Errorf("short read: %d %v", n, err)
	}
}

func FuzzBlockReader(f *testing.F) {
	f.Add(1000, []byte{0, 0, 0, 0, 10, 0, 0, 0})
	f.Add(200_000, []byte{0, 0, 0, 0, 4, 0, 0, 0, 0xff, 0xff, 0x02, 0, 4, 0, 0, 0})
	f.Fuzz(func(t *testing.T, size int, ops []byte) {
		size = int(uint(size) % 300_000)
		data := make([]byte, size)
		for i := range data {
			data[i] = byte(i>>8 ^ i)
		}
		var reads [][2]int
		for len(ops) >= 8 {
			off := int(binary.LittleEndian.Uint32(ops) % 310_000)
			n := int(binary.LittleEndian.Uint32(ops[4:]) % 70_000)
			reads = append(reads, [2]int{off, n})
			ops = ops[8:]
		}
		checkBlockReader(t, data, reads)
	})
}

func TestRawFile(t *testing.T) {
	name := t.TempDir() + "/f"
	data := bytes.Repeat([]byte("0123456789"), 1000)
	if err := os.WriteFile(name, data, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := openRaw(name)
	if err != nil {
		t.Fatal(err)
	}
	size, mtime, err := statFile(f, name)
	if err != nil || size != int64(len(data)) || mtime.IsZero() || mtime.Location() != time.UTC {
		t.Fatalf("stat: %d %v %v", size, mtime, err)
	}
	p := make([]byte, 20)
	if n, err := f.ReadAt(p, 9990); n != 10 || err != io.EOF || string(p[:n]) != "0123456789" {
		t.Errorf("read at the end: %d %v %q", n, err, p[:n])
	}
	var wg sync.WaitGroup
	for range 4 { // reads racing a close never touch a reused descriptor
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := make([]byte, 20) // each reader its own buffer
			for range 100 {
				if _, err := f.ReadAt(p, 0); err != nil && !errors.Is(err, os.ErrClosed) {
					t.Error(err)
					return
				}
			}
		}()
	}
	f.Close()
	wg.Wait()
	if _, err := f.ReadAt(p, 0); !errors.Is(err, os.ErrClosed) {
		t.Errorf("read after close: %v", err)
	}
	if err := f.Close(); err != nil {
		t.Errorf("second close: %v", err)
	}
	if _, err := openRaw(name + ".missing"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("open missing: %v", err)
	}
}

func TestBlockReaderView(t *testing.T) {
	data := make([]byte, 300_000)
	for i := range data {
		data[i] = byte(i * 7 / 3)
	}
	var b blockReader
	b.reset(bytes.NewReader(data), int64(len(data)))
	check := func(off int64, n, wantLen int) []byte {
		t.Helper()
		v, ok := b.View(off, n)
		if !ok || len(v) != wantLen || !bytes.Equal(v, data[off:off+int64(wantLen)]) {
			t.Fatalf("View(%d, %d) = %d bytes, %v; want %d", off, n, len(v), ok, wantLen)
		}
		return v
	}
	check(0, 64<<10, 64<<10)
	g := b.Gen()
	check(100, 1000, 1000) // same window: no read, same generation
	if b.Gen() != g || b.reads != 1 {
		t.Errorf("cached view: gen %d -> %d, %d reads", g, b.Gen(), b.reads)
	}
	check(299_000, 64<<10, 1000) // the tail: clipped to the file
	if b.Gen() == g || b.reads != 2 {
		t.Errorf("tail view: gen unchanged or %d reads", b.reads)
	}
	if _, ok := b.View(0, windowSize+1); ok {
		t.Error("view larger than a window")
	}
	if _, ok := b.View(300_000, 1); ok {
		t.Error("view past the end")
	}
	g = b.Gen()
	b.reset(bytes.NewReader(data[:10]), 10)
	if b.Gen() == g {
		t.Error("reset kept the generation")
	}
	check(0, 100, 10)
}
