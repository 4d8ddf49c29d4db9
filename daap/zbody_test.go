package daap

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/daapd/daapd/library"
)

// syntheticEnv serves n synthetic tracks.
func syntheticEnv(t *testing.T, n int) (*Server, *httptest.Server) {
	t.Helper()
	cat := library.NewCatalog()
	cat.Publish(syntheticTracks(n), nil)
	srv := New(Config{Name: "zbody", Catalog: cat, Log: slog.New(slog.DiscardHandler)})
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return srv, ts
}

// fetchRaw is roundTrip for a request that must answer 200: the body as
// sent (the transport adds no Accept-Encoding of its own, so plain
// clients are asked for with "identity").
func fetchRaw(t *testing.T, method, u string, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	res, body := roundTrip(t, method, u, hdr...)
	if res.StatusCode != 200 {
		t.Fatalf("%s %s: %d", method, u, res.StatusCode)
	}
	return res, body
}

func gunzip(t *testing.T, data []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return plain
}

// waitIdle waits until the listing cache has no build or recompression
// left.
func waitIdle(t *testing.T, c *lru) {
	t.Helper()
	deadline := time.Now().Add(hangGuard)
	for !c.idle() {
		if time.Now().After(deadline) {
			t.Fatal("listing cache still busy")
		}
		time.Sleep(time.Millisecond)
	}
}

// TestListingBodies: the listing cache keeps gzip only; a client that
// does not take gzip gets exactly the inflated bytes, and both answers
// (and HEAD) carry the right Content-Length, before and after the body
// is recompressed in the background.
func TestListingBodies(t *testing.T) {
	srv, ts := syntheticEnv(t, 3000)
	// Recompression waits until the first answers are checked, so they
	// all see the fast body.
	hold := make(chan struct{}, 1) // a token the test holds meanwhile
	squeeze := srv.cache.squeeze
	srv.cache.squeeze = func(ctx context.Context, data []byte) ([]byte, error) {
		select {
		case hold <- struct{}{}:
			<-hold
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		return squeeze(ctx, data)
	}
	meta := url.QueryEscape(itunesMeta)
	cases := []struct {
		name, path, ua string
	}{
		{"itunes items", "/databases/1/items?type=music&meta=" + meta, uaITunes},
		{"rhythmbox items", "/databases/1/items?meta=" + meta, "iTunes/4.6 (Windows; N)"},
		{"sorted with headers", "/databases/1/items?meta=dmap.itemname&sort=name&include-sort-headers=1", ""},
		{"base playlist", "/databases/1/containers/1/items?meta=dmap.itemkind,dmap.itemid,dmap.containeritemid", uaITunes},
		{"browse", "/databases/1/browse/artists", ""},
		{"small reply", "/databases/1/items?meta=dmap.itemname&index=0-1", ""},
	}
	check := func(t *testing.T, u, ua string) (gz []byte) {
		res, gz := fetchRaw(t, "GET", u, "User-Agent", ua, "Accept-Encoding", "gzip")
		if res.ContentLength != int64(len(gz)) {
			t.Errorf("gzip: Content-Length %d, body %d bytes", res.ContentLength, len(gz))
		}
		zipped := res.Header.Get("Content-Encoding") == "gzip"
		res, plain := fetchRaw(t, "GET", u, "User-Agent", ua, "Accept-Encoding", "identity")
		if res.ContentLength != int64(len(plain)) || res.Header.Get("Content-Encoding") != "" {
			t.Errorf("plain: Content-Length %d, body %d bytes, Content-Encoding %q", res.ContentLength, len(plain), res.Header.Get("Content-Encoding"))
		}
		want := gz
		if zipped {
			want = gunzip(t, gz)
		}
		if !bytes.Equal(plain, want) {
			t.Fatalf("plain body (%d bytes) differs from the inflated gzip body (%d bytes)", len(plain), len(want))
		}
		for _, ae := range []string{"gzip", "identity"} {
			res, body := fetchRaw(t, "HEAD", u, "User-Agent", ua, "Accept-Encoding", ae)
			wantLen := len(plain)
			if ae == "gzip" {
				wantLen = len(gz)
			}
			if len(body) != 0 || res.ContentLength != int64(wantLen) {
				t.Errorf("HEAD (Accept-Encoding %q): Content-Length %d, want %d; %d body bytes", ae, res.ContentLength, wantLen, len(body))
			}
		}
		return gz
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			hold <- struct{}{}
			fast := check(t, ts.URL+tc.path, tc.ua)
			<-hold
			waitIdle(t, srv.cache)
			polished := check(t, ts.URL+tc.path, tc.ua)
			if len(polished) > len(fast) {
				t.Errorf("recompressed body %d bytes, larger than the first %d", len(polished), len(fast))
			}
		})
	}
	srv.cache.mu.Lock()
	defer srv.cache.mu.Unlock()
	if srv.cache.polished == 0 {
		t.Error("no body was recompressed")
	}
	for key, el := range srv.cache.byKey {
		e := el.Value.(*cacheEntry)
		if strings.HasPrefix(key, "items|") && e.plain > 64<<10 && (!e.zipped || len(e.data) > e.plain/4) {
			t.Errorf("%s: cached %d bytes (zipped %t) for a %d-byte listing", key, len(e.data), e.zipped, e.plain)
		}
	}
}

// TestListingClientLeaves: a client that goes away in the middle of a
// big listing, gzipped or inflated, releases it, and the next one gets
// it whole.
func TestListingClientLeaves(t *testing.T) {
	srv, ts := syntheticEnv(t, 20_000) // about 11 MB plain: more than the socket buffers
	path := "/databases/1/items?meta=" + url.QueryEscape(itunesMeta)
	for _, ae := range []string{"identity", "gzip"} {
		t.Run("accept-encoding="+ae, func(t *testing.T) {
			conn, err := net.Dial("tcp", ts.Listener.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: x\r\nUser-Agent: %s\r\nAccept-Encoding: %s\r\n\r\n", path, uaITunes, ae)
			br := bufio.NewReader(conn)
			res, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := io.CopyN(io.Discard, res.Body, 1000); err != nil {
				t.Fatal(err)
			}
			conn.Close()
			deadline := time.Now().Add(hangGuard)
			for pinned(srv.cache) > 0 {
				if time.Now().After(deadline) {
					t.Fatal("listing still pinned after its client left")
				}
				time.Sleep(time.Millisecond)
			}
			res2, body := fetchRaw(t, "GET", ts.URL+path, "User-Agent", uaITunes, "Accept-Encoding", ae)
			if res2.ContentLength != int64(len(body)) || res2.ContentLength != res.ContentLength {
				t.Errorf("Content-Length %d, body %d bytes, the first answer said %d", res2.ContentLength, len(body), res.ContentLength)
			}
		})
	}
}

// pinned counts the requests holding listing cache entries.
func pinned(c *lru) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for el := c.order.Front(); el != nil; el = el.Next() {
		n += el.Value.(*cacheEntry).refs
	}
	return n
}

// zipped returns a build making a gzip reply of plain.
func zipped(plain []byte) func(context.Context) (reply, error) {
	return func(context.Context) (reply, error) {
		z := new(zbody)
		defer z.drop()
		z.Write(plain)
		return z.reply()
	}
}

// TestLRUPolish: a finished gzip body is recompressed once nothing is
// being built, and swapped in whole; a body whose revision is superseded
// before its turn is not recompressed.
func TestLRUPolish(t *testing.T) {
	var plain []byte
	for i := range 5000 {
		plain = strconv.AppendInt(plain, int64(i*i%7919), 10)
		plain = append(plain, " some words that repeat, "...)
	}
	ctx := context.Background()

	c := newLRU(1 << 30)
	c.polishMin = 1
	e, err := c.getReply(ctx, "a", 1, nil, zipped(plain))
	if err != nil {
		t.Fatal(err)
	}
	first := e.data
	c.release(e)
	waitIdle(t, c)
	e, err = c.getReply(ctx, "a", 1, nil, zipped(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.polished != 1 || len(e.data) >= len(first) || e.plain != len(plain) || !bytes.Equal(gunzip(t, e.data), plain) {
		t.Errorf("recompressed: %d swaps, %d bytes (fast %d), plain %d of %d", c.polished, len(e.data), len(first), e.plain, len(plain))
	}
	c.release(e)
	if want := len(e.data) + len("a") + 64; c.used() != want {
		t.Errorf("%d bytes counted, want %d", c.used(), want)
	}

	// A build in progress holds recompression back; a newer revision
	// drops the waiting body.
	c = newLRU(1 << 30)
	c.polishMin = 1
	gate := make(chan struct{})
	held := make(chan error)
	go func() {
		e, err := c.getReply(ctx, "slow", 1, nil, func(context.Context) (reply, error) {
			<-gate
			return reply{data: []byte("x"), plain: 1}, nil
		})
		if err == nil {
			c.release(e)
		}
		held <- err
	}()
	for c.idle() {
		time.Sleep(time.Millisecond)
	}
	if e, err = c.getReply(ctx, "a", 1, nil, zipped(plain)); err != nil {
		t.Fatal(err)
	}
	c.release(e)
	c.mu.Lock()
	waiting := c.polishQ.Len()
	c.mu.Unlock()
	if waiting != 1 {
		t.Fatalf("%d bodies waiting for recompression, want 1", waiting)
	}
	if e, err = c.getReply(ctx, "b", 2, nil, buildFor("b")); err != nil {
		t.Fatal(err)
	}
	c.release(e)
	close(gate)
	if err := <-held; err != nil {
		t.Fatal(err)
	}
	waitIdle(t, c)
	if c.polished != 0 {
		t.Errorf("%d bodies of a superseded revision recompressed", c.polished)
	}
}

func buildFor(s string) func(context.Context) (reply, error) {
	return func(context.Context) (reply, error) { return reply{data: []byte(s), plain: len(s)}, nil }
}

// TestLRUPolishSuperseded: a newer revision cancels the recompression in
// progress, and its reservation is given back.
func TestLRUPolishSuperseded(t *testing.T) {
	ctx := context.Background()
	c := newLRU(1 << 30)
	c.polishMin = 1
	started, stopped := make(chan struct{}), make(chan error, 1)
	c.squeeze = func(ctx context.Context, data []byte) ([]byte, error) {
		close(started)
		<-ctx.Done()
		stopped <- ctx.Err()
		return nil, ctx.Err()
	}
	e, err := c.getReply(ctx, "a", 1, nil, zipped(bytes.Repeat([]byte("listing "), 1000)))
	if err != nil {
		t.Fatal(err)
	}
	c.release(e)
	<-started
	if e, err = c.getReply(ctx, "b", 2, nil, buildFor("b")); err != nil {
		t.Fatal(err)
	}
	c.release(e)
	if err := <-stopped; err == nil {
		t.Fatal("recompression not cancelled")
	}
	waitIdle(t, c)
	if want := len("b") + len("b") + 64; c.polished != 0 || c.used() != want {
		t.Errorf("%d swaps, %d bytes counted, want 0 and %d", c.polished, c.used(), want)
	}
}
