package announce

import (
	"errors"
	"strings"
	"testing"
)

func TestChoose(t *testing.T) {
	running := facts{AvahiOwned: true, AvahiState: avahiRunning}
	registering := facts{AvahiOwned: true, AvahiState: avahiRegistering}
	noBus := facts{BusErr: errors.New("dial unix /run/dbus/system_bus_socket: connect: no such file or directory")}
	refused := facts{BusErr: errors.New("D-Bus refused the connection: dbus: authentication failed")}
	unowned := facts{}
	collided := facts{AvahiOwned: true, AvahiState: 3}
	stateErr := facts{AvahiOwned: true, StateErr: errors.New("GetState: timeout")}
	held := errors.New("listen udp4 :5353: bind: address already in use")
	runningHeld := running
	runningHeld.Port5353 = held
	noBusHeld := noBus
	noBusHeld.Port5353 = held

	for _, tc := range []struct {
		name    string
		mode    Mode
		f       facts
		backend string
		why     string // substring
		warn    string // substring; "" means no warning
		err     string
	}{
		{"off", ModeOff, running, "off", "mdns mode off", "", ""},
		{"auto, avahi running", ModeAuto, running, "avahi", "auto: avahi-daemon is running", "", ""},
		{"auto, avahi registering", ModeAuto, registering, "avahi", "auto: avahi-daemon is running", "", ""},
		{"auto, avahi owns 5353 too: no warning", ModeAuto, runningHeld, "avahi", "auto", "", ""},
		{"empty mode is auto", "", running, "avahi", "auto", "", ""},
		{"auto, no bus", ModeAuto, noBus, "embedded", "auto: system D-Bus: dial unix", "", ""},
		{"auto, bus refused", ModeAuto, refused, "embedded", "D-Bus refused", "", ""},
		{"auto, avahi not running", ModeAuto, unowned, "embedded", "avahi-daemon is not running (org.freedesktop.Avahi has no owner", "", ""},
		{"auto, avahi host name collision", ModeAuto, collided, "embedded", "state host name collision", "", ""},
		{"auto, GetState fails", ModeAuto, stateErr, "embedded", "GetState: timeout", "", ""},
		{"auto, another stack on 5353", ModeAuto, noBusHeld, "embedded", "auto", "UDP port 5353 is held by another mDNS stack", ""},
		{"embedded", ModeEmbedded, running, "embedded", "mdns mode embedded", "", ""},
		{"embedded beside another stack", ModeEmbedded, runningHeld, "embedded", "mdns mode embedded", "address already in use", ""},
		{"avahi", ModeAvahi, running, "avahi", "mdns mode avahi", "", ""},
		{"avahi, no bus", ModeAvahi, noBus, "", "", "", "mdns mode avahi: system D-Bus: dial unix"},
		{"avahi, refused", ModeAvahi, refused, "", "", "", "D-Bus refused the connection"},
		{"avahi, not running", ModeAvahi, unowned, "", "", "", "avahi-daemon is not running"},
		{"unknown mode", "bonjour", running, "", "", "", `mdns mode "bonjour"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := choose(tc.mode, tc.f)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Backend != tc.backend || !strings.Contains(c.Why, tc.why) {
				t.Errorf("choice = %+v, want backend %s, why containing %q", c, tc.backend, tc.why)
			}
			if (tc.warn == "") != (c.Warn == "") || !strings.Contains(c.Warn, tc.warn) {
				t.Errorf("warn = %q, want %q", c.Warn, tc.warn)
			}
		})
	}
}

func TestParseMode(t *testing.T) {
	for in, want := range map[string]Mode{"": ModeAuto, "auto": ModeAuto, " Avahi ": ModeAvahi, "EMBEDDED": ModeEmbedded, "off": ModeOff} {
		if got, err := ParseMode(in); err != nil || got != want {
			t.Errorf("ParseMode(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := ParseMode("mdnsresponder"); err == nil {
		t.Error("ParseMode(mdnsresponder) succeeded")
	}
}
