// Command genlib writes a synthetic, deterministic music library for scale
// tests and benchmarks: albums of 8–14 tracks in Artist/Album/ folders, a
// realistic mix of formats (55% MP3, 20% FLAC, 15% AAC, 4% ALAC, 4% Vorbis,
// 2% Opus), compilations, multi-disc albums, embedded and folder covers,
// Unicode names and five .m3u playlists.
//
// ffmpeg encodes one short tone per format and length once; every file is
// then that audio with freshly built tags (ID3v2.4, Vorbis comments in FLAC
// and Ogg, MP4 ilst), written by this program, so 100,000 files take a
// minute or two and about 1 GB.
//
// Usage:
//
//	go run ./tools/genlib -n 100000 -out /tmp/lib100k [-seed 1] [-force] [-templates DIR] [-j N]
//
// The same -n and -seed give the same tree, names and tags (audio bytes
// depend only on the local ffmpeg). OUT/.genlib.json records the plan.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"
)

// manifestName is the plan written into the library (hidden from scanners).
const manifestName = ".genlib.json"

const (
	numCovers     = 16
	numJPEGCovers = 12 // covers 12–15 are PNG
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "genlib:", err)
		}
		os.Exit(2)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("genlib", flag.ContinueOnError)
	fs.SetOutput(stderr)
	n := fs.Int("n", 1000, "number of tracks")
	out := fs.String("out", "", "library folder to create (required)")
	seed := fs.Uint64("seed", 1, "random seed: same seed and -n, same library")
	force := fs.Bool("force", false, "replace OUT if it holds an earlier genlib library")
	cache := fs.String("templates", "", "keep the ffmpeg-encoded templates in this folder and reuse them")
	jobs := fs.Int("j", runtime.GOMAXPROCS(0), "files written in parallel")
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case *out == "":
		return errors.New("-out is required")
	case *n < 1:
		return fmt.Errorf("-n must be at least 1, got %d", *n)
	case *jobs < 1:
		return fmt.Errorf("-j must be at least 1, got %d", *jobs)
	case fs.NArg() > 0:
		return fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	start := time.Now()
	if err := prepareOut(*out, *force); err != nil {
		return err
	}
	work := *cache
	if work == "" {
		tmp, err := os.MkdirTemp("", "genlib-templates-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		work = tmp
	} else if err := os.MkdirAll(work, 0o755); err != nil {
		return err
	}
	tmpl, err := encodeTemplates(ctx, work)
	if err != nil {
		return err
	}
	p := NewPlan(*n, *seed)
	size, err := write(ctx, *out, p, tmpl, *jobs)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "genlib: %s: %d tracks in %d albums (%d compilations) by %d artists, %s; %d folder covers, %d playlists; %.0f MB in %.1fs\n",
		*out, len(p.Tracks), p.Albums, p.Compilations, p.Artists, formatCounts(p),
		len(p.FolderCovers), len(p.Playlists), float64(size)/1e6, time.Since(start).Seconds())
	return nil
}

// prepareOut creates out, or with force empties an earlier genlib library
// there. It never deletes a folder genlib did not make.
func prepareOut(out string, force bool) error {
	entries, err := os.ReadDir(out)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return os.MkdirAll(out, 0o755)
	case err != nil:
		return err
	case len(entries) == 0:
		return nil
	case !force:
		return fmt.Errorf("%s exists and is not empty (use -force to replace an earlier genlib library)", out)
	}
	if _, err := os.Stat(filepath.Join(out, manifestName)); err != nil {
		return fmt.Errorf("%s has no %s: not a genlib library, refusing to delete it", out, manifestName)
	}
	if err := os.RemoveAll(out); err != nil {
		return err
	}
	return os.MkdirAll(out, 0o755)
}

func formatCounts(p *Plan) string {
	var parts []string
	for _, f := range Formats {
		parts = append(parts, fmt.Sprintf("%s %d", f.Key, p.FormatCounts[f.Key]))
	}
	return strings.Join(parts, ", ")
}

// write creates every folder and file of p under out and returns the bytes
// written. Files are written by jobs goroutines; their content depends only
// on the plan.
func write(ctx context.Context, out string, p *Plan, tmpl map[string]*template, jobs int) (int64, error) {
	covers := make([][]byte, numCovers)
	for i := range covers {
		covers[i] = cover(i, coverMIME(i))
	}
	dirs := map[string]bool{"Playlists": true}
	for _, t := range p.Tracks {
		dirs[path.Dir(t.Path)] = true
	}
	for d := range dirs {
		if err := os.MkdirAll(filepath.Join(out, filepath.FromSlash(d)), 0o755); err != nil {
			return 0, err
		}
	}

	var (
		mu    sync.Mutex
		first error
		total int64
		wg    sync.WaitGroup
	)
	idx := make(chan int)
	for range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var n int64
			for i := range idx {
				t := &p.Tracks[i]
				tags := t.Tags
				if t.cover >= 0 {
					tags.Cover, tags.CoverMIME = covers[t.cover], coverMIME(t.cover)
				}
				b := tmpl[templateKey(t.Format, t.Seconds)].write(&tags)
				if err := os.WriteFile(filepath.Join(out, filepath.FromSlash(t.Path)), b, 0o644); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
					continue
				}
				n += int64(len(b))
			}
			mu.Lock()
			total += n
			mu.Unlock()
		}()
	}
feed:
	for i := range p.Tracks {
		select {
		case idx <- i:
		case <-ctx.Done():
			break feed
		}
		if i%1024 == 0 {
			mu.Lock()
			stop := first != nil
			mu.Unlock()
			if stop {
				break
			}
		}
	}
	close(idx)
	wg.Wait()
	if first != nil {
		return total, first
	}
	if err := ctx.Err(); err != nil {
		return total, err
	}

	for _, cp := range p.FolderCovers {
		b := covers[p.folderCover[cp]]
		if err := os.WriteFile(filepath.Join(out, filepath.FromSlash(cp)), b, 0o644); err != nil {
			return total, err
		}
		total += int64(len(b))
	}
	byPath := make(map[string]*Track, len(p.Tracks))
	for i := range p.Tracks {
		byPath[p.Tracks[i].Path] = &p.Tracks[i]
	}
	for _, pl := range p.Playlists {
		b := m3u(pl, byPath)
		if err := os.WriteFile(filepath.Join(out, filepath.FromSlash(pl.Path)), b, 0o644); err != nil {
			return total, err
		}
		total += int64(len(b))
	}
	b, err := json.Marshal(p)
	if err != nil {
		return total, err
	}
	return total, os.WriteFile(filepath.Join(out, manifestName), append(b, '\n'), 0o644)
}

func coverMIME(i int) string {
	if i >= numJPEGCovers {
		return "image/png"
	}
	return "image/jpeg"
}

// m3u renders an extended M3U whose entries are relative to the playlist.
func m3u(pl Playlist, byPath map[string]*Track) []byte {
	var b strings.Builder
	b.WriteString("#EXTM3U\n")
	up := strings.Repeat("../", strings.Count(pl.Path, "/"))
	for _, e := range pl.Entries {
		t := byPath[e]
		fmt.Fprintf(&b, "#EXTINF:%d,%s - %s\n%s%s\n", t.Seconds, t.Artist, t.Title, up, e)
	}
	return []byte(b.String())
}
