package tags

import (
	"bytes"
	"io"
	"testing"
)

// countingReader counts the ReadAt calls and bytes asked of it.
type countingReader struct {
	r            io.ReaderAt
	calls, bytes int
	maxOff       int64 // the furthest byte read
}

func (c *countingReader) ReadAt(p []byte, off int64) (int, error) {
	c.calls++
	n, err := c.r.ReadAt(p, off)
	c.bytes += n
	c.maxOff = max(c.maxOff, off+int64(n))
	return n, err
}

// TestReadsTagRegionOnly checks that Read skips audio data and big
// pictures, and reads its tag region in a few calls.
func TestReadsTagRegionOnly(t *testing.T) {
	audio := make([]byte, 8<<20)
	bigPic := append(append([]byte(nil), jpegData...), make([]byte, 2<<20)...)
	tests := []struct {
		name, container string
		file            []byte
		maxBytes        int
		maxCalls        int
	}{
		{"mp3 with a 2 MiB cover before the title", "mp3",
			cat(id3(3, 0, frame(3, "APIC", apic("image/jpeg", 3, bigPic)), frame(3, "TIT2", latin1("After"))), audio), 3 * window, 4},
		{"m4a with moov after 8 MiB of mdat", "mp4",
			cat(box("ftyp", []byte("M4A ")), box("mdat", audio), box("moov", box("udta", box("meta", be32(0), box("ilst", box("covr", data(classJPEG, bigPic)), box("\xa9nam", str("After"))))))), 4 * window, 6},
		{"flac with a 2 MiB picture block", "flac",
			cat(flac(block(6, flacPictureBody(3, "image/jpeg", bigPic)), block(4, vorbisComment("TITLE=After"))), audio), 3 * window, 6},
		{"wav with id3 after 8 MiB of data", "wav",
			wav(riffChunk("pad ", audio), riffChunk("id3 ", id3(3, 0, frame(3, "TIT2", latin1("After"))))), 3 * window, 6},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cr := &countingReader{r: bytes.NewReader(tc.file)}
			tg, err := Read(cr, int64(len(tc.file)), tc.container)
			if err != nil || tg.Title != "After" || !tg.HasPicture && tc.container != "wav" {
				t.Fatalf("Read = %+v, %v", tg, err)
			}
			if cr.bytes > tc.maxBytes || cr.calls > tc.maxCalls {
				t.Errorf("read %d bytes in %d calls; want at most %d in %d", cr.bytes, cr.calls, tc.maxBytes, tc.maxCalls)
			}
		})
	}
}
