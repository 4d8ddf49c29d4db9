package daap

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	imgjpeg "image/jpeg"
	"image/png"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/daapd/daapd/library"
)

// testImage is a w×h gradient with a pattern, opaque unless alpha is set,
// in which case its left half is transparent.
func testImage(w, h int, alpha bool) *image.NRGBA {
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			a := uint8(255)
			if alpha && x < w/2 {
				a = 0
			}
			m.SetNRGBA(x, y, color.NRGBA{uint8(x * 255 / w), uint8(y * 255 / h), uint8((x ^ y) & 0xFF), a})
		}
	}
	return m
}

func encodeJPEG(t testing.TB, m image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := imgjpeg.Encode(&b, m, &imgjpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func encodePNG(t testing.TB, m image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, m); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// bombJPEG is a small JPEG whose header claims 20000×20000 pixels.
func bombJPEG(t testing.TB) []byte {
	t.Helper()
	data := encodeJPEG(t, testImage(8, 8, false))
	i := bytes.Index(data, []byte{0xFF, 0xC0}) // SOF0: len(2) precision(1) height(2) width(2)
	if i < 0 {
		t.Fatal("no SOF0 in test JPEG")
	}
	data = bytes.Clone(data)
	copy(data[i+5:], []byte{20000 >> 8, 20000 & 0xFF, 20000 >> 8, 20000 & 0xFF})
	return data
}

// withOrientation inserts an EXIF APP1 segment with orientation o into a
// JPEG, big-endian (MM) or little-endian (II).
func withOrientation(data []byte, o byte, bigEndian bool) []byte {
	tiff := []byte("MM\x00\x2a\x00\x00\x00\x08\x00\x01\x01\x12\x00\x03\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00")
	tiff[19] = o // value, first SHORT
	if !bigEndian {
		tiff = []byte("II\x2a\x00\x08\x00\x00\x00\x01\x00\x12\x01\x03\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00")
		tiff[18] = o
	}
	payload := append([]byte("Exif\x00\x00"), tiff...)
	n := len(payload) + 2
	seg := append([]byte{0xFF, 0xE1, byte(n >> 8), byte(n)}, payload...)
	return append(append(bytes.Clone(data[:2]), seg...), data[2:]...)
}

// cornerImage is white with a red top-left corner.
func cornerImage(w, h int) *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := color.RGBA{255, 255, 255, 255}
			if x < w/4 && y < h/4 {
				c = color.RGBA{255, 0, 0, 255}
			}
			m.SetRGBA(x, y, c)
		}
	}
	return m
}

// artEnv serves albums whose folder images are the given files.
type artEnv struct {
	srv    *Server
	http   *httptest.Server
	files  map[string][]byte
	scales atomic.Int32
}

// artFiles are the images of newArtEnv: item and album i+1 use artNames[i].
var artNames = []string{"big.jpg", "alpha.png", "opaque.png", "small.jpg", "broken.jpg", "bomb.jpg", "cover.gif", "tall.jpg", "exif6.jpg"}

func newArtEnv(t testing.TB) *artEnv {
	t.Helper()
	big := encodeJPEG(t, testImage(1200, 800, false))
	files := map[string][]byte{
		"big.jpg":    big,
		"alpha.png":  encodePNG(t, testImage(800, 1200, true)),
		"opaque.png": encodePNG(t, testImage(600, 600, false)),
		"small.jpg":  encodeJPEG(t, testImage(100, 100, false)),
		"broken.jpg": big[:len(big)/3],
		"bomb.jpg":   bombJPEG(t),
		"cover.gif":  []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;"),
		"tall.jpg":   encodeJPEG(t, testImage(10, 1000, false)),
		"exif6.jpg":  withOrientation(encodeJPEG(t, cornerImage(1200, 800)), 6, true),
	}
	root := t.TempDir()
	var tracks []*library.Track
	for i, name := range artNames {
		if err := os.WriteFile(filepath.Join(root, name), files[name], 0o644); err != nil {
			t.Fatal(err)
		}
		id := uint32(i + 1)
		tracks = append(tracks, &library.Track{
			ID: id, PersistentID: 0x7000 + uint64(id), Root: root, Path: fmt.Sprintf("%d.mp3", id),
			Title: name, Album: name, AlbumID: 0x100 + uint64(id), Artist: "Art", ArtistID: 0x200,
			Codec: "mp3", Format: "mp3", Size: 1000, ModTime: library.StampOf(epoch),
			Artwork: &library.Artwork{Source: library.ArtworkFile, Path: name},
		})
	}
	cat := library.NewCatalog()
	cat.Publish(tracks, nil)
	e := &artEnv{files: files}
	e.srv = New(Config{Name: "Art", Catalog: cat, Log: slog.New(slog.DiscardHandler)})
	e.srv.onScale = func() { e.scales.Add(1) }
	e.http = httptest.NewServer(e.srv.Handler())
	t.Cleanup(func() {
		e.srv.Close()
		e.http.Close()
	})
	return e
}

func (e *artEnv) get(t testing.TB, path string) (*http.Response, []byte) {
	t.Helper()
	return (&testEnv{http: e.http}).get(t, path)
}

func TestArtworkScale(t *testing.T) {
	e := newArtEnv(t)
	item := func(id int, q string) string { return fmt.Sprintf("/databases/1/items/%d/extra_data/artwork%s", id, q) }
	for _, tc := range []struct {
		name   string
		path   string
		mime   string
		w, h   int // 0: the original bytes
		scales int32
	}{
		{"no params: original", item(1, ""), "image/jpeg", 0, 0, 0},
		{"jpeg both bounds", item(1, "?mw=300&mh=300"), "image/jpeg", 300, 200, 1},
		{"jpeg again: cached", item(1, "?mw=300&mh=300"), "image/jpeg", 300, 200, 0},
		{"group shares the album cache", fmt.Sprintf("/databases/1/groups/%d/extra_data/artwork?mw=300&mh=300", 0x101), "image/jpeg", 300, 200, 0},
		{"jpeg height bound only", item(1, "?mh=100"), "image/jpeg", 150, 100, 1},
		{"jpeg width bound only", item(1, "?mw=600"), "image/jpeg", 600, 400, 1},
		{"jpeg bounds larger: original", item(1, "?mw=2000&mh=2000"), "image/jpeg", 0, 0, 0},
		{"jpeg exact size: original", item(1, "?mw=1200&mh=800"), "image/jpeg", 0, 0, 0},
		{"png with alpha stays png", item(2, "?mw=200&mh=200"), "image/png", 133, 200, 1},
		{"opaque png becomes jpeg", item(3, "?mw=64&mh=64"), "image/jpeg", 64, 64, 1},
		{"small jpeg: original", item(4, "?mw=300&mh=300"), "image/jpeg", 0, 0, 0},
		{"broken jpeg: original", item(5, "?mw=300&mh=300"), "image/jpeg", 0, 0, 0},
		{"broken jpeg again: not retried", item(5, "?mw=300&mh=300"), "image/jpeg", 0, 0, 0},
		{"decode bomb: original", item(6, "?mw=300&mh=300"), "image/jpeg", 0, 0, 0},
		{"gif: original", item(7, "?mw=1&mh=1"), "image/gif", 0, 0, 0},
		{"thin side at least 1 pixel", item(8, "?mw=100&mh=100"), "image/jpeg", 1, 100, 1},
		{"exif orientation applied", item(9, "?mw=300&mh=300"), "image/jpeg", 200, 300, 1},
		{"exif: fits as shown: original", item(9, "?mw=800&mh=1200"), "image/jpeg", 0, 0, 0},
		{"bad mw ignored, mh used", item(1, "?mw=big&mh=80"), "image/jpeg", 120, 80, 1},
		{"mw=0 ignored", item(1, "?mw=0"), "image/jpeg", 0, 0, 0},
		{"negative ignored", item(1, "?mw=-5&mh=-5"), "image/jpeg", 0, 0, 0},
		{"over 4096 ignored", item(1, "?mw=5000&mh=5000"), "image/jpeg", 0, 0, 0},
		{"huge number ignored", item(1, "?mw=99999999999999999999"), "image/jpeg", 0, 0, 0},
		{"empty values ignored", item(1, "?mw=&mh="), "image/jpeg", 0, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := e.scales.Load()
			res, body := e.get(t, tc.path)
			if res.StatusCode != 200 {
				t.Fatalf("status %d", res.StatusCode)
			}
			if got := res.Header.Get("Content-Type"); got != tc.mime {
				t.Errorf("Content-Type %q, want %q", got, tc.mime)
			}
			if got := res.Header.Get("Content-Length"); got != fmt.Sprint(len(body)) {
				t.Errorf("Content-Length %s for %d bytes", got, len(body))
			}
			if n := e.scales.Load() - before; n != tc.scales {
				t.Errorf("%d rescales, want %d", n, tc.scales)
			}
			id := 0
			fmt.Sscanf(tc.path, "/databases/1/items/%d/", &id)
			if tc.w == 0 {
				if id > 0 && !bytes.Equal(body, e.files[artNames[id-1]]) {
					t.Errorf("%d bytes differ from the original", len(body))
				}
				return
			}
			m, format, err := image.Decode(bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			if "image/"+format != tc.mime {
				t.Errorf("body is %s, Content-Type %s", format, tc.mime)
			}
			if b := m.Bounds(); b.Dx() != tc.w || b.Dy() != tc.h {
				t.Errorf("%dx%d, want %dx%d", b.Dx(), b.Dy(), tc.w, tc.h)
			}
			if id == 9 { // stored red top-left, shown top-right
				if r, g, _, _ := m.At(tc.w-10, 10).RGBA(); r < 0xC000 || g > 0x4000 {
					t.Errorf("top-right is not red: %x %x", r, g)
				}
				if _, g, _, _ := m.At(10, 10).RGBA(); g < 0xC000 {
					t.Errorf("top-left is not white")
				}
			}
			if tc.mime == "image/png" {
				if _, _, _, a := m.At(0, 0).RGBA(); a != 0 {
					t.Errorf("transparent corner has alpha %d", a)
				}
				if _, _, _, a := m.At(tc.w-1, tc.h-1).RGBA(); a != 0xFFFF {
					t.Errorf("opaque corner has alpha %d", a)
				}
			}
		})
	}
}

// TestArtworkScaleConcurrent asks for many sizes at once: each is scaled
// exactly once however many requests want it.
func TestArtworkScaleConcurrent(t *testing.T) {
	e := newArtEnv(t)
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Go(func() {
			size := 50 + 10*(i%8)
			res, body := e.get(t, fmt.Sprintf("/databases/1/items/1/extra_data/artwork?mw=%d&mh=%d", size, size))
			cfg, _, err := image.DecodeConfig(bytes.NewReader(body))
			if res.StatusCode != 200 || err != nil || cfg.Width != size {
				t.Errorf("size %d: %d, %v, width %d", size, res.StatusCode, err, cfg.Width)
			}
		})
	}
	wg.Wait()
	if n := e.scales.Load(); n != 8 {
		t.Errorf("%d rescales for 8 sizes", n)
	}
}

// TestArtworkScaleBusy: a request that ends while waiting for a scaling
// slot gets the original; the size is scaled by the next request.
func TestArtworkScaleBusy(t *testing.T) {
	e := newArtEnv(t)
	h := e.srv.Handler()
	path := "/databases/1/items/1/extra_data/artwork"
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", path, nil)) // cache the original
	for range scaleWorkers {
		e.srv.scaleSem <- struct{}{}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", path+"?mw=100&mh=100", nil).WithContext(ctx))
	if w.Code != 200 || !bytes.Equal(w.Body.Bytes(), e.files["big.jpg"]) || e.scales.Load() != 0 {
		t.Errorf("busy: %d, %d bytes, %d rescales; want the original", w.Code, w.Body.Len(), e.scales.Load())
	}
	for range scaleWorkers {
		<-e.srv.scaleSem
	}
	w = httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", path+"?mw=100&mh=100", nil))
	if cfg, _, err := image.DecodeConfig(w.Body); err != nil || cfg.Width != 100 || e.scales.Load() != 1 {
		t.Errorf("after: %v, width %d, %d rescales", err, cfg.Width, e.scales.Load())
	}
}

func TestFitSize(t *testing.T) {
	for _, tc := range []struct {
		w, h, maxW, maxH int
		dw, dh           int
		ok               bool
	}{
		{1000, 500, 100, 100, 100, 50, true},
		{500, 1000, 100, 100, 50, 100, true},
		{1000, 1000, 0, 10, 10, 10, true},
		{1000, 1000, 10, 0, 10, 10, true},
		{1000, 1000, 0, 0, 1000, 1000, false},
		{100, 100, 100, 100, 100, 100, false},
		{100, 100, 200, 50, 50, 50, true},
		{3, 2000, 600, 600, 1, 600, true},
		{333, 1000, 100, 100, 33, 100, true},
	} {
		dw, dh, ok := fitSize(tc.w, tc.h, tc.maxW, tc.maxH)
		if dw != tc.dw || dh != tc.dh || ok != tc.ok {
			t.Errorf("fitSize(%d, %d, %d, %d) = %d, %d, %v; want %d, %d, %v",
				tc.w, tc.h, tc.maxW, tc.maxH, dw, dh, ok, tc.dw, tc.dh, tc.ok)
		}
	}
}

func TestOrientation(t *testing.T) {
	const w, h = 3, 2
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			m.SetRGBA(x, y, color.RGBA{uint8(x), uint8(y), 1, 255})
		}
	}
	type pt struct{ X, Y int }
	// Where the stored top-left and top-right pixels are shown.
	for o, want := range map[int][2]pt{
		1: {{0, 0}, {2, 0}},
		2: {{2, 0}, {0, 0}},
		3: {{2, 1}, {0, 1}},
		4: {{0, 1}, {2, 1}},
		5: {{0, 0}, {0, 2}},
		6: {{1, 0}, {1, 2}},
		7: {{1, 2}, {1, 0}},
		8: {{0, 2}, {0, 0}},
	} {
		for _, be := range []bool{true, false} {
			data := withOrientation(encodeJPEG(t, testImage(4, 4, false)), byte(o), be)
			if got := exifOrientation(data); got != o {
				t.Errorf("exifOrientation (big-endian %v) = %d, want %d", be, got, o)
			}
		}
		out := orientImage(m, o)
		if o >= 5 && (out.Rect.Dx() != h || out.Rect.Dy() != w) {
			t.Errorf("orientation %d: %v, want %dx%d", o, out.Rect, h, w)
		}
		if c := out.RGBAAt(want[0].X, want[0].Y); c.R != 0 || c.G != 0 || c.B != 1 {
			t.Errorf("orientation %d: top-left not at %v", o, want[0])
		}
		if c := out.RGBAAt(want[1].X, want[1].Y); c.R != w-1 || c.G != 0 || c.B != 1 {
			t.Errorf("orientation %d: top-right not at %v", o, want[1])
		}
	}
	for _, data := range [][]byte{
		encodeJPEG(t, testImage(4, 4, false)),
		withOrientation(encodeJPEG(t, testImage(4, 4, false)), 9, true),
		withOrientation(encodeJPEG(t, testImage(4, 4, false)), 6, true)[:30],
		{0xFF, 0xD8, 0xFF, 0xE1, 0x00, 0x01},
	} {
		if got := exifOrientation(data); got != 1 {
			t.Errorf("exifOrientation(% x…) = %d, want 1", data[:min(len(data), 12)], got)
		}
	}
}

// FuzzScaleImage: arbitrary bytes never panic, and whatever scales fits.
func FuzzScaleImage(f *testing.F) {
	f.Add(encodeJPEG(f, testImage(40, 30, false)), 16, 16)
	f.Add(encodePNG(f, testImage(30, 40, true)), 16, 0)
	f.Add(bombJPEG(f), 16, 16)
	f.Add(withOrientation(encodeJPEG(f, testImage(40, 30, false)), 6, false), 16, 8)
	f.Add([]byte("\x89PNG\r\n\x1a\n"), 1, 1)
	f.Fuzz(func(t *testing.T, data []byte, mw, mh int) {
		mw, mh = mw&0x3FF, mh&0x3FF
		out, mimeType, err := scaleImage(data, mw, mh)
		if err != nil || out == nil {
			return
		}
		cfg, format, err := image.DecodeConfig(bytes.NewReader(out))
		if err != nil || "image/"+format != mimeType {
			t.Fatalf("output %s does not decode as %s: %v", format, mimeType, err)
		}
		if (mw > 0 && cfg.Width > mw) || (mh > 0 && cfg.Height > mh) {
			t.Fatalf("%dx%d does not fit %dx%d", cfg.Width, cfg.Height, mw, mh)
		}
	})
}

// BenchmarkArtworkScale scales a 3000×3000 JPEG cover to 600×600 JPEG.
func BenchmarkArtworkScale(b *testing.B) {
	data := encodeJPEG(b, testImage(3000, 3000, false))
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if out, _, err := scaleImage(data, 600, 600); err != nil || out == nil {
			b.Fatal(err)
		}
	}
}
