package tags

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// hostileViewer lends fresh copies of its data and, on every later call,
// scribbles over everything it lent and changes its generation: a reader
// that keeps a lent slice past the contract reads garbage.
type hostileViewer struct {
	data []byte
	gen  uint64
	lent [][]byte
}

func (h *hostileViewer) invalidate() {
	for _, b := range h.lent {
		for i := range b {
			b[i] = 0xEE
		}
	}
	h.lent = h.lent[:0]
	h.gen++
}

func (h *hostileViewer) ReadAt(p []byte, off int64) (int, error) {
	h.invalidate()
	return bytes.NewReader(h.data).ReadAt(p, off)
}

func (h *hostileViewer) View(off int64, n int) ([]byte, bool) {
	h.invalidate()
	if off < 0 || off >= int64(len(h.data)) || n > 80<<10 {
		return nil, false
	}
	b := append([]byte(nil), h.data[off:min(off+int64(n), int64(len(h.data)))]...)
	h.lent = append(h.lent, b)
	return b, true
}

func (h *hostileViewer) Gen() uint64 { return h.gen }

// TestViewerAgrees checks that reading through a viewer (borrowed
// windows) gives what reading through plain ReadAt gives, on every table
// case and the corpus.
func TestViewerAgrees(t *testing.T) {
	type input struct {
		name, container string
		data            []byte
	}
	var inputs []input
	for _, tc := range allCases() {
		inputs = append(inputs, input{tc.container + "/" + tc.name, tc.container, tc.file})
	}
	dir := os.Getenv("DAAPD_CORPUS") // as corpusDir, without skipping
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "shared", "corpus")
	}
	dir = filepath.Join(dir, "taglib")
	if entries, err := os.ReadDir(dir); err == nil {
		for _, e := range entries {
			if b, err := os.ReadFile(filepath.Join(dir, e.Name())); err == nil && len(b) < 8<<20 {
				inputs = append(inputs, input{e.Name(), containerOf(e.Name()), b})
			}
		}
	}
	outcome := func(r interface {
		ReadAt([]byte, int64) (int, error)
	}, in input) string {
		tg, err := Read(r, int64(len(in.data)), in.container)
		pic, mime, perr := Picture(r, int64(len(in.data)), in.container)
		return fmt.Sprintf("%+v %v %x %s %v", tg, err, pic, mime, perr)
	}
	for _, in := range inputs {
		want := outcome(bytes.NewReader(in.data), in)
		if got := outcome(&hostileViewer{data: in.data}, in); got != want {
			t.Errorf("%s: through a viewer\n%.300s\nthrough ReadAt\n%.300s", in.name, got, want)
		}
	}
}
