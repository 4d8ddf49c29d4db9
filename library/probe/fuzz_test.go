package probe

import (
	"bytes"
	"os"
	"testing"
)

// realSeeds are small real files added to the fuzz seed corpus when present.
var realSeeds = []string{
	"corpus/xing.mp3", "corpus/mpeg2.mp3", "corpus/rare_frames.mp3", "corpus/garbage.mp3",
	"corpus/64bit.mp4", "corpus/no-tags.3g2", "corpus/zero-length-mdat.m4a", "corpus/opus.m4a",
	"corpus/multiplex.ogg", "corpus/empty_flac.oga", "corpus/correctness_gain_silent_output.opus",
	"corpus/no-tags.flac", "corpus/rf64.wav", "corpus/alaw.aifc", "corpus/empty10ms.dsf", "corpus/empty10ms.dff",
}

func addSeeds(f *testing.F) {
	for _, tc := range probeCases {
		f.Add(tc.data)
	}
	for _, tc := range chunkCases {
		f.Add(tc.data)
	}
	roots := sources(f)
	for _, p := range realSeeds {
		if path, ok := resolve(roots, p); ok {
			if b, err := os.ReadFile(path); err == nil {
				f.Add(b)
			}
		}
	}
}

// FuzzProbe checks that any input returns without panicking, that a file
// no bigger than the read-ahead window costs one ReadAt, and that answers
// do not depend on recycled buffers.
func FuzzProbe(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		rd := newReader(bytes.NewReader(data), int64(len(data)))
		info, err := probe(rd)
		if err == nil && info.Container == "" {
			t.Errorf("success without a container: %+v", info)
		}
		if len(data) <= window && rd.calls > 1 {
			t.Errorf("%d ReadAt calls for a %d-byte file", rd.calls, len(data))
		}
		// Through the public entry point, with recycled buffers, the
		// answer is the same.
		again, err2 := Probe(bytes.NewReader(data), int64(len(data)))
		if again != info || (err == nil) != (err2 == nil) {
			t.Errorf("Probe = %+v, %v; probe = %+v, %v", again, err2, info, err)
		}
	})
}

// FuzzChunks checks the tag-location helpers: no panic, and every chunk
// lies inside the file.
func FuzzChunks(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		size := int64(len(data))
		chunks, _ := Chunks(bytes.NewReader(data), size)
		for _, c := range chunks {
			if c.Offset < 0 || c.Size < 0 || c.Offset+c.Size > size {
				t.Errorf("chunk %+v outside a %d-byte file", c, size)
			}
		}
		blocks, _ := FLACBlocks(bytes.NewReader(data), size)
		for _, b := range blocks {
			if b.Offset < 0 || b.Offset > size || b.Size < 0 {
				t.Errorf("block %+v outside a %d-byte file", b, size)
			}
		}
	})
}
