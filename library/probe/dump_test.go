package probe

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

func TestDumpCorpus(t *testing.T) {
	dir := os.Getenv("DUMPDIR")
	if dir == "" {
		t.Skip()
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	for _, f := range files {
		fh, _ := os.Open(f)
		st, _ := fh.Stat()
		rd := newReader(fh, st.Size())
		info, err := probe(rd)
		fmt.Printf("%-36s %+v err=%v calls=%d\n", filepath.Base(f), info, err, rd.calls)
		fh.Close()
	}
}
