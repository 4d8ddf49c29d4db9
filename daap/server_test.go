package daap

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/daapd/daapd/daap/dmap"
	"github.com/daapd/daapd/internal/testkit"
	"github.com/daapd/daapd/library"
)

func TestMain(m *testing.M) {
	strictEncoding = true
	os.Exit(m.Run())
}

// jpeg is a tiny JPEG-looking image (the server serves bytes as they are).
var jpeg = append([]byte{0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, 'J', 'F', 'I', 'F', 0}, bytes.Repeat([]byte{7}, 64)...)

var epoch = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)

// testTracks writes small files under root and returns tracks for them.
func testTracks(t testing.TB, root string) []*library.Track {
	t.Helper()
	files := map[string][]byte{
		"Alpha/One/01 Sunrise.mp3": audioBytes("ID3", 10000),
		"Alpha/One/02 Noon.mp3":    audioBytes("ID3", 20000),
		"Alpha/One/cover.jpg":      jpeg,
		"Beta/Two/01 Ünïcode.flac": audioBytes("fLaC", 30000),
		"Various/Mix/01 Guest.m4a": audioBytes("\x00\x00\x00\x20ftypM4A ", 5000),
		"Loose/untitled track.ogg": audioBytes("OggS", 7000),
	}
	for p, data := range files {
		full := filepath.Join(root, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	art := library.Artwork{Source: library.ArtworkFile, Path: "Alpha/One/cover.jpg"}
	mk := func(id uint32, path string, f func(*library.Track)) *library.Track {
		tr := &library.Track{
			ID: id, PersistentID: 0x9000000000000000 | uint64(id), Root: root, Path: path,
			Size: int64(len(files[path])), ModTime: library.StampOf(epoch), Added: library.StampOf(epoch.Add(time.Hour)),
			DurationMS: 180000 + id, Bitrate: 320, SampleRate: 44100, Channels: 2,
		}
		f(tr)
		return tr
	}
	return []*library.Track{
		mk(11, "Alpha/One/01 Sunrise.mp3", func(t *library.Track) {
			t.Title, t.Artist, t.AlbumArtist, t.Album, t.Genre = "Sunrise", "Alpha", "Alpha", "One", "Rock"
			t.AlbumID, t.ArtistID, t.TrackNumber, t.TrackCount, t.DiscNumber, t.DiscCount = 0xA1A1A1A1A1A1A1A1, 0xB1, 1, 2, 1, 1
			t.Year, t.Codec, t.Format, t.Artwork, t.Extra = 1999, "mp3", "mp3", &art, &library.Extra{Composer: "Writer"}
		}),
		mk(12, "Alpha/One/02 Noon.mp3", func(t *library.Track) {
			t.Title, t.Artist, t.AlbumArtist, t.Album, t.Genre = "Noon", "Alpha", "Alpha", "One", "Rock"
			t.AlbumID, t.ArtistID, t.TrackNumber, t.TrackCount, t.DiscNumber, t.DiscCount = 0xA1A1A1A1A1A1A1A1, 0xB1, 2, 2, 1, 1
			t.Year, t.Codec, t.Format, t.Artwork, t.Extra = 1999, "mp3", "mp3", &art, &library.Extra{SortTitle: "Noon, The"}
		}),
		mk(13, "Beta/Two/01 Ünïcode.flac", func(t *library.Track) {
			t.Title, t.Artist, t.Album, t.Genre = "Ünïcode", "Beta", "Two", "Jazz"
			t.AlbumID, t.ArtistID, t.TrackNumber, t.Year = 0xA2, 0xB2, 1, 2010
			t.Codec, t.Format, t.Extra = "flac", "flac", &library.Extra{SortArtist: "Beta, The"}
		}),
		mk(14, "Various/Mix/01 Guest.m4a", func(t *library.Track) {
			t.Title, t.Artist, t.Album, t.Compilation = "Guest", "Gamma", "Mix", true
			t.AlbumID, t.ArtistID, t.Codec, t.Format = 0xA3, 0xB3, "aac", "m4a"
		}),
		mk(15, "Loose/untitled track.ogg", func(t *library.Track) {
			t.Title, t.Codec, t.Format, t.DurationMS = "untitled track", "vorbis", "ogg", 0
		}),
	}
}

func audioBytes(magic string, n int) []byte {
	b := make([]byte, n)
	copy(b, magic)
	for i := len(magic); i < n; i++ {
		b[i] = byte(i * 7)
	}
	return b
}

type testEnv struct {
	srv  *Server
	http *httptest.Server
	cat  *library.Catalog
	root string
}

func newEnv(t testing.TB, password string) *testEnv {
	t.Helper()
	root := t.TempDir()
	cat := library.NewCatalog()
	cat.Publish(testTracks(t, root), []*library.Playlist{
		{ID: 501, PersistentID: 0xC501, Name: "Favourites", Path: "fav.m3u", Items: []uint32{13, 11, 13, 99}},
		{ID: 502, PersistentID: 0xC502, Name: "Empty", Path: "empty.m3u"},
		{ID: 0xF0000001, PersistentID: 0xC503, Name: "High id", Path: "high.m3u", Items: []uint32{12}},
	})
	// A stand-in ffmpeg: iTunes and Music.app see the FLAC track as WAV
	// whether or not this machine has ffmpeg (see transcode_test.go).
	srv := New(Config{Name: "Test Share", Password: password, Version: "test", Catalog: cat,
		Log: slog.New(slog.DiscardHandler), FFmpeg: fakeFFmpeg(t)})
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		srv.Close()
		hs.Close()
	})
	return &testEnv{srv: srv, http: hs, cat: cat, root: root}
}

const (
	uaITunes = "iTunes/12.12.10 (Macintosh; OS X 13.5) AppleWebKit/615.3.12.11.2"
	uaMusic  = "Music/1.3.5 (Macintosh; OS X 13.5) AppleWebKit/615.3.12.11.2"
	uaRB     = "iTunes/4.6 (Windows; N)"
	uaRemote = "Remote/1021"
)

func (e *testEnv) get(t testing.TB, path string, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	return roundTrip(t, "GET", e.http.URL+path, hdr...)
}

// roundTrip sends one request with header name/value pairs hdr, without
// the transport's own Accept-Encoding, and returns the response and body.
func roundTrip(t testing.TB, method, u string, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, body
}

const itunesMeta = "dmap.itemkind,dmap.itemid,dmap.itemname,dmap.containeritemid,dmap.persistentid," +
	"daap.songalbum,daap.songgrouping,daap.songartist,daap.songalbumartist,daap.songbitrate," +
	"daap.songbeatsperminute,daap.songcomment,daap.songcompilation,daap.songcomposer," +
	"daap.songdateadded,daap.songdatemodified,daap.songdisccount,daap.songdiscnumber," +
	"daap.songdisabled,daap.songeqpreset,daap.songformat,daap.songgenre,daap.songdescription," +
	"daap.songrelativevolume,daap.songsamplerate,daap.songsize,daap.songstarttime," +
	"daap.songstoptime,daap.songtime,daap.songtrackcount,daap.songtracknumber," +
	"daap.songuserrating,daap.songyear,daap.songdatakind,daap.songdataurl,daap.songcodectype," +
	"daap.songalbumid,daap.songartistid,daap.songcontentrating,daap.songgapless," +
	"daap.songhasbeenplayed,daap.songdatereleased,daap.songdateplayed,daap.songplaycount," +
	"daap.songextradata,daap.sortname,daap.sortartist,daap.sortalbumartist,daap.sortalbum," +
	"daap.sortcomposer,daap.sortseriesname,com.apple.itunes.norm-volume," +
	"com.apple.itunes.itms-songid,com.apple.itunes.has-video,com.apple.itunes.mediakind," +
	"com.apple.itunes.extended-media-kind,com.apple.itunes.artworkchecksum,com.apple.itunes.is-podcast," +
	"com.apple.itunes.series-name,com.apple.itunes.content-rating,dmap.downloadstatus,com.apple.itunes.cloud-id"

const rbMeta = "dmap.itemid,dmap.itemname,daap.songalbum,daap.songartist,daap.songgenre," +
	"daap.songsize,daap.songtime,daap.songtrackcount,daap.songtracknumber,daap.songyear," +
	"daap.songformat,daap.songbitrate,daap.songdiscnumber,daap.songdataurl,daap.sortartist," +
	"daap.sortalbum,com.apple.itunes.has-video"

const contMeta = "dmap.itemid,dmap.itemname,dmap.persistentid,dmap.parentcontainerid," +
	"com.apple.itunes.is-podcast-playlist,com.apple.itunes.special-playlist," +
	"com.apple.itunes.smart-playlist,dmap.haschildcontainers,com.apple.itunes.saved-genius," +
	"dmap.objectextradata"

// endpointCases are the golden DMAP replies: one per endpoint and client
// variation.
var endpointCases = []struct {
	name, path, ua, daapVersion string
}{
	{"server-info-itunes", "/server-info", uaITunes, "3.0"},
	{"server-info-music", "/server-info", uaMusic, "3.0"},
	{"server-info-rhythmbox", "/server-info", uaRB, "3.0"},
	{"server-info-remote", "/server-info", uaRemote, ""},
	{"server-info-daap1", "/server-info", "", "1.0"},
	{"server-info-daap2", "/server-info", "", "2.0"},
	{"content-codes", "/content-codes", uaITunes, "3.0"},
	{"login", "/login?request-session-id=42", uaITunes, "3.0"},
	{"update", "/update?session-id=42&revision-number=1", uaITunes, "3.0"},
	{"databases", "/databases?session-id=42&revision-number=3&delta=0", uaITunes, "3.0"},
	{"databases-rhythmbox", "/databases?session-id=42&revision-number=3", uaRB, "3.0"},
	{"items-itunes", "/databases/1/items?type=music&meta=" + itunesMeta, uaITunes, "3.0"},
	{"items-all", "/databases/1/items?type=music&meta=all", uaMusic, "3.0"},
	{"items-rhythmbox", "/databases/1/items?meta=" + rbMeta, uaRB, "3.0"},
	{"items-default-meta", "/databases/1/items", uaRemote, ""},
	{"items-index", "/databases/1/items?meta=dmap.itemname&index=1-2", uaITunes, "3.0"},
	{"items-index-open", "/databases/1/items?meta=dmap.itemname&index=3-", uaITunes, "3.0"},
	{"items-index-one", "/databases/1/items?meta=dmap.itemname&index=0", uaITunes, "3.0"},
	{"items-sort-headers", "/databases/1/items?meta=dmap.itemname&sort=name&include-sort-headers=1", uaRemote, ""},
	{"items-sort-artist", "/databases/1/items?meta=dmap.itemname,daap.songartist&sort=artist", uaRemote, ""},
	{"containers-music", "/databases/1/containers?meta=" + contMeta, uaMusic, "3.0"},
	{"containers-rhythmbox", "/databases/1/containers", uaRB, "3.0"},
	{"container-items-base", "/databases/1/containers/1/items?meta=dmap.itemkind,dmap.itemid,dmap.containeritemid", uaITunes, "3.0"},
	{"container-items-playlist", "/databases/1/containers/501/items?meta=dmap.itemkind,dmap.itemid,dmap.containeritemid", uaITunes, "3.0"},
	{"container-items-rhythmbox", "/databases/1/containers/501/items?meta=dmap.itemid", uaRB, "3.0"},
	{"container-items-signed-id", "/databases/1/containers/-268435455/items?meta=dmap.itemid", uaRB, "3.0"},
	{"container-items-remote", "/databases/1/containers/501/items?meta=dmap.itemname,daap.songartist,daap.songalbum", uaRemote, ""},
	{"container-items-empty", "/databases/1/containers/502/items", uaITunes, "3.0"},
	{"browse-artists", "/databases/1/browse/artists", uaITunes, "3.0"},
	{"browse-albums", "/databases/1/browse/albums?include-sort-headers=1", uaRemote, ""},
	{"browse-genres", "/databases/1/browse/genres", uaITunes, "3.0"},
	{"browse-composers", "/databases/1/browse/composers", uaITunes, "3.0"},
	{"groups-albums", "/databases/1/groups?group-type=albums&sort=album&meta=dmap.itemname,dmap.itemid,dmap.persistentid,daap.songartist,daap.songalbumartist,dmap.itemcount", uaRemote, ""},
	{"groups-artists", "/databases/1/groups?group-type=artists", uaRemote, ""},
	{"groups-albums-rhythmbox", "/databases/1/groups", uaRB, "3.0"},
}

func TestEndpoints(t *testing.T) {
	env := newEnv(t, "")
	for _, tc := range endpointCases {
		t.Run(tc.name, func(t *testing.T) {
			hdr := []string{"User-Agent", tc.ua}
			if tc.daapVersion != "" {
				hdr = append(hdr, "Client-DAAP-Version", tc.daapVersion)
			}
			res, body := env.get(t, tc.path, hdr...)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("status %d: %s", res.StatusCode, body)
			}
			if ct := res.Header.Get("Content-Type"); ct != dmapType {
				t.Errorf("Content-Type %q", ct)
			}
			if s := res.Header.Get("DAAP-Server"); s != "daapd/test" {
				t.Errorf("DAAP-Server %q", s)
			}
			dump, err := dmap.Dump(body)
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if strings.HasPrefix(tc.ua, "iTunes/4.") {
				checkClassic(t, body)
			}
			testkit.Golden(t, testkit.GoldenName(t), []byte(dump))
		})
	}
}

// checkClassic fails when a reply holds a code libdmapsharing 2.9.41 does
// not know.
func checkClassic(t *testing.T, body []byte) {
	t.Helper()
	elems, err := dmap.Decode(body)
	if err != nil {
		t.Fatal(err)
	}
	var walk func([]dmap.Element)
	walk = func(es []dmap.Element) {
		for _, e := range es {
			if c, ok := dmap.Lookup(e.Tag); !ok || !c.Classic {
				t.Errorf("code %q sent to libdmapsharing 2.9.41", e.Tag)
			}
			walk(e.Children)
		}
	}
	walk(elems)
}

func TestStatuses(t *testing.T) {
	env := newEnv(t, "")
	cases := []struct {
		path string
		want int
	}{
		{"/databases/1/items?index=x", 400},
		{"/databases/1/items?index=5-2", 400},
		{"/databases/1/items?index=-1", 400},
		{"/databases/1/items?delta=abc", 400},
		{"/databases/1/items?revision-number=x", 400},
		{"/databases/1/containers?index=1-0", 400},
		{"/databases/1/browse/genres?query=%27x", 400},
		{"/databases/1/items?include-sort-headers=yes", 400},
		{"/update?revision-number=-3", 400},
		{"/update?revision-number=99999999999", 400},
		{"/login?request-session-id=x", 400},
		{"/databases/2/items", 404},
		{"/databases/x/items", 404},
		{"/databases/1/containers/77/items", 404},
		{"/databases/1/containers/x/items", 400},
		{"/databases/1/items/999.mp3", 404},
		{"/databases/1/items/abc.mp3", 400},
		{"/databases/1/items/999/extra_data/artwork", 404},
		{"/databases/1/items/11/extra_data/artwork?mw=big", 200}, // ignored: the original
		{"/databases/1/groups/12345/extra_data/artwork", 404},
		{"/databases/1/groups?group-type=songs", 400},
		{"/databases/1/browse/planets", 404},
		{"/nowhere", 404},
		{"/databases/1/items/13/extra_data/artwork", 204},
		{"/databases/1/items/11/extra_data/artwork", 200},
		{"/logout?session-id=5", 204},
		{"/databases/1/containers/-3/items", 404},
		{"/databases/1/containers/-4294966795/items", 400},
		{"/databases/1/containers/4026531841/items", 200},
		{"/databases/1/items/12.mp3?session-id=-1", 200},
		{"/databases/1/items/-4294967285.mp3", 400},
		{"/activity?session-id=5", 204},
		{"/activity?session-id=five", 400},
		{"/databases/1/items/12.mp3?session-id=99999999999", 400},
	}
	for _, tc := range cases {
		res, body := env.get(t, tc.path)
		if res.StatusCode != tc.want {
			t.Errorf("GET %s: %d %q, want %d", tc.path, res.StatusCode, body, tc.want)
		}
	}
}

func TestPassword(t *testing.T) {
	env := newEnv(t, "s3cret")
	basic := func(user, pw string) string {
		return "Basic " + base64Std(user+":"+pw)
	}
	// open endpoints
	for _, p := range []string{"/server-info", "/content-codes"} {
		if res, _ := env.get(t, p); res.StatusCode != 200 {
			t.Errorf("%s: %d without credentials", p, res.StatusCode)
		}
	}
	res, _ := env.get(t, "/login")
	if res.StatusCode != 401 || !strings.HasPrefix(res.Header.Get("WWW-Authenticate"), "Basic realm=") {
		t.Errorf("/login without credentials: %d %q", res.StatusCode, res.Header.Get("WWW-Authenticate"))
	}
	if res, _ := env.get(t, "/login", "Authorization", basic("x", "wrong")); res.StatusCode != 401 {
		t.Errorf("/login with a wrong password: %d", res.StatusCode)
	}
	// Music.app's user name contains colons.
	musicUser := "iTunes_Music/1.4.5 (Macintosh; OS X 14.5) AppleWebKit/618.2.12.11.6 (dt:1)"
	res, body := env.get(t, "/login", "Authorization", basic(musicUser, "s3cret"))
	if res.StatusCode != 200 {
		t.Fatalf("/login as Music.app: %d", res.StatusCode)
	}
	sid := sessionOf(t, body)
	for _, p := range []string{"/databases", "/databases/1/items", "/update?revision-number=1", "/databases/1/items/11.mp3"} {
		if res, _ := env.get(t, p); res.StatusCode != 403 {
			t.Errorf("%s without session: %d, want 403", p, res.StatusCode)
		}
		sep := "?"
		if strings.Contains(p, "?") {
			sep = "&"
		}
		if res, _ := env.get(t, p+sep+"session-id=12345"); res.StatusCode != 403 {
			t.Errorf("%s with an unknown session: %d, want 403", p, res.StatusCode)
		}
		if res, _ := env.get(t, fmt.Sprintf("%s%ssession-id=%d", p, sep, sid)); res.StatusCode != 200 {
			t.Errorf("%s with the session: %d, want 200", p, res.StatusCode)
		}
	}
	env.get(t, fmt.Sprintf("/logout?session-id=%d", sid))
	if res, _ := env.get(t, fmt.Sprintf("/databases?session-id=%d", sid)); res.StatusCode != 403 {
		t.Errorf("after logout: %d, want 403", res.StatusCode)
	}
}

func sessionOf(t *testing.T, body []byte) uint32 {
	t.Helper()
	elems, err := dmap.Decode(body)
	if err != nil || len(elems) != 1 {
		t.Fatalf("login reply: %v", err)
	}
	id, ok := elems[0].Child("mlid")
	if !ok {
		t.Fatal("no mlid")
	}
	return uint32(id.Uint())
}

func TestStream(t *testing.T) {
	env := newEnv(t, "")
	want, err := os.ReadFile(filepath.Join(env.root, "Beta/Two/01 Ünïcode.flac"))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		path, rng string
		status    int
		body      []byte
	}{
		{"/databases/1/items/13.flac", "", 200, want},
		{"/databases/1/items/13.Unknown", "", 200, want},
		{"/databases/1/items/13", "", 200, want},
		{"/databases/1/items/13.flac", "bytes=0-4095", 206, want[:4096]},
		{"/databases/1/items/13.flac", "bytes=29000-", 206, want[29000:]},
		{"/databases/1/items/13.flac", "bytes=-100", 206, want[len(want)-100:]},
		{"/databases/1/items/13.flac", "bytes=40000-", 416, nil},
	}
	for _, tc := range cases {
		var hdr []string
		if tc.rng != "" {
			hdr = []string{"Range", tc.rng}
		}
		res, body := env.get(t, tc.path, hdr...)
		if res.StatusCode != tc.status {
			t.Errorf("%s %s: %d, want %d", tc.path, tc.rng, res.StatusCode, tc.status)
			continue
		}
		if res.Header.Get("Accept-Ranges") != "bytes" {
			t.Errorf("%s: no Accept-Ranges", tc.path)
		}
		if tc.body != nil && !bytes.Equal(body, tc.body) {
			t.Errorf("%s %s: %d bytes differ from the file", tc.path, tc.rng, len(body))
		}
		if tc.status != 416 && res.Header.Get("Content-Type") != "audio/flac" {
			t.Errorf("%s: Content-Type %q", tc.path, res.Header.Get("Content-Type"))
		}
	}
}

func TestArtwork(t *testing.T) {
	env := newEnv(t, "")
	for _, p := range []string{
		"/databases/1/items/11/extra_data/artwork",
		"/databases/1/items/12/extra_data/artwork?mw=300&mh=300",
		fmt.Sprintf("/databases/1/groups/%d/extra_data/artwork", uint64(0xA1A1A1A1A1A1A1A1)),
		fmt.Sprintf("/databases/1/groups/%d/extra_data/artwork", uint32(0xA1A1A1A1)),
		"/databases/1/groups/177/extra_data/artwork", // artist 0xB1
	} {
		res, body := env.get(t, p)
		if res.StatusCode != 200 || !bytes.Equal(body, jpeg) || res.Header.Get("Content-Type") != "image/jpeg" {
			t.Errorf("%s: %d %s, %d bytes", p, res.StatusCode, res.Header.Get("Content-Type"), len(body))
		}
	}
	for _, p := range []string{"/databases/1/items/14/extra_data/artwork", "/databases/1/groups/163/extra_data/artwork"} {
		if res, _ := env.get(t, p); res.StatusCode != 204 {
			t.Errorf("%s: %d, want 204", p, res.StatusCode)
		}
	}
}

func TestGzip(t *testing.T) {
	env := newEnv(t, "")
	path := "/databases/1/items?meta=all"
	_, plain := env.get(t, path)
	for range 2 { // built, then from the cache
		res, body := env.get(t, path, "Accept-Encoding", "gzip")
		if res.Header.Get("Content-Encoding") != "gzip" {
			t.Fatalf("Content-Encoding %q", res.Header.Get("Content-Encoding"))
		}
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(zr)
		if err != nil || !bytes.Equal(got, plain) {
			t.Fatalf("gunzipped body differs (%v)", err)
		}
	}
	if res, _ := env.get(t, path, "Accept-Encoding", "gzip;q=0"); res.Header.Get("Content-Encoding") != "" {
		t.Errorf("gzip sent despite q=0")
	}
}

func TestHead(t *testing.T) {
	env := newEnv(t, "")
	for _, p := range []string{"/server-info", "/databases/1/items?meta=all", "/databases/1/items/13.flac"} {
		req, _ := http.NewRequest("HEAD", env.http.URL+p, nil)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 200 || res.ContentLength <= 0 {
			t.Errorf("HEAD %s: %d, Content-Length %d", p, res.StatusCode, res.ContentLength)
		}
	}
}

func TestAcceptsGzip(t *testing.T) {
	for ae, want := range map[string]bool{
		"": false, "gzip": true, "gzip, deflate": true, "deflate, gzip;q=0.5": true, "gzip;q=0": false,
		"*": true, "identity": false, "GZIP": true, "br;q=1, *;q=0": false, "x-gzip": true,
	} {
		if got := acceptsGzip(ae); got != want {
			t.Errorf("acceptsGzip(%q) = %v", ae, got)
		}
	}
}

func TestParseIndex(t *testing.T) {
	for _, tc := range []struct {
		in     string
		n      int
		lo, hi int
		bad    bool
	}{
		{"", 10, 0, 10, false},
		{"0-4", 10, 0, 5, false},
		{"3", 10, 3, 4, false},
		{"7-", 10, 7, 10, false},
		{"8-20", 10, 8, 10, false},
		{"12-", 10, 10, 10, false},
		{"a-b", 0, 0, 0, true},
		{"4-1", 0, 0, 0, true},
		{"-3", 0, 0, 0, true},
		{"1-2-3", 0, 0, 0, true},
	} {
		sp, err := parseIndex(tc.in)
		if (err != nil) != tc.bad {
			t.Errorf("parseIndex(%q) error %v", tc.in, err)
			continue
		}
		if tc.bad {
			continue
		}
		if lo, hi := sp.apply(tc.n); lo != tc.lo || hi != tc.hi {
			t.Errorf("parseIndex(%q).apply(%d) = %d,%d want %d,%d", tc.in, tc.n, lo, hi, tc.lo, tc.hi)
		}
	}
}

func TestAuthorized(t *testing.T) {
	s := New(Config{Password: "pa:ss"})
	for cred, want := range map[string]bool{
		"user:pa:ss": true,
		":pa:ss":     true,
		"iTunes_Music/1.4.5 (Macintosh; OS X 14.5) AppleWebKit/618 (dt:1):pa:ss": true,
		"pa:ss":       false, // no user separator before the password
		"user:pa:sS":  false,
		"user:xpa:ss": false,
		"user:":       false,
		"":            false,
	} {
		r := httptest.NewRequest("GET", "/login", nil)
		r.Header.Set("Authorization", "Basic "+base64Std(cred))
		if got := s.Authorized(r); got != want {
			t.Errorf("Authorized(%q) = %v, want %v", cred, got, want)
		}
	}
	r := httptest.NewRequest("GET", "/login", nil)
	r.Header.Set("Authorization", "Bearer x")
	if s.Authorized(r) {
		t.Error("Bearer accepted")
	}
}

// The database's persistent id follows the library, not the share name.
func TestDatabaseIDFollowsLibrary(t *testing.T) {
	a := New(Config{Name: "Living Room", LibraryID: "0123456789abcdef"})
	b := New(Config{Name: "Kitchen", LibraryID: "0123456789abcdef"})
	c := New(Config{Name: "Living Room", LibraryID: "fedcba9876543210"})
	if a.dbPID != b.dbPID {
		t.Errorf("renaming the share changed the database id: %x → %x", a.dbPID, b.dbPID)
	}
	if a.dbPID == c.dbPID {
		t.Errorf("two libraries share the database id %x", a.dbPID)
	}
}

// A track kept from an unavailable music folder answers 503; a file that
// vanished since the last scan answers 404.
func TestStreamUnavailable(t *testing.T) {
	env := newEnv(t, "")
	var tracks []*library.Track
	for _, tr := range env.cat.Snapshot().Tracks {
		if tr.ID == 12 {
			c := *tr
			c.Missing = true
			tr = &c
		}
		tracks = append(tracks, tr)
	}
	env.cat.Publish(tracks, nil)
	for _, p := range []string{"Alpha/One/01 Sunrise.mp3", "Alpha/One/02 Noon.mp3"} {
		if err := os.Remove(filepath.Join(env.root, filepath.FromSlash(p))); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		path string
		want int
	}{
		{"/databases/1/items/12.mp3", http.StatusServiceUnavailable},
		{"/databases/1/items/11.mp3", http.StatusNotFound},
	} {
		if res, body := env.get(t, tc.path); res.StatusCode != tc.want {
			t.Errorf("GET %s: %d %q, want %d", tc.path, res.StatusCode, body, tc.want)
		}
	}
}
