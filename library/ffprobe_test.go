package library

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/daapd/daapd/library/probe"
	"github.com/daapd/daapd/library/tags"
	"github.com/google/go-cmp/cmp"
)

// ffprobeWMA is ffprobe's answer for a tagged WMA with a cover (trimmed).
const ffprobeWMA = `{"streams":[{"codec_name":"wmav2","codec_type":"audio","sample_rate":"44100","channels":2,
"bit_rate":"128016","duration":"3.712000","tags":{"language":"eng"},"disposition":{"attached_pic":0}},
{"codec_name":"mjpeg","codec_type":"video","disposition":{"attached_pic":1}}],
"format":{"format_name":"asf","duration":"3.712000","bit_rate":"128016",
"tags":{"title":"Wake Up","artist":"Shoji Meguro","WM/AlbumArtist":"Various","album":"P5","track":"3/12",
"disc":"1/2","date":"2017-04-26","genre":"Game","IsVBR":"0"}}}`

func TestFromProbe(t *testing.T) {
	var pj probeJSON
	if err := json.Unmarshal([]byte(ffprobeWMA), &pj); err != nil {
		t.Fatal(err)
	}
	info, tg, err := fromProbe(&pj, 60000)
	if err != nil {
		t.Fatal(err)
	}
	wantInfo := probe.Info{Container: "asf", Codec: "wma", DurationMS: 3712, Bitrate: 128, SampleRate: 44100, Channels: 2}
	wantTags := tags.Tags{Title: "Wake Up", Artist: "Shoji Meguro", AlbumArtist: "Various", Album: "P5", Genre: "Game",
		Year: 2017, Track: 3, TrackTotal: 12, Disc: 1, DiscTotal: 2, HasPicture: true}
	if d := cmp.Diff(wantInfo, info); d != "" {
		t.Errorf("info (-want +got)\n%s", d)
	}
	if d := cmp.Diff(wantTags, tg); d != "" {
		t.Errorf("tags (-want +got)\n%s", d)
	}
	// No audio stream: ErrNoAudio.
	pj = probeJSON{}
	if _, _, err := fromProbe(&pj, 1); err != probe.ErrNoAudio {
		t.Errorf("no streams: %v", err)
	}
}

func TestSkipReason(t *testing.T) {
	cases := map[string]error{
		"needs ffprobe (ape)":  wrapNeeds("ape"),
		"timed out":            errTimeout,
		"empty file":           errEmpty,
		"truncated or corrupt": probe.ErrTruncated,
		"unknown format":       probe.ErrUnknownFormat,
		"no audio stream":      probe.ErrNoAudio,
	}
	for want, err := range cases {
		if got := skipReason(err); got != want {
			t.Errorf("skipReason(%v) = %q, want %q", err, got, want)
		}
	}
}

func wrapNeeds(name string) error {
	_, _, err := (&scan{Scanner: &Scanner{ffFails: new(ffFailures)}}).fallback("", 0, time.Time{}, probe.Info{}, tags.Tags{}, fmt.Errorf("%w: %s", probe.ErrUnknownFormat, name))
	return err
}

// FuzzFromProbe: any JSON ffprobe could print is turned into facts and
// tags without panicking, and a success always names a codec.
func FuzzFromProbe(f *testing.F) {
	f.Add([]byte(ffprobeWMA))
	f.Add([]byte(`{"streams":[{"codec_type":"audio","duration":"N/A"}],"format":{"duration":"1e300"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var pj probeJSON
		if json.Unmarshal(data, &pj) != nil {
			return
		}
		info, _, err := fromProbe(&pj, int64(len(data)))
		if err == nil && len(pj.Streams) == 0 {
			t.Errorf("success without streams: %+v", info)
		}
	})
}

// TestFFprobeFailureRemembered: a file ffprobe cannot describe is asked
// about once per version, not on every rescan.
func TestFFprobeFailureRemembered(t *testing.T) {
	dir := t.TempDir()
	calls := filepath.Join(dir, "calls")
	fake := filepath.Join(dir, "ffprobe")
	if err := os.WriteFile(fake, []byte("#!/bin/sh\necho x >> '"+calls+"'\necho 'Invalid data' >&2\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(dir, "music")
	os.Mkdir(root, 0o755)
	os.WriteFile(filepath.Join(root, "broken.ape"), append([]byte("MAC \x96\x0f"), make([]byte, 100)...), 0o644) // version 3.99, no header
	s := &Scanner{Roots: []string{root}, LibraryID: "0123456789abcdef", FFprobe: fake, ffFails: new(ffFailures)}
	for range 3 {
		res, err := s.Scan(context.Background(), nil)
		if err != nil {
			t.Fatal(err)
		}
		if res.Stats.Skipped != 1 || res.Stats.SkippedBy["truncated or corrupt"] != 1 {
			t.Fatalf("stats %+v", res.Stats)
		}
	}
	b, _ := os.ReadFile(calls)
	if n := strings.Count(string(b), "x"); n != 1 {
		t.Errorf("ffprobe ran %d times, want 1", n)
	}
}
