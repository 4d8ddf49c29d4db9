package daap

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/daapd/daapd/daap/dmap"
	"github.com/daapd/daapd/internal/testkit"
	"github.com/daapd/daapd/library"
)

// revisionOf returns musr from an /update reply.
func revisionOf(t *testing.T, body []byte) uint32 {
	t.Helper()
	elems, err := dmap.Decode(body)
	if err != nil || len(elems) != 1 || elems[0].Tag != "mupd" {
		t.Fatalf("update reply %q: %v", body, err)
	}
	r, ok := elems[0].Child("musr")
	if !ok {
		t.Fatal("no musr")
	}
	return uint32(r.Uint())
}

// waitParked waits until n /update requests are parked.
func waitParked(s *Server, n int32) {
	for s.parked.Load() != n {
		runtime.Gosched()
	}
}

type result struct {
	status int
	body   []byte
}

func (e *testEnv) async(t *testing.T, path string) <-chan result {
	ch := make(chan result, 1)
	go func() {
		res, err := http.Get(e.http.URL + path)
		if err != nil {
			ch <- result{status: -1, body: []byte(err.Error())}
			return
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		ch <- result{res.StatusCode, b}
	}()
	return ch
}

func TestUpdate(t *testing.T) {
	env := newEnv(t, "")
	cur := env.cat.Revision()
	if cur < 2 {
		t.Fatalf("revision %d, want >= 2", cur)
	}
	for _, q := range []string{"", "?revision-number=1", "?revision-number=1&delta=0",
		fmt.Sprintf("?revision-number=%d", cur-1), fmt.Sprintf("?revision-number=%d", cur+50)} {
		res, body := env.get(t, "/update"+q)
		if res.StatusCode != 200 || revisionOf(t, body) != cur {
			t.Errorf("/update%s: %d, revision %d; want %d at once", q, res.StatusCode, revisionOf(t, body), cur)
		}
	}

	// The current revision is held until the catalog changes.
	ch := env.async(t, fmt.Sprintf("/update?revision-number=%d&delta=%d", cur, cur))
	waitParked(env.srv, 1)
	tracks := env.cat.Snapshot().Tracks
	env.cat.Publish(tracks[:len(tracks)-1], nil)
	r := <-ch
	if r.status != 200 || revisionOf(t, r.body) != cur+1 {
		t.Fatalf("parked /update: %d %q, want revision %d", r.status, r.body, cur+1)
	}

	// Close releases parked requests with 503.
	ch = env.async(t, fmt.Sprintf("/update?revision-number=%d", cur+1))
	waitParked(env.srv, 1)
	env.srv.Close()
	if r := <-ch; r.status != http.StatusServiceUnavailable {
		t.Fatalf("/update after Close: %d, want 503", r.status)
	}
}

func TestDelta(t *testing.T) {
	env := newEnv(t, "")
	from := env.cat.Revision()
	var tracks []*library.Track
	for _, tr := range env.cat.Snapshot().Tracks {
		switch tr.ID {
		case 12:
			c := *tr
			c.Title = "Noon (remastered)"
			tracks = append(tracks, &c)
		case 15: // deleted
		default:
			tracks = append(tracks, tr)
		}
	}
	nt := *tracks[0]
	nt.ID, nt.PersistentID, nt.Path, nt.Title = 16, 0x16, "Alpha/One/03 Dusk.mp3", "Dusk"
	tracks = append(tracks, &nt)
	env.cat.Publish(tracks, nil)
	to := env.cat.Revision()

	for _, tc := range []struct{ name, q string }{
		{"changes", fmt.Sprintf("revision-number=%d&delta=%d", to, from)},
		{"none", fmt.Sprintf("revision-number=%d&delta=%d", to, to)},
		{"too-old", fmt.Sprintf("revision-number=%d&delta=%d", to, 1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, body := env.get(t, "/databases/1/items?meta=dmap.itemname&"+tc.q, "User-Agent", uaITunes)
			if res.StatusCode != 200 {
				t.Fatalf("status %d", res.StatusCode)
			}
			d, err := dmap.Dump(body)
			if err != nil {
				t.Fatal(err)
			}
			testkit.Golden(t, testkit.GoldenName(t), []byte(d))
		})
	}
}

// TestAbsoluteForm sends request lines with absolute URIs, as iTunes does
// for streams.
func TestAbsoluteForm(t *testing.T) {
	env := newEnv(t, "")
	host := strings.TrimPrefix(env.http.URL, "http://")
	for _, uri := range []string{
		"http://" + host + "/databases/1/items/13.flac?session-id=1",
		"daap://" + host + "/databases/1/items/13.flac?session-id=1",
		"http://" + host + "/server-info",
	} {
		c, err := net.Dial("tcp", host)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: %s\r\nRange: bytes=0-3\r\nConnection: close\r\n\r\n", uri, host)
		res, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatalf("%s: %v", uri, err)
		}
		b, _ := io.ReadAll(res.Body)
		c.Close()
		want := http.StatusPartialContent
		if strings.HasSuffix(uri, "server-info") {
			want = http.StatusOK
		}
		if res.StatusCode != want {
			t.Errorf("GET %s: %d %q, want %d", uri, res.StatusCode, b, want)
		}
		if want == http.StatusPartialContent && string(b) != "fLaC" {
			t.Errorf("GET %s: body %q", uri, b)
		}
	}
}

func TestSessions(t *testing.T) {
	ss := newSessions(3, sessionIdle, sessionRecent)
	now := epoch
	ss.now = func() time.Time { return now }
	create := func(want uint32) uint32 {
		t.Helper()
		id, err := ss.create(want)
		if err != nil {
			t.Fatalf("create: %v", err)
		}
		return id
	}
	use := func(id uint32) bool {
		ok := ss.enter(id)
		if ok {
			ss.exit(id)
		}
		return ok
	}
	a := create(42)
	if a != 42 {
		t.Fatalf("request-session-id 42 gave %d", a)
	}
	if b := create(42); b == 42 || b == 0 {
		t.Fatalf("a taken id was reused: %d", b)
	}
	now = now.Add(time.Hour)
	create(0)
	now = now.Add(time.Hour)
	use(42)
	create(0) // the cap is 3: drops the least recently used idle one, not 42
	if !use(42) || len(ss.byID) != 3 {
		t.Fatalf("after the cap: %d sessions, 42 live=%v", len(ss.byID), use(42))
	}
	now = now.Add(sessionIdle + time.Second)
	if use(42) {
		t.Fatal("an idle session did not expire")
	}
}
