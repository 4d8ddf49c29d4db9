// Command benchupdate measures how fast a new album copied into a watched
// library reaches a DAAP client parked on /update, the way iTunes waits for
// changes, and checks that the delta listing that follows holds exactly the
// new tracks.
//
// It starts daapd (--mdns off, 127.0.0.1, a fresh state folder unless
// -state-dir is given) over -lib, waits for the first scan to finish, then
// for each run: logs in, parks /update?revision-number=R&delta=R, copies an
// album (cp -r) into a new folder of the library, and times the end of the
// copy until /update answers. It then asks for
// /databases/1/items?revision-number=R2&delta=R and checks that it lists
// every copied track, nothing else, and no deletion. The album is removed
// again (and its removal checked the same way) before the next run; it is
// removed on every exit, including SIGINT and SIGTERM. tools/bench-update.sh
// builds daapd and an album and runs this.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/daapd/daapd/daap/dmap"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "benchupdate:", err)
		os.Exit(1)
	}
}

type options struct {
	lib, daapd, album, stateDir string
	runs                        int
	scanTimeout, waitTimeout    time.Duration
	verbose                     bool
}

func run() error {
	var o options
	flag.StringVar(&o.lib, "lib", "", "watched music library (required); left as it was found")
	flag.StringVar(&o.daapd, "daapd", "", "daapd binary (required)")
	flag.StringVar(&o.album, "album", "", "folder of one album's audio files to copy in (required)")
	flag.StringVar(&o.stateDir, "state-dir", "", "daapd state folder (default: a fresh temporary one, so the first scan reads every file)")
	flag.IntVar(&o.runs, "runs", 3, "albums copied in (and removed) one after another")
	flag.DurationVar(&o.scanTimeout, "scan-timeout", 30*time.Minute, "limit for the first scan")
	flag.DurationVar(&o.waitTimeout, "wait-timeout", 2*time.Minute, "limit for one /update answer")
	flag.BoolVar(&o.verbose, "v", false, "echo daapd's log")
	flag.Parse()
	if o.lib == "" || o.daapd == "" || o.album == "" || flag.NArg() > 0 {
		flag.Usage()
		return errors.New("-lib, -daapd and -album are required")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	files, err := audioFiles(o.album)
	if err != nil {
		return err
	}
	if o.stateDir == "" {
		d, err := os.MkdirTemp("", "benchupdate-state-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		o.stateDir = d
	}
	d, err := startDaapd(ctx, o)
	if err != nil {
		return err
	}
	defer d.stop()

	start := time.Now()
	fmt.Printf("library %s; waiting for the first scan\n", o.lib)
	if err := d.waitScan(ctx, o.scanTimeout); err != nil {
		return err
	}
	fmt.Printf("first scan: %s (%s)\n", time.Since(start).Round(100*time.Millisecond), d.lastScan)
	if d.watchWarn != "" {
		fmt.Printf("daapd warned: %s\n", d.watchWarn)
	}
	c := &client{base: "http://" + d.addr, http: &http.Client{}}
	if err := c.login(ctx); err != nil {
		return err
	}
	if err := c.settle(ctx, 5*time.Second); err != nil {
		return err
	}
	known, err := c.ids(ctx)
	if err != nil {
		return err
	}
	var adds, dels []time.Duration
	for i := range o.runs {
		add, del, err := oneRun(ctx, o, d, c, known, files, i)
		if err != nil {
			return fmt.Errorf("run %d: %w", i+1, err)
		}
		adds, dels = append(adds, add), append(dels, del)
	}
	fmt.Printf("new album (%d tracks) -> /update answered: %s (median %s)\n", len(files), list(adds), median(adds))
	fmt.Printf("album removed -> /update answered: %s (median %s)\n", list(dels), median(dels))
	return nil
}

// oneRun copies the album in, measures and checks its arrival, then removes
// it and checks its departure.
func oneRun(ctx context.Context, o options, d *daapd, c *client, known map[uint64]bool, files []string, i int) (add, del time.Duration, err error) {
	dir := filepath.Join(o.lib, fmt.Sprintf("daapd-bench-update-%d-%d", os.Getpid(), i+1))
	target := filepath.Join(dir, filepath.Base(o.album))
	defer os.RemoveAll(dir)
	rev, err := c.revision(ctx)
	if err != nil {
		return 0, 0, err
	}
	done := c.park(ctx, rev, o.waitTimeout)
	time.Sleep(200 * time.Millisecond) // let the request reach the server
	if err := os.Mkdir(dir, 0o755); err != nil {
		return 0, 0, err
	}
	if out, err := exec.CommandContext(ctx, "cp", "-r", o.album, target).CombinedOutput(); err != nil {
		return 0, 0, fmt.Errorf("cp: %v %s", err, out)
	}
	copied := time.Now()
	// A copy that the watcher delivers in two batches answers /update
	// twice: wait until every track is in.
	var items []item
	r := rev
	for len(items) < len(files) {
		u := <-done
		if u.err != nil {
			return 0, 0, u.err
		}
		add = u.at.Sub(copied)
		fmt.Printf("run %d: revision %d -> %d after %s%s\n", i+1, r, u.rev, add.Round(time.Millisecond), d.split(copied, u.at))
		var gone []uint64
		if items, gone, err = c.delta(ctx, rev, u.rev); err != nil {
			return 0, 0, err
		}
		if len(gone) > 0 {
			return 0, 0, fmt.Errorf("delta %d..%d deletes %d tracks; nothing was removed", rev, u.rev, len(gone))
		}
		r = u.rev
		if len(items) < len(files) {
			done = c.park(ctx, r, o.waitTimeout)
		}
	}
	// Exactly the copied tracks: as many as files, each an id the library
	// did not hold before, none twice.
	added := make(map[uint64]bool)
	albums := make(map[string]bool)
	for _, it := range items {
		if known[it.id] || added[it.id] {
			return 0, 0, fmt.Errorf("delta %d..%d lists %q (%q, id %d), which is not a new track", rev, r, it.name, it.album, it.id)
		}
		added[it.id] = true
		albums[it.album] = true
	}
	if len(items) != len(files) {
		return 0, 0, fmt.Errorf("delta %d..%d lists %d tracks; %d were copied", rev, r, len(items), len(files))
	}
	fmt.Printf("run %d: delta %d..%d lists exactly the %d new tracks (albums %q), no deletion\n", i+1, rev, r, len(items), slices.Sorted(maps.Keys(albums)))

	// Remove it again and check that clients hear of that too.
	rev = r
	done = c.park(ctx, rev, o.waitTimeout)
	time.Sleep(200 * time.Millisecond)
	if err := os.RemoveAll(dir); err != nil {
		return 0, 0, err
	}
	removed := time.Now()
	u := <-done
	if u.err != nil {
		return 0, 0, u.err
	}
	del = u.at.Sub(removed)
	d.split(removed, u.at) // drain
	_, gone, err := c.delta(ctx, rev, u.rev)
	if err != nil {
		return 0, 0, err
	}
	if len(gone) != len(added) || slices.ContainsFunc(gone, func(id uint64) bool { return !added[id] }) {
		return 0, 0, fmt.Errorf("delta %d..%d deletes %v, not the %d tracks added", rev, u.rev, gone, len(added))
	}
	fmt.Printf("run %d: removed; revision %d -> %d after %s, delta lists %d deletions\n", i+1, rev, u.rev, del.Round(time.Millisecond), len(files))
	return add, del, nil
}

// audioFiles lists the audio files of dir (not below it), which must be
// one album.
func audioFiles(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var files []string
	for _, e := range entries {
		switch strings.ToLower(filepath.Ext(e.Name())) {
		case ".mp3", ".flac", ".m4a", ".ogg", ".opus":
		default:
			continue // cover.jpg
		}
		if e.Type().IsRegular() && !strings.HasPrefix(e.Name(), ".") {
			files = append(files, e.Name())
		}
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%s: no files", dir)
	}
	return files, nil
}

// daapd is the server under test.
type daapd struct {
	cmd       *exec.Cmd
	addr      string
	scanned   chan string    // "scan finished" log lines
	batches   chan time.Time // when daapd began rescanning a batch of changed paths
	lastScan  string
	watchWarn string
	exited    chan error
}

func startDaapd(ctx context.Context, o options) (*daapd, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(o.daapd, "--mdns", "off", "--listen", addr, "--music", o.lib,
		"--state-dir", o.stateDir, "--log-format", "json", "--log-level", "debug", "--name", "benchupdate")
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stdout = os.Stdout
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	d := &daapd{cmd: cmd, addr: addr, scanned: make(chan string, 16), batches: make(chan time.Time, 64), exited: make(chan error, 1)}
	warn := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			if o.verbose {
				fmt.Fprintln(os.Stderr, "daapd:", line)
			}
			var rec struct {
				Level, Msg string
			}
			if json.Unmarshal([]byte(line), &rec) != nil {
				continue
			}
			switch {
			case rec.Msg == "rescanning changed paths":
				select {
				case d.batches <- time.Now():
				default:
				}
			case rec.Msg == "scan finished":
				select {
				case d.scanned <- line:
				default:
				}
			case rec.Level == "WARN" || rec.Level == "ERROR":
				if !o.verbose {
					fmt.Fprintln(os.Stderr, "daapd:", line)
				}
				select {
				case warn <- line:
				default:
				}
			}
		}
		io.Copy(io.Discard, stderr)
	}()
	go func() { d.exited <- cmd.Wait() }()
	go func() {
		for w := range warn {
			if strings.Contains(w, "inotify") || strings.Contains(w, "watch") {
				d.watchWarn = w // read after the scan; racy only in what is printed
			}
		}
	}()
	_ = ctx
	return d, nil
}

// waitScan waits for daapd's first "scan finished".
func (d *daapd) waitScan(ctx context.Context, limit time.Duration) error {
	select {
	case line := <-d.scanned:
		var rec struct {
			Files, Tracks int
			Duration      time.Duration
			FilesPerS     float64 `json:"files_per_s"`
		}
		json.Unmarshal([]byte(line), &rec)
		d.lastScan = fmt.Sprintf("%d files, %d tracks, %s, %.0f files/s", rec.Files, rec.Tracks, rec.Duration.Round(100*time.Millisecond), rec.FilesPerS)
		return nil
	case err := <-d.exited:
		return fmt.Errorf("daapd exited: %v", err)
	case <-time.After(limit):
		return fmt.Errorf("first scan not finished after %s", limit)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// split tells the debounce from the rescan and publish: how long after
// from daapd logged the last batch of changed paths before at.
func (d *daapd) split(from, at time.Time) string {
	var last time.Time
	for {
		select {
		case t := <-d.batches:
			if t.Before(at) {
				last = t
			}
			continue
		default:
		}
		break
	}
	if last.IsZero() {
		return ""
	}
	return fmt.Sprintf(" (batch delivered after %s, rescanned and published in %s)",
		last.Sub(from).Round(time.Millisecond), at.Sub(last).Round(time.Millisecond))
}

func (d *daapd) stop() {
	d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.exited:
	case <-time.After(30 * time.Second):
		d.cmd.Process.Kill()
		<-d.exited
	}
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// client is a DAAP client with one session.
type client struct {
	base    string
	http    *http.Client
	session uint64
}

func (c *client) get(ctx context.Context, path string, q url.Values) ([]dmap.Element, error) {
	if c.session != 0 {
		q.Set("session-id", strconv.FormatUint(c.session, 10))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path+"?"+q.Encode(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Client-DAAP-Version", "3.12")
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", path, resp.Status)
	}
	elems, err := dmap.Decode(body)
	if err != nil || len(elems) != 1 {
		return nil, fmt.Errorf("GET %s: bad body (%d elements): %v", path, len(elems), err)
	}
	return elems[0].Children, nil
}

func child(elems []dmap.Element, tag string) (dmap.Element, bool) {
	return dmap.Element{Children: elems}.Child(tag)
}

func (c *client) login(ctx context.Context) error {
	els, err := c.get(ctx, "/login", url.Values{})
	if err != nil {
		return err
	}
	id, ok := child(els, "mlid")
	if !ok {
		return errors.New("login: no mlid")
	}
	c.session = id.Uint()
	return nil
}

// revision asks for the current revision, as clients do right after login.
func (c *client) revision(ctx context.Context) (uint64, error) {
	els, err := c.get(ctx, "/update", url.Values{"revision-number": {"1"}, "delta": {"0"}})
	if err != nil {
		return 0, err
	}
	r, ok := child(els, "musr")
	if !ok {
		return 0, errors.New("update: no musr")
	}
	return r.Uint(), nil
}

// settle waits until the revision has not changed for quiet: the scan's
// final publish follows its "scan finished" line.
func (c *client) settle(ctx context.Context, quiet time.Duration) error {
	for {
		rev, err := c.revision(ctx)
		if err != nil {
			return err
		}
		u := <-c.park(ctx, rev, quiet)
		if errors.Is(u.err, context.DeadlineExceeded) {
			return nil
		}
		if u.err != nil {
			return u.err
		}
	}
}

type update struct {
	rev uint64
	at  time.Time
	err error
}

// park sends /update?revision-number=rev&delta=rev and delivers its answer.
func (c *client) park(ctx context.Context, rev uint64, limit time.Duration) <-chan update {
	ch := make(chan update, 1)
	go func() {
		ctx, cancel := context.WithTimeout(ctx, limit)
		defer cancel()
		r := strconv.FormatUint(rev, 10)
		els, err := c.get(ctx, "/update", url.Values{"revision-number": {r}, "delta": {r}})
		at := time.Now()
		if err != nil {
			ch <- update{err: fmt.Errorf("parked /update: %w", err)}
			return
		}
		m, ok := child(els, "musr")
		switch {
		case !ok:
			err = errors.New("parked /update: no musr")
		case m.Uint() <= rev:
			err = fmt.Errorf("parked /update answered revision %d, not newer than %d", m.Uint(), rev)
		}
		ch <- update{rev: m.Uint(), at: at, err: err}
	}()
	return ch
}

type item struct {
	id          uint64
	name, album string
}

// delta fetches the items changed from old to rev, and the ids deleted,
// checking that it is a delta (muty 1) listing.
func (c *client) delta(ctx context.Context, old, rev uint64) (items []item, deleted []uint64, err error) {
	q := url.Values{
		"revision-number": {strconv.FormatUint(rev, 10)},
		"delta":           {strconv.FormatUint(old, 10)},
		"type":            {"music"},
		"meta":            {"dmap.itemid,dmap.itemname,daap.songalbum"},
	}
	els, err := c.get(ctx, "/databases/1/items", q)
	if err != nil {
		return nil, nil, err
	}
	if m, ok := child(els, "muty"); !ok || m.Uint() != 1 {
		return nil, nil, fmt.Errorf("items delta %d..%d: not a delta listing (muty %d)", old, rev, m.Uint())
	}
	if l, ok := child(els, "mlcl"); ok {
		for _, e := range l.Children {
			id, _ := e.Child("miid")
			n, _ := e.Child("minm")
			a, _ := e.Child("asal")
			items = append(items, item{id: id.Uint(), name: string(n.Value), album: string(a.Value)})
		}
	}
	if l, ok := child(els, "mudl"); ok {
		for _, e := range l.Children {
			deleted = append(deleted, e.Uint())
		}
	}
	return items, deleted, nil
}

// ids lists the ids of every track, to tell new tracks from old ones.
func (c *client) ids(ctx context.Context) (map[uint64]bool, error) {
	els, err := c.get(ctx, "/databases/1/items", url.Values{"type": {"music"}, "meta": {"dmap.itemid"}})
	if err != nil {
		return nil, err
	}
	ids := make(map[uint64]bool)
	if l, ok := child(els, "mlcl"); ok {
		for _, e := range l.Children {
			id, _ := e.Child("miid")
			ids[id.Uint()] = true
		}
	}
	return ids, nil
}

func list(ds []time.Duration) string {
	var s []string
	for _, d := range ds {
		s = append(s, d.Round(time.Millisecond).String())
	}
	return strings.Join(s, ", ")
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2].Round(time.Millisecond)
}
