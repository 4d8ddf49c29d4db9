package library

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/daapd/daapd/internal/testkit"
	fixtures "github.com/daapd/daapd/music-fixtures"
)

// TestScanFixtures scans music-fixtures/ with the real probe and tags
// readers and compares every track and playlist with expected.json.
func TestScanFixtures(t *testing.T) {
	exp, err := fixtures.Load()
	if err != nil {
		t.Skipf("music-fixtures: %v", err)
	}
	var logs testkit.SyncBuffer
	s := &Scanner{Roots: []string{fixtures.Dir()}, LibraryID: "0123456789abcdef",
		Log: slog.New(slog.NewTextHandler(&logs, nil))}
	res, err := s.Scan(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, e := range exp.Tracks {
		want = append(want, e.Path)
	}
	slices.Sort(want)
	if got := paths(res.Tracks); !slices.Equal(got, want) {
		t.Fatalf("tracks:\n got %q\nwant %q\nlog:\n%s", got, want, logs.String())
	}
	if res.Stats.Skipped != 0 {
		t.Errorf("%d files skipped:\n%s", res.Stats.Skipped, logs.String())
	}
	for _, tr := range res.Tracks {
		e, _ := exp.Track(tr.Path)
		t.Run(tr.Path, func(t *testing.T) {
			title := e.Title
			if title == "" {
				base := path.Base(e.Path)
				title = strings.TrimSuffix(base, path.Ext(base))
			}
			check := func(field string, got, want any) {
				if got != want {
					t.Errorf("%s: got %v, want %v", field, got, want)
				}
			}
			check("title", tr.Title, title)
			check("artist", tr.Artist, e.Artist)
			check("album", tr.Album, e.Album)
			check("genre", tr.Genre, e.Genre)
			check("media kind", tr.Kind().String(), e.MediaKind)
			check("composer", tr.Composer(), e.Composer)
			check("year", int(tr.Year), e.Year)
			check("track", int(tr.TrackNumber), e.Track)
			check("track total", int(tr.TrackCount), e.TrackTotal)
			check("disc", int(tr.DiscNumber), e.Disc)
			check("disc total", int(tr.DiscCount), e.DiscTotal)
			check("compilation", tr.Compilation, e.Compilation)
			check("codec", tr.Codec, e.Codec)
			check("format", tr.Format, e.Format)
			check("sample rate", int(tr.SampleRate), e.SampleRate)
			check("channels", int(tr.Channels), e.Channels)
			check("size", tr.Size, e.Size)
			// RIFF INFO has no album artist; expected.json then repeats
			// the artist, which the catalog falls back to anyway.
			if e.AlbumArtist != "" && !(tr.AlbumArtist == "" && e.AlbumArtist == e.Artist) {
				check("album artist", tr.AlbumArtist, e.AlbumArtist)
			}
			for _, f := range []struct{ name, got, want string }{
				{"sort artist", tr.SortArtist(), e.SortArtist},
				{"sort album artist", tr.SortAlbumArtist(), e.SortAlbumArtist},
				{"sort album", tr.SortAlbum(), e.SortAlbum},
			} {
				if f.want != "" {
					check(f.name, f.got, f.want)
				}
			}
			if d := int(tr.DurationMS) - e.DurationMS; max(d, -d) > max(60, e.DurationMS/100) {
				t.Errorf("duration %d ms, ffprobe says %d ms", tr.DurationMS, e.DurationMS)
			}
			art := map[ArtworkSource]string{ArtworkNone: "none", ArtworkEmbedded: "embedded", ArtworkFile: "file"}[tr.Art().Source]
			check("artwork", art, e.Artwork)
			check("artwork path", tr.Art().Path, e.ArtworkPath)
			if tr.ID < minItemID || tr.PersistentID == 0 || (tr.Album != "" && tr.AlbumID == 0) {
				t.Errorf("ids %d %d %d", tr.ID, tr.PersistentID, tr.AlbumID)
			}
		})
	}
	pathOf := map[uint32]string{}
	for _, tr := range res.Tracks {
		pathOf[tr.ID] = tr.Path
	}
	got := map[string]string{}
	for _, p := range EvalPlaylists(s.LibraryID, res.Tracks, res.Playlists, SmartConfig{}, time.Now()) {
		if p.Root == "" {
			continue // built-in; see TestBuiltinPlaylistsFixtures
		}
		var items []string
		for _, id := range p.Items {
			items = append(items, pathOf[id])
		}
		got[p.Path] = fmt.Sprintf("%s: %q", p.Name, items)
	}
	wantPl := map[string]string{}
	for _, p := range exp.Playlists {
		var items []string
		for _, r := range p.Resolves {
			if r != nil {
				items = append(items, *r)
			}
		}
		wantPl[p.Path] = fmt.Sprintf("%s: %q", p.Name, items)
	}
	for p, w := range wantPl {
		if got[p] != w {
			t.Errorf("playlist %s:\n got %s\nwant %s", p, got[p], w)
		}
	}
	if len(got) != len(wantPl) {
		t.Errorf("%d playlists, want %d", len(got), len(wantPl))
	}
}

// corpusDir is the shared corpus of odd real-world files.
func corpusDir(t testing.TB) string {
	dir := os.Getenv("DAAPD_CORPUS")
	if dir == "" {
		dir = filepath.Join("..", "..", "shared", "corpus")
	}
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("no corpus (set DAAPD_CORPUS): %v", err)
	}
	return dir
}

// TestScanCorpus sweeps every corpus file: no panic, no hang, and each file
// either becomes a track or is skipped or ignored with a logged reason.
func TestScanCorpus(t *testing.T) {
	dir := corpusDir(t)
	var logs testkit.SyncBuffer
	s := &Scanner{Roots: []string{dir}, LibraryID: "0123456789abcdef", FileTimeout: 20 * time.Second,
		Log: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	res, err := s.Scan(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	abs, _ := filepath.Abs(dir)
	tracks := map[string]bool{}
	for _, tr := range res.Tracks {
		tracks[tr.Path] = true
	}
	var files []string
	filepath.WalkDir(abs, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() && !strings.HasPrefix(d.Name(), ".") {
			rel, _ := filepath.Rel(abs, p)
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	log := logs.String()
	for _, f := range files {
		if tracks[f] || playlistExts[ext(f)] {
			continue
		}
		if !strings.Contains(log, filepath.Join(abs, f)) {
			t.Errorf("%s: neither a track nor logged", f)
		}
	}
	if res.Stats.Files+res.Stats.Ignored != len(files) {
		t.Errorf("files %d + ignored %d != %d files on disk", res.Stats.Files, res.Stats.Ignored, len(files))
	}
	for line := range strings.Lines(log) {
		if strings.Contains(line, "panic") {
			t.Logf("recovered: %s", line)
		}
	}
	t.Logf("%d files: %d tracks, %d skipped, %d ignored", len(files), len(res.Tracks), res.Stats.Skipped, res.Stats.Ignored)
	if testing.Verbose() {
		var b bytes.Buffer
		for line := range strings.Lines(log) {
			if strings.Contains(line, "level=WARN") {
				b.WriteString(line)
			}
		}
		t.Log("\n" + b.String())
	}
}

// undecodableCorpus lists the corpus files from which ffmpeg decodes no
// audio although their headers parse (ffmpeg -v error -i F -f null -), with
// what the scanner's reason must say. TestDurationsAgreeWithDecode checks,
// with ffmpeg, that these and only these are left out.
var undecodableCorpus = map[string]string{
	"taglib/four_channels.wv":     "4 channels, but a speaker mask (0x4) for 1",
	"taglib/ilst-is-last.m4a":     "no media data (mdat) box",
	"taglib/infloop.m4a":          "no media data (mdat) box",
	"taglib/itunes10.mp3":         "2 frames, all encoder delay and padding",
	"taglib/lowercase-fields.ogg": "a header page fails its checksum",
	"taglib/mac-390-hdr.ape":      "the first frame ends past the end of the file",
	"taglib/zerodiv.ape":          "file version 150",
	"taglib/zerodiv.mpc":          "sample rate index 4",
}

// TestScanUndecodable checks that the scan, by its header checks alone
// (ffprobe off, so no decoder runs), skips exactly the corpus files no
// decoder can play, each as undecodable with its reason.
func TestScanUndecodable(t *testing.T) {
	dir := corpusDir(t)
	s := &Scanner{Roots: []string{dir}, LibraryID: "0123456789abcdef", FileTimeout: 20 * time.Second, FFprobe: "off"}
	res, err := s.Scan(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, sk := range res.Skips {
		if sk.Kind == SkipUndecodable {
			got[sk.Path] = sk.Reason
		}
	}
	for _, tr := range res.Tracks {
		if why, ok := undecodableCorpus[tr.Path]; ok {
			t.Errorf("%s is a track (%s, %d ms), but no decoder plays it: %s", tr.Path, tr.Codec, tr.DurationMS, why)
		}
	}
	for path, want := range undecodableCorpus {
		if reason, ok := got[path]; !ok {
			t.Errorf("%s: not skipped as undecodable", path)
		} else if !strings.Contains(reason, want) {
			t.Errorf("%s: reason %q, want it to say %q", path, reason, want)
		}
	}
	for path, reason := range got {
		if _, ok := undecodableCorpus[path]; !ok {
			t.Errorf("%s skipped as undecodable (%s), but it is not in undecodableCorpus", path, reason)
		}
	}
	if n := res.Stats.SkippedBy["undecodable"]; n != len(undecodableCorpus) {
		t.Errorf("SkippedBy[undecodable] = %d, want %d", n, len(undecodableCorpus))
	}
}
