package probe

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/daapd/daapd/internal/testkit"
)

// durationsFile holds ffprobe's view of the corpus and fixture files,
// recorded once with -update so the test needs no ffprobe.
const durationsFile = "testdata/durations.json"

// measured is one file's recorded facts.
type measured struct {
	Path      string `json:"path"`                 // "corpus/<name>" or "fixtures/<rel>"
	Format    string `json:"format"`               // ffprobe format_name
	Codec     string `json:"codec"`                // ffprobe codec_name of the first audio stream
	FFprobeMS int64  `json:"ffprobe_ms"`           // ffprobe's duration
	DecodedMS int64  `json:"decoded_ms,omitempty"` // ffmpeg full decode, for the exceptions
	ExpectMS  int64  `json:"expect_ms"`            // what Probe must report
	Reason    string `json:"reason,omitempty"`     // why expect_ms is not ffprobe_ms
}

// exceptions are files where ffprobe trusts a header that lies. For them the
// expected value is the length of a full decode, which is what a listener
// hears and what Probe's clamping reports.
var exceptions = map[string]string{
	"corpus/ape-id3v1.mp3":         "ffprobe's CBR estimate counts the APE and ID3v1 tags at the end as audio; Probe excludes them",
	"corpus/lame_cbr.mp3":          "truncated file; its Xing header claims 1887 s. Probe clamps against the file size",
	"corpus/lame_vbr.mp3":          "truncated file; its Xing header claims 1887 s. Probe clamps against the file size",
	"corpus/mpeg2.mp3":             "truncated file; its Xing header claims 5387 s. Probe clamps against the file size",
	"corpus/rare_frames.mp3":       "truncated file; its VBRI header claims 222 s. Probe clamps against the file size",
	"corpus/toc_many_children.mp3": "truncated file; its Xing header claims 13 s for 2 frames. Probe clamps against the file size",
	"fixtures/Mu Collective/Every Format/01 Windows Media.wma": "ffmpeg's ASF muxer states a play duration of 1.6 s (ffprobe trusts it); the stream decodes to 1068 ms",
}

// supportedFormats are ffprobe format names of containers Probe reads.
var supportedFormats = []string{"mp3", "mov,mp4,m4a,3gp,3g2,mj2", "flac", "ogg", "wav", "aiff", "dsf", "iff", "aac", "matroska,webm",
	"ape", "wv", "mpc", "mpc8", "tta", "asf", "ac3", "eac3"}

// codecNames maps ffprobe codec names to Probe's where they differ.
func codecName(ff string) string {
	switch {
	case strings.HasPrefix(ff, "pcm_f"):
		return "pcm_float"
	case ff == "pcm_alaw":
		return "alaw"
	case ff == "pcm_mulaw":
		return "ulaw"
	case strings.HasPrefix(ff, "pcm_"):
		return "pcm"
	case strings.HasPrefix(ff, "dsd_"):
		return "dsd"
	case ff == "wmav1" || ff == "wmav2":
		return "wma"
	case strings.HasPrefix(ff, "musepack"):
		return "musepack"
	}
	return ff
}

// sources returns the corpus and fixture roots, with the prefix each
// contributes to recorded paths. Missing roots are left out.
func sources(t testing.TB) map[string]string {
	// DAAPD_CORPUS names the shared corpus folder, which holds taglib/.
	corpus := os.Getenv("DAAPD_CORPUS")
	if corpus == "" {
		corpus = filepath.Join("..", "..", "..", "shared", "corpus")
	}
	corpus = filepath.Join(corpus, "taglib")
	roots := map[string]string{}
	for prefix, dir := range map[string]string{"corpus": corpus, "fixtures": filepath.Join("..", "..", "music-fixtures")} {
		if st, err := os.Stat(dir); err == nil && st.IsDir() {
			roots[prefix] = dir
		} else {
			t.Logf("%s not found at %s", prefix, dir)
		}
	}
	return roots
}

// resolve maps a recorded path to a file on disk.
func resolve(roots map[string]string, p string) (string, bool) {
	prefix, rel, _ := strings.Cut(p, "/")
	dir, ok := roots[prefix]
	return filepath.Join(dir, filepath.FromSlash(rel)), ok
}

// audioFiles lists every regular file under each root (fixtures: skipping
// the generator's own sources and docs).
func audioFiles(roots map[string]string) []string {
	var out []string
	for prefix, dir := range roots {
		filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() {
				return nil
			}
			rel, _ := filepath.Rel(dir, p)
			switch filepath.Ext(p) {
			case ".go", ".py", ".json", ".md", ".sh", ".txt":
				return nil
			}
			out = append(out, prefix+"/"+filepath.ToSlash(rel))
			return nil
		})
	}
	slices.Sort(out)
	return out
}

// undecodable lists the corpus files whose headers ffprobe reads but from
// which ffmpeg decodes no audio at all (ffmpeg -i F -f null -), and what
// in their headers tells Probe so.
var undecodable = map[string]string{
	"corpus/four_channels.wv":     "4 channels with a one-speaker mask",
	"corpus/ilst-is-last.m4a":     "cut short after moov: no mdat",
	"corpus/infloop.m4a":          "no mdat",
	"corpus/itunes10.mp3":         "2 frames, all LAME encoder delay and padding",
	"corpus/lowercase-fields.ogg": "the comment header page fails its CRC",
	"corpus/mac-390-hdr.ape":      "a header alone: the first frame ends past the end of the file",
	"corpus/zerodiv.ape":          "file version 0.15",
	"corpus/zerodiv.mpc":          "SV8 sample rate index 4",
}

func TestDurationsAgreeWithFFprobe(t *testing.T) {
	roots := sources(t)
	if *testkit.Update { // re-measure testdata/durations.json with ffprobe (and ffmpeg for the exceptions)
		if len(roots) == 0 {
			t.Fatal("-update needs the corpus or the fixtures")
		}
		writeDurations(t, roots)
	}
	raw, err := os.ReadFile(durationsFile)
	if err != nil {
		t.Fatal(err)
	}
	var want []measured
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatal(err)
	}
	if len(roots) == 0 {
		t.Skip("neither the corpus (../../../shared/corpus/taglib or $DAAPD_CORPUS) nor ../../music-fixtures is present")
	}
	checked := 0
	for _, m := range want {
		path, ok := resolve(roots, m.Path)
		if !ok {
			continue
		}
		t.Run(m.Path, func(t *testing.T) {
			data, err := os.ReadFile(path)
			if errors.Is(err, fs.ErrNotExist) {
				t.Skipf("%s is gone; re-run with -update", path)
			}
			if err != nil {
				t.Fatal(err)
			}
			checked++
			got, err := Probe(bytes.NewReader(data), int64(len(data)))
			if !slices.Contains(supportedFormats, m.Format) {
				// A container Probe rejects by design.
				if !errors.Is(err, ErrUnknownFormat) {
					t.Errorf("%s (%s) is unsupported: got %+v, %v; want ErrUnknownFormat", m.Path, m.Format, got, err)
				}
				return
			}
			if why, ok := undecodable[m.Path]; ok {
				// ffprobe states a length, but ffmpeg decodes nothing.
				if !errors.Is(err, ErrUndecodable) {
					t.Errorf("got %+v, %v; want ErrUndecodable (%s)", got, err, why)
				}
				return
			}
			if err != nil {
				t.Fatalf("Probe: %v", err)
			}
			tol := max(m.ExpectMS/100, 50)
			if d := int64(got.DurationMS) - m.ExpectMS; d < -tol || d > tol {
				t.Errorf("duration %d ms, want %d ± %d (ffprobe %d; %s)", got.DurationMS, m.ExpectMS, tol, m.FFprobeMS, m.Reason)
			}
			if c := codecName(m.Codec); got.Codec != c && !(c == "wavpack" && got.Codec == "dsd") {
				t.Errorf("codec %q, want %q (ffprobe %q)", got.Codec, c, m.Codec)
			}
		})
	}
	t.Logf("checked %d files against %s", checked, durationsFile)
}

// writeDurations measures every file with ffprobe and writes durationsFile.
// Entries for a root that is absent now are kept as they were.
func writeDurations(t *testing.T, roots map[string]string) {
	var keep []measured
	if raw, err := os.ReadFile(durationsFile); err == nil {
		var old []measured
		if json.Unmarshal(raw, &old) == nil {
			for _, m := range old {
				if _, ok := resolve(roots, m.Path); !ok {
					keep = append(keep, m)
				}
			}
		}
	}
	out := keep
	for _, p := range audioFiles(roots) {
		path, _ := resolve(roots, p)
		m, ok := ffprobe(t, path)
		if !ok {
			continue // ffprobe cannot measure it either
		}
		m.Path = p
		m.ExpectMS = m.FFprobeMS
		if reason, ok := exceptions[p]; ok {
			m.DecodedMS = decodedMS(t, path)
			m.ExpectMS, m.Reason = m.DecodedMS, reason
		}
		out = append(out, m)
	}
	slices.SortFunc(out, func(a, b measured) int { return strings.Compare(a.Path, b.Path) })
	raw, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(durationsFile), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(durationsFile, append(raw, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %d entries to %s", len(out), durationsFile)
}

// ffprobe returns the format, first audio codec and audio duration of path.
func ffprobe(t *testing.T, path string) (measured, bool) {
	cmd := exec.Command("ffprobe", "-v", "quiet", "-print_format", "json",
		"-show_entries", "stream=codec_type,codec_name,duration:format=format_name,duration", path)
	raw, err := cmd.Output()
	if err != nil {
		if errors.Is(err, exec.ErrNotFound) {
			t.Fatal("ffprobe not installed")
		}
		return measured{}, false
	}
	var res struct {
		Streams []struct {
			CodecType string `json:"codec_type"`
			CodecName string `json:"codec_name"`
			Duration  string `json:"duration"`
		} `json:"streams"`
		Format struct {
			FormatName string `json:"format_name"`
			Duration   string `json:"duration"`
		} `json:"format"`
	}
	if err := json.Unmarshal(raw, &res); err != nil {
		t.Fatalf("ffprobe %s: %v", path, err)
	}
	for _, s := range res.Streams {
		if s.CodecType != "audio" {
			continue
		}
		d := s.Duration
		if d == "" || d == "N/A" {
			d = res.Format.Duration
		}
		sec, err := strconv.ParseFloat(d, 64)
		if err != nil || sec <= 0 {
			return measured{}, false
		}
		return measured{Format: res.Format.FormatName, Codec: s.CodecName, FFprobeMS: int64(math.Round(sec * 1000))}, true
	}
	return measured{}, false
}

// decodedMS decodes the first audio stream with ffmpeg and returns its
// length.
func decodedMS(t *testing.T, path string) int64 {
	out, err := exec.Command("ffmpeg", "-nostdin", "-v", "quiet", "-i", path, "-map", "0:a:0", "-f", "null", "-", "-progress", "pipe:1").Output()
	if err != nil {
		t.Fatalf("ffmpeg %s: %v", path, err)
	}
	var us int64
	for _, line := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(line, "out_time_us="); ok {
			us, _ = strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		}
	}
	return us / 1000
}
