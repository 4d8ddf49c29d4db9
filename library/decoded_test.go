package library

import (
	"bufio"
	"bytes"
	"context"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	fixtures "github.com/daapd/daapd/music-fixtures"
)

// decodedMismatch lists files a full decode disagrees with for a reason
// that is not the scanner's to fix.
var decodedMismatch = map[string]string{
	"taglib/garbage.mp3":                        "junk after a few frames; ffmpeg stops decoding at the first bad frame, the scanner's CBR estimate counts the whole file",
	"taglib/empty-seektable.flac":               "truncated FLAC: STREAMINFO states 217 s, 0.28 s are left; FLAC has no cheap check of the stated length",
	"taglib/lossless.wma":                       "ffmpeg's WMA Lossless decoder gives 0.56 s more than the stated play duration (ffprobe agrees with the scanner); the transcode is cut to the stated length",
	"Omega Archive/Old Tags/02 Version One.mp3": "MPEG-2 Layer III at 22.05 kHz: ffmpeg trims the encoder delay and padding the LAME header states (63 ms at this rate); the MP3 reader counts whole frames",
}

// TestDurationsAgreeWithDecode scans music-fixtures and the shared corpus
// the way the daemon does (ffprobe fallback included) and checks, for every
// file ffmpeg decodes, that it became a track whose length is within 1% or
// 50 ms of the decoded audio, and that no file ffmpeg cannot decode did.
func TestDurationsAgreeWithDecode(t *testing.T) {
	ffmpeg, err := exec.LookPath("ffmpeg")
	if err != nil {
		t.Skip("ffmpeg not in PATH: this sweep compares with decoded audio (apt-get install ffmpeg)")
	}
	roots := []string{fixtures.Dir()}
	if dir := os.Getenv("DAAPD_CORPUS"); dir != "" {
		roots = append(roots, dir)
	} else if _, err := os.Stat(filepath.Join("..", "..", "shared", "corpus")); err == nil {
		roots = append(roots, filepath.Join("..", "..", "shared", "corpus"))
	}
	for _, root := range roots {
		root, _ := filepath.Abs(root)
		t.Run(filepath.Base(root), func(t *testing.T) {
			s := &Scanner{Roots: []string{root}, LibraryID: "0123456789abcdef", FileTimeout: time.Minute}
			res, err := s.Scan(context.Background(), nil)
			if err != nil {
				t.Fatal(err)
			}
			byPath := map[string]*Track{}
			for _, tr := range res.Tracks {
				byPath[tr.Path] = tr
			}
			var files []string
			filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
				if err == nil && d.IsDir() && strings.HasPrefix(d.Name(), ".") && p != root {
					return filepath.SkipDir
				}
				if err == nil && d.Type().IsRegular() && !strings.HasPrefix(d.Name(), ".") && audioExts[ext(d.Name())] {
					rel, _ := filepath.Rel(root, p)
					files = append(files, filepath.ToSlash(rel))
				}
				return nil
			})
			decoded := decodeAll(t, ffmpeg, root, files)
			checked := 0
			for _, rel := range files {
				ms, ok := decoded[rel]
				if !ok || ms == 0 {
					// ffmpeg decodes nothing: not a playable file, and so
					// not a track.
					if tr := byPath[rel]; tr != nil {
						t.Errorf("%s: ffmpeg decodes nothing, but the scan made it a track (%s, %d ms)", rel, tr.Codec, tr.DurationMS)
					}
					continue
				}
				checked++
				tr := byPath[rel]
				if tr == nil {
					t.Errorf("%s: ffmpeg decodes %d ms, but the scan has no track", rel, ms)
					continue
				}
				tol := max(ms/100, 50)
				if d := int64(tr.DurationMS) - ms; d < -tol || d > tol {
					if why, ok := decodedMismatch[rel]; ok {
						t.Logf("%s: %d ms, decoded %d ms (known: %s)", rel, tr.DurationMS, ms, why)
						continue
					}
					t.Errorf("%s (%s): %d ms, decoded %d ms ± %d", rel, tr.Codec, tr.DurationMS, ms, tol)
				}
			}
			t.Logf("%d decodable files of %d checked against a full decode", checked, len(files))
		})
	}
}

// decodeAll decodes each file's first audio stream with ffmpeg, two at a
// time, and returns the decoded lengths in ms (0: nothing decoded).
func decodeAll(t *testing.T, ffmpeg, root string, files []string) map[string]int64 {
	out := make(map[string]int64, len(files))
	var mu sync.Mutex
	sem := make(chan struct{}, 2)
	var wg sync.WaitGroup
	for _, rel := range files {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, ffmpeg, "-nostdin", "-v", "error", "-i", "file:"+filepath.Join(root, rel),
				"-map", "0:a:0", "-vn", "-f", "null", "-progress", "pipe:1", "-")
			b, _ := cmd.Output()
			var us int64
			sc := bufio.NewScanner(bytes.NewReader(b))
			for sc.Scan() {
				if v, ok := strings.CutPrefix(sc.Text(), "out_time_us="); ok {
					us, _ = strconv.ParseInt(v, 10, 64)
				}
			}
			mu.Lock()
			out[rel] = max(us, 0) / 1000
			mu.Unlock()
		}()
	}
	wg.Wait()
	return out
}
