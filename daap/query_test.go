package daap

import (
	"fmt"
	"net/url"
	"testing"

	"github.com/daapd/daapd/daap/dmap"
	"github.com/daapd/daapd/internal/testkit"
)

// TestQueries runs the sample queries of the protocol notes (and a few
// more) against items, containers, browse and groups; each reply is a
// golden file.
func TestQueries(t *testing.T) {
	env := newEnv(t, "")
	album := fmt.Sprint(uint64(0xA1A1A1A1A1A1A1A1))
	cases := []struct{ name, path, q string }{
		{"itemid", "items", `'dmap.itemid:13'`},
		{"artist-prefix", "items", `'daap.songartist:Alph*'`},
		{"artist-contains", "items", `'daap.songartist:*amm*'`},
		{"genre-and-artist-plus", "items", `'daap.songgenre:Rock'+'daap.songartist:Alpha'`},
		{"genre-and-artist-space", "items", `'daap.songgenre:Rock' 'daap.songartist:Alpha'`},
		{"dacp-mediakind-artist-set", "items", `('com.apple.itunes.mediakind:1','com.apple.itunes.mediakind:32') 'daap.songartist!:'`},
		{"albumid-extended-media-kind", "items", `('daap.songalbumid:` + album + `'+('com.apple.itunes.extended-media-kind:1','com.apple.itunes.extended-media-kind:32'))`},
		{"media-kind-video-false", "items", `'com.apple.itunes.mediakind:32'`},
		{"and-binds-tighter", "items", `'daap.songartist:Beta','daap.songgenre:Rock'+'dmap.itemid:12'`},
		{"unknown-in-and-dropped", "items", `'daap.songartist:Alpha'+'com.example.unknown:1'`},
		{"unknown-in-or-false", "items", `'daap.songartist:Beta','com.example.unknown:1'`},
		{"empty-value", "items", `'daap.songcomposer:'`},
		{"escaped-quote", "items", `'dmap.itemname:Noon\'s'`},
		{"compilation", "items", `'daap.songcompilation:1'`},
		{"persistentid", "items", `'dmap.persistentid:` + fmt.Sprint(uint64(0x9000000000000000|13)) + `'`},
		{"music-app-containers", "containers", `('dmap.itemname:Test Share','com.apple.itunes.extended-media-kind:1','com.apple.itunes.extended-media-kind:32','com.apple.itunes.extended-media-kind:128','com.apple.itunes.extended-media-kind:65537')`},
		{"container-by-name", "containers", `'dmap.itemname:Fav*'`},
		{"container-items", "containers/501/items", `'daap.songartist:Beta'`},
		{"browse-artists-genre", "browse/artists", `'daap.songgenre:Rock'`},
		{"groups-remote", "groups", `'daap.songalbumartist:Alpha'+'daap.songalbum!:'`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := "/databases/1/" + tc.path + "?meta=dmap.itemname,daap.songartist&query=" + url.QueryEscape(tc.q)
			res, body := env.get(t, p, "User-Agent", uaRemote)
			if res.StatusCode != 200 {
				t.Fatalf("status %d %q", res.StatusCode, body)
			}
			d, err := dmap.Dump(body)
			if err != nil {
				t.Fatal(err)
			}
			testkit.Golden(t, testkit.GoldenName(t), []byte("query: "+tc.q+"\n"+d))
		})
	}
	for _, q := range []string{`'daap.songartist:Alpha`, `('dmap.itemid:1'`, `dmap.itemid:1`} {
		if res, _ := env.get(t, "/databases/1/items?query="+url.QueryEscape(q)); res.StatusCode != 400 {
			t.Errorf("malformed query %s: %d, want 400", q, res.StatusCode)
		}
	}
}
