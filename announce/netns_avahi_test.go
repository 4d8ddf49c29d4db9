package announce

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/daapd/daapd/internal/testkit"
)

// lab is a private system bus and avahi-daemon inside the test's namespace,
// on a veth pair whose both ends live there too.
type lab struct {
	t     *testing.T
	dir   string
	bus   string
	avahi *exec.Cmd
	alog  *testkit.SyncBuffer
}

func run(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
		t.Fatalf("%v: %v: %s", args, err, out)
	}
}

func newLab(t *testing.T) *lab {
	t.Helper()
	for _, tool := range []string{"dbus-daemon", "avahi-daemon", "avahi-browse", "avahi-publish-service"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s (apt-get install dbus avahi-daemon avahi-utils)", tool)
		}
	}
	run(t, "ip", "link", "add", "v0", "type", "veth", "peer", "name", "v1")
	run(t, "ip", "addr", "add", "192.0.2.1/24", "dev", "v0")
	run(t, "ip", "addr", "add", "192.0.2.2/24", "dev", "v1")
	run(t, "ip", "link", "set", "v0", "multicast", "on", "up")
	run(t, "ip", "link", "set", "v1", "multicast", "on", "up")
	run(t, "ip", "route", "replace", "224.0.0.0/4", "dev", "v0")

	l := &lab{t: t, dir: t.TempDir()}
	sock := filepath.Join(l.dir, "system_bus_socket")
	conf := fmt.Sprintf(`<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=%s</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/><allow own="*"/><allow send_type="method_call"/>
    <allow send_destination="*"/><allow receive_sender="*"/>
  </policy>
</busconfig>
`, sock)
	write(t, filepath.Join(l.dir, "dbus.conf"), conf)
	write(t, filepath.Join(l.dir, "avahi-daemon.conf"), `[server]
host-name=netns-a
domain-name=local
use-ipv4=yes
use-ipv6=no
allow-interfaces=v0
enable-dbus=yes
ratelimit-interval-usec=1000000
ratelimit-burst=1000
[wide-area]
enable-wide-area=no
[publish]
publish-hinfo=no
publish-workstation=no
[reflector]
enable-reflector=no
[rlimits]
`)
	bus := exec.Command("dbus-daemon", "--config-file="+filepath.Join(l.dir, "dbus.conf"), "--nofork", "--nopidfile")
	if err := bus.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bus.Process.Kill(); bus.Wait() })
	l.bus = "unix:path=" + sock
	eventually(t, "dbus-daemon socket", func() bool { _, err := os.Stat(sock); return err == nil })
	t.Setenv("DBUS_SYSTEM_BUS_ADDRESS", l.bus)
	l.startAvahi()
	t.Cleanup(l.stopAvahi)
	return l
}

func write(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

func (l *lab) startAvahi() {
	l.t.Helper()
	l.alog = &testkit.SyncBuffer{}
	l.avahi = exec.Command("avahi-daemon", "-f", filepath.Join(l.dir, "avahi-daemon.conf"),
		"--no-drop-root", "--no-chroot", "--no-rlimits", "--no-proc-title")
	l.avahi.Stdout, l.avahi.Stderr = l.alog, l.alog
	if err := l.avahi.Start(); err != nil {
		l.t.Fatal(err)
	}
	eventually(l.t, "avahi-daemon startup", func() bool { return strings.Contains(l.alog.String(), "Server startup complete") })
}

func (l *lab) stopAvahi() {
	if l.avahi == nil {
		return
	}
	l.avahi.Process.Signal(os.Interrupt)
	l.avahi.Wait()
	l.avahi = nil
}

// browsed is one resolved avahi-browse -p line.
type browsed struct {
	name string
	port int
	txt  string
}

// browse lists the _daap._tcp services avahi-daemon knows (local ones too).
func (l *lab) browse() []browsed {
	out, _ := exec.Command("avahi-browse", "-p", "-r", "-t", serviceType).Output()
	var found []browsed
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.SplitN(line, ";", 10)
		if len(f) < 10 || f[0] != "=" {
			continue
		}
		port, _ := strconv.Atoi(f[8])
		found = append(found, browsed{name: unescapeAvahi(f[3]), port: port, txt: f[9]})
	}
	return found
}

// unescapeAvahi decodes avahi-browse -p's \DDD escapes.
func unescapeAvahi(s string) string {
	var b []byte
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.Atoi(s[i+1 : i+4]); err == nil {
				b = append(b, byte(n))
				i += 3
				continue
			}
		}
		b = append(b, s[i])
	}
	return string(b)
}

func (l *lab) listed(name string, port int, txt string) bool {
	for _, b := range l.browse() {
		if b.name == name && b.port == port && strings.Contains(b.txt, txt) {
			return true
		}
	}
	return false
}

// eventually polls cond; the limit only stops a broken run from hanging.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	limit := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(limit) {
			t.Fatalf("never saw %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Renaming on a name taken by another host is checked through avahi by
// .ci/mdns-test.sh (squat-avahi): one avahi-daemon lets two local clients
// register the same name, so it cannot be tested with a single daemon.
//
// TestNetnsAvahi publishes through a real avahi-daemon on a private bus:
// auto picks it, the service comes back after an avahi-daemon restart, a password change updates the TXT, Close withdraws.
func TestNetnsAvahi(t *testing.T) {
	if !inNetns(t) {
		return
	}
	l := newLab(t)
	s := Service{Name: "Netns Avahi", Port: 3689, DatabaseID: "0123456789ABCDEF"}

	a, err := Start(context.Background(), s, Options{Log: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if a.Backend() != "avahi" {
		t.Fatalf("Backend() = %q, want avahi", a.Backend())
	}
	if a.Name() != s.Name {
		t.Errorf("Name() = %q, want %q", a.Name(), s.Name)
	}
	eventually(t, "the service in avahi-browse", func() bool { return l.listed(s.Name, 3689, `"Machine Name=Netns Avahi"`) })

	// avahi-daemon restarts (upgrade, crash): the new daemon knows nothing
	// of our entry group, so the announcer must publish again.
	l.stopAvahi()
	eventually(t, "the service gone with avahi-daemon", func() bool { return len(l.browse()) == 0 })
	l.startAvahi()
	eventually(t, "the service after the avahi-daemon restart", func() bool { return l.listed(s.Name, 3689, `"Password=false"`) })

	s.Password = true
	if err := a.Update(s); err != nil {
		t.Fatal(err)
	}
	eventually(t, "Password=true in the TXT", func() bool { return l.listed(s.Name, 3689, `"Password=true"`) })

	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the service withdrawn", func() bool { return len(l.browse()) == 0 })
	if err := a.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if strings.Contains(l.alog.String(), "Host name conflict") {
		t.Errorf("avahi-daemon renamed the host:\n%s", l.alog.String())
	}
}
