package announce

import (
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
