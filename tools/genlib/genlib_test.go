package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/dhowden/tag"
	"github.com/google/go-cmp/cmp"
)

var (
	tmplOnce sync.Once
	tmplDir  string // shared by every test of this binary
	tmplMap  map[string]*template
	tmplErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if tmplDir != "" {
		os.RemoveAll(tmplDir)
	}
	os.Exit(code)
}

// templates encodes the ffmpeg templates once per test binary.
func templates(t testing.TB) map[string]*template {
	t.Helper()
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Skip("ffmpeg not installed")
	}
	tmplOnce.Do(func() {
		tmplDir, tmplErr = os.MkdirTemp("", "genlib-test-")
		if tmplErr == nil {
			tmplMap, tmplErr = encodeTemplates(context.Background(), tmplDir)
		}
	})
	if tmplErr != nil {
		t.Fatal(tmplErr)
	}
	return tmplMap
}

func sampleTags(cover []byte, mime string) Tags {
	return Tags{Title: "Tíde 東京", Artist: "The Band", AlbumArtist: "Various Artists", Album: "Hits",
		Genre: "Pop", Composer: "Arvo Pärt", SortArtist: "Band, The", Year: 1999,
		Track: 3, TrackTotal: 12, Disc: 2, DiscTotal: 2, Compilation: true,
		Cover: cover, CoverMIME: mime}
}

// TestRoundTrip writes every format and reads it back with dhowden/tag, the
// reader daapd uses.
func TestRoundTrip(t *testing.T) {
	tm := templates(t)
	big := bytes.Repeat([]byte{0xAB}, 150_000) // spans several Ogg pages
	big = append(cover(1, "image/jpeg"), big...)
	for _, f := range Formats {
		for _, c := range []struct {
			name  string
			cover []byte
			mime  string
		}{{"nocover", nil, ""}, {"jpeg", cover(0, "image/jpeg"), "image/jpeg"},
			{"png", cover(13, "image/png"), "image/png"}, {"big", big, "image/jpeg"}} {
			t.Run(f.Key+"/"+c.name, func(t *testing.T) {
				want := sampleTags(c.cover, c.mime)
				b := tm[templateKey(f.Key, 1)].write(&want)
				m, err := tag.ReadFrom(bytes.NewReader(b))
				if err != nil {
					t.Fatal(err)
				}
				tn, tt := m.Track()
				dn, dt := m.Disc()
				got := Tags{Title: m.Title(), Artist: m.Artist(), AlbumArtist: m.AlbumArtist(),
					Album: m.Album(), Genre: m.Genre(), Composer: m.Composer(), Year: m.Year(),
					Track: tn, TrackTotal: tt, Disc: dn, DiscTotal: dt}
				want2 := want
				want2.SortArtist, want2.Compilation, want2.Cover, want2.CoverMIME = "", false, nil, ""
				if d := cmp.Diff(want2, got); d != "" {
					t.Errorf("tags (-want +got):\n%s", d)
				}
				pic := m.Picture()
				switch {
				case c.cover == nil && pic != nil:
					t.Errorf("unexpected picture")
				case c.cover != nil && (pic == nil || !bytes.Equal(pic.Data, c.cover)):
					t.Errorf("picture missing or altered")
				}
				if f.Key == "vorbis" || f.Key == "opus" {
					checkOgg(t, b)
				}
				if c.name == "big" || c.name == "nocover" {
					p := filepath.Join(t.TempDir(), "x"+f.Ext)
					if err := os.WriteFile(p, b, 0o644); err != nil {
						t.Fatal(err)
					}
					cmd := exec.Command("ffmpeg", "-v", "error", "-i", p, "-f", "null", "-")
					if out, err := cmd.CombinedOutput(); err != nil || len(out) > 0 {
						t.Errorf("ffmpeg cannot decode: %v %s", err, out)
					}
				}
			})
		}
	}
}

// checkOgg verifies page CRCs, sequence numbers and header flags.
func checkOgg(t *testing.T, b []byte) {
	t.Helper()
	pages, err := parseOgg(b)
	if err != nil {
		t.Fatal(err)
	}
	off := 0
	for i, p := range pages {
		n := 27 + len(p.segments) + len(p.body)
		raw := bytes.Clone(b[off : off+n])
		crc := binary.LittleEndian.Uint32(raw[22:])
		clear(raw[22:26])
		if oggCRC(raw) != crc {
			t.Errorf("page %d: bad CRC", i)
		}
		if seq := binary.LittleEndian.Uint32(raw[18:]); seq != uint32(i) {
			t.Errorf("page %d: sequence %d", i, seq)
		}
		if (i == 0) != (p.headerType&2 != 0) {
			t.Errorf("page %d: BOS flag %#x", i, p.headerType)
		}
		off += n
	}
	if pages[len(pages)-1].headerType&4 == 0 {
		t.Error("last page lacks EOS")
	}
}

func TestPagePacketsLacing(t *testing.T) {
	for _, n := range []int{0, 1, 254, 255, 256, 510, 255 * 255, 255*255 + 1, 200_000} {
		pkt := bytes.Repeat([]byte{7}, n)
		seq := uint32(1)
		out := pagePackets(nil, 42, &seq, [][]byte{pkt, []byte("setup")})
		pages, err := parseOgg(out)
		if err != nil {
			t.Fatalf("%d: %v", n, err)
		}
		pkts, next, err := oggPackets(pages, 2)
		if err != nil || next != len(pages) {
			t.Fatalf("%d: %v, next %d of %d", n, err, next, len(pages))
		}
		if !bytes.Equal(pkts[0], pkt) || string(pkts[1]) != "setup" {
			t.Errorf("%d: packets altered", n)
		}
		for i, p := range pages {
			if cont := p.headerType&1 != 0; cont != (i > 0 && pages[i-1].segments[len(pages[i-1].segments)-1] == 255) {
				t.Errorf("%d: page %d continuation flag %v", n, i, cont)
			}
		}
	}
}

func TestPlanDeterministic(t *testing.T) {
	a, b := NewPlan(3000, 7), NewPlan(3000, 7)
	if d := cmp.Diff(a, b, cmp.AllowUnexported(Plan{}, Track{})); d != "" {
		t.Fatalf("same seed, different plans:\n%s", d)
	}
	if c := NewPlan(3000, 8); c.Tracks[0].Path == a.Tracks[0].Path && c.Tracks[1].Title == a.Tracks[1].Title {
		t.Error("a different seed gave the same library")
	}
}

func TestPlanShape(t *testing.T) {
	p := NewPlan(20000, 1)
	if len(p.Tracks) != 20000 {
		t.Fatalf("%d tracks", len(p.Tracks))
	}
	// Format shares within 3 points of the target mix.
	for _, f := range Formats {
		share := 100 * float64(p.FormatCounts[f.Key]) / float64(len(p.Tracks))
		if share < float64(f.Weight)-3 || share > float64(f.Weight)+3 {
			t.Errorf("%s: %.1f%%, want about %d%%", f.Key, share, f.Weight)
		}
	}
	paths := map[string]bool{}
	albums := map[string]int{}
	var unicode, embedded, comp int
	for _, tr := range p.Tracks {
		if paths[tr.Path] {
			t.Errorf("duplicate path %s", tr.Path)
		}
		paths[tr.Path] = true
		albums[filepath.Dir(tr.Path)]++
		if strings.ContainsFunc(tr.Path, func(r rune) bool { return r > 127 }) {
			unicode++
		}
		if tr.Artwork == "embedded" {
			embedded++
		}
		if tr.Compilation {
			comp++
			if tr.AlbumArtist != "Various Artists" || !strings.HasPrefix(tr.Path, "Compilations/") {
				t.Errorf("compilation %s: album artist %q", tr.Path, tr.AlbumArtist)
			}
		}
		if tr.Track < 1 || tr.Track > tr.TrackTotal || tr.Disc < 1 || tr.Disc > tr.DiscTotal {
			t.Errorf("%s: track %d/%d disc %d/%d", tr.Path, tr.Track, tr.TrackTotal, tr.Disc, tr.DiscTotal)
		}
	}
	for dir, n := range albums {
		if n > 14 {
			t.Errorf("%s: %d tracks", dir, n)
		}
	}
	if unicode == 0 || embedded == 0 || comp == 0 || len(p.FolderCovers) == 0 {
		t.Errorf("unicode %d, embedded %d, compilations %d, folder covers %d: want some of each",
			unicode, embedded, comp, len(p.FolderCovers))
	}
	if len(p.Playlists) != 5 {
		t.Errorf("%d playlists", len(p.Playlists))
	}
	for _, pl := range p.Playlists {
		for _, e := range pl.Entries {
			if !paths[e] {
				t.Errorf("%s: entry %s is not a track", pl.Path, e)
			}
		}
	}
}

func TestRun(t *testing.T) {
	templates(t)
	out := filepath.Join(t.TempDir(), "lib")
	args := []string{"-n", "40", "-out", out, "-seed", "3", "-j", "2", "-templates", tmplDir}
	if err := run(context.Background(), args, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	p := NewPlan(40, 3)
	for _, tr := range p.Tracks {
		if _, err := os.Stat(filepath.Join(out, tr.Path)); err != nil {
			t.Error(err)
		}
	}
	m3u, err := os.ReadFile(filepath.Join(out, "Playlists", "Mix 1.m3u"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(m3u), "#EXTM3U\n#EXTINF:") || !strings.Contains(string(m3u), "\n../"+p.Playlists[0].Entries[0]+"\n") {
		t.Errorf("playlist:\n%s", m3u)
	}
	if _, err := os.Stat(filepath.Join(out, manifestName)); err != nil {
		t.Error(err)
	}
	if err := run(context.Background(), args, io.Discard, io.Discard); err == nil {
		t.Error("a second run without -force succeeded")
	}
	if err := run(context.Background(), append(args, "-force"), io.Discard, io.Discard); err != nil {
		t.Errorf("-force: %v", err)
	}
	other := t.TempDir()
	os.WriteFile(filepath.Join(other, "precious.txt"), []byte("keep"), 0o644)
	if err := run(context.Background(), []string{"-n", "5", "-out", other, "-force"}, io.Discard, io.Discard); err == nil {
		t.Error("-force deleted a folder genlib did not make")
	}
	if _, err := os.Stat(filepath.Join(other, "precious.txt")); err != nil {
		t.Error(err)
	}
}

func TestFlags(t *testing.T) {
	for _, args := range [][]string{{}, {"-out", "x", "-n", "0"}, {"-out", "x", "-j", "0"}, {"-out", "x", "extra"}} {
		if err := run(context.Background(), args, io.Discard, io.Discard); err == nil {
			t.Errorf("%q: no error", args)
		}
	}
}

// FuzzSplit feeds arbitrary bytes to the template parsers: no panics.
func FuzzSplit(f *testing.F) {
	f.Add([]byte("fLaC\x80\x00\x00\x00"))
	f.Add([]byte("OggS\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x08OpusHead"))
	f.Add(box("ftyp", []byte("M4A ")))
	f.Add(append(box("mdat", []byte{1, 2}), box("moov", box("udta"))...))
	f.Fuzz(func(t *testing.T, b []byte) {
		if keep, audio, err := flacSplit(b); err == nil {
			writeFLAC(keep, audio, &Tags{Title: "x"}, 0)
		}
		if o, err := splitOgg(b); err == nil {
			o.write(&Tags{Title: "x"})
		}
		if m, err := splitMP4(b); err == nil {
			m.write(&Tags{Title: "x"})
		}
	})
}

// BenchmarkWrite measures building one tagged file per format (no disk).
func BenchmarkWrite(b *testing.B) {
	tm := templates(b)
	tags := sampleTags(cover(0, "image/jpeg"), "image/jpeg")
	for _, f := range Formats {
		b.Run(f.Key, func(b *testing.B) {
			tp := tm[templateKey(f.Key, 2)]
			for b.Loop() {
				tp.write(&tags)
			}
		})
	}
}

func BenchmarkPlan100k(b *testing.B) {
	for b.Loop() {
		NewPlan(100_000, 1)
	}
}

func TestSafeName(t *testing.T) {
	for in, want := range map[string]string{
		"AC/DC": "AC-DC", `a\b`: "a-b", ".hidden": "_.hidden", "": "_", "  Björk ": "Björk", "x\x00y": "xy",
	} {
		if got := safeName(in); got != want {
			t.Errorf("safeName(%q) = %q, want %q", in, got, want)
		}
	}
}
