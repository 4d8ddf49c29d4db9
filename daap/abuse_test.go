package daap

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/daapd/daapd/internal/regfile"
	"github.com/daapd/daapd/internal/testkit"
	"github.com/daapd/daapd/library"
)

// hangGuard bounds requests that used to hang forever: a test fails, not
// hangs, when one comes back. It is no timing assertion: a healthy answer
// takes milliseconds.
const hangGuard = 60 * time.Second

// getGuarded is env.get with hangGuard.
func (e *testEnv) getGuarded(t *testing.T, path string, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", e.http.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return res, body
}

// TestTrackNotRegular: a track, or its folder image, replaced by a FIFO, a
// device or a directory answers at once (streams 404, direct or
// transcoded; artwork 204) and is logged once however often it is asked
// for. Opening a FIFO used to block the request forever.
func TestTrackNotRegular(t *testing.T) {
	dir := t.TempDir()
	replace := map[string]func(p string) error{
		"fifo":      func(p string) error { return syscall.Mkfifo(p, 0o644) },
		"device":    func(p string) error { return os.Symlink("/dev/zero", p) },
		"directory": func(p string) error { return os.Mkdir(p, 0o755) },
	}
	var tracks []*library.Track
	id := uint32(1)
	for kind, mk := range replace {
		if err := os.MkdirAll(filepath.Join(dir, kind), 0o755); err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"song.flac", "cover.jpg"} {
			if err := mk(filepath.Join(dir, kind, name)); err != nil {
				t.Fatal(err)
			}
		}
		tracks = append(tracks,
			&library.Track{ID: id, Root: dir, Path: kind + "/song.flac", Codec: "flac", Format: "flac", DurationMS: 1000,
				Album: kind, AlbumID: uint64(id), Artwork: &library.Artwork{Source: library.ArtworkEmbedded}},
			&library.Track{ID: id + 1, Root: dir, Path: kind + "/other.mp3", Codec: "mp3", Format: "mp3",
				Artwork: &library.Artwork{Source: library.ArtworkFile, Path: kind + "/cover.jpg"}})
		id += 2
	}
	var logs testkit.SyncBuffer
	env := envWith(t, dir, Config{Log: slog.New(slog.NewTextHandler(&logs, nil)), FFmpeg: fakeFFmpeg(t)}, tracks...)
	for _, tr := range tracks {
		for range 3 {
			if tr.Format == "flac" {
				if res, body := env.getGuarded(t, fmt.Sprintf("/databases/1/items/%d.flac", tr.ID), "User-Agent", uaRB); res.StatusCode != 404 {
					t.Errorf("%s, direct: %d %q, want 404", tr.Path, res.StatusCode, body)
				}
				if res, body := env.getGuarded(t, fmt.Sprintf("/databases/1/items/%d.wav", tr.ID), "User-Agent", uaMusic); res.StatusCode != 404 {
					t.Errorf("%s, transcoded: %d %q, want 404", tr.Path, res.StatusCode, body)
				}
			}
			if res, _ := env.getGuarded(t, fmt.Sprintf("/databases/1/items/%d/extra_data/artwork", tr.ID)); res.StatusCode != 204 {
				t.Errorf("%s, artwork: %d, want 204", tr.Path, res.StatusCode)
			}
		}
	}
	for kind := range replace {
		for _, name := range []string{"song.flac", "cover.jpg"} {
			p := filepath.Join(dir, kind, name)
			if n := strings.Count(logs.String(), "path="+p+" "); n != 1 {
				t.Errorf("%s logged %d times, want once", p, n)
			}
		}
	}
}

// TestOpenRegular: openRegular refuses FIFOs without blocking, and
// returns regular files in blocking mode.
func TestOpenRegular(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := openRegular(fifo); !errors.Is(err, regfile.ErrNotRegular) {
		t.Errorf("FIFO: %v, want %v", err, regfile.ErrNotRegular)
	}
	reg := filepath.Join(dir, "file")
	if err := os.WriteFile(reg, []byte("data"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, fi, err := openRegular(reg)
	if err != nil || fi.Size() != 4 {
		t.Fatalf("regular file: %v, %v", fi, err)
	}
	defer f.Close()
	rc, _ := f.SyscallConn()
	rc.Control(func(fd uintptr) {
		fl, _, errno := syscall.Syscall(syscall.SYS_FCNTL, fd, syscall.F_GETFL, 0)
		if errno != 0 || fl&syscall.O_NONBLOCK != 0 {
			t.Errorf("flags %#x (%v): still non-blocking", fl, errno)
		}
	})
}

// TestFileErrors: every failure to open a track maps to its status in one
// place, and the ones its owner must fix are logged once.
func TestFileErrors(t *testing.T) {
	var logs testkit.SyncBuffer
	s := New(Config{Log: slog.New(slog.NewTextHandler(&logs, nil))})
	pe := func(err error) error { return &fs.PathError{Op: "open", Path: "/m/x.mp3", Err: err} }
	cases := []struct {
		name    string
		missing bool
		err     error
		status  int
		logged  bool
	}{
		{"gone", false, pe(syscall.ENOENT), 404, false},
		{"music folder unavailable", true, pe(syscall.ENOENT), 503, false},
		{"not readable (EACCES)", false, pe(syscall.EACCES), 403, true},
		{"not permitted (EPERM)", false, pe(syscall.EPERM), 403, true},
		{"FIFO", false, fmt.Errorf("/m/x.mp3: %w (a FIFO)", regfile.ErrNotRegular), 404, true},
		{"I/O error", false, pe(syscall.EIO), 500, true},
	}
	for _, tc := range cases {
		logs.Reset()
		tr := &library.Track{Path: "x.mp3", Missing: tc.missing}
		for range 3 {
			var he *httpError
			err := s.fileError(tr, "/m/x.mp3", tc.err)
			if !errors.As(err, &he) || he.status != tc.status {
				t.Errorf("%s: %v, want status %d", tc.name, err, tc.status)
			}
		}
		if n := strings.Count(logs.String(), "\n"); n != map[bool]int{false: 0, true: 1}[tc.logged] {
			t.Errorf("%s: %d log lines, want logged=%v:\n%s", tc.name, n, tc.logged, logs.String())
		}
		s.logged = make(map[string]bool)
	}
}

// TestUnreadableTrack: a track daapd may not read (mode 000) answers 403,
// direct or transcoded, and is logged once, not as an ERROR on every
// request. Root reads mode-000 files, so as root the open fails with
// EACCES through the server's open hook instead.
func TestUnreadableTrack(t *testing.T) {
	root := t.TempDir()
	var logs testkit.SyncBuffer
	env := envWith(t, root, Config{Log: slog.New(slog.NewTextHandler(&logs, nil)), FFmpeg: fakeFFmpeg(t)}, testTracks(t, root)...)
	locked := map[string]bool{}
	for _, p := range []string{"Alpha/One/01 Sunrise.mp3", "Beta/Two/01 Ünïcode.flac"} {
		full := filepath.Join(root, p)
		locked[full] = true
		if err := os.Chmod(full, 0); err != nil {
			t.Fatal(err)
		}
	}
	if os.Geteuid() == 0 {
		env.srv.open = func(p string) (*os.File, fs.FileInfo, error) {
			if locked[p] {
				return nil, nil, &fs.PathError{Op: "open", Path: p, Err: syscall.EACCES}
			}
			return openRegular(p)
		}
	}
	for _, u := range []struct{ path, ua string }{
		{"/databases/1/items/11.mp3", uaRB},
		{"/databases/1/items/13.flac", uaRB},
		{"/databases/1/items/13.wav", uaMusic},
	} {
		for range 3 {
			if res, body := env.getGuarded(t, u.path, "User-Agent", u.ua); res.StatusCode != 403 {
				t.Errorf("%s: %d %q, want 403", u.path, res.StatusCode, body)
			}
		}
	}
	if res, _ := env.getGuarded(t, "/databases/1/items/12.mp3"); res.StatusCode != 200 {
		t.Errorf("a readable track: %d", res.StatusCode)
	}
	out := logs.String()
	if strings.Contains(out, "level=ERROR") {
		t.Errorf("logged as errors:\n%s", out)
	}
	for p := range locked {
		if n := strings.Count(out, "path=\""+p+"\""); n != 1 {
			t.Errorf("%s logged %d times, want once:\n%s", p, n, out)
		}
	}
}

// TestStreamStall: a client that stops reading a stream, direct or
// transcoded, is cut off after the stall timeout, as it would otherwise
// hold its descriptors (and an ffmpeg) forever.
func TestStreamStall(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.mp3")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	f.Truncate(256 << 20) // sparse: more than any socket buffers
	f.Close()
	tracks := []*library.Track{{ID: 1, Root: dir, Path: "big.mp3", Codec: "mp3", Format: "mp3", Size: 256 << 20}}
	_, ffErr := exec.LookPath("ffmpeg")
	if ffErr == nil {
		gen := exec.Command("ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100:duration=600",
			"-ac", "1", "-c:a", "flac", filepath.Join(dir, "long.flac"))
		if out, err := gen.CombinedOutput(); err != nil {
			t.Fatalf("ffmpeg: %v: %s", err, out)
		}
		tracks = append(tracks, &library.Track{ID: 2, Root: dir, Path: "long.flac", Codec: "flac", Format: "flac", DurationMS: 600_000})
	}
	cat := library.NewCatalog()
	cat.Publish(tracks, nil)
	srv := New(Config{Catalog: cat, StallTimeout: 300 * time.Millisecond})
	closed := make(chan struct{}, 8)
	hs := httptest.NewUnstartedServer(srv.Handler())
	hs.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateClosed {
			closed <- struct{}{}
		}
	}
	hs.Start()
	defer hs.Close()
	defer srv.Close()

	cases := []struct{ name, path, ua string }{
		{"direct", "/databases/1/items/1.mp3", uaRB},
		{"transcoded", "/databases/1/items/2.wav", uaMusic},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "transcoded" && ffErr != nil {
				t.Skip("ffmpeg not in PATH: the transcoded stream needs it (apt-get install ffmpeg)")
			}
			d := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
				return c.Control(func(fd uintptr) { syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
			}}
			c, err := d.Dial("tcp", hs.Listener.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: x\r\nUser-Agent: %s\r\n\r\n", tc.path, tc.ua)
			select { // the server gives up on the client that reads nothing
			case <-closed:
			case <-time.After(hangGuard):
				t.Fatal("a stalled client still holds its stream")
			}
			c.SetReadDeadline(time.Now().Add(hangGuard))
			res, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				t.Fatal(err)
			}
			n, _ := io.Copy(io.Discard, res.Body)
			if res.StatusCode != 200 || n >= res.ContentLength {
				t.Errorf("%d, %d of %d bytes: want a cut-off 200", res.StatusCode, n, res.ContentLength)
			}
		})
	}
}

// routeSamples gives each route of Handler a path to request (as a
// session holder) and the status it then answers.
var routeSamples = map[string]struct {
	path   string
	status int
}{
	"/server-info":                       {"/server-info", 200},
	"/content-codes":                     {"/content-codes", 200},
	"/login":                             {"/login", 200},
	"/logout":                            {"/logout", 204},
	"/activity":                          {"/activity", 204},
	"/update":                            {"/update?revision-number=1", 200},
	"/databases":                         {"/databases", 200},
	"/databases/{db}/items":              {"/databases/1/items", 200},
	"/databases/{db}/items/{item}.{ext}": {"/databases/1/items/11.mp3", 200},
	"/databases/{db}/items/{item}":       {"/databases/1/items/11", 200},
	"/databases/{db}/items/{item}/extra_data/artwork": {"/databases/1/items/11/extra_data/artwork", 200},
	"/databases/{db}/containers":                      {"/databases/1/containers", 200},
	"/databases/{db}/containers/{id}/items":           {"/databases/1/containers/501/items", 200},
	"/databases/{db}/browse/{kind}":                   {"/databases/1/browse/artists", 200},
	"/databases/{db}/groups":                          {"/databases/1/groups", 200},
	"/databases/{db}/groups/{id}/extra_data/artwork":  {fmt.Sprintf("/databases/1/groups/%d/extra_data/artwork", uint64(0xA1A1A1A1A1A1A1A1)), 200},
}

// openRoutes need no password.
var openRoutes = map[string]bool{"/server-info": true, "/content-codes": true, "/login": true}

// TestRoutesNeedPassword: with a password set, every route but
// /server-info, /content-codes and /login needs a live session-id (or the
// password): without one it answers 403 and does nothing; /logout used to
// end any session by id. Every route of Handler must be in routeSamples,
// so a new route cannot slip by without a decision.
func TestRoutesNeedPassword(t *testing.T) {
	env := newEnv(t, "secret")
	err := chi.Walk(env.srv.Handler(), func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		if _, ok := routeSamples[route]; !ok && method == "GET" {
			t.Errorf("route %s %s: not in routeSamples; decide whether it needs the password", method, route)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	auth := "Basic " + base64Std("iTunes_Music/1.4.5 (Macintosh; OS X 14.5):secret")
	_, body := env.get(t, "/login", "Authorization", auth)
	sid := loginID(t, body)
	for route, rs := range routeSamples {
		sep := "?"
		if strings.Contains(rs.path, "?") {
			sep = "&"
		}
		// Without credentials.
		res, _ := env.get(t, rs.path)
		want := http.StatusForbidden
		switch {
		case route == "/login":
			want = http.StatusUnauthorized
		case openRoutes[route]:
			want = rs.status
		}
		if res.StatusCode != want {
			t.Errorf("%s without credentials: %d, want %d", rs.path, res.StatusCode, want)
		}
		// With a session that is not live, or a wrong password.
		if !openRoutes[route] {
			if res, _ := env.get(t, rs.path+sep+"session-id=12345"); res.StatusCode != http.StatusForbidden {
				t.Errorf("%s with a dead session: %d, want 403", rs.path, res.StatusCode)
			}
			if res, _ := env.get(t, rs.path, "Authorization", "Basic "+base64Std("x:wrong")); res.StatusCode != http.StatusForbidden {
				t.Errorf("%s with a wrong password: %d, want 403", rs.path, res.StatusCode)
			}
		}
		if route == "/logout" || route == "/login" {
			continue // logout with a session: below, last; login needs the password
		}
		// With the live session.
		if res, body := env.get(t, fmt.Sprintf("%s%ssession-id=%d", rs.path, sep, sid)); res.StatusCode != rs.status {
			t.Errorf("%s with a session: %d %q, want %d", rs.path, res.StatusCode, body, rs.status)
		}
	}
	// The session survived every attempt above; now it ends.
	if res, _ := env.get(t, fmt.Sprintf("/logout?session-id=%d", sid)); res.StatusCode != 204 {
		t.Errorf("logout: %d", res.StatusCode)
	}
	if res, _ := env.get(t, fmt.Sprintf("/databases?session-id=%d", sid)); res.StatusCode != 403 {
		t.Errorf("after logout: %d, want 403", res.StatusCode)
	}
}

// TestLoginFlood: 200 fresh logins do not push out clients using the
// share: a client parked on /update and one that listed a moment ago keep
// their sessions, and logins beyond the table are refused with 503 while
// every session is recent. Once sessions have been idle for a while, a
// new login evicts the least recently used of them.
func TestLoginFlood(t *testing.T) {
	env := newEnv(t, "")
	env.srv.sessions.max = 10
	now := epoch
	var mu sync.Mutex
	env.srv.sessions.now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	login := func() (uint32, int) {
		res, body := env.get(t, "/login")
		if res.StatusCode != 200 {
			return 0, res.StatusCode
		}
		return uint32(loginID(t, body)), 200
	}
	parked, _ := login()
	rev := env.cat.Revision()
	upd := env.async(t, fmt.Sprintf("/update?session-id=%d&revision-number=%d", parked, rev))
	waitParked(env.srv, 1)
	advance(time.Hour) // the parked client's last request began an hour ago
	lister, _ := login()
	env.get(t, fmt.Sprintf("/databases/1/items?session-id=%d", lister))

	refused := 0
	var flood []uint32
	for range 200 {
		id, status := login()
		switch status {
		case 200:
			flood = append(flood, id)
		case 503:
			refused++
		default:
			t.Fatalf("login: %d", status)
		}
	}
	if len(flood) != 8 || refused != 192 {
		t.Errorf("flood: %d logins, %d refused; want 8 and 192", len(flood), refused)
	}
	res, _ := env.get(t, "/login")
	if res.StatusCode != 503 || res.Header.Get("Retry-After") == "" {
		t.Errorf("full table: %d, Retry-After %q", res.StatusCode, res.Header.Get("Retry-After"))
	}
	live := func(id uint32) bool {
		res, _ := env.get(t, fmt.Sprintf("/databases?session-id=%d", id))
		return res.StatusCode == 200
	}
	// No password: requests pass anyway, so ask the table.
	has := func(id uint32) bool {
		env.srv.sessions.mu.Lock()
		defer env.srv.sessions.mu.Unlock()
		_, ok := env.srv.sessions.byID[id]
		return ok
	}
	if !has(parked) || !has(lister) {
		t.Fatalf("a client in use lost its session: parked %v, lister %v", has(parked), has(lister))
	}

	// Later: the flood's sessions went idle; the lister keeps listing.
	advance(10 * time.Minute)
	live(lister)
	for range len(flood) {
		if _, status := login(); status != 200 {
			t.Fatalf("login after the flood went idle: %d", status)
		}
	}
	if !has(parked) || !has(lister) {
		t.Errorf("a client in use lost its session after the flood went idle: parked %v, lister %v", has(parked), has(lister))
	}
	for _, id := range flood {
		if has(id) {
			t.Errorf("idle flood session %d kept while the table was full", id)
		}
	}
	env.srv.Close()
	<-upd
}

// heapAllocs returns the bytes allocated on the heap so far.
func heapAllocs() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// TestListingFlood is the listing attack in small: many distinct item
// listings (a query no cache holds) requested at once by clients that
// close their connections without reading. Every server used to build
// every one of them, one whole listing per request, all at once.
//
// First, with the budget taken (a listing being sent), every request
// queues and no build starts; when the clients go, their builds are
// dropped without ever running. Then, with room for two builds, the
// clients close at once: the server never counts more than its budget, and
// allocates a few listings' worth, not one per request.
func TestListingFlood(t *testing.T) {
	strictEncoding = false
	defer func() { strictEncoding = true }()
	cat := library.NewCatalog()
	cat.Publish(syntheticTracks(20_000), nil)
	srv := New(Config{Catalog: cat})
	closed := make(chan struct{}, 200)
	hs := httptest.NewUnstartedServer(srv.Handler())
	hs.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateClosed {
			closed <- struct{}{}
		}
	}
	hs.Start()
	defer hs.Close()
	defer srv.Close()
	target := func(i int) string {
		return "/databases/1/items?meta=all&query=" + url.QueryEscape(fmt.Sprintf("'dmap.itemname!:zz%d'", i))
	}
	send := func(i int) net.Conn {
		c, err := net.Dial("tcp", hs.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", target(i))
		return c
	}
	waitClosed := func(n int) {
		for i := range n {
			select {
			case <-closed:
			case <-time.After(hangGuard):
				t.Fatalf("%d of %d requests still running", n-i, n)
			}
		}
		for !srv.cache.idle() {
			runtime.Gosched()
		}
	}

	// One listing, read: its size and what building it allocates.
	before := heapAllocs()
	c := send(-1)
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	size, _ := io.Copy(io.Discard, res.Body)
	c.Close()
	waitClosed(1)
	one := heapAllocs() - before

	// The budget is taken: every request waits, none builds.
	const n = 40
	srv.cache = newLRU(int(size) * 5 / 2)
	pin, err := srv.cache.get(context.Background(), "pin", cat.Revision(), nil, buildOf(int(size)*5/2-128))
	if err != nil {
		t.Fatal(err)
	}
	before = heapAllocs()
	var conns []net.Conn
	for i := range n {
		conns = append(conns, send(i))
	}
	for srv.cache.queued() != n {
		runtime.Gosched()
	}
	for _, c := range conns {
		c.Close()
	}
	waitClosed(n)
	srv.cache.release(pin)
	if got := heapAllocs() - before; got > one/2 {
		t.Errorf("%d requests that left while queued allocated %d bytes (a listing is %d)", n, got, one)
	}

	// Room for two builds; the clients close at once.
	before = heapAllocs()
	for i := range n {
		send(n + i).Close()
	}
	waitClosed(n)
	flood := heapAllocs() - before
	t.Logf("one listing: %d bytes, %d allocated; %d abandoned requests allocated %d (%.1f listings)",
		size, one, n, flood, float64(flood)/float64(one))
	if flood > n/2*one {
		t.Errorf("%d abandoned requests allocated %.1f listings' worth", n, float64(flood)/float64(one))
	}
	if peak, max := srv.cache.peak, srv.cache.max; peak > max {
		t.Errorf("peak %d bytes counted, over the budget %d", peak, max)
	}
}
