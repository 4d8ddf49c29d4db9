package main

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"testing"

	"github.com/daapd/daapd/internal/testkit"
)

// TestPlanGolden pins the library a seed produces: a change here changes
// every generated library, so it must be deliberate.
func TestPlanGolden(t *testing.T) {
	b, err := json.MarshalIndent(NewPlan(30, 1), "", " ")
	if err != nil {
		t.Fatal(err)
	}
	testkit.Golden(t, "testdata/plan-n30-seed1.golden", append(b, '\n'))
}

// TestTagBytesGolden pins the exact tag bytes each writer produces.
func TestTagBytesGolden(t *testing.T) {
	tags := sampleTags([]byte{0xff, 0xd8, 0xff, 0xd9}, "image/jpeg")
	var b bytes.Buffer
	b.WriteString("id3v24\n" + hex.Dump(id3v24(&tags, 4)))
	b.WriteString("vorbis comments (ogg)\n" + hex.Dump(vorbisComments(&tags, vendor, true)))
	b.WriteString("flac picture\n" + hex.Dump(flacPicture(&tags)))
	b.WriteString("mp4 ilst\n" + hex.Dump(ilst(&tags)))
	testkit.Golden(t, "testdata/tags.golden", b.Bytes())
}
