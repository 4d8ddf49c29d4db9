package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/daapd/daapd/daap/dmap"
	"github.com/daapd/daapd/internal/testkit"
)

// Soak limits. The run is bounded in time (DAAPD_SOAK_DURATION, default
// 60s) and in requests (soakMaxRequests per client).
const (
	soakMaxRequests = 5000
	// soakRSSLimit bounds the daemon's resident memory at the end and its
	// peak (VmHWM) over the whole run, on the fixtures library.
	soakRSSLimit = 100 << 20
	// Back to baseline means within these margins: a few goroutines and
	// descriptors belong to idle keep-alive state that comes and goes.
	soakGoroutineSlack = 8
	soakFDSlack        = 4
	// Go never ends idle OS threads, so threads are bounded, not compared
	// with the baseline: a file that pinned a thread per request (a FIFO
	// opened blocking) would blow far past this.
	soakThreadLimit = 64
)

const (
	uaITunes    = "iTunes/12.12.10 (Macintosh; OS X 13.5) AppleWebKit/615.3.12.11.2"
	uaRhythmbox = "iTunes/4.6 (Windows; N)" // libdmapsharing, as Rhythmbox sends it
)

// soakStats counts replies by kind and status, and the unexpected ones.
type soakStats struct {
	mu     sync.Mutex
	counts map[string]int
	bad    []string
}

func (s *soakStats) note(kind string, status int, detail string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.counts[fmt.Sprintf("%s %d", kind, status)]++
	// 503 is documented: shutting down, music folder unavailable, sessions
	// full, no transcode slot.
	if status >= 500 && status != http.StatusServiceUnavailable && len(s.bad) < 20 {
		s.bad = append(s.bad, fmt.Sprintf("%s: %d %s", kind, status, detail))
	}
}

// procStats is what the soak test watches in the daemon's /proc entry.
type procStats struct {
	threads, fds int
	rss, hwm     int64
}

func readProc(t *testing.T, pid int) procStats {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	var ps procStats
	for line := range strings.Lines(string(b)) {
		k, v, _ := strings.Cut(line, ":")
		f := strings.Fields(v)
		if len(f) == 0 {
			continue
		}
		n, _ := strconv.ParseInt(f[0], 10, 64)
		switch k {
		case "Threads":
			ps.threads = int(n)
		case "VmRSS":
			ps.rss = n << 10
		case "VmHWM":
			ps.hwm = n << 10
		}
	}
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Fatal(err)
	}
	ps.fds = len(fds)
	return ps
}

// children lists the commands of pid's child processes.
func children(pid int) []string {
	var out []string
	dirs, _ := os.ReadDir("/proc")
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join("/proc", d.Name(), "stat"))
		if err != nil {
			continue
		}
		s := string(b)
		open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || end < open {
			continue
		}
		f := strings.Fields(s[end+1:])
		if len(f) > 1 && f[1] == strconv.Itoa(pid) {
			out = append(out, s[open+1:end])
		}
	}
	return out
}

// soakClient is one DAAP client of the soak test.
type soakClient struct {
	base, ua string
	hc       *http.Client
	stats    *soakStats
	sid      uint32
}

func (c *soakClient) get(ctx context.Context, kind, path string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", c.base+path, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", c.ua)
	req.Header.Set("Client-DAAP-Version", "3.0")
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, err
	}
	c.stats.note(kind, resp.StatusCode, path)
	return resp, nil
}

// dmap fetches and decodes a DMAP reply; nil on any failure (counted).
func (c *soakClient) dmap(ctx context.Context, kind, path string) *dmap.Element {
	resp, err := c.get(ctx, kind, path)
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		return nil
	}
	els, err := dmap.Decode(body)
	if err != nil || len(els) != 1 {
		c.stats.note(kind+" undecodable", 0, path)
		return nil
	}
	return &els[0]
}

func (c *soakClient) login(ctx context.Context) bool {
	e := c.dmap(ctx, "login", "/login")
	if e == nil {
		return false
	}
	if id, ok := e.Child("mlid"); ok {
		c.sid = uint32(id.Uint())
		return true
	}
	return false
}

type soakTrack struct {
	id     uint32
	format string
}

func (c *soakClient) list(ctx context.Context) (tracks []soakTrack, rev uint32) {
	if up := c.dmap(ctx, "update", fmt.Sprintf("/update?session-id=%d", c.sid)); up != nil {
		if r, ok := up.Child("musr"); ok {
			rev = uint32(r.Uint())
		}
	}
	e := c.dmap(ctx, "items", fmt.Sprintf("/databases/1/items?session-id=%d&revision-number=%d&meta=dmap.itemid,dmap.itemname,daap.songformat,daap.songartist,daap.songalbum", c.sid, rev))
	if e == nil {
		return nil, rev
	}
	if mlcl, ok := e.Child("mlcl"); ok {
		for _, it := range mlcl.Children {
			id, _ := it.Child("miid")
			f, _ := it.Child("asfm")
			tracks = append(tracks, soakTrack{uint32(id.Uint()), string(f.Value)})
		}
	}
	c.dmap(ctx, "containers", fmt.Sprintf("/databases/1/containers?session-id=%d&revision-number=%d", c.sid, rev))
	return tracks, rev
}

// stream requests a track and reads some of it, or all of it, then hangs
// up: clients skip tracks all the time.
func (c *soakClient) stream(ctx context.Context, kind string, tr soakTrack, rng *rand.Rand) {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", fmt.Sprintf("%s/databases/1/items/%d.%s?session-id=%d", c.base, tr.id, tr.format, c.sid), nil)
	req.Header.Set("User-Agent", c.ua)
	req.Header.Set("Client-DAAP-Version", "3.0") // with the 4.6 UA: libdmapsharing, which gets files as they are
	if rng.IntN(4) == 0 {
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-", rng.IntN(4096)))
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return
	}
	c.stats.note(kind, resp.StatusCode, req.URL.Path)
	defer resp.Body.Close()
	if rng.IntN(3) == 0 {
		io.Copy(io.Discard, resp.Body)
		return
	}
	io.CopyN(io.Discard, resp.Body, int64(rng.IntN(32<<10)))
}

// park waits on /update for a change and hangs up after a while.
func (c *soakClient) park(ctx context.Context, rev uint32, rng *rand.Rand) {
	ctx, cancel := context.WithTimeout(ctx, time.Duration(200+rng.IntN(3000))*time.Millisecond)
	defer cancel()
	resp, err := c.get(ctx, "update (parked)", fmt.Sprintf("/update?session-id=%d&revision-number=%d&delta=%d", c.sid, rev, rev))
	if err != nil {
		return
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
}

// TestSoak runs a real daapd (this test binary re-executed as main) over
// a copy of the fixtures, with clients listing, streaming (direct and
// transcoded, with an iTunes and a Rhythmbox user agent), parking on
// /update and hanging up mid-stream, while the library changes under it: files added
// and removed, files swapped for FIFOs, a music folder moved away and
// back, deleted and re-created. At the end no reply was a 5xx other than a
// documented 503, goroutines and descriptors are back to the baseline, no
// ffmpeg is left, threads and memory stay under their bounds.
//
// It runs only with DAAPD_SOAK=1 (.ci/soak.sh); it needs Linux's /proc.
func TestSoak(t *testing.T) {
	if os.Getenv("DAAPD_SOAK") == "" {
		t.Skip("soak test: run with DAAPD_SOAK=1 (.ci/soak.sh does)")
	}
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("soak test needs /proc")
	}
	duration := 60 * time.Second
	if v := os.Getenv("DAAPD_SOAK_DURATION"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatal(err)
		}
		duration = d
	}
	tmp := t.TempDir()
	music, nas, state := filepath.Join(tmp, "music"), filepath.Join(tmp, "nas"), filepath.Join(tmp, "state")
	if err := os.CopyFS(music, os.DirFS("../../music-fixtures")); err != nil {
		t.Fatal(err)
	}
	if err := os.CopyFS(nas, os.DirFS("../../music-fixtures/Sigur Rós")); err != nil {
		t.Fatal(err)
	}
	var logs testkit.SyncBuffer
	cmd := daapdProcess(t, &logs, "--music", music, "--music", nas, "--listen", "127.0.0.1:0", "--mdns", "off",
		"--state-dir", state, "--log-level", "warn", "--name", "Soak")
	pid := cmd.Process.Pid
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			<-exited
			t.Error("daapd did not stop within 20s of SIGTERM")
		}
	}()

	// The address: log-level warn hides "serving DAAP", so find the port.
	base := ""
	for deadline := time.Now().Add(30 * time.Second); base == ""; {
		if time.Now().After(deadline) {
			t.Fatalf("daapd did not listen; log:\n%s", logs.String())
		}
		base = listeningOn(pid)
		time.Sleep(50 * time.Millisecond)
	}
	health := func() map[string]any {
		resp, err := http.Get(base + "/healthz")
		if err != nil {
			t.Fatalf("healthz: %v\n%s", err, logs.String())
		}
		defer resp.Body.Close()
		var h map[string]any
		json.NewDecoder(resp.Body).Decode(&h)
		return h
	}
	for deadline := time.Now().Add(60 * time.Second); ; {
		h := health()
		if h["scanning"] == false && h["tracks"].(float64) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("first scan did not finish: %v", h)
		}
		time.Sleep(100 * time.Millisecond)
	}

	stats := &soakStats{counts: map[string]int{}}
	transport := &http.Transport{MaxIdleConnsPerHost: 4}
	newClient := func(ua string) *soakClient {
		return &soakClient{base: base, ua: ua, hc: &http.Client{Transport: transport}, stats: stats}
	}
	// Warm up every path once, then take the baseline.
	ctx := context.Background()
	warm := newClient(uaITunes)
	if !warm.login(ctx) {
		t.Fatal("login failed")
	}
	tracks, _ := warm.list(ctx)
	for _, tr := range tracks {
		warm.stream(ctx, "warm-up stream", tr, rand.New(rand.NewPCG(1, 2)))
	}
	transport.CloseIdleConnections()
	time.Sleep(time.Second)
	baseG := int(health()["goroutines"].(float64))
	baseP := readProc(t, pid)
	wavs := 0
	for _, tr := range tracks {
		if tr.format == "wav" {
			wavs++
		}
	}
	t.Logf("baseline: %d goroutines, %d threads, %d fds, RSS %d KiB; %d tracks, %d listed to iTunes as WAV", baseG, baseP.threads, baseP.fds, baseP.rss>>10, len(tracks), wavs)

	// The load.
	ctx, cancel := context.WithTimeout(ctx, duration)
	defer cancel()
	var wg sync.WaitGroup
	var requests atomic.Int64
	worker := func(seed uint64, ua string, body func(c *soakClient, rng *rand.Rand, tracks []soakTrack, rev uint32)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, seed))
			c := newClient(ua)
			var tracks []soakTrack
			var rev uint32
			for i := 0; i < soakMaxRequests && ctx.Err() == nil; i++ {
				if c.sid == 0 && !c.login(ctx) {
					time.Sleep(100 * time.Millisecond)
					continue
				}
				if len(tracks) == 0 || i%8 == 0 {
					if tracks, rev = c.list(ctx); len(tracks) == 0 {
						c.sid = 0 // logged out: log in again
						time.Sleep(50 * time.Millisecond)
						continue
					}
				}
				body(c, rng, tracks, rev)
				requests.Add(1)
			}
		}()
	}
	lister := func(c *soakClient, rng *rand.Rand, tracks []soakTrack, rev uint32) { c.list(ctx) }
	direct := func(c *soakClient, rng *rand.Rand, tracks []soakTrack, rev uint32) {
		c.stream(ctx, "stream (Rhythmbox, direct)", tracks[rng.IntN(len(tracks))], rng)
	}
	transcoded := func(c *soakClient, rng *rand.Rand, tracks []soakTrack, rev uint32) {
		var wav []soakTrack
		for _, tr := range tracks {
			if tr.format == "wav" {
				wav = append(wav, tr)
			}
		}
		if len(wav) == 0 {
			wav = tracks
		}
		c.stream(ctx, "stream (iTunes, WAV)", wav[rng.IntN(len(wav))], rng)
	}
	parker := func(c *soakClient, rng *rand.Rand, tracks []soakTrack, rev uint32) { c.park(ctx, rev, rng) }
	for i := range 2 {
		worker(uint64(10+i), uaITunes, lister)
		worker(uint64(20+i), uaRhythmbox, lister)
		worker(uint64(30+i), uaRhythmbox, direct)
		worker(uint64(40+i), uaITunes, transcoded)
		worker(uint64(50+i), []string{uaITunes, uaRhythmbox}[i], parker)
	}
	worker(60, uaRhythmbox, direct)

	// The library changes all the while.
	mutations := soakMutate(ctx, t, music, nas)

	wg.Wait()
	cancel()
	transport.CloseIdleConnections()
	t.Logf("%d client rounds; library changes: %s", requests.Load(), mutations)
	keys := slices.Sorted(func(yield func(string) bool) {
		for k := range stats.counts {
			if !yield(k) {
				return
			}
		}
	})
	for _, k := range keys {
		t.Logf("  %-40s %d", k, stats.counts[k])
	}
	for _, b := range stats.bad {
		t.Errorf("unexpected reply: %s", b)
	}

	// Back to the baseline: give in-flight handlers and ffmpeg a moment.
	var g int
	var p procStats
	var kids []string
	var h map[string]any
	for deadline := time.Now().Add(30 * time.Second); ; {
		h = health()
		g = int(h["goroutines"].(float64))
		transport.CloseIdleConnections()
		p = readProc(t, pid)
		kids = children(pid)
		settled := g <= baseG+soakGoroutineSlack && p.fds <= baseP.fds+soakFDSlack && len(kids) == 0 && (h["error"] == "" || h["error"] == nil)
		if settled || time.Now().After(deadline) {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Logf("end: %d goroutines, %d threads, %d fds, RSS %d KiB, peak RSS %d KiB", g, p.threads, p.fds, p.rss>>10, p.hwm>>10)
	if g > baseG+soakGoroutineSlack {
		t.Errorf("goroutines: %d at the end, baseline %d", g, baseG)
	}
	if p.fds > baseP.fds+soakFDSlack {
		t.Errorf("descriptors: %d at the end, baseline %d", p.fds, baseP.fds)
		if links, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid)); err == nil {
			for _, l := range links {
				dst, _ := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, l.Name()))
				t.Logf("  fd %s -> %s", l.Name(), dst)
			}
		}
	}
	if p.threads > soakThreadLimit {
		t.Errorf("threads: %d, limit %d", p.threads, soakThreadLimit)
	}
	if len(kids) > 0 {
		t.Errorf("child processes left: %v", kids)
	}
	if p.rss > soakRSSLimit || p.hwm > soakRSSLimit {
		t.Errorf("RSS %d MiB, peak %d MiB; limit %d MiB", p.rss>>20, p.hwm>>20, soakRSSLimit>>20)
	}
	if h["error"] != "" && h["error"] != nil {
		t.Errorf("healthz still reports an error after the folders were restored: %v", h["error"])
	}
	if t.Failed() {
		t.Logf("daapd log:\n%s", logs.String())
	}
}

// soakMutate changes the library until ctx is done and restores it; it
// returns a summary of what it did.
func soakMutate(ctx context.Context, t *testing.T, music, nas string) string {
	flacs, _ := filepath.Glob(filepath.Join(music, "*", "*", "*.flac"))
	mp3s, _ := filepath.Glob(filepath.Join(music, "*", "*", "*.mp3"))
	if len(flacs) == 0 || len(mp3s) == 0 {
		t.Fatal("the fixtures have no FLAC or MP3 two folders down")
	}
	counts := map[string]int{}
	copyTo := func(src, dst string) {
		b, err := os.ReadFile(src)
		if err == nil {
			os.MkdirAll(filepath.Dir(dst), 0o755)
			os.WriteFile(dst+".part", b, 0o644)
			os.Rename(dst+".part", dst)
		}
	}
	// swap replaces a file by a FIFO and returns the function that puts
	// it back.
	swap := func(path string) func() {
		fi, err := os.Lstat(path)
		if err != nil || !fi.Mode().IsRegular() {
			return func() {}
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return func() {}
		}
		os.Remove(path)
		syscall.Mkfifo(path, 0o644)
		return func() {
			os.Remove(path)
			os.WriteFile(path, b, 0o644)
		}
	}
	var restore []func()
	step := 0
	tick := time.NewTicker(700 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			for _, r := range slices.Backward(restore) {
				r()
			}
			os.RemoveAll(filepath.Join(music, "Soak"))
			if _, err := os.Stat(nas); err != nil {
				os.Rename(nas+".away", nas)
			}
			var parts []string
			for _, k := range slices.Sorted(func(yield func(string) bool) {
				for k := range counts {
					if !yield(k) {
						return
					}
				}
			}) {
				parts = append(parts, fmt.Sprintf("%s %d", k, counts[k]))
			}
			return strings.Join(parts, ", ")
		case <-tick.C:
		}
		step++
		switch step % 8 {
		case 0:
			copyTo(mp3s[step%len(mp3s)], filepath.Join(music, "Soak", "Added", fmt.Sprintf("%03d.mp3", step)))
			counts["added"]++
		case 1:
			if old, _ := filepath.Glob(filepath.Join(music, "Soak", "Added", "*.mp3")); len(old) > 3 {
				os.Remove(old[0])
				counts["removed"]++
			}
		case 2:
			restore = append(restore, swap(flacs[step%len(flacs)]), swap(mp3s[step%len(mp3s)]))
			counts["swapped for FIFOs"] += 2
		case 3:
			if err := os.Rename(nas, nas+".away"); err == nil {
				counts["folder moved away"]++
			}
		case 5:
			if err := os.Rename(nas+".away", nas); err == nil {
				counts["folder moved back"]++
			}
			for _, r := range slices.Backward(restore) {
				r()
			}
			restore = nil
		case 6:
			// rm -rf and re-create, as a restore from backup does.
			tmp := nas + ".copy"
			if err := os.CopyFS(tmp, os.DirFS(nas)); err == nil {
				os.RemoveAll(nas)
				os.Rename(tmp, nas)
				counts["folder deleted and re-created"]++
			} else {
				os.RemoveAll(tmp)
			}
		}
	}
}

// listeningOn finds the loopback TCP port pid listens on, from
// /proc/net/tcp and the process's socket inodes.
func listeningOn(pid int) string {
	inodes := map[string]bool{}
	fds, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	for _, fd := range fds {
		dst, _ := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name()))
		if m := socketInode.FindStringSubmatch(dst); m != nil {
			inodes[m[1]] = true
		}
	}
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/net/tcp", pid))
	for line := range strings.Lines(string(b)) {
		f := strings.Fields(line)
		// local_address st ... inode: "0100007F:A1B2 ... 0A ... inode"
		if len(f) > 9 && f[3] == "0A" && inodes[f[9]] {
			_, port, _ := strings.Cut(f[1], ":")
			n, err := strconv.ParseUint(port, 16, 16)
			if err == nil {
				return fmt.Sprintf("http://127.0.0.1:%d", n)
			}
		}
	}
	return ""
}

var socketInode = regexp.MustCompile(`^socket:\[(\d+)\]$`)

// The soak test's helpers must not rot while it is skipped.
func TestSoakHelpers(t *testing.T) {
	ps := readProc(t, os.Getpid())
	if ps.threads == 0 || ps.fds == 0 || ps.rss == 0 {
		t.Errorf("readProc(self) = %+v", ps)
	}
	cmd := exec.Command("sleep", "5")
	if err := cmd.Start(); err != nil {
		t.Skip(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	if kids := children(os.Getpid()); !slices.Contains(kids, "sleep") {
		t.Errorf("children(self) = %v, want sleep", kids)
	}
}
