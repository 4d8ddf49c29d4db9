package web

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// The browser tests drive headless Chromium through the pages. Screenshots
// of every page, desktop (1280×900) and phone (390×844), go to
// $DAAPD_SCREENSHOTS, by default web/testdata/screenshots (ignored by git).

func chromium(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("browser tests skipped in -short mode")
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no chromium in PATH (apt-get install chromium): browser tests skipped")
	return ""
}

func screenshotDir(t *testing.T) string {
	dir := os.Getenv("DAAPD_SCREENSHOTS")
	if dir == "" {
		dir, _ = filepath.Abs(filepath.Join("testdata", "screenshots"))
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// browser starts a fresh headless Chromium and returns a tab's context.
func browser(t *testing.T) context.Context {
	exe := chromium(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.NoSandbox, // tests run as root in CI
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("headless", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
		chromedp.WindowSize(1280, 900),
	)
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelB := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelB(); cancelA() })
	ctx, cancelT := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(cancelT)
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Skipf("chromium does not start here: %v", err)
	}
	return ctx
}

func run(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// eval evaluates js (awaiting a promise) into T.
func eval[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("%s: %v", js, err)
	}
	return v
}

func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Text(sel))
	if err != nil {
		t.Fatalf("text of %s: %v", sel, err)
	}
	return v
}

// viewport is a browser window size, and options such as EmulateMobile.
type viewport struct {
	w, h int64
	opts []chromedp.EmulateViewportOption
}

var desktop = viewport{1280, 900, nil}

// shoot saves a full-page PNG of the current page. The viewport grows to
// the page's height for the shot, so the player bar, fixed to the bottom
// of the window, is drawn at the bottom of the page rather than across it.
func shoot(t *testing.T, ctx context.Context, name string, vp viewport) {
	t.Helper()
	run(t, ctx, "settle", chromedp.Sleep(300*time.Millisecond))
	h := max(vp.h, int64(eval[float64](t, ctx, `document.documentElement.scrollHeight`)))
	run(t, ctx, "grow", chromedp.EmulateViewport(vp.w, h, vp.opts...), chromedp.Sleep(100*time.Millisecond))
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	run(t, ctx, "restore", chromedp.EmulateViewport(vp.w, vp.h, vp.opts...))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	p := filepath.Join(screenshotDir(t), name+".png")
	if err := os.WriteFile(p, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot %s", p)
}

// waitFor polls a JavaScript condition until it holds or ctx ends.
func waitFor(t *testing.T, ctx context.Context, what, js string) {
	t.Helper()
	for {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](js))
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if ok {
			return
		}
		select {
		case <-ctx.Done():
			state, _ := chromedp.Run(context.WithoutCancel(ctx), chromedp.Evaluate[string](`JSON.stringify({t: audio.currentTime, src: audio.src, err: audio.error && audio.error.code, msg: document.getElementById('np-msg').textContent})`))
			t.Fatalf("%s: never happened (%s)", what, state)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

var pagesToShoot = []struct{ name, path, ready string }{
	{"status", "/", ".stats"},
	{"albums", "/albums", ".grid"},
	{"album", "", ".albumhead"}, // path filled in: the album with artwork
	{"artists", "/artists", ".list"},
	{"tracks", "/tracks", "table.tracks"},
	{"playlists", "/playlists", ".list"},
	{"search", "/?q=hit", "table.tracks"},
	{"problems", "/problems", "table.problems"},
}

func TestBrowser(t *testing.T) {
	ctx := browser(t)
	ts := newTestServer(t, "")
	snap := ts.lib.Catalog().Snapshot()
	for _, a := range snap.Albums {
		if a.Name == "Ágætis Test" || a.ArtworkFrom != 0 && pagesToShoot[2].path == "" {
			pagesToShoot[2].path = fmt.Sprintf("/albums/%d", a.ID)
		}
	}

	t.Run("status names the share and counts", func(t *testing.T) {
		run(t, ctx, "status", chromedp.Navigate(ts.URL+"/"), chromedp.WaitVisible(".stats"))
		name, tracks := text(t, ctx, ".hero h1"), text(t, ctx, `[data-live="tracks"]`)
		if name != shareName || tracks != fmt.Sprint(len(snap.Tracks)) {
			t.Errorf("status page: name %q, tracks %q; want %q, %d", name, tracks, shareName, len(snap.Tracks))
		}
	})

	t.Run("search finds a fixture", func(t *testing.T) {
		run(t, ctx, "search", chromedp.Navigate(ts.URL+"/"), chromedp.WaitVisible(".search input"),
			chromedp.SendKeys(".search input", "moon\n"), chromedp.WaitVisible("table.tracks"))
		titles := text(t, ctx, "table.tracks tbody")
		if !strings.Contains(titles, "月 Moon") {
			t.Errorf("search for moon found %q", titles)
		}
	})

	play := func(t *testing.T, q, wantType string) {
		run(t, ctx, "open "+q, chromedp.Navigate(ts.URL+"/?q="+q), chromedp.WaitVisible("table.tracks button.play"),
			chromedp.Click("table.tracks tbody tr:first-child button.play"))
		pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		waitFor(t, pctx, "playback of "+q, `document.getElementById('audio').currentTime > 0.3`)
		ct := eval[string](t, ctx, `fetch(document.getElementById('audio').src, {method: 'HEAD'}).then(r => r.headers.get('Content-Type'))`)
		if ct != wantType {
			t.Errorf("stream of %s is %s, want %s", q, ct, wantType)
		}
	}
	t.Run("an MP3 plays", func(t *testing.T) { play(t, "dawn+chorus", "audio/mpeg") })
	t.Run("an AIFF plays transcoded", func(t *testing.T) {
		if ts.daap.FFmpeg() == "" {
			t.Skip("ffmpeg not found: no transcoding")
		}
		play(t, "aiff+id3", "audio/wav")
	})

	t.Run("screenshots and phone width", func(t *testing.T) {
		phone := viewport{390, 844, []chromedp.EmulateViewportOption{chromedp.EmulateMobile}}
		for _, vp := range []struct {
			name string
			viewport
			dark bool
		}{
			{"desktop", desktop, false},
			{"phone", phone, false},
			{"phone-dark", phone, true},
		} {
			run(t, ctx, "viewport", chromedp.EmulateViewport(vp.w, vp.h, vp.opts...))
			scheme := "light"
			if vp.dark {
				scheme = "dark"
			}
			if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
				Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}}); err != nil {
				t.Fatal(err)
			}
			for _, p := range pagesToShoot {
				if vp.dark && p.name != "status" && p.name != "album" && p.name != "problems" {
					continue
				}
				run(t, ctx, p.name, chromedp.Navigate(ts.URL+p.path), chromedp.WaitVisible(p.ready))
				if eval[bool](t, ctx, `document.documentElement.scrollWidth > window.innerWidth`) {
					t.Errorf("%s (%s): the page scrolls horizontally", p.name, vp.name)
				}
				shoot(t, ctx, vp.name+"-"+p.name, vp.viewport)
			}
		}
	})
}

func TestBrowserPassword(t *testing.T) {
	ctx := browser(t)
	ts := newTestServer(t, "sesame")
	run(t, ctx, "home", chromedp.Navigate(ts.URL+"/albums"), chromedp.WaitVisible("#pw"))
	body := text(t, ctx, "body")
	for _, leak := range []string{"First Light", "Dawn", "tracks", "albums"} {
		if strings.Contains(body, leak) {
			t.Errorf("before signing in the page shows %q", leak)
		}
	}
	shoot(t, ctx, "desktop-signin", desktop)
	if status := eval[int](t, ctx, `fetch('/web/status.json').then(r => r.status)`); status != 401 {
		t.Errorf("/web/status.json before signing in: %d", status)
	}
	run(t, ctx, "wrong", chromedp.SendKeys("#pw", "nope\n"), chromedp.WaitVisible(".error"))
	run(t, ctx, "sign in", chromedp.SendKeys("#pw", "sesame\n"), chromedp.WaitVisible(".grid"))
	if body = text(t, ctx, "body"); !strings.Contains(body, "First Light") {
		t.Error("after signing in, /albums does not list the albums")
	}
}
