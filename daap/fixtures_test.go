package daap

import (
	"bytes"
	"context"
	"fmt"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/daapd/daapd/daap/dmap"
	"github.com/daapd/daapd/library"
	fixtures "github.com/daapd/daapd/music-fixtures"
)

// fixtureEnv scans music-fixtures/ into a catalog served by httptest,
// every track in its own format to every client.
func fixtureEnv(t *testing.T) (*testEnv, *fixtures.Expected) {
	t.Helper()
	return fixtureEnvWith(t, Config{Transcode: TranscodeOff})
}

// fixtureEnvWith is fixtureEnv with cfg's transcoding settings.
func fixtureEnvWith(t *testing.T, cfg Config) (*testEnv, *fixtures.Expected) {
	t.Helper()
	exp, err := fixtures.Load()
	if err != nil {
		t.Fatal(err)
	}
	res, err := (&library.Scanner{Roots: []string{fixtures.Dir()}, LibraryID: "daap-test"}).Scan(context.Background(), nil)
	if err != nil {
		t.Fatalf("scan: %v", err)
	}
	cat := library.NewCatalog()
	cat.Publish(res.Tracks, library.EvalPlaylists("daap-test", res.Tracks, res.Playlists, library.SmartConfig{}, time.Now()))
	cfg.Name, cfg.Version, cfg.Catalog = "fixtures", "test", cat
	srv := New(cfg)
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() { srv.Close(); hs.Close() })
	return &testEnv{srv: srv, http: hs, cat: cat, root: fixtures.Dir()}, exp
}

// listing decodes a listing reply into one map of tag → element per mlit.
func listing(t *testing.T, body []byte, top string) []map[string]dmap.Element {
	t.Helper()
	elems, err := dmap.Decode(body)
	if err != nil || len(elems) != 1 || elems[0].Tag != top {
		t.Fatalf("want one %s: %v", top, err)
	}
	mlcl, ok := elems[0].Child("mlcl")
	if !ok {
		t.Fatalf("%s without mlcl", top)
	}
	var out []map[string]dmap.Element
	for _, it := range mlcl.Children {
		m := map[string]dmap.Element{}
		for _, c := range it.Children {
			m[c.Tag] = c
		}
		out = append(out, m)
	}
	return out
}

// TestFixtures serves music-fixtures/ end to end over HTTP: every track
// with its tags, every playlist in order, artwork and byte-exact streams.
func TestFixtures(t *testing.T) {
	env, exp := fixtureEnv(t)
	snap := env.cat.Snapshot()
	idOf := map[string]uint32{}
	for _, tr := range snap.Tracks {
		idOf[tr.Path] = tr.ID
	}
	_, body := env.get(t, "/databases/1/items?meta=all", "User-Agent", uaMusic)
	items := listing(t, body, "adbs")
	byID := map[uint32]map[string]dmap.Element{}
	for _, it := range items {
		byID[uint32(it["miid"].Uint())] = it
	}
	if len(items) != len(exp.Tracks) {
		t.Errorf("%d items, want %d", len(items), len(exp.Tracks))
	}
	for _, want := range exp.Tracks {
		id, ok := idOf[want.Path]
		if !ok {
			t.Errorf("%s not in the catalog", want.Path)
			continue
		}
		it := byID[id]
		str := func(tag string) string { return string(it[tag].Value) }
		if str("minm") != want.Title || (want.Artist != "" && str("asar") != want.Artist) ||
			(want.Album != "" && str("asal") != want.Album) || str("asfm") != want.Format {
			t.Errorf("%s: %q/%q/%q/%q, want %q/%q/%q/%q", want.Path, str("minm"), str("asar"), str("asal"), str("asfm"),
				want.Title, want.Artist, want.Album, want.Format)
		}
		if d := int64(it["astm"].Uint()) - int64(want.DurationMS); d < -60 || d > 60 {
			t.Errorf("%s: astm %d, want %d±60", want.Path, it["astm"].Uint(), want.DurationMS)
		}
		kind := map[string]uint64{"music": 1, "podcast": 4, "audiobook": 8}[want.MediaKind]
		if it["aeMK"].Uint() != kind || it["aeMk"].Uint() != kind || it["mikd"].Uint() != 2 {
			t.Errorf("%s: media kind %d/%d, want %d (%s)", want.Path, it["aeMK"].Uint(), it["aeMk"].Uint(), kind, want.MediaKind)
		}
		_, hasArt := it["ased"]
		if hasArt != (want.Artwork != "none") {
			t.Errorf("%s: ased present %v, artwork %s", want.Path, hasArt, want.Artwork)
		}

		// artwork: the original image, or 204
		res, art := env.get(t, fmt.Sprintf("/databases/1/items/%d/extra_data/artwork", id))
		switch {
		case want.Artwork == "none" && res.StatusCode != 204:
			t.Errorf("%s: artwork %d, want 204", want.Path, res.StatusCode)
		case want.Artwork != "none" && (res.StatusCode != 200 || res.Header.Get("Content-Type") != want.ArtworkMIME || len(art) == 0):
			t.Errorf("%s: artwork %d %s, want 200 %s", want.Path, res.StatusCode, res.Header.Get("Content-Type"), want.ArtworkMIME)
		case want.Artwork == "file":
			if f, _ := os.ReadFile(filepath.Join(env.root, filepath.FromSlash(want.ArtworkPath))); !bytes.Equal(f, art) {
				t.Errorf("%s: artwork differs from %s", want.Path, want.ArtworkPath)
			}
		}

		// stream: byte-identical, whole and in a range
		file, err := os.ReadFile(filepath.Join(env.root, filepath.FromSlash(want.Path)))
		if err != nil {
			t.Fatal(err)
		}
		u := fmt.Sprintf("/databases/1/items/%d.%s?session-id=1", id, url.PathEscape(str("asfm")))
		if res, got := env.get(t, u); res.StatusCode != 200 || !bytes.Equal(got, file) {
			t.Errorf("%s: stream %d, %d bytes, want the file's %d", want.Path, res.StatusCode, len(got), len(file))
		}
		if res, got := env.get(t, u, "Range", "bytes=100-"); res.StatusCode != 206 || !bytes.Equal(got, file[100:]) {
			t.Errorf("%s: range stream %d", want.Path, res.StatusCode)
		}
	}

	// playlists: names and entries in order, duplicates kept, missing skipped
	_, body = env.get(t, "/databases/1/containers", "User-Agent", uaRB, "Client-DAAP-Version", "3.0")
	conts := listing(t, body, "aply")
	// The base playlist, the built-in Audiobooks and Podcasts, then the files.
	builtins := []fixtures.Playlist{{Name: library.AudiobooksName, Format: "smartpl"}, {Name: library.PodcastsName, Format: "smartpl"}}
	for _, tr := range exp.Tracks {
		switch tr.MediaKind {
		case "audiobook":
			builtins[0].Resolves = append(builtins[0].Resolves, &tr.Path)
		case "podcast":
			builtins[1].Resolves = append(builtins[1].Resolves, &tr.Path)
		}
	}
	wantPls := append(builtins, exp.Playlists...)
	if len(conts) != len(wantPls)+1 || conts[0]["abpl"].Uint() != 1 {
		t.Fatalf("%d containers, want the base playlist first and %d more", len(conts), len(wantPls))
	}
	byName := map[string]uint32{}
	for _, c := range conts[1:] {
		name := string(c["minm"].Value)
		byName[name] = uint32(c["miid"].Uint())
		special := map[string]uint64{library.AudiobooksName: 7, library.PodcastsName: 1}[name]
		smart := strings.HasSuffix(name, "newest first") || name == "Lossless" || special != 0
		if _, ok := c["aeSP"]; ok != smart || c["aeSP"].Uint() != boolU(smart) || c["aePS"].Uint() != special {
			t.Errorf("playlist %q: aeSP %v %d, aePS %d; want smart %v, special %d", name, ok, c["aeSP"].Uint(), c["aePS"].Uint(), smart, special)
		}
	}
	for _, pl := range wantPls {
		cid, ok := byName[pl.Name]
		if !ok {
			t.Errorf("playlist %q missing", pl.Name)
			continue
		}
		var want []uint32
		for _, p := range pl.Resolves {
			if p != nil {
				want = append(want, idOf[*p])
			}
		}
		// as libdmapsharing asks: a signed id
		_, body := env.get(t, fmt.Sprintf("/databases/1/containers/%d/items?meta=dmap.itemid", int32(cid)),
			"User-Agent", uaRB, "Client-DAAP-Version", "3.0")
		var got []uint32
		ctis := map[uint64]bool{}
		for _, e := range listing(t, body, "apso") {
			got = append(got, uint32(e["miid"].Uint()))
			ctis[e["mcti"].Uint()] = true
		}
		if fmt.Sprint(got) != fmt.Sprint(want) || len(ctis) != len(got) {
			t.Errorf("playlist %q: items %v (%d distinct mcti), want %v", pl.Name, got, len(ctis), want)
		}
	}
}

func boolU(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}
