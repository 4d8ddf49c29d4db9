package daap

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/daapd/daapd/library"
	"github.com/daapd/daapd/transcode"
)

// largeWAV writes a sparse 3 GiB PCM WAV (16-bit stereo 44.1 kHz, a 4-hour
// recording) with marker bytes at offset 2.5 GiB, or skips when the
// filesystem cannot hold a sparse file that size.
func largeWAV(t *testing.T, dir string) (path string, size, markAt int64, mark []byte) {
	t.Helper()
	const gib = int64(1) << 30
	size, markAt = 3*gib, 5*gib/2
	mark = []byte("daapd-large-file-marker")
	path = filepath.Join(dir, "long.wav")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(size); err != nil {
		t.Skipf("no sparse 3 GiB file here: %v", err)
	}
	h := make([]byte, 44)
	copy(h, "RIFF")
	binary.LittleEndian.PutUint32(h[4:], uint32(size-8))
	copy(h[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(h[16:], 16)
	binary.LittleEndian.PutUint16(h[20:], 1) // PCM
	binary.LittleEndian.PutUint16(h[22:], 2)
	binary.LittleEndian.PutUint32(h[24:], 44100)
	binary.LittleEndian.PutUint32(h[28:], 44100*4)
	binary.LittleEndian.PutUint16(h[32:], 4)
	binary.LittleEndian.PutUint16(h[34:], 16)
	copy(h[36:], "data")
	binary.LittleEndian.PutUint32(h[40:], uint32(size-44))
	if _, err := f.WriteAt(h, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(mark, markAt); err != nil {
		t.Fatal(err)
	}
	return path, size, markAt, mark
}

// TestLargeFile: a file over 2 GiB (and a transcode over 2 GiB) keeps its
// exact size and byte ranges, also on 32-bit builds (.ci/qemu.sh runs this
// under qemu-arm).
func TestLargeFile(t *testing.T) {
	root := t.TempDir()
	_, size, markAt, mark := largeWAV(t, root)
	res, err := (&library.Scanner{Roots: []string{root}, LibraryID: "large"}).Scan(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Tracks) != 1 {
		t.Fatalf("%d tracks, want 1", len(res.Tracks))
	}
	tr := res.Tracks[0]
	wantMS := uint32((size - 44) * 1000 / (44100 * 4))
	if tr.Size != size || tr.DurationMS < wantMS-1 || tr.DurationMS > wantMS+1 {
		t.Fatalf("size %d, %d ms; want %d, %d ms", tr.Size, tr.DurationMS, size, wantMS)
	}
	// A FLAC track as long as the WAV: Music.app gets a 2.8 GiB transcode.
	flac := *tr
	flac.ID, flac.Path, flac.Format, flac.Codec, flac.Size = tr.ID+1, "long.flac", "flac", "flac", 1<<30
	if err := os.WriteFile(filepath.Join(root, "long.flac"), []byte("fLaC"), 0o644); err != nil {
		t.Fatal(err)
	}
	cat := library.NewCatalog()
	cat.Publish([]*library.Track{tr, &flac}, nil)
	srv := New(Config{Name: "large", Version: "test", Catalog: cat, Log: slog.New(slog.DiscardHandler), FFmpeg: fakeFFmpeg(t)})
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() { srv.Close(); hs.Close() })
	env := &testEnv{srv: srv, http: hs, cat: cat, root: root}

	sizes := map[uint64]uint64{}
	_, body := env.get(t, "/databases/1/items?meta=dmap.itemid,daap.songsize", "User-Agent", uaMusic)
	for _, it := range listing(t, body, "adbs") {
		sizes[it["miid"].Uint()] = it["assz"].Uint()
	}
	wavLen := transcode.Size(transcode.Frames(flac.DurationMS))
	if sizes[uint64(tr.ID)] != uint64(size) || sizes[uint64(flac.ID)] != uint64(wavLen) || wavLen <= 1<<31 {
		t.Errorf("listed sizes %v, want %d and %d (> 2 GiB)", sizes, size, wavLen)
	}

	u := fmt.Sprintf("/databases/1/items/%d.wav", tr.ID)
	for _, rg := range []struct {
		from, to int64
		status   int
	}{
		{markAt, markAt + int64(len(mark)) - 1, 206},
		{1<<31 - 2, 1<<31 + 1, 206}, // across 2 GiB
		{size - 4, size - 1, 206},   // the last bytes, past 2 GiB
		{size, size + 10, 416},
	} {
		res, got := env.get(t, u, "User-Agent", uaRB, "Range", fmt.Sprintf("bytes=%d-%d", rg.from, rg.to))
		if res.StatusCode != rg.status {
			t.Errorf("range %d-%d: %d, want %d", rg.from, rg.to, res.StatusCode, rg.status)
			continue
		}
		if rg.status != 206 {
			continue
		}
		if want := fmt.Sprintf("bytes %d-%d/%d", rg.from, rg.to, size); res.Header.Get("Content-Range") != want {
			t.Errorf("Content-Range %q, want %q", res.Header.Get("Content-Range"), want)
		}
		if int64(len(got)) != rg.to-rg.from+1 || (rg.from == markAt && !bytes.Equal(got, mark)) {
			t.Errorf("range %d-%d: got %q", rg.from, rg.to, got)
		}
	}
	res2, _ := env.get(t, u, "User-Agent", uaRB, "Range", "bytes=0-0")
	if got := res2.Header.Get("Content-Range"); got != fmt.Sprintf("bytes 0-0/%d", size) {
		t.Errorf("Content-Range %q", got)
	}

	// The transcode's size and a range past its end: no ffmpeg runs.
	tu := fmt.Sprintf("/databases/1/items/%d.wav", flac.ID)
	res3, _ := env.get(t, tu, "User-Agent", uaMusic, "Range", fmt.Sprintf("bytes=%d-", wavLen))
	if res3.StatusCode != 416 || res3.Header.Get("Content-Range") != fmt.Sprintf("bytes */%d", wavLen) {
		t.Errorf("transcode past its end: %d %q, want 416 bytes */%d", res3.StatusCode, res3.Header.Get("Content-Range"), wavLen)
	}
}
