package probe

import (
	"bytes"
	"io"
	"os"
	"slices"
	"testing"
)

// realSeeds are small real files added to the fuzz seed corpus when present.
var realSeeds = []string{
	"corpus/xing.mp3", "corpus/mpeg2.mp3", "corpus/rare_frames.mp3", "corpus/garbage.mp3",
	"corpus/64bit.mp4", "corpus/no-tags.3g2", "corpus/zero-length-mdat.m4a", "corpus/opus.m4a",
	"corpus/multiplex.ogg", "corpus/empty_flac.oga", "corpus/correctness_gain_silent_output.opus",
	"corpus/no-tags.flac", "corpus/rf64.wav", "corpus/alaw.aifc", "corpus/empty10ms.dsf", "corpus/empty10ms.dff",
	"corpus/mac-399.ape", "corpus/mac-390-hdr.ape", "corpus/click.wv", "corpus/dsd_stereo.wv", "corpus/no_length.wv",
	"corpus/click.mpc", "corpus/sv8_header.mpc", "corpus/empty.tta", "corpus/silence-1.wma", "corpus/lossless.wma",
	"corpus/no-tags.mka", "corpus/tags-before-cues.mkv",
	"fixtures/Mu Collective/Every Format/01 Windows Media.wma", "fixtures/Mu Collective/Every Format/02 Wave Pack.wv",
	"fixtures/Mu Collective/Every Format/03 True Audio.tta", "fixtures/Mu Collective/Every Format/04 Dolby Digital.ac3",
	"fixtures/Mu Collective/Every Format/05 Dolby Plus.eac3", "fixtures/Mu Collective/Every Format/09 Matroska.mka",
}

func addSeeds(f *testing.F) {
	for _, tc := range probeCases {
		f.Add(tc.data)
	}
	for _, tc := range blockCases {
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

// FuzzBlocks checks the tag blocks Read's walk reports: no panic, at most
// maxTagBlocks, only kinds the container has, and every block inside the
// file (a FLAC block may declare more than the file has: the tag reader
// rejects it).
func FuzzBlocks(f *testing.F) {
	addSeeds(f)
	kinds := map[string][]BlockKind{
		"mp4": {BlockIlst}, "flac": {BlockID3v2, BlockFLAC}, "ogg": {BlockOgg},
		"wav": {BlockID3v2, BlockInfo}, "aiff": {BlockID3v2, BlockText}, "dsf": {BlockID3v2}, "dff": {BlockID3v2}, "asf": {BlockASF},
		"matroska": {BlockMKVTag, BlockAttachment}, "webm": {BlockMKVTag, BlockAttachment},
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		size := int64(len(data))
		info, blocks, _ := Read(bytes.NewReader(data), size, nil)
		if len(blocks) > maxTagBlocks {
			t.Errorf("%d blocks", len(blocks))
		}
		for _, b := range blocks {
			if !slices.Contains(kinds[info.Container], b.Kind) {
				t.Errorf("block %+v in a %q file", b, info.Container)
			}
			if b.Offset < 0 || b.Offset > size || b.Size < 0 || (b.Kind != BlockFLAC && b.Offset+b.Size > size) {
				t.Errorf("block %+v outside a %d-byte file", b, size)
			}
		}
	})
}

// FuzzOggPackets reads the header packets of the stream Read found, as the
// tag reader does: no panic, no hang, and no packet longer than the file.
func FuzzOggPackets(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		size := int64(len(data))
		_, blocks, _ := Read(bytes.NewReader(data), size, nil)
		for _, b := range blocks {
			if b.Kind != BlockOgg {
				continue
			}
			p := NewOggPackets(bytes.NewReader(data), size, b.Offset, b.Serial)
			for range 8 {
				if p.Next() != nil {
					break
				}
				n, err := io.Copy(io.Discard, p)
				if n > size {
					t.Errorf("a %d-byte packet in a %d-byte file", n, size)
				}
				if err != nil {
					break
				}
			}
			p.Close()
		}
	})
}
