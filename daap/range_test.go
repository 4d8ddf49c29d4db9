package daap

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/daapd/daapd/library"
)

// rangeForms are Range headers (RFC 9110 §14) and what both stream paths,
// direct and transcoded, must answer for a body of n bytes. In hdr and
// span, {n} and {n±k} stand for n and n±k; span is the 206's range.
var rangeForms = []struct {
	name, hdr string
	status    int
	span      string
	ifRange   string // "current" (Last-Modified), "old" (a day earlier), or a literal value
}{
	{name: "no header", status: 200},
	{name: "first byte", hdr: "bytes=0-0", status: 206, span: "0-0"},
	{name: "first 100", hdr: "bytes=0-99", status: 206, span: "0-99"},
	{name: "last byte", hdr: "bytes={n-1}-{n-1}", status: 206, span: "{n-1}-{n-1}"},
	{name: "open-ended", hdr: "bytes=100-", status: 206, span: "100-{n-1}"},
	{name: "open-ended from 0", hdr: "bytes=0-", status: 206, span: "0-{n-1}"},
	{name: "suffix", hdr: "bytes=-100", status: 206, span: "{n-100}-{n-1}"},
	{name: "suffix of 1", hdr: "bytes=-1", status: 206, span: "{n-1}-{n-1}"},
	{name: "suffix longer than the body", hdr: "bytes=-{n+100}", status: 206, span: "0-{n-1}"},
	{name: "suffix of 0", hdr: "bytes=-0", status: 416},
	{name: "suffix of 000", hdr: "bytes=-000", status: 416},
	{name: "last-pos past the end", hdr: "bytes=100-{n+1000}", status: 206, span: "100-{n-1}"},
	{name: "first-pos at the end", hdr: "bytes={n}-", status: 416},
	{name: "first-pos past the end", hdr: "bytes={n+10}-{n+20}", status: 416},
	{name: "last-pos before first-pos", hdr: "bytes=20-10", status: 200},
	{name: "no dash", hdr: "bytes=10", status: 200},
	{name: "two dashes", hdr: "bytes=1-2-3", status: 200},
	{name: "double minus", hdr: "bytes=--5", status: 200},
	{name: "plus sign", hdr: "bytes=+1-5", status: 200},
	{name: "hex", hdr: "bytes=0x10-0x20", status: 200},
	{name: "letters", hdr: "bytes=a-b", status: 200},
	{name: "empty set", hdr: "bytes=", status: 200},
	{name: "only commas", hdr: "bytes=,,", status: 200},
	{name: "other unit", hdr: "items=0-10", status: 200},
	{name: "no unit", hdr: "0-10", status: 200},
	{name: "unit in capitals", hdr: "Bytes=0-9", status: 206, span: "0-9"},
	{name: "whitespace in the list", hdr: "bytes= 0-9 ,", status: 206, span: "0-9"},
	{name: "empty list elements", hdr: "bytes=,0-9,,", status: 206, span: "0-9"},
	{name: "tab", hdr: "bytes=\t0-9", status: 206, span: "0-9"},
	{name: "spaces around the dash", hdr: "bytes=10 - 20", status: 206, span: "10-20"},
	{name: "huge last-pos", hdr: "bytes=10-99999999999999999999999", status: 206, span: "10-{n-1}"},
	{name: "largest int64 last-pos", hdr: "bytes=0-9223372036854775807", status: 206, span: "0-{n-1}"},
	{name: "huge first-pos", hdr: "bytes=99999999999999999999999-", status: 416},
	{name: "huge suffix", hdr: "bytes=-99999999999999999999999", status: 206, span: "0-{n-1}"},
	{name: "two ranges apart", hdr: "bytes=0-9,20-29", status: 200},
	{name: "two adjacent ranges", hdr: "bytes=0-9,10-19", status: 206, span: "0-19"},
	{name: "two overlapping ranges", hdr: "bytes=0-50,25-99", status: 206, span: "0-99"},
	{name: "ranges out of order", hdr: "bytes=10-19,0-9", status: 206, span: "0-19"},
	{name: "one of two satisfiable", hdr: "bytes=0-9,{n}-", status: 206, span: "0-9"},
	{name: "none of two satisfiable", hdr: "bytes={n}-,-0", status: 416},
	{name: "a malformed range among good ones", hdr: "bytes=0-9,x", status: 200},
	{name: "whole and a suffix", hdr: "bytes=0-,-10", status: 206, span: "0-{n-1}"},
	{name: "a thousand ranges", hdr: "bytes=" + strings.Repeat("0-0,", 1000) + "0-0", status: 206, span: "0-0"},
	{name: "If-Range current", hdr: "bytes=0-9", ifRange: "current", status: 206, span: "0-9"},
	{name: "If-Range old", hdr: "bytes=0-9", ifRange: "old", status: 200},
	{name: "If-Range ETag", hdr: "bytes=0-9", ifRange: `"abc"`, status: 200},
	{name: "If-Range garbage", hdr: "bytes=0-9", ifRange: "yesterday", status: 200},
}

var nToken = regexp.MustCompile(`\{n([+-]\d+)?\}`)

// expandN replaces {n} and {n±k} in s.
func expandN(s string, n int64) string {
	return nToken.ReplaceAllStringFunc(s, func(tok string) string {
		k, _ := strconv.ParseInt(strings.Trim(tok, "{n}"), 10, 64)
		return strconv.FormatInt(n+k, 10)
	})
}

func TestParseRange(t *testing.T) {
	const n = 1000
	for _, tc := range rangeForms {
		if tc.ifRange != "" {
			continue // If-Range is the handlers' part
		}
		start, end, partial, err := parseRange(expandN(tc.hdr, n), n)
		got := "200"
		switch {
		case err != nil:
			got = "416"
		case partial:
			got = fmt.Sprintf("206 %d-%d", start, end)
		}
		want := strconv.Itoa(tc.status)
		if tc.status == 206 {
			want += " " + expandN(tc.span, n)
		}
		if got != want {
			t.Errorf("%s (%q): %s, want %s", tc.name, expandN(tc.hdr, n), got, want)
		}
	}
	// A zero-length body: only a suffix-range is satisfiable, and then
	// only by the whole (empty) body.
	for h, want := range map[string]string{"": "200", "bytes=-5": "200", "bytes=0-": "416", "bytes=-0": "416", "bytes=0-0": "416", "x": "200"} {
		_, _, partial, err := parseRange(h, 0)
		got := "200"
		if err != nil {
			got = "416"
		} else if partial {
			got = "206"
		}
		if got != want {
			t.Errorf("empty body, %q: %s, want %s", h, got, want)
		}
	}
}

func FuzzParseRange(f *testing.F) {
	for _, tc := range rangeForms {
		f.Add(expandN(tc.hdr, 1000), int64(1000))
	}
	f.Fuzz(func(t *testing.T, h string, n int64) {
		if n < 0 {
			return
		}
		start, end, partial, err := parseRange(h, n)
		switch {
		case err != nil:
		case !partial && (start != 0 || end != n-1):
			t.Fatalf("whole body as %d-%d of %d", start, end, n)
		case partial && (start < 0 || start > end || end >= n):
			t.Fatalf("%q: range %d-%d of %d", h, start, end, n)
		}
	})
}

// TestRangeForms sends every Range form to both stream paths: the direct
// one (Rhythmbox gets the FLAC as it is) and the transcoded one (Music.app
// gets it as WAV). Both answer alike: the same status, Content-Range and
// bytes of the whole body.
func TestRangeForms(t *testing.T) {
	env, _ := fixtureEnvWith(t, Config{})
	var tr *library.Track
	for _, x := range env.cat.Snapshot().Tracks {
		if x.Codec == "flac" && x.DurationMS > 0 {
			tr = x
			break
		}
	}
	fi, err := os.Stat(tr.AbsPath())
	if err != nil {
		t.Fatal(err)
	}
	paths := []struct {
		name string
		hdr  []string
	}{
		{"direct", []string{"User-Agent", uaRB, "Client-DAAP-Version", "3.0"}},
		{"transcoded", []string{"User-Agent", uaMusic}},
	}
	u := fmt.Sprintf("/databases/1/items/%d.%s", tr.ID, tr.Format)
	for _, path := range paths {
		t.Run(path.name, func(t *testing.T) {
			if path.name == "transcoded" && env.srv.ffmpeg == "" {
				t.Skip("ffmpeg not in PATH: the transcoded path needs it (apt-get install ffmpeg)")
			}
			res, full := env.get(t, u, path.hdr...)
			if res.StatusCode != 200 || len(full) < 1000 {
				t.Fatalf("whole body: %d, %d bytes", res.StatusCode, len(full))
			}
			n := int64(len(full))
			for _, tc := range rangeForms {
				hdr := append([]string{}, path.hdr...)
				if tc.hdr != "" {
					hdr = append(hdr, "Range", expandN(tc.hdr, n))
				}
				switch tc.ifRange {
				case "":
				case "current":
					hdr = append(hdr, "If-Range", fi.ModTime().UTC().Format(http.TimeFormat))
				case "old":
					hdr = append(hdr, "If-Range", fi.ModTime().Add(-24*time.Hour).UTC().Format(http.TimeFormat))
				default:
					hdr = append(hdr, "If-Range", tc.ifRange)
				}
				res, body := env.get(t, u, hdr...)
				cr := res.Header.Get("Content-Range")
				switch {
				case res.StatusCode != tc.status:
					t.Errorf("%s: %d (Content-Range %q), want %d", tc.name, res.StatusCode, cr, tc.status)
				case tc.status == 416:
					if want := fmt.Sprintf("bytes */%d", n); cr != want {
						t.Errorf("%s: Content-Range %q, want %q", tc.name, cr, want)
					}
				case tc.status == 200:
					if cr != "" || !bytes.Equal(body, full) {
						t.Errorf("%s: Content-Range %q, %d bytes, want the whole body", tc.name, cr, len(body))
					}
				default:
					var a, b int64
					fmt.Sscanf(expandN(tc.span, n), "%d-%d", &a, &b)
					if want := fmt.Sprintf("bytes %d-%d/%d", a, b, n); cr != want {
						t.Errorf("%s: Content-Range %q, want %q", tc.name, cr, want)
					}
					if !bytes.Equal(body, full[a:b+1]) {
						t.Errorf("%s: %d bytes differ from bytes %d-%d", tc.name, len(body), a, b)
					}
				}
			}
		})
	}
}

// TestRangeEmptyFile: a zero-length file answers a suffix-range with the
// whole (empty) body and any other range with 416.
func TestRangeEmptyFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "empty.mp3"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	env := envWith(t, dir, Config{}, &library.Track{ID: 1, Root: dir, Path: "empty.mp3", Codec: "mp3", Format: "mp3"})
	for h, want := range map[string]int{"": 200, "bytes=-5": 200, "bytes=0-": 416, "bytes=-0": 416} {
		var hdr []string
		if h != "" {
			hdr = []string{"Range", h}
		}
		if res, body := env.get(t, "/databases/1/items/1.mp3", hdr...); res.StatusCode != want || want == 200 && len(body) != 0 {
			t.Errorf("%q: %d, %d bytes; want %d", h, res.StatusCode, len(body), want)
		}
	}
}
