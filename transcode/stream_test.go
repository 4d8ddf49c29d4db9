package transcode

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestStartFromByte decodes a generated 5.1 FLAC whole and from odd byte
// offsets: each part equals the same bytes of the whole (downmixed to
// stereo, resampled to 44.1 kHz) once the resampler has settled, and a file shorter than its stated
// length is padded with silence to the size asked for.
func TestStartFromByte(t *testing.T) {
	ffmpeg, err := exec.LookPath("ffmpeg")
	if err != nil {
		t.Skip("ffmpeg not in PATH (apt-get install ffmpeg)")
	}
	path := filepath.Join(t.TempDir(), "six.flac")
	gen := exec.Command(ffmpeg, "-v", "error", "-f", "lavfi", "-i", "sine=frequency=440:duration=2:sample_rate=48000",
		"-af", "pan=5.1|c0=c0|c1=c0|c2=c0|c3=c0|c4=c0|c5=c0", "-c:a", "flac", path)
	if out, err := gen.CombinedOutput(); err != nil {
		t.Fatalf("generate: %v\n%s", err, out)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	read := func(from, n int64) []byte {
		t.Helper()
		st, err := Start(context.Background(), ffmpeg, f, from, n)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Stop()
		if err := st.Started(); err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := st.CopyTo(&b); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	frames := Frames(2000)
	whole := read(0, frames*FrameBytes)
	if int64(len(whole)) != frames*FrameBytes {
		t.Fatalf("%d bytes, want %d", len(whole), frames*FrameBytes)
	}
	if bytes.Count(whole, []byte{0}) > len(whole)/2 {
		t.Fatal("the transcode is mostly silence")
	}
	for _, from := range []int64{1, 7055, 88200*2 + 3, int64(len(whole)) - 5} {
		part := read(from, int64(len(whole))-from)
		// After a seek the resampler starts afresh: its first output
		// frames may differ slightly; the rest must match exactly.
		settle := min(int64(len(part)), 1024)
		if int64(len(part)) != int64(len(whole))-from || !bytes.Equal(part[settle:], whole[from+settle:]) {
			t.Errorf("from byte %d: %d bytes differ from the whole transcode's", from, len(part))
		}
	}
	// Asked for 3 s of a 2 s file: 1 s of silence after the audio.
	long := read(0, Frames(3000)*FrameBytes)
	if int64(len(long)) != Frames(3000)*FrameBytes || !bytes.Equal(long[:len(whole)-4096], whole[:len(whole)-4096]) {
		t.Errorf("padded transcode: %d bytes", len(long))
	}
	if tail := long[len(whole)+4096:]; bytes.Count(tail, []byte{0}) != len(tail) {
		t.Error("the padding is not silence")
	}
}
