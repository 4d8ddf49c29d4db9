package announce

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// netnsMarker tells a re-executed test binary that it already runs inside
// the private network namespace its parent created.
const netnsMarker = "DAAPD_ANNOUNCE_IN_NETNS"

// inNetns runs the calling test inside a fresh network and mount namespace:
// outside, it re-executes the test binary under `unshare -n -m` and reports
// the child's result, returning false; inside, it prepares the namespace
// (loopback up with multicast, no system D-Bus) and returns true. Nothing
// multicast ever runs in the machine's own network namespace.
func inNetns(t *testing.T) bool {
	t.Helper()
	if os.Getenv(netnsMarker) == "" {
		reexecInNetns(t)
		return false
	}
	// Safety first: a fresh namespace has only lo.
	ifs, err := net.Interfaces()
	if err != nil {
		t.Fatal(err)
	}
	if len(ifs) != 1 || ifs[0].Name != "lo" {
		t.Fatalf("%s set but interfaces are %v: refusing to announce outside a private namespace", netnsMarker, ifs)
	}
	for _, args := range [][]string{
		{"ip", "link", "set", "lo", "up"},
		{"ip", "link", "set", "lo", "multicast", "on"},
		{"ip", "route", "add", "224.0.0.0/4", "dev", "lo"},
	} {
		if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v: %s", args, err, out)
		}
	}
	// The system bus socket is a path, and paths cross network namespaces:
	// hide it so no host avahi-daemon can publish for us on the real network.
	// Empty /run (system bus, avahi socket) and /etc/avahi/services, in this
	// process's private mount namespace only.
	for _, dir := range []string{"/run", "/etc/avahi/services"} {
		if _, err := os.Stat(dir); err == nil {
			if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "mode=0755", "announce-test-empty", dir).CombinedOutput(); err != nil {
				t.Fatalf("hide %s: %v: %s", dir, err, out)
			}
		}
	}
	for _, dir := range []string{"/run/dbus", "/run/avahi-daemon"} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/run/dbus/no-system-bus-in-test")
	return true
}

func reexecInNetns(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("namespace test skipped in -short mode")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root to create a private network namespace (unshare -n); mDNS is never tested on the real network")
	}
	for _, tool := range []string{"unshare", "ip", "mount"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s (util-linux/iproute2) to create a private network namespace", tool)
		}
	}
	if err := exec.Command(python, "-c", "import zeroconf").Run(); err != nil {
		t.Skipf("needs %s with python3-zeroconf (apt-get install python3-zeroconf) as an independent browser", python)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"-n", "-m", "--propagation", "private", "--", self,
		"-test.run=^" + t.Name() + "$", "-test.v", "-test.timeout=2m"}
	cmd := exec.Command("unshare", args...)
	cmd.Env = append(os.Environ(), netnsMarker+"=1")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	t.Logf("inside a private network namespace (unshare -n -m):\n%s", out.String())
	if err != nil {
		if strings.Contains(out.String(), "unshare failed") || strings.Contains(out.String(), "unshare: ") {
			t.Skipf("cannot create a network namespace here: %v", err)
		}
		t.Fatalf("namespace run failed: %v", err)
	}
	if strings.Contains(out.String(), "--- SKIP: "+t.Name()) {
		t.Skip("skipped inside the namespace; see the log above")
	}
}

const python = "/usr/bin/python3"

// zcEvent is one line of testdata/zcbrowse.py.
type zcEvent struct {
	Event  string            `json:"event"`
	Name   string            `json:"name"`
	Port   int               `json:"port"`
	Server string            `json:"server"`
	TXT    map[string]string `json:"txt"`
}

// browse starts python-zeroconf on 127.0.0.1 and returns its events.
func browse(t *testing.T) <-chan zcEvent {
	t.Helper()
	cmd := exec.Command(python, "testdata/zcbrowse.py", serviceType, "127.0.0.1")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ch := make(chan zcEvent, 64)
	go func() {
		defer close(ch)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var ev zcEvent
			if err := json.Unmarshal(sc.Bytes(), &ev); err == nil {
				ch <- ev
			}
		}
	}()
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
		if stderr.Len() > 0 {
			t.Logf("zcbrowse stderr: %s", stderr.String())
		}
	})
	waitEvent(t, ch, "browser ready", func(ev zcEvent) bool { return ev.Event == "ready" })
	return ch
}

// waitEvent reads events until match accepts one. The limit only keeps a
// broken run from hanging; no test asserts how fast anything happens.
func waitEvent(t *testing.T, ch <-chan zcEvent, what string, match func(zcEvent) bool) zcEvent {
	t.Helper()
	limit := time.After(30 * time.Second)
	for {
		select {
		case ev, ok := <-ch:
			if !ok {
				t.Fatalf("browser exited while waiting for %s", what)
			}
			t.Logf("browser: %+v", ev)
			if match(ev) {
				return ev
			}
		case <-limit:
			t.Fatalf("browser never reported %s", what)
		}
	}
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// TestNetnsEmbedded announces with the embedded responder on the loopback
// interface of a private namespace and browses it with python-zeroconf:
// instance, port, TXT, a conflicting name, a password change and the
// goodbye on Close.
func TestNetnsEmbedded(t *testing.T) {
	if !inNetns(t) {
		return
	}
	events := browse(t)
	ctx := context.Background()
	s := Service{Name: "Netns DAAP", Port: 3689, DatabaseID: "0123456789ABCDEF"}

	// auto: no system bus here, so the embedded responder
	a, err := Start(ctx, s, Options{Mode: ModeAuto, Interfaces: []string{"lo"}, Log: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	if a.Backend() != "embedded" || a.Name() != s.Name {
		t.Fatalf("Backend() = %q, Name() = %q", a.Backend(), a.Name())
	}
	ev := waitEvent(t, events, "add of "+s.Name, func(ev zcEvent) bool { return ev.Event == "add" && ev.Name == s.Name })
	if ev.Port != s.Port {
		t.Errorf("port = %d, want %d", ev.Port, s.Port)
	}
	if want := hostLabel("", osHostname()) + ".local."; ev.Server != want {
		t.Errorf("server = %q, want %q (own host label, never the machine's name)", ev.Server, want)
	}
	if diff := cmp.Diff(TXT(s), ev.TXT); diff != "" {
		t.Errorf("TXT (-want +got):\n%s", diff)
	}

	// the same name from another host: renamed, never unpublished
	other := s
	other.Port = 3690
	b, err := Start(ctx, other, Options{Mode: ModeEmbedded, Interfaces: []string{"lo"}, HostLabel: "other-daapd", Log: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	if want := s.Name + " (2)"; b.Name() != want {
		t.Errorf("conflicting Name() = %q, want %q", b.Name(), want)
	}
	ev = waitEvent(t, events, "add of "+b.Name(), func(ev zcEvent) bool { return ev.Event == "add" && ev.Name == b.Name() })
	if ev.Port != other.Port {
		t.Errorf("renamed service port = %d, want %d", ev.Port, other.Port)
	}

	// password change: re-registered with the new TXT
	s.Password = true
	if err := a.Update(s); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, events, "Password=true", func(ev zcEvent) bool {
		return (ev.Event == "add" || ev.Event == "update") && ev.Name == s.Name && ev.TXT["Password"] == "true"
	})

	// Close sends goodbyes: the browser drops the share instead of waiting
	// out the 450 s PTR TTL (python-zeroconf keeps at least 1125 s).
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, events, "remove of "+s.Name, func(ev zcEvent) bool { return ev.Event == "remove" && ev.Name == s.Name })
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, events, "remove of "+b.Name(), func(ev zcEvent) bool { return ev.Event == "remove" && ev.Name == b.Name() })
	if err := a.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// TestNetnsLongName publishes a name over 63 bytes: shortened on a rune
// boundary and visible, not silently dropped (as brutella/dnssd did).
func TestNetnsLongName(t *testing.T) {
	if !inNetns(t) {
		return
	}
	events := browse(t)
	s := Service{Name: strings.Repeat("Bücherei ", 8), Port: 3689, DatabaseID: "0123456789ABCDEF"}
	a, err := Start(context.Background(), s, Options{Mode: ModeEmbedded, Interfaces: []string{"lo"}, Log: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if len(a.Name()) > maxLabel || !strings.HasPrefix(s.Name, a.Name()) {
		t.Fatalf("Name() = %q (%d bytes)", a.Name(), len(a.Name()))
	}
	waitEvent(t, events, fmt.Sprintf("add of %q", a.Name()), func(ev zcEvent) bool { return ev.Event == "add" && ev.Name == a.Name() })
}
