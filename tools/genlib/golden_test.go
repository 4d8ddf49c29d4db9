package main

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if d := cmp.Diff(string(want), string(got)); d != "" {
		t.Errorf("%s (-want +got):\n%s", name, d)
	}
}

// TestPlanGolden pins the library a seed produces: a change here changes
// every generated library, so it must be deliberate.
func TestPlanGolden(t *testing.T) {
	b, err := json.MarshalIndent(NewPlan(30, 1), "", " ")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "plan-n30-seed1.golden", append(b, '\n'))
}

// TestTagBytesGolden pins the exact tag bytes each writer produces.
func TestTagBytesGolden(t *testing.T) {
	tags := sampleTags([]byte{0xff, 0xd8, 0xff, 0xd9}, "image/jpeg")
	var b bytes.Buffer
	b.WriteString("id3v24\n" + hex.Dump(id3v24(&tags, 4)))
	b.WriteString("vorbis comments (ogg)\n" + hex.Dump(vorbisComments(&tags, vendor, true)))
	b.WriteString("flac picture\n" + hex.Dump(flacPicture(&tags)))
	b.WriteString("mp4 ilst\n" + hex.Dump(ilst(&tags)))
	golden(t, "tags.golden", b.Bytes())
}
