package transcode

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"
)

// stderrTail is how many bytes of ffmpeg's stderr are kept for errors.
const stderrTail = 2 << 10

// Stream is one running ffmpeg decoding a file to the PCM of its WAV
// stream (the bytes after the header).
type Stream struct {
	cmd    *exec.Cmd
	out    *bufio.Reader // ffmpeg's stdout
	stderr *tailBuffer
	cancel context.CancelFunc
	skip   int64
	n      int64
	waited bool
	err    error
}

// args is the command line decoding path's first audio stream to raw
// 16-bit stereo 44.1 kHz PCM from frame first, count frames long. Seeking
// is input seeking to a multiple of seekStep (accurate: ffmpeg decodes from
// the preceding key frame and drops what comes before), then atrim drops
// the rest up to the exact frame.
func args(path string, first, count int64) []string {
	a := []string{"-nostdin", "-hide_banner", "-v", "error"}
	base := first - first%seekStep
	if base > 0 {
		cs := base / seekStep * 4 // centiseconds: seekStep is 40 ms
		a = append(a, "-ss", fmt.Sprintf("%d.%02d", cs/100, cs%100))
	}
	skip := first - base
	return append(a, "-i", "file:"+path,
		"-map", "0:a:0", "-map_metadata", "-1", "-vn", "-sn", "-dn",
		"-af", fmt.Sprintf("aresample=%d,atrim=start_sample=%d:end_sample=%d", Rate, skip, skip+count),
		"-f", "s16le", "-acodec", "pcm_s16le", "-ac", strconv.Itoa(Channels), "-ar", strconv.Itoa(Rate), "-")
}

// devFD reports whether /dev/fd/N opens a process's own descriptors
// (Linux, the BSDs, macOS).
var devFD = sync.OnceValue(func() bool {
	fi, err := os.Stat("/dev/fd")
	return err == nil && fi.IsDir()
})

// Start runs ffmpeg (the binary at ffmpeg) to produce n bytes of the PCM of
// f from byte offset from, both counted after the WAV header. f is a
// regular file the caller opened and checked: ffmpeg reads it as its
// descriptor 3 (by name only where /dev/fd is missing), never by a path
// that may have become a FIFO since. ffmpeg is killed when ctx ends; Stop
// must be called in any case, and f stays the caller's to close.
func Start(ctx context.Context, ffmpeg string, f *os.File, from, n int64) (*Stream, error) {
	first, skip := from/FrameBytes, from%FrameBytes
	count := (skip + n + FrameBytes - 1) / FrameBytes
	ctx, cancel := context.WithCancel(ctx)
	input := f.Name()
	if devFD() {
		input = "/dev/fd/3"
	}
	cmd := exec.CommandContext(ctx, ffmpeg, args(input, first, count)...)
	cmd.ExtraFiles = []*os.File{f}
	cmd.WaitDelay = 5 * time.Second
	st := &Stream{cmd: cmd, stderr: &tailBuffer{max: stderrTail}, cancel: cancel, skip: skip, n: n}
	cmd.Stderr = st.stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		cancel()
		return nil, err
	}
	st.out = bufio.NewReaderSize(out, 64<<10)
	if err := cmd.Start(); err != nil {
		cancel()
		return nil, fmt.Errorf("start %s: %w", ffmpeg, err)
	}
	return st, nil
}

// Started waits until ffmpeg has written its first byte or ended. An
// ffmpeg that ends without output and fails (it cannot open or decode the
// file) returns its error; one that ends cleanly (a seek past the end of a
// file shorter than its stated duration) does not.
func (st *Stream) Started() error {
	if _, err := st.out.Peek(1); err != nil {
		if werr := st.wait(); werr != nil {
			return st.failed(werr)
		}
	}
	return nil
}

// CopyTo writes the stream's n bytes to w. If ffmpeg ends early but
// cleanly (the file is a little shorter than its stated duration), the
// rest is silence; if it fails, the error says why. A failing w (the
// client went away) ends the copy without an error.
func (st *Stream) CopyTo(w io.Writer) error {
	if st.skip > 0 {
		if _, err := io.CopyN(io.Discard, st.out, st.skip); err != nil {
			return st.failed(err)
		}
	}
	buf := make([]byte, 64<<10)
	left := st.n
	for left > 0 {
		k, rerr := st.out.Read(buf[:min(int64(len(buf)), left)])
		if k > 0 {
			if _, err := w.Write(buf[:k]); err != nil {
				return nil
			}
			left -= int64(k)
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return st.failed(rerr)
		}
	}
	if left == 0 {
		return nil
	}
	if err := st.wait(); err != nil {
		return st.failed(err)
	}
	clear(buf)
	for left > 0 {
		k := min(int64(len(buf)), left)
		if _, err := w.Write(buf[:k]); err != nil {
			return nil
		}
		left -= k
	}
	return nil
}

// failed describes a failed transcode with what ffmpeg said.
func (st *Stream) failed(err error) error {
	if werr := st.wait(); werr != nil {
		err = werr
	}
	if msg := strings.TrimSpace(st.stderr.String()); msg != "" {
		return fmt.Errorf("ffmpeg: %w: %s", err, msg)
	}
	return fmt.Errorf("ffmpeg: %w", err)
}

// wait reaps ffmpeg once and returns its exit error.
func (st *Stream) wait() error {
	if !st.waited {
		st.waited = true
		st.err = st.cmd.Wait()
	}
	return st.err
}

// Stop kills ffmpeg if it still runs and reaps it: no zombies.
func (st *Stream) Stop() {
	st.cancel()
	st.wait()
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf bytes.Buffer
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Write(p)
	if extra := b.buf.Len() - b.max; extra > 0 {
		b.buf.Next(extra)
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
