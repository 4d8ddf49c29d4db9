package announce

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	dnssdlog "github.com/brutella/dnssd/log"
	"github.com/godbus/dbus/v5"
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

func TestUnescapeLabel(t *testing.T) {
	for in, want := range map[string]string{
		`Lab\ DAAP`:     "Lab DAAP",
		`Mr\.\ X`:       "Mr. X",
		`B\195\188cher`: "Bücher",
		`plain`:         "plain",
		`trailing\`:     `trailing\`,
		`a\\b`:          `a\b`,
	} {
		if got := unescapeLabel(in); got != want {
			t.Errorf("unescapeLabel(%q) = %q, want %q", in, got, want)
		}
	}
}

// dnssd's package loggers print to stdout; they must land in slog instead.
func TestDNSSDLogsRedirected(t *testing.T) {
	var buf bytes.Buffer
	l := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	redirectDNSSDLogs(l)
	defer dnssdLogger.to.Store(slog.New(slog.DiscardHandler))
	dnssdlog.Info.Println("invalid source address")
	if !strings.Contains(buf.String(), `level=DEBUG msg="dnssd: `) || !strings.Contains(buf.String(), "invalid source address") {
		t.Errorf("dnssd Info line not in slog: %q", buf.String())
	}
}
