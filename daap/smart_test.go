package daap

import (
	"fmt"
	"testing"
	"time"

	"github.com/daapd/daapd/library"
	"github.com/daapd/daapd/library/smartpl"
)

// TestSmartPlaylists serves smart playlists as Music.app and Rhythmbox see
// them: flagged smart (aeSP, aePS for the special ones), their items in the
// playlist's order and within its limit, items with their media kind, and
// a change of a smart playlist alone releasing a parked /update.
func TestSmartPlaylists(t *testing.T) {
	env := newEnv(t, "")
	snap := env.cat.Snapshot()
	tracks := snap.Tracks
	book := *tracks[0] // 11, year 1999
	book.MediaKind = library.MediaAudiobook
	tracks = append([]*library.Track{&book}, tracks[1:]...)
	newest, err := smartpl.ParseQuery("Newest", "year > 0 order by year desc limit 2")
	if err != nil {
		t.Fatal(err)
	}
	now := epoch.Add(48 * time.Hour)
	cfg := library.SmartConfig{Playlists: []*smartpl.Playlist{newest}, RecentlyAddedDays: 30}
	env.cat.Publish(tracks, library.EvalPlaylists("lib", tracks, snap.Playlists, cfg, now))
	rev := env.cat.Revision()

	_, body := env.get(t, "/databases/1/containers", "User-Agent", uaMusic)
	ids := map[string]uint32{}
	for _, c := range listing(t, body, "aply") {
		name := string(c["minm"].Value)
		ids[name] = uint32(c["miid"].Uint())
		_, smart := c["aeSP"]
		wantSmart := name == "Newest" || name == library.RecentlyAddedName || name == library.AudiobooksName
		if smart != wantSmart || c["aePS"].Uint() != map[string]uint64{library.AudiobooksName: 7}[name] {
			t.Errorf("%s: aeSP %v aePS %d", name, smart, c["aePS"].Uint())
		}
	}
	items := func(name string) []uint64 {
		_, body := env.get(t, fmt.Sprintf("/databases/1/containers/%d/items?meta=dmap.itemid", ids[name]))
		var out []uint64
		for _, it := range listing(t, body, "apso") {
			out = append(out, it["miid"].Uint())
		}
		return out
	}
	if got := items("Newest"); fmt.Sprint(got) != "[13 11]" { // 2010, then 1999 (the first in catalog order)
		t.Errorf("Newest: %v, want [13 11]", got)
	}
	if got := items(library.AudiobooksName); fmt.Sprint(got) != "[11]" {
		t.Errorf("Audiobooks: %v", got)
	}
	if got := items(library.RecentlyAddedName); len(got) != 5 {
		t.Errorf("Recently Added: %v, want all 5", got)
	}
	_, body = env.get(t, "/databases/1/items?meta=com.apple.itunes.mediakind,com.apple.itunes.extended-media-kind")
	for _, it := range listing(t, body, "adbs") {
		want := uint64(1)
		if it["miid"].Uint() == 11 {
			want = 8
		}
		if it["aeMK"].Uint() != want || it["aeMk"].Uint() != want {
			t.Errorf("item %d: aeMK %d aeMk %d, want %d", it["miid"].Uint(), it["aeMK"].Uint(), it["aeMk"].Uint(), want)
		}
	}
	// An iTunes-style query for music leaves the audiobook out.
	_, body = env.get(t, "/databases/1/items?meta=dmap.itemid&query='com.apple.itunes.mediakind:1'")
	if n := len(listing(t, body, "adbs")); n != 4 {
		t.Errorf("music query: %d items, want 4", n)
	}

	// 40 days on, only Recently Added changes: parked clients hear of it.
	ch := env.async(t, fmt.Sprintf("/update?revision-number=%d", rev))
	waitParked(env.srv, 1)
	s := env.cat.Snapshot()
	env.cat.Publish(s.Tracks, library.EvalPlaylists("lib", s.Tracks, s.Playlists, cfg, now.AddDate(0, 0, 40)))
	if r := <-ch; r.status != 200 || revisionOf(t, r.body) != rev+1 {
		t.Fatalf("parked /update: %d, revision %d; want %d", r.status, revisionOf(t, r.body), rev+1)
	}
	if got := items(library.RecentlyAddedName); len(got) != 0 {
		t.Errorf("Recently Added after 40 days: %v", got)
	}
}
