package daap

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/daapd/daapd/daap/dmap"
	"github.com/daapd/daapd/library"
)

// FuzzRequest sends arbitrary paths and query strings through the whole
// handler: no panic, no 500, and DMAP replies always decode.
func FuzzRequest(f *testing.F) {
	for _, tc := range endpointCases {
		u, _ := url.Parse(tc.path)
		f.Add(u.Path, u.RawQuery, tc.ua)
	}
	for _, s := range [][3]string{
		{"/databases/1/items", "index=4294967295-&sort=name&include-sort-headers=1", ""},
		{"/databases/1/items", "query=%28%27a%3A%27", ""},
		{"/databases/1/containers/-1/items", "index=0-0", uaRB},
		{"/databases/1/items/13.flac", "", ""},
		{"/databases/1/groups/-9223372036854775808/extra_data/artwork", "mw=0", ""},
		{"/update", "revision-number=4294967295", ""},
	} {
		f.Add(s[0], s[1], s[2])
	}
	root := f.TempDir()
	cat := library.NewCatalog()
	cat.Publish(testTracks(f, root), []*library.Playlist{{ID: 501, Name: "P", Items: []uint32{13, 11, 13}}})
	h := New(Config{Name: "fuzz", Catalog: cat, FFmpeg: fakeFFmpeg(f)}).Handler()
	f.Fuzz(func(t *testing.T, path, rawQuery, ua string) {
		if len(path) == 0 || path[0] != '/' {
			path = "/" + path
		}
		r := httptest.NewRequest("GET", "/", nil)
		r.URL = &url.URL{Path: path, RawQuery: rawQuery}
		r.RequestURI = r.URL.RequestURI()
		r.Header.Set("User-Agent", ua)
		r.Header.Set("Client-DAAP-Version", "3.0")
		if r.URL.Path == "/update" {
			r.URL.RawQuery = "" // answered at once; a parked request would wait forever
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code == http.StatusInternalServerError {
			t.Fatalf("GET %s?%s: 500 %s", path, rawQuery, w.Body)
		}
		if w.Code == http.StatusOK && w.Header().Get("Content-Type") == dmapType {
			if _, err := dmap.Decode(w.Body.Bytes()); err != nil {
				t.Fatalf("GET %s?%s: reply does not decode: %v", path, rawQuery, err)
			}
		}
	})
}
