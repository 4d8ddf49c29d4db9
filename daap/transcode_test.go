package daap

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/daapd/daapd/daap/dmap"
	"github.com/daapd/daapd/internal/testkit"
	"github.com/daapd/daapd/library"
	fixtures "github.com/daapd/daapd/music-fixtures"
	"github.com/daapd/daapd/transcode"
)

// fakeFFmpeg writes an executable that stands in for ffmpeg where a test
// only needs one to be found (listings); it fails if it is ever run.
func fakeFFmpeg(t testing.TB) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "ffmpeg")
	if err := os.WriteFile(p, []byte("#!/bin/sh\necho fake ffmpeg >&2\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// realFFmpeg skips the test when no ffmpeg is installed.
func realFFmpeg(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Skip("ffmpeg not in PATH: the transcoding stream tests need it (apt-get install ffmpeg)")
	}
}

// viewEnv serves the newEnv tracks with transcode mode and ffmpeg binary.
func viewEnv(t *testing.T, mode, ffmpeg string) *testEnv {
	t.Helper()
	root := t.TempDir()
	cat := library.NewCatalog()
	cat.Publish(testTracks(t, root), []*library.Playlist{
		{ID: 501, PersistentID: 0xC501, Name: "Favourites", Path: "fav.m3u", Items: []uint32{13, 11, 13, 99}},
	})
	srv := New(Config{Name: "Test Share", Version: "test", Catalog: cat, Transcode: mode, FFmpeg: ffmpeg})
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() { srv.Close(); hs.Close() })
	return &testEnv{srv: srv, http: hs, cat: cat, root: root}
}

// summary is what a client sees of the share: every listing reduced to
// counts and names.
type summary struct {
	DBCount    uint64
	Items      []string // "id format assz"
	ItemsTotal uint64
	Base       [2]uint64 // mimc of the base playlist, items in its listing
	Playlist   [2]uint64 // the same for Favourites
	Artists    []string
	Albums     []string
}

func (e *testEnv) summarize(t *testing.T, hdr ...string) summary {
	t.Helper()
	var s summary
	get := func(path, top string) []map[string]dmap.Element {
		res, body := e.get(t, path, hdr...)
		if res.StatusCode != 200 {
			t.Fatalf("%s: %d", path, res.StatusCode)
		}
		return listing(t, body, top)
	}
	s.DBCount = get("/databases", "avdb")[0]["mimc"].Uint()
	for _, it := range get("/databases/1/items?meta=dmap.itemid,daap.songformat,daap.songsize,daap.songdescription", "adbs") {
		s.Items = append(s.Items, fmt.Sprintf("%d %s %d %s", it["miid"].Uint(), it["asfm"].Value, it["assz"].Uint(), it["asdt"].Value))
	}
	_, body := e.get(t, "/databases/1/items", hdr...)
	s.ItemsTotal = topInt(t, body, "mtco")
	for _, c := range get("/databases/1/containers", "aply") {
		id := c["miid"].Uint()
		_, body := e.get(t, fmt.Sprintf("/databases/1/containers/%d/items", id), hdr...)
		pair := [2]uint64{c["mimc"].Uint(), topInt(t, body, "mtco")}
		if id == basePlaylistID {
			s.Base = pair
		} else {
			s.Playlist = pair
		}
	}
	_, body = e.get(t, "/databases/1/browse/artists", hdr...)
	s.Artists = browseNames(t, body)
	for _, g := range get("/databases/1/groups?group-type=albums", "agal") {
		s.Albums = append(s.Albums, string(g["minm"].Value))
	}
	return s
}

func TestTranscodeViews(t *testing.T) {
	ff := fakeFFmpeg(t)
	all := summary{
		DBCount: 5, ItemsTotal: 5,
		Items:    []string{"11 mp3 10000 MPEG audio file", "12 mp3 20000 MPEG audio file", "13 flac 30000 FLAC audio file", "15 ogg 7000 Ogg Vorbis audio file", "14 m4a 5000 AAC audio file"},
		Base:     [2]uint64{5, 5},
		Playlist: [2]uint64{3, 3},
		Artists:  []string{"Alpha", "Beta", "Gamma"},
		Albums:   []string{"One", "Two", "Mix"},
	}
	// 13 (FLAC, 180013 ms) is listed as its WAV transcode; 15 (Vorbis
	// without a duration) cannot be sized, so it is hidden.
	wav := all
	wav.DBCount, wav.ItemsTotal, wav.Base = 4, 4, [2]uint64{4, 4}
	wav.Items = []string{"11 mp3 10000 MPEG audio file", "12 mp3 20000 MPEG audio file",
		fmt.Sprintf("13 wav %d WAV audio file", 44+4*((180013*44100+500)/1000)), "14 m4a 5000 AAC audio file"}
	hide := all
	hide.DBCount, hide.ItemsTotal, hide.Base, hide.Playlist = 3, 3, [2]uint64{3, 3}, [2]uint64{1, 1}
	hide.Items = []string{"11 mp3 10000 MPEG audio file", "12 mp3 20000 MPEG audio file", "14 m4a 5000 AAC audio file"}
	hide.Artists, hide.Albums = []string{"Alpha", "Gamma"}, []string{"One", "Mix"}

	apple := []string{"User-Agent", uaMusic}
	itunes := []string{"User-Agent", uaITunes}
	rb := []string{"User-Agent", uaRB, "Client-DAAP-Version", "3.0"}
	other := []string{"User-Agent", "SomeDAAPClient/1.0"}
	cases := []struct {
		name, mode, ffmpeg string
		hdr                []string
		want               summary
	}{
		{"auto/music", TranscodeAuto, ff, apple, wav},
		{"auto/itunes", "", ff, itunes, wav},
		{"auto/rhythmbox", TranscodeAuto, ff, rb, all},
		{"auto/unknown client", TranscodeAuto, ff, other, all},
		{"auto without ffmpeg/music", TranscodeAuto, "no-such-ffmpeg-daapd-test", apple, hide},
		{"auto without ffmpeg/rhythmbox", TranscodeAuto, "no-such-ffmpeg-daapd-test", rb, all},
		{"hide/music", TranscodeHide, ff, apple, hide},
		{"hide/rhythmbox", TranscodeHide, ff, rb, all},
		{"off/music", TranscodeOff, ff, apple, all},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := viewEnv(t, tc.mode, tc.ffmpeg)
			got := env.summarize(t, tc.hdr...)
			if tc.hdr[1] == uaRB {
				// libdmapsharing 2.9.41 gets no groups; compare the rest
				got.Albums = tc.want.Albums
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("(-want +got)\n%s", d)
			}
		})
	}
}

// TestTranscodeSession: a client that logged in as Music.app keeps its
// view on requests with another User-Agent, and a cached listing of one
// profile is never served to another.
func TestTranscodeSession(t *testing.T) {
	env := viewEnv(t, TranscodeAuto, fakeFFmpeg(t))
	_, body := env.get(t, "/login", "User-Agent", uaMusic)
	sid := loginID(t, body)
	items := func(hdr ...string) string {
		_, body := env.get(t, "/databases/1/items?meta=daap.songformat&session-id="+strconv.Itoa(int(sid)), hdr...)
		var f []string
		for _, it := range listing(t, body, "adbs") {
			f = append(f, string(it["asfm"].Value))
		}
		return strings.Join(f, " ")
	}
	rb := items("User-Agent", uaRB, "Client-DAAP-Version", "3.0")
	if rb != "mp3 mp3 flac ogg m4a" {
		t.Errorf("Rhythmbox: %s", rb)
	}
	if got := items("User-Agent", "AppleCoreMedia/1.0.0.22F76"); got != "mp3 mp3 wav m4a" {
		t.Errorf("Music.app session, another agent: %s", got)
	}
	if got := items("User-Agent", uaRB, "Client-DAAP-Version", "3.0"); got != rb {
		t.Errorf("Rhythmbox after Music.app: %s", got)
	}
}

// TestTranscodeWarning: without ffmpeg, auto mode logs one warning naming
// the hidden tracks and formats.
func TestTranscodeWarning(t *testing.T) {
	var buf testkit.SyncBuffer
	cat := library.NewCatalog()
	cat.Publish(testTracks(t, t.TempDir()), nil)
	srv := New(Config{Catalog: cat, FFmpeg: "no-such-ffmpeg-daapd-test", Log: slog.New(slog.NewTextHandler(&buf, nil))})
	defer srv.Close()
	out := buf.String()
	if strings.Count(out, "level=WARN") != 1 || !strings.Contains(out, "2 tracks") ||
		!strings.Contains(out, "flac 1, vorbis 1") || !strings.Contains(out, "install ffmpeg") {
		t.Errorf("log:\n%s", out)
	}
	buf.Reset()
	New(Config{Catalog: cat, Transcode: TranscodeHide, Log: slog.New(slog.NewTextHandler(&buf, nil))}).Close()
	if buf.String() != "" {
		t.Errorf("hide mode logged:\n%s", buf.String())
	}
}

// wavInfo checks that b is a canonical 16-bit stereo 44.1 kHz WAV whose
// sizes match its length and returns the PCM.
func wavInfo(t *testing.T, b []byte) []byte {
	t.Helper()
	if len(b) < 44 || string(b[:4]) != "RIFF" || string(b[8:16]) != "WAVEfmt " || string(b[36:40]) != "data" {
		t.Fatalf("not a WAV: % x", b[:min(len(b), 44)])
	}
	le := binary.LittleEndian
	if int(le.Uint32(b[4:])) != len(b)-8 || int(le.Uint32(b[40:])) != len(b)-44 {
		t.Errorf("sizes RIFF %d data %d for %d bytes", le.Uint32(b[4:]), le.Uint32(b[40:]), len(b))
	}
	if le.Uint16(b[20:]) != 1 || le.Uint16(b[22:]) != 2 || le.Uint32(b[24:]) != 44100 || le.Uint16(b[34:]) != 16 {
		t.Errorf("format % x", b[20:36])
	}
	return b[44:]
}

// TestTranscodeStream runs the real ffmpeg over the FLAC, Vorbis and Opus
// fixtures as Music.app would ask for them.
func TestTranscodeStream(t *testing.T) {
	realFFmpeg(t)
	env, _ := fixtureEnvWith(t, Config{})
	snap := env.cat.Snapshot()
	for _, codec := range []string{"flac", "vorbis", "opus"} {
		var tr *library.Track
		for _, x := range snap.Tracks {
			if x.Codec == codec && (tr == nil || x.DurationMS > tr.DurationMS) {
				tr = x
			}
		}
		if tr == nil {
			t.Fatalf("no %s fixture", codec)
		}
		t.Run(codec, func(t *testing.T) {
			u := fmt.Sprintf("/databases/1/items/%d.wav?session-id=1", tr.ID)
			size := transcode.Size(transcode.Frames(tr.DurationMS))
			res, full := env.get(t, u, "User-Agent", uaMusic)
			if res.StatusCode != 200 || res.Header.Get("Content-Type") != "audio/wav" {
				t.Fatalf("%d %s: %s", res.StatusCode, res.Header.Get("Content-Type"), full)
			}
			if res.ContentLength != size || int64(len(full)) != size {
				t.Fatalf("Content-Length %d, %d bytes, want %d", res.ContentLength, len(full), size)
			}
			pcm := wavInfo(t, full)
			if bytes.Count(pcm, []byte{0}) > len(pcm)*9/10 {
				t.Errorf("the transcode is silence")
			}

			// A range from the middle: the same bytes (Opus decoders
			// converge after a seek, so only its second half is compared).
			mid := size/2 + 1 // not frame-aligned
			res, part := env.get(t, u, "User-Agent", "AppleCoreMedia/1.0.0.22F76", "Range", fmt.Sprintf("bytes=%d-", mid))
			if res.StatusCode != 206 || res.Header.Get("Content-Range") != fmt.Sprintf("bytes %d-%d/%d", mid, size-1, size) {
				t.Fatalf("range: %d %q", res.StatusCode, res.Header.Get("Content-Range"))
			}
			if int64(len(part)) != size-mid || res.ContentLength != size-mid {
				t.Fatalf("range: %d bytes, Content-Length %d, want %d", len(part), res.ContentLength, size-mid)
			}
			cmpFrom := 0
			if codec == "opus" {
				cmpFrom = len(part) / 2
			}
			if !bytes.Equal(part[cmpFrom:], full[mid+int64(cmpFrom):]) {
				t.Errorf("range bytes differ from the whole transcode's")
			}

			// Ranges inside the header, across it, and at the very end.
			for _, rg := range [][2]int64{{0, 43}, {10, 99}, {40, 4095}, {size - 3, size - 1}} {
				res, got := env.get(t, u, "User-Agent", uaMusic, "Range", fmt.Sprintf("bytes=%d-%d", rg[0], rg[1]))
				if res.StatusCode != 206 || !bytes.Equal(got, full[rg[0]:rg[1]+1]) {
					t.Errorf("range %d-%d: %d, %d bytes", rg[0], rg[1], res.StatusCode, len(got))
				}
			}
			res, _ = env.get(t, u, "Range", fmt.Sprintf("bytes=%d-", size))
			if res.StatusCode != 416 || res.Header.Get("Content-Range") != fmt.Sprintf("bytes */%d", size) {
				t.Errorf("past the end: %d %q", res.StatusCode, res.Header.Get("Content-Range"))
			}

			// Rhythmbox asks for the original and gets it.
			orig, _ := os.ReadFile(tr.AbsPath())
			res, got := env.get(t, fmt.Sprintf("/databases/1/items/%d.%s", tr.ID, tr.Format), "User-Agent", uaRB, "Client-DAAP-Version", "3.0")
			if res.StatusCode != 200 || !bytes.Equal(got, orig) {
				t.Errorf("Rhythmbox: %d, %d bytes, want the file's %d", res.StatusCode, len(got), len(orig))
			}
		})
	}
	if n := len(env.srv.transSem); n != 0 {
		t.Errorf("%d transcode slots still held", n)
	}
}

// TestTranscodeListing: Music.app lists the FLAC fixtures as WAV with the
// transcode's exact size; Rhythmbox lists them as FLAC.
func TestTranscodeListing(t *testing.T) {
	env, _ := fixtureEnvWith(t, Config{FFmpeg: fakeFFmpeg(t)})
	snap := env.cat.Snapshot()
	for _, ua := range []string{uaMusic, uaRB} {
		_, body := env.get(t, "/databases/1/items?meta=daap.songformat,daap.songsize,daap.songdescription", "User-Agent", ua, "Client-DAAP-Version", "3.0")
		n := 0
		for _, it := range listing(t, body, "adbs") {
			tr, _ := snap.Track(uint32(it["miid"].Uint()))
			if tr.Codec != "flac" {
				continue
			}
			n++
			f, size, desc := string(it["asfm"].Value), int64(it["assz"].Uint()), string(it["asdt"].Value)
			switch {
			case ua == uaRB && (f != "flac" || size != tr.Size):
				t.Errorf("Rhythmbox: %s: %s %d", tr.Path, f, size)
			case ua == uaMusic && (f != "wav" || size != transcode.Size(transcode.Frames(tr.DurationMS)) || desc != "WAV audio file"):
				t.Errorf("Music.app: %s: %s %d %q", tr.Path, f, size, desc)
			}
		}
		if n != 4 {
			t.Errorf("%s: %d FLAC tracks listed, want 4", ua, n)
		}
	}
}

// TestTranscodeLimits: HEAD runs no ffmpeg, a busy server answers 503
// with Retry-After, and a client that goes away mid-stream ends its
// ffmpeg.
func TestTranscodeLimits(t *testing.T) {
	realFFmpeg(t)
	env, _ := fixtureEnvWith(t, Config{MaxTranscodes: 1})
	var tr *library.Track
	for _, x := range env.cat.Snapshot().Tracks {
		if x.Codec == "flac" {
			tr = x
			break
		}
	}
	u := env.http.URL + fmt.Sprintf("/databases/1/items/%d.wav", tr.ID)
	size := transcode.Size(transcode.Frames(tr.DurationMS))

	req, _ := http.NewRequest("HEAD", u, nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 || res.ContentLength != size || len(env.srv.transSem) != 0 {
		t.Errorf("HEAD: %d, Content-Length %d, want %d", res.StatusCode, res.ContentLength, size)
	}

	env.srv.transWait = 0
	env.srv.transSem <- struct{}{} // the one slot is taken
	res, body := env.get(t, fmt.Sprintf("/databases/1/items/%d.wav", tr.ID))
	if res.StatusCode != 503 || res.Header.Get("Retry-After") == "" {
		t.Errorf("busy: %d %q %s", res.StatusCode, res.Header.Get("Retry-After"), body)
	}
	// The header alone needs no ffmpeg.
	if res, body := env.get(t, fmt.Sprintf("/databases/1/items/%d.wav", tr.ID), "Range", "bytes=0-43"); res.StatusCode != 206 || len(body) != 44 {
		t.Errorf("header range while busy: %d, %d bytes", res.StatusCode, len(body))
	}
	<-env.srv.transSem

	// A client that reads a little and hangs up: the handler returns (its
	// slot is free again) only once ffmpeg has been reaped.
	ctx, cancel := context.WithCancel(context.Background())
	req, _ = http.NewRequestWithContext(ctx, "GET", u, nil)
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(res.Body, make([]byte, 100)); err != nil {
		b, _ := io.ReadAll(res.Body)
		t.Fatal(res.Status, err, string(b))
	}
	cancel()
	res.Body.Close()
	env.srv.transSem <- struct{}{} // blocks until the handler released the slot
	<-env.srv.transSem
}

// topInt is the integer child tag of a reply's top container.
func topInt(t *testing.T, body []byte, tag string) uint64 {
	t.Helper()
	elems, err := dmap.Decode(body)
	if err != nil || len(elems) != 1 {
		t.Fatalf("decode: %v", err)
	}
	c, ok := elems[0].Child(tag)
	if !ok {
		t.Fatalf("%s without %s", elems[0].Tag, tag)
	}
	return c.Uint()
}

// browseNames lists a browse reply's names.
func browseNames(t *testing.T, body []byte) []string {
	t.Helper()
	elems, err := dmap.Decode(body)
	if err != nil || len(elems) != 1 {
		t.Fatalf("decode: %v", err)
	}
	var names []string
	for _, c := range elems[0].Children {
		if c.Tag == "abar" {
			for _, it := range c.Children {
				names = append(names, string(it.Value))
			}
		}
	}
	return names
}

// loginID logs in and returns the session id of a /login reply.
func loginID(t *testing.T, body []byte) uint64 {
	t.Helper()
	return topInt(t, body, "mlid")
}

// BenchmarkTranscode streams a 5-minute 44.1 kHz stereo FLAC as WAV
// through the handler: whole, and the first 64 KiB after a seek to the
// middle (what a client waits for when it scrubs).
func BenchmarkTranscode(b *testing.B) {
	realFFmpeg(b)
	dir := b.TempDir()
	src := filepath.Join(dir, "long.flac")
	gen := exec.Command("ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100:duration=300",
		"-ac", "2", src)
	if out, err := gen.CombinedOutput(); err != nil {
		b.Fatalf("generate: %v %s", err, out)
	}
	fi, _ := os.Stat(src)
	cat := library.NewCatalog()
	cat.Publish([]*library.Track{{ID: 1, Root: dir, Path: "long.flac", Title: "Long", Codec: "flac", Format: "flac",
		DurationMS: 300000, SampleRate: 44100, Channels: 2, Size: fi.Size()}}, nil)
	srv := New(Config{Catalog: cat})
	hs := httptest.NewServer(srv.Handler())
	defer srv.Close()
	defer hs.Close()
	fetch := func(b *testing.B, rng string, limit int64) int64 {
		req, _ := http.NewRequest("GET", hs.URL+"/databases/1/items/1.wav", nil)
		req.Header.Set("User-Agent", uaMusic)
		if rng != "" {
			req.Header.Set("Range", rng)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		defer res.Body.Close()
		n, err := io.Copy(io.Discard, io.LimitReader(res.Body, limit))
		if err != nil {
			b.Fatal(err)
		}
		return n
	}
	size := transcode.Size(transcode.Frames(300000))
	b.Run("whole", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			if n := fetch(b, "", size); n != size {
				b.Fatalf("%d bytes, want %d", n, size)
			}
		}
	})
	b.Run("seek-middle-64k", func(b *testing.B) {
		for b.Loop() {
			if n := fetch(b, fmt.Sprintf("bytes=%d-", size/2), 64<<10); n != 64<<10 {
				b.Fatalf("%d bytes", n)
			}
		}
	})
}

// BenchmarkItemsWAV builds iTunes' item listing of 100,000 FLAC tracks,
// each presented as its WAV transcode, next to the same library listed
// as FLAC (transcode: off).
func BenchmarkItemsWAV(b *testing.B) {
	strictEncoding = false
	defer func() { strictEncoding = true }()
	tracks := syntheticTracks(100_000)
	for _, t := range tracks {
		t.Codec, t.Format = "flac", "flac"
	}
	cat := library.NewCatalog()
	cat.Publish(tracks, nil)
	target := "/databases/1/items?session-id=1&revision-number=3&delta=0&type=music&meta=" + url.QueryEscape(itunesMeta)
	for _, mode := range []string{TranscodeOff, TranscodeAuto} {
		b.Run(mode, func(b *testing.B) {
			s := New(Config{Catalog: cat, Transcode: mode, FFmpeg: fakeFFmpeg(b)})
			defer s.Close()
			h := s.Handler()
			cpu := testkit.CPUTime()
			for b.Loop() {
				s.cache = newLRU(cacheBytes)
				r := httptest.NewRequest("GET", target, nil)
				r.Header.Set("User-Agent", uaITunes)
				w := &discard{h: http.Header{}}
				h.ServeHTTP(w, r)
				if w.n == 0 {
					b.Fatal("empty reply")
				}
			}
			b.ReportMetric(float64(testkit.CPUTime()-cpu)/float64(b.N), "cpu-ns/op")
		})
	}
}

// TestTranscodeShortAndBroken: a file shorter than its stated duration is
// padded with silence to the promised length; a file ffmpeg cannot decode
// answers 500, logged with what ffmpeg said.
func TestTranscodeShortAndBroken(t *testing.T) {
	realFFmpeg(t)
	src := filepath.Join(fixtures.Dir(), "Sigur Rós", "Ágætis Test", "1-02 Hjartað hamast.flac") // 1 s
	dir := t.TempDir()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "short.flac"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "broken.flac"), bytes.Repeat([]byte("not audio "), 1000), 0o644); err != nil {
		t.Fatal(err)
	}
	cat := library.NewCatalog()
	cat.Publish([]*library.Track{
		{ID: 1, Root: dir, Path: "short.flac", Codec: "flac", Format: "flac", DurationMS: 1500},
		{ID: 2, Root: dir, Path: "broken.flac", Codec: "flac", Format: "flac", DurationMS: 1000},
	}, nil)
	var logs testkit.SyncBuffer
	srv := New(Config{Catalog: cat, Log: slog.New(slog.NewTextHandler(&logs, nil))})
	hs := httptest.NewServer(srv.Handler())
	defer srv.Close()
	defer hs.Close()
	env := &testEnv{srv: srv, http: hs, cat: cat, root: dir}

	res, body := env.get(t, "/databases/1/items/1.wav", "User-Agent", uaMusic)
	if want := transcode.Size(transcode.Frames(1500)); res.StatusCode != 200 || int64(len(body)) != want {
		t.Fatalf("short file: %d, %d bytes, want %d", res.StatusCode, len(body), want)
	}
	pcm := wavInfo(t, body)
	if tail := pcm[len(pcm)-4*44100*4/10:]; !bytes.Equal(tail, make([]byte, len(tail))) {
		t.Errorf("the padding is not silence")
	}
	if bytes.Equal(pcm[:4*44100/2], make([]byte, 4*44100/2)) {
		t.Errorf("the audio is silence")
	}

	res, body = env.get(t, "/databases/1/items/2.wav", "User-Agent", uaMusic)
	if res.StatusCode != 500 {
		t.Errorf("broken file: %d %s", res.StatusCode, body)
	}
	if !strings.Contains(logs.String(), "transcode broken.flac: ffmpeg: exit status") {
		t.Errorf("log:\n%s", logs.String())
	}
}

// TestAppleEveryFixture: iTunes is offered every fixture, each either as
// it is (a format it plays) or as a WAV transcode whose audio runs to the
// track's length: the last non-silent sample (the fixtures are sine tones)
// lies within 1% or 50 ms of the end, so ffmpeg decoded the whole file and
// the stream was not padded out. Rhythmbox gets WAV only for the formats
// GStreamer cannot be expected to decode.
func TestAppleEveryFixture(t *testing.T) {
	realFFmpeg(t)
	env, exp := fixtureEnvWith(t, Config{})
	snap := env.cat.Snapshot()
	if len(snap.Tracks) != len(exp.Tracks) {
		t.Fatalf("%d tracks scanned, %d fixtures", len(snap.Tracks), len(exp.Tracks))
	}
	_, body := env.get(t, "/databases/1/items?meta=dmap.itemid,daap.songformat,daap.songsize", "User-Agent", uaITunes)
	items := listing(t, body, "adbs")
	if len(items) != len(snap.Tracks) {
		t.Errorf("iTunes is offered %d of %d fixtures", len(items), len(snap.Tracks))
	}
	wavs := 0
	for _, it := range items {
		tr, _ := snap.Track(uint32(it["miid"].Uint()))
		format := string(it["asfm"].Value)
		if format != "wav" || tr.Format == "wav" {
			if !transcode.Plays(transcode.Apple, tr.Codec, tr.Format) {
				t.Errorf("%s (%s) offered as %s", tr.Path, tr.Codec, format)
			}
			continue
		}
		wavs++
		t.Run(tr.Path, func(t *testing.T) {
			res, full := env.get(t, fmt.Sprintf("/databases/1/items/%d.wav?session-id=1", tr.ID), "User-Agent", uaITunes)
			size := transcode.Size(transcode.Frames(tr.DurationMS))
			if res.StatusCode != 200 || int64(len(full)) != size || int64(it["assz"].Uint()) != size {
				t.Fatalf("%d, %d bytes, listed %d, want %d", res.StatusCode, len(full), it["assz"].Uint(), size)
			}
			pcm := wavInfo(t, full)
			last := -1
			for i := len(pcm) - 2; i >= 0; i -= 2 {
				if s := int16(binary.LittleEndian.Uint16(pcm[i:])); s > 64 || s < -64 {
					last = i / 4
					break
				}
			}
			frames := len(pcm) / 4
			tol := max(frames/100, 50*44100/1000)
			if frames-last > tol {
				t.Errorf("audio ends at frame %d of %d: decoded %d ms, listed %d ms", last, frames, last*1000/44100, tr.DurationMS)
			}
		})
	}
	if wavs < 10 {
		t.Errorf("only %d fixtures transcoded", wavs)
	}
	// Rhythmbox: FLAC as it is, WMA as WAV.
	_, body = env.get(t, "/databases/1/items?meta=dmap.itemid,daap.songformat", "User-Agent", uaRB, "Client-DAAP-Version", "3.0")
	for _, it := range listing(t, body, "adbs") {
		tr, _ := snap.Track(uint32(it["miid"].Uint()))
		want := tr.Format
		if !transcode.Plays(transcode.Other, tr.Codec, tr.Format) {
			want = "wav"
		}
		if got := string(it["asfm"].Value); got != want {
			t.Errorf("Rhythmbox: %s offered as %s, want %s", tr.Path, got, want)
		}
	}
}
