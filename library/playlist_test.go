package library

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParsePlaylist(t *testing.T) {
	tests := []struct {
		name    string
		format  string
		data    string
		title   string
		entries []string
	}{
		{"extm3u", "m3u", "#EXTM3U\n#PLAYLIST: Road Trip \n#EXTINF:123,A - B\na.mp3\r\n\n  b/c.mp3  \n", "Road Trip", []string{"a.mp3", "b/c.mp3"}},
		{"m3u8 bom", "m3u8", "\xef\xbb\xbfé.mp3\n", "", []string{"é.mp3"}},
		{"m3u latin-1", "m3u", "caf\xe9.mp3\n", "", []string{"café.mp3"}},
		{"m3u utf-8", "m3u", "café.mp3\n", "", []string{"café.mp3"}},
		{"utf-16le bom", "m3u", "\xff\xfea\x00.\x00m\x00p\x003\x00\n\x00", "", []string{"a.mp3"}},
		{"pls", "pls", "[playlist]\nFile2=b.mp3\nTitle1=x\nfile1=a.mp3\nFile10=j.mp3\nNumberOfEntries=3\nFileX=bad\n", "", []string{"a.mp3", "b.mp3", "j.mp3"}},
		{"pls latin-1", "pls", "[playlist]\nFile1=caf\xe9.mp3\n", "", []string{"café.mp3"}},
		{"empty", "m3u", "", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			title, entries := parsePlaylist([]byte(tt.data), tt.format)
			if title != tt.title || !slices.Equal(entries, tt.entries) {
				t.Errorf("got %q %q, want %q %q", title, entries, tt.title, tt.entries)
			}
		})
	}
}

func FuzzParsePlaylist(f *testing.F) {
	for _, s := range []string{"#EXTM3U\n#PLAYLIST:x\na.mp3\n", "[playlist]\nFile1=a\n", "\xff\xfea\x00", "\xfe\xff\x00a", "caf\xe9"} {
		f.Add([]byte(s), "m3u")
		f.Add([]byte(s), "pls")
	}
	f.Fuzz(func(t *testing.T, data []byte, format string) {
		_, entries := parsePlaylist(data, format)
		for _, e := range entries {
			if e == "" {
				t.Fatal("empty entry")
			}
		}
	})
}

func TestPlaylistResolve(t *testing.T) {
	base := t.TempDir()
	music, other := filepath.Join(base, "music"), filepath.Join(base, "other")
	nfdName := "Cafe\u0301.mp3"
	write(t, music, map[string]string{
		"A/Album/01.mp3": "title=1",
		"A/Album/02.mp3": "title=2",
		"B/Café.mp3":     "title=café (NFC)",
		"C/" + nfdName:   "title=nfd on disk",
	})
	write(t, other, map[string]string{"X/x.mp3": "title=x"})
	lists := map[string]string{
		"Lists/relative.m3u":  "../A/Album/01.mp3\n../A/Album/02.mp3\n../A/Album/01.mp3\n",
		"A/Album/here.m3u":    "01.mp3\n./02.mp3\n",
		"Lists/windows.m3u":   "..\\A\\Album\\01.mp3\r\n..\\B\\Café.mp3\r\n",
		"Lists/absolute.m3u8": music + "/A/Album/02.mp3\n" + other + "/X/x.mp3\n",
		"Lists/urls.m3u":      "file://" + music + "/A/Album/01.mp3\nfile://" + strings.ReplaceAll(music, "/", "/") + "/B/Caf%C3%A9.mp3\nhttp://radio.example/stream\n",
		"Lists/nfd.m3u8":      "../B/" + nfdName + "\n../C/Café.mp3\n",
		"Lists/missing.m3u":   "../A/Album/01.mp3\n../nope.mp3\n../A/Album/99.mp3\n",
		"Lists/foreign.m3u":   "C:\\Users\\me\\Music\\A\\Album\\02.mp3\n/Users/me/Music/A/Album/01.mp3\n\\\\nas\\music\\B\\Café.mp3\n",
		"Lists/case.m3u":      "../a/ALBUM/01.MP3\n",
		"Lists/escape.m3u":    "../../other/X/x.mp3\n",
		"Lists/radio.pls":     "[playlist]\nFile2=../A/Album/02.mp3\nFile1=../A/Album/01.mp3\n",
		"Lists/named.m3u":     "#PLAYLIST:My Mix\n../A/Album/01.mp3\n",
	}
	write(t, music, lists)
	s, logs := testScanner(music, other)
	res := scanOK(t, s, nil)
	id := func(root, p string) uint32 {
		for _, tr := range res.Tracks {
			if tr.Root == root && tr.Path == p {
				return tr.ID
			}
		}
		t.Fatalf("no track %s", p)
		return 0
	}
	a1, a2 := id(music, "A/Album/01.mp3"), id(music, "A/Album/02.mp3")
	cafe, cnfd, x := id(music, "B/Café.mp3"), id(music, "C/Café.mp3"), id(other, "X/x.mp3")
	want := map[string][]uint32{
		"Lists/relative.m3u":  {a1, a2, a1},
		"A/Album/here.m3u":    {a1, a2},
		"Lists/windows.m3u":   {a1, cafe},
		"Lists/absolute.m3u8": {a2, x},
		"Lists/urls.m3u":      {a1, cafe},
		"Lists/nfd.m3u8":      {cafe, cnfd},
		"Lists/missing.m3u":   {a1},
		"Lists/foreign.m3u":   {a2, a1, cafe},
		"Lists/case.m3u":      {a1},
		"Lists/escape.m3u":    {x},
		"Lists/radio.pls":     {a1, a2},
		"Lists/named.m3u":     {a1},
	}
	got := map[string][]uint32{}
	names := map[string]string{}
	for _, p := range res.Playlists {
		got[p.Path] = p.Items
		names[p.Path] = p.Name
		if p.ID < minItemID || p.PersistentID == 0 || p.Root != music {
			t.Errorf("%s: id %d persistent %d root %s", p.Path, p.ID, p.PersistentID, p.Root)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("items (-want +got):\n%s\nlog:\n%s", diff, logs)
	}
	if names["Lists/named.m3u"] != "My Mix" || names["Lists/radio.pls"] != "radio" {
		t.Errorf("names %v", names)
	}
	var warned []string
	for line := range strings.Lines(logs.String()) {
		if strings.Contains(line, "playlist entries not found") {
			warned = append(warned, line)
		}
	}
	if len(warned) != 2 || !strings.Contains(strings.Join(warned, ""), "missing=2") {
		t.Errorf("want one warning for missing.m3u (2 missing) and one for urls.m3u:\n%s", strings.Join(warned, ""))
	}
	// Playlist ids are stable across scans.
	again := scanOK(t, s, res.Tracks)
	if diff := cmp.Diff(res.Playlists, again.Playlists); diff != "" {
		t.Errorf("playlists changed on rescan:\n%s", diff)
	}
}
