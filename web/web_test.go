package web

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/daapd/daapd/library"
)

func get(t *testing.T, c *http.Client, u string, hdr ...string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func TestPages(t *testing.T) {
	ts := newTestServer(t, "")
	html := []string{"Accept", "text/html"}
	n := fmt.Sprintf(">%d<", len(ts.lib.Catalog().Snapshot().Tracks))
	for _, tc := range []struct {
		path string
		want []string
	}{
		{"/", []string{shareName, n, "tracks", "embedded", "SIGHUP", "Rescan now"}},
		{"/?q=moon", []string{"月 Moon", "Results for"}},
		{"/?q=sigur+ros", []string{"Starálfur"}},       // accents folded
		{"/?q=STARALFUR+sigur", []string{"Starálfur"}}, // several words, any field
		{"/albums", []string{"First Light", "/web/art/"}},
		{"/artists", []string{"Alpha Quartet"}},
		{"/tracks", []string{"Dawn Chorus", "data-k=\"mp3\""}},
		{"/tracks?sort=title&page=1", []string{"Autumn Hit"}},
		{"/playlists", []string{"Road Trip"}},
		{"/problems", []string{"noise.mp3", "broken", "empty.flac", "no audio", "old.mid", "unsupported", "mix.m3u", "playlist", "missing-share", "folder unavailable"}},
		{"/problems?kind=unsupported", []string{"old.mid"}},
		{"/problems?filter=noise", []string{"noise.mp3"}},
	} {
		resp, body := get(t, http.DefaultClient, ts.URL+tc.path, html...)
		if resp.StatusCode != 200 {
			t.Errorf("%s: status %d", tc.path, resp.StatusCode)
		}
		for _, w := range tc.want {
			if !strings.Contains(body, w) {
				t.Errorf("%s: no %q in the page", tc.path, w)
			}
		}
	}
	_, body := get(t, http.DefaultClient, ts.URL+"/problems?kind=unsupported", html...)
	if strings.Contains(body, "noise.mp3") {
		t.Error("/problems?kind=unsupported lists other kinds")
	}
}

// TestDAAPUnchanged checks that DAAP clients, and requests that are not
// for a page, get the DAAP server's replies at /.
func TestDAAPUnchanged(t *testing.T) {
	ts := newTestServer(t, "")
	for _, tc := range []struct {
		name string
		hdr  []string
		want int
	}{
		{"browser", []string{"Accept", "text/html,application/xhtml+xml"}, 200},
		{"no accept", nil, 404},
		{"itunes", []string{"Accept", "text/html", "User-Agent", "iTunes/12.12 (Macintosh; OS X 14.5)"}, 404},
		{"daap version", []string{"Accept", "text/html", "Client-DAAP-Version", "3.0"}, 404},
		{"rhythmbox", []string{"Accept", "*/*", "User-Agent", "Rhythmbox/3.4"}, 404},
	} {
		resp, _ := get(t, http.DefaultClient, ts.URL+"/", tc.hdr...)
		if resp.StatusCode != tc.want {
			t.Errorf("%s: status %d, want %d", tc.name, resp.StatusCode, tc.want)
		}
	}
	resp, _ := get(t, http.DefaultClient, ts.URL+"/server-info", "Accept", "text/html")
	if ct := resp.Header.Get("Content-Type"); ct != "application/x-dmap-tagged" {
		t.Errorf("/server-info from a browser: Content-Type %q", ct)
	}
	resp, _ = get(t, http.DefaultClient, ts.URL+"/albums", "User-Agent", "iTunes/12.12")
	if resp.StatusCode != 404 {
		t.Errorf("/albums from iTunes: %d, want DAAP's 404", resp.StatusCode)
	}
}

func TestStreamChoice(t *testing.T) {
	ts := newTestServer(t, "")
	snap := ts.lib.Catalog().Snapshot()
	find := func(format string) *library.Track {
		for _, tr := range snap.Tracks {
			if tr.Format == format {
				return tr
			}
		}
		t.Fatalf("no %s fixture", format)
		return nil
	}
	mp3, aiff := find("mp3"), find("aiff")
	for _, tc := range []struct {
		tr   *library.Track
		ok   string
		want string
	}{
		{mp3, "mp3.aac.flac", "audio/mpeg"},
		{mp3, "", "audio/mpeg"},
		{aiff, "aiff.mp3", "audio/aiff"},
	} {
		resp, _ := get(t, http.DefaultClient, ts.URL+"/web/stream/"+itoa(tc.tr.ID)+"?ok="+tc.ok)
		if ct := resp.Header.Get("Content-Type"); resp.StatusCode != 200 || ct != tc.want {
			t.Errorf("%s ok=%s: %d %s, want %s", tc.tr.Path, tc.ok, resp.StatusCode, ct, tc.want)
		}
	}
	if ts.daap.FFmpeg() == "" {
		t.Log("ffmpeg not found: not checking the transcoded stream")
		return
	}
	resp, body := get(t, http.DefaultClient, ts.URL+"/web/stream/"+itoa(aiff.ID)+"?ok=mp3.flac", "Range", "bytes=0-43")
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != 206 || ct != "audio/wav" || !strings.HasPrefix(body, "RIFF") {
		t.Errorf("aiff for a browser without AIFF: %d %s %q", resp.StatusCode, ct, body[:min(len(body), 4)])
	}
}

func TestPassword(t *testing.T) {
	ts := newTestServer(t, "sesame")
	for _, p := range []string{"/", "/albums", "/tracks", "/problems", "/?q=moon"} {
		resp, body := get(t, noRedirect, ts.URL+p, "Accept", "text/html")
		if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/signin") {
			t.Errorf("%s without signing in: %d %s", p, resp.StatusCode, resp.Header.Get("Location"))
		}
		if strings.Contains(body, "Moon") || strings.Contains(body, "Dawn") {
			t.Errorf("%s leaks the library before signing in", p)
		}
	}
	for _, p := range []string{"/metrics", "/web/status.json", "/web/stream/1", "/web/art/1"} {
		resp, _ := get(t, noRedirect, ts.URL+p)
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s without the password: %d, want 401", p, resp.StatusCode)
		}
	}
	_, body := get(t, noRedirect, ts.URL+"/signin", "Accept", "text/html")
	if strings.Contains(body, "Moon") || !strings.Contains(body, "password") {
		t.Errorf("sign-in page: %q", body)
	}
	// Wrong password, then the right one.
	post := func(pw string) *http.Response {
		req, _ := http.NewRequest("POST", ts.URL+"/signin", strings.NewReader(url.Values{"password": {pw}, "next": {"/albums"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", ts.URL)
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if resp := post("wrong"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("wrong password: %d", resp.StatusCode)
	}
	resp := post("sesame")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/albums" {
		t.Fatalf("right password: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	var cookie *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == cookieName {
			cookie = c
		}
	}
	if cookie == nil || !cookie.HttpOnly || cookie.SameSite != http.SameSiteStrictMode {
		t.Fatalf("session cookie: %+v", cookie)
	}
	resp, body = get(t, noRedirect, ts.URL+"/albums", "Accept", "text/html", "Cookie", cookie.String())
	if resp.StatusCode != 200 || !strings.Contains(body, "First Light") {
		t.Errorf("/albums signed in: %d", resp.StatusCode)
	}
	// HTTP Basic with the share password (Prometheus).
	req, _ := http.NewRequest("GET", ts.URL+"/metrics", nil)
	req.SetBasicAuth("prometheus", "sesame")
	mr, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	mr.Body.Close()
	if mr.StatusCode != 200 {
		t.Errorf("/metrics with Basic auth: %d", mr.StatusCode)
	}
	// A cross-site POST is refused.
	req, _ = http.NewRequest("POST", ts.URL+"/web/rescan", nil)
	req.Header.Set("Cookie", cookie.String())
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	cr, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	cr.Body.Close()
	if cr.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site rescan: %d, want 403", cr.StatusCode)
	}
}

func TestSession(t *testing.T) {
	s := &Server{key: []byte("k")}
	now := time.Unix(1_800_000_000, 0)
	v := s.session(now.Add(time.Hour))
	if !s.validSession(v, now) {
		t.Error("fresh session refused")
	}
	if s.validSession(v, now.Add(2*time.Hour)) {
		t.Error("expired session accepted")
	}
	for _, bad := range []string{"", ".", "1.2", v + "0", "9" + v, strings.Replace(v, ".", "x", 1)} {
		if s.validSession(bad, now) {
			t.Errorf("forged session %q accepted", bad)
		}
	}
	for in, want := range map[string]string{"/albums?page=2": "/albums?page=2", "//evil.example/": "/", "https://evil/": "/", "/\\evil": "/", "": "/"} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMetrics(t *testing.T) {
	ts := newTestServer(t, "")
	get(t, http.DefaultClient, ts.URL+"/albums", "Accept", "text/html")
	get(t, http.DefaultClient, ts.URL+"/server-info")
	_, body := get(t, http.DefaultClient, ts.URL+"/metrics")
	for _, w := range []string{
		`daapd_http_requests_total{method="GET",route="/albums",status="200"} 1`,
		`daapd_http_requests_total{method="GET",route="/server-info",status="200"} 1`,
		`daapd_http_request_duration_seconds_bucket{route="/albums"`,
		fmt.Sprintf(`daapd_catalog_items{kind="tracks"} %d`, len(ts.lib.Catalog().Snapshot().Tracks)),
		`daapd_announce_state{backend="embedded",state="announced"} 1`,
		`daapd_scans_total 1`, `daapd_scan_files{outcome="skipped"}`, `daapd_library_problems{kind="unsupported"} 1`,
		`daapd_library_roots_unavailable 1`, `daapd_cache_hits_total{cache="listings"}`, `daapd_daap_sessions 0`,
		`daapd_streams_in_flight 0`, `daapd_transcodes_in_flight 0`, `go_goroutines`, `process_cpu_seconds_total`,
	} {
		if !strings.Contains(body, w) {
			t.Errorf("/metrics has no %s", w)
		}
	}
}

func TestHelpers(t *testing.T) {
	for n, want := range map[int]string{0: "0", 999: "999", 9999: "9999", 10000: "10\u202f000", 1234567: "1\u202f234\u202f567"} {
		if got := num(n); got != want {
			t.Errorf("num(%d) = %q, want %q", n, got, want)
		}
	}
	for ms, want := range map[uint32]string{0: "0:00", 61_000: "1:01", 3_725_000: "1:02:05"} {
		if got := clock(ms); got != want {
			t.Errorf("clock(%d) = %q, want %q", ms, got, want)
		}
	}
	if got := fold("Sigur Rós ÁGÆTIS"); got != "sigur ros agætis" {
		t.Errorf("fold = %q", got)
	}
}

func itoa(n uint32) string { return strconv.FormatUint(uint64(n), 10) }

// FuzzSession: no cookie value panics, and none is valid unless it was
// made with the key.
func FuzzSession(f *testing.F) {
	s := &Server{key: []byte("k")}
	now := time.Unix(1_800_000_000, 0)
	f.Add(s.session(now.Add(time.Hour)))
	f.Add("1.2")
	f.Add("")
	f.Fuzz(func(t *testing.T, v string) {
		if s.validSession(v, now) && v != s.session(time.Unix(mustExp(v), 0)) {
			t.Errorf("%q accepted", v)
		}
		if n := safeNext(v); !strings.HasPrefix(n, "/") || strings.HasPrefix(n, "//") {
			t.Errorf("safeNext(%q) = %q", v, n)
		}
	})
}

func mustExp(v string) int64 {
	exp, _, _ := strings.Cut(v, ".")
	n, _ := strconv.ParseInt(exp, 10, 64)
	return n
}
