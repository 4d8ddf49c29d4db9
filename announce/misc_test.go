package announce

import (
	"bufio"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/godbus/dbus/v5"
	"github.com/miekg/dns"
)

func TestAvahiOwnerChange(t *testing.T) {
	sig := func(name string, body ...any) *dbus.Signal { return &dbus.Signal{Name: name, Body: body} }
	const noc = "org.freedesktop.DBus.NameOwnerChanged"
	for _, tc := range []struct {
		name  string
		sig   *dbus.Signal
		owner string
		ok    bool
	}{
		{"avahi back", sig(noc, avahiBusName, "", ":1.42"), ":1.42", true},
		{"avahi gone", sig(noc, avahiBusName, ":1.7", ""), "", true},
		{"other name", sig(noc, "org.example.Other", "", ":1.9"), ":1.9", false},
		{"other signal", sig("org.freedesktop.Avahi.EntryGroup.StateChanged", int32(2), ""), "", false},
		{"short body", sig(noc, avahiBusName), "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			owner, ok := avahiOwnerChange(tc.sig)
			if ok != tc.ok || (ok && owner != tc.owner) {
				t.Errorf("avahiOwnerChange = %q, %v; want %q, %v", owner, ok, tc.owner, tc.ok)
			}
		})
	}
}

// escapeLabel must give miekg/dns the exact label bytes back.
func TestEscapeLabel(t *testing.T) {
	for _, label := range []string{"Lab DAAP", "Mr. X", "Bücher", `a\b;c(d)"e"$f@g`, "tab\there"} {
		name := escapeLabel(label) + ".local."
		buf := make([]byte, 256)
		n, err := dns.PackDomainName(name, buf, 0, nil, false)
		if err != nil {
			t.Fatalf("%q: %v", label, err)
		}
		if got := string(buf[1 : 1+buf[0]]); got != label || n != 1+len(label)+7 {
			t.Errorf("label %q packed as %q", label, got)
		}
	}
}

func TestRefusal(t *testing.T) {
	eof := &net.OpError{Op: "read", Net: "unix", Err: io.EOF}
	epipe := &net.OpError{Op: "write", Net: "unix", Err: os.NewSyscallError("write", syscall.EPIPE)}
	for _, tc := range []struct {
		name string
		err  error
		uid  int
		want string
	}{
		{"dropped container user", eof, 65532, "closed the connection of uid 65532 (dbus-daemon drops uids that have no account"},
		{"dropped while writing", epipe, 1026, "closed the connection of uid 1026"},
		{"root dropped", eof, 0, "D-Bus refused the connection: read unix: EOF"},
		{"rejected", errors.New("dbus: authentication failed"), 65532, "D-Bus refused the connection: dbus: authentication failed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := refusal(tc.err, tc.uid)
			if !strings.HasPrefix(got.Error(), tc.want) || !errors.Is(got, tc.err) {
				t.Errorf("refusal = %q; want prefix %q, wrapping the cause", got, tc.want)
			}
		})
	}
}

// TestDialSystemBusSteps: no socket is "unreachable"; a bus that answers the
// greeting and then hangs up (as dbus-daemon does with an unknown uid) is a
// refusal, not "unreachable".
func TestDialSystemBusSteps(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("DBUS_SYSTEM_BUS_ADDRESS", "unix:path="+dir+"/none")
	if _, err := dialSystemBus(); err == nil || !strings.HasPrefix(err.Error(), "unreachable: ") {
		t.Errorf("no socket: %v; want unreachable", err)
	}
	ln, err := net.Listen("unix", dir+"/bus")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		r := bufio.NewReader(c)
		r.ReadString('\n') // "\x00AUTH"
		io.WriteString(c, "REJECTED EXTERNAL\r\n")
		r.ReadString('\n') // "AUTH EXTERNAL <uid>"
		c.Close()
	}()
	t.Setenv("DBUS_SYSTEM_BUS_ADDRESS", "unix:path="+dir+"/bus")
	_, err = dialSystemBus()
	if err == nil || strings.HasPrefix(err.Error(), "unreachable") || !errors.Is(err, io.EOF) {
		t.Errorf("bus hung up after AUTH: %v; want a refusal wrapping EOF", err)
	}
}
