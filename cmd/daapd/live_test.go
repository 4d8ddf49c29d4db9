package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/daapd/daapd/daap/dmap"
)

// copyFile copies a fixture to dst, creating its folder.
func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// dmapGet fetches a DMAP reply and decodes it; it fails the test on any
// status but 200.
func dmapGet(t *testing.T, url string) dmap.Element {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, body)
	}
	els, err := dmap.Decode(body)
	if err != nil || len(els) != 1 {
		t.Fatalf("GET %s: %d elements, %v", url, len(els), err)
	}
	return els[0]
}

func child(t *testing.T, e dmap.Element, path ...string) dmap.Element {
	t.Helper()
	for _, tag := range path {
		c, ok := e.Child(tag)
		if !ok {
			t.Fatalf("%s has no %s", e.Tag, tag)
		}
		e = c
	}
	return e
}

// listing is a decoded items reply.
type listing struct {
	muty    uint64
	names   []string
	ids     []uint32
	deleted []uint32
}

func items(t *testing.T, base string, sid, rev, delta uint32) listing {
	t.Helper()
	e := dmapGet(t, fmt.Sprintf("%s/databases/1/items?session-id=%d&revision-number=%d&delta=%d&meta=dmap.itemid,dmap.itemname",
		base, sid, rev, delta))
	var l listing
	l.muty = child(t, e, "muty").Uint()
	if mlcl, ok := e.Child("mlcl"); ok {
		for _, it := range mlcl.Children {
			l.ids = append(l.ids, uint32(child(t, it, "miid").Uint()))
			l.names = append(l.names, string(child(t, it, "minm").Value))
		}
	}
	if mudl, ok := e.Child("mudl"); ok {
		for _, c := range mudl.Children {
			l.deleted = append(l.deleted, uint32(c.Uint()))
		}
	}
	return l
}

// parkUpdate sends /update for revision rev in the background; the channel
// gets the new revision (0 on any failure).
func parkUpdate(t *testing.T, base string, sid, rev uint32) <-chan uint32 {
	ch := make(chan uint32, 1)
	go func() {
		url := fmt.Sprintf("%s/update?session-id=%d&revision-number=%d&delta=%d", base, sid, rev, rev)
		resp, err := http.Get(url)
		if err != nil {
			ch <- 0
			return
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		els, err := dmap.Decode(body)
		if resp.StatusCode != 200 || err != nil || len(els) != 1 {
			ch <- 0
			return
		}
		musr, _ := els[0].Child("musr")
		ch <- uint32(musr.Uint())
	}()
	return ch
}

func waitRevision(t *testing.T, ch <-chan uint32, after uint32, what string) uint32 {
	t.Helper()
	select {
	case rev := <-ch:
		if rev <= after {
			t.Fatalf("%s: parked /update answered revision %d, want > %d", what, rev, after)
		}
		return rev
	case <-time.After(60 * time.Second):
		t.Fatalf("%s: parked /update not answered", what)
	}
	return 0
}

// TestLiveUpdates is the end-to-end path of a change: a real daapd watches
// a music folder, a client parks on /update, a file is copied in, the
// client gets the new revision and the delta lists just that track; then a
// file is removed and the delta lists its id in mudl.
func TestLiveUpdates(t *testing.T) {
	music := t.TempDir()
	const fixtures = "../../music-fixtures"
	copyFile(t, filepath.Join(fixtures, "Alpha Quartet/First Light/01 Dawn Chorus.mp3"), filepath.Join(music, "Alpha Quartet/First Light/01 Dawn Chorus.mp3"))
	copyFile(t, filepath.Join(fixtures, "Alpha Quartet/First Light/02 Evening Song.mp3"), filepath.Join(music, "Alpha Quartet/First Light/02 Evening Song.mp3"))

	base, logs, stop := startDaemon(t, "--music", music)
	defer func() {
		if err := stop(); err != nil {
			t.Errorf("run: %v", err)
		}
		if t.Failed() {
			t.Logf("daemon log:\n%s", logs)
		}
	}()
	waitScanned(t, base)

	sid := uint32(child(t, dmapGet(t, base+"/login"), "mlid").Uint())
	rev := uint32(child(t, dmapGet(t, fmt.Sprintf("%s/update?session-id=%d&revision-number=1", base, sid)), "musr").Uint())
	before := items(t, base, sid, rev, 0)
	if len(before.ids) == 0 {
		t.Fatal("no tracks before the change")
	}

	// A new album is copied in while the client waits.
	parked := parkUpdate(t, base, sid, rev)
	copyFile(t, filepath.Join(fixtures, "Omega Archive/Old Tags/01 Twenty Two.mp3"), filepath.Join(music, "New Album/01 Twenty Two.mp3"))
	rev2 := waitRevision(t, parked, rev, "after a copy")
	delta := items(t, base, sid, rev2, rev)
	if delta.muty != 1 || len(delta.ids) != 1 || len(delta.deleted) != 0 {
		t.Fatalf("delta after a copy: %+v", delta)
	}
	added := delta.ids[0]
	if slices.Contains(before.ids, added) {
		t.Errorf("the new track reuses id %d", added)
	}
	full := items(t, base, sid, rev2, 0)
	if full.muty != 0 || len(full.ids) != len(before.ids)+1 || !slices.Contains(full.ids, added) {
		t.Errorf("full listing after a copy: %+v", full)
	}

	// A file is removed.
	parked = parkUpdate(t, base, sid, rev2)
	if err := os.Remove(filepath.Join(music, "Alpha Quartet/First Light/02 Evening Song.mp3")); err != nil {
		t.Fatal(err)
	}
	rev3 := waitRevision(t, parked, rev2, "after a removal")
	delta = items(t, base, sid, rev3, rev2)
	if delta.muty != 1 || len(delta.ids) != 0 || len(delta.deleted) != 1 {
		t.Fatalf("delta after a removal: %+v", delta)
	}
	gone := delta.deleted[0]
	if !slices.Contains(before.ids, gone) || gone == added {
		t.Errorf("deleted id %d was not a listed track", gone)
	}
	after := items(t, base, sid, rev3, 0)
	if len(after.ids) != len(full.ids)-1 || slices.Contains(after.ids, gone) {
		t.Errorf("full listing after a removal: %+v", after)
	}
}

// TestLiveRestartFromCache restarts daapd on the same state directory: the
// second start serves the catalog from the scan cache, with the same ids.
func TestLiveRestartFromCache(t *testing.T) {
	music, state := t.TempDir(), t.TempDir()
	copyFile(t, "../../music-fixtures/Alpha Quartet/First Light/01 Dawn Chorus.mp3", filepath.Join(music, "A/01.mp3"))
	copyFile(t, "../../music-fixtures/Omega Archive/Old Tags/01 Twenty Two.mp3", filepath.Join(music, "B/01.mp3"))
	listing := func(base string) listing {
		sid := uint32(child(t, dmapGet(t, base+"/login"), "mlid").Uint())
		rev := uint32(child(t, dmapGet(t, fmt.Sprintf("%s/update?session-id=%d&revision-number=1", base, sid)), "musr").Uint())
		return items(t, base, sid, rev, 0)
	}

	base, logs, stop := startDaemon(t, "--music", music, "--state-dir", state)
	waitScanned(t, base)
	first := listing(base)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "scan cache saved") {
		t.Fatalf("no cache saved at shutdown:\n%s", logs)
	}

	base, logs, stop = startDaemon(t, "--music", music, "--state-dir", state)
	defer stop()
	waitScanned(t, base)
	second := listing(base)
	if !strings.Contains(logs.String(), "loaded scan cache") {
		t.Errorf("the cache was not used:\n%s", logs)
	}
	slices.Sort(first.ids)
	slices.Sort(second.ids)
	if !slices.Equal(first.ids, second.ids) || len(first.ids) == 0 {
		t.Errorf("ids changed across a restart: %v, then %v", first.ids, second.ids)
	}
}
