package announce

import (
	"fmt"
	"strings"
)

// Mode selects the announcement backend.
type Mode string

// The modes; the zero Mode means ModeAuto.
const (
	ModeAuto     Mode = "auto"     // avahi when it runs, else embedded
	ModeEmbedded Mode = "embedded" // our own responder inside the process
	ModeAvahi    Mode = "avahi"    // the system avahi-daemon over D-Bus
	ModeOff      Mode = "off"      // announce nothing
)

// ParseMode checks a --mdns value.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(strings.ToLower(strings.TrimSpace(s))); m {
	case "":
		return ModeAuto, nil
	case ModeAuto, ModeEmbedded, ModeAvahi, ModeOff:
		return m, nil
	}
	return "", fmt.Errorf("mdns mode %q: want auto, embedded, avahi or off", s)
}

// Avahi server states (avahi-common/defs.h AvahiServerState).
const (
	avahiRegistering = 1
	avahiRunning     = 2
	avahiCollision   = 3
)

var avahiStates = map[int32]string{0: "invalid", 1: "registering", 2: "running", 3: "host name collision", 4: "failure"}

// facts are the probes behind the backend choice.
type facts struct {
	BusErr     error // connecting to the system D-Bus
	AvahiOwned bool  // org.freedesktop.Avahi has an owner (NameHasOwner)
	StateErr   error // Server.GetState failed
	AvahiState int32 // Server.GetState
	Port5353   error // plain ListenPacket("udp4", ":5353") without SO_REUSEADDR
}

// avahiProblem says why Avahi cannot be used, or "" when it can.
func (f facts) avahiProblem() string {
	switch {
	case f.BusErr != nil:
		return "system D-Bus: " + f.BusErr.Error()
	case !f.AvahiOwned:
		return "avahi-daemon is not running (org.freedesktop.Avahi has no owner on the system bus)"
	case f.StateErr != nil:
		return "avahi-daemon: " + f.StateErr.Error()
	case f.AvahiState != avahiRunning && f.AvahiState != avahiRegistering:
		st := avahiStates[f.AvahiState]
		if st == "" {
			st = fmt.Sprint(f.AvahiState)
		}
		return "avahi-daemon is in state " + st
	}
	return ""
}

// choice is the backend to start and the one-line reasons to log.
type choice struct {
	Backend string // "avahi", "embedded" or "off"
	Why     string
	Warn    string // logged at Warn level, if set
}

// choose picks the backend for mode from f. Explicit modes fail when their
// backend cannot work; auto falls back to embedded and says why.
func choose(mode Mode, f facts) (choice, error) {
	shared := ""
	if f.Port5353 != nil {
		shared = "UDP port 5353 is held by another mDNS stack (" + f.Port5353.Error() +
			"); the embedded responder shares it, but two responders on one host make mDNS unreliable"
	}
	switch mode {
	case ModeOff:
		return choice{Backend: "off", Why: "mdns mode off"}, nil
	case ModeAvahi:
		if p := f.avahiProblem(); p != "" {
			return choice{}, fmt.Errorf("mdns mode avahi: %s", p)
		}
		return choice{Backend: "avahi", Why: "mdns mode avahi"}, nil
	case ModeEmbedded:
		return choice{Backend: "embedded", Why: "mdns mode embedded", Warn: shared}, nil
	case ModeAuto, "":
		if p := f.avahiProblem(); p != "" {
			return choice{Backend: "embedded", Why: "auto: " + p, Warn: shared}, nil
		}
		return choice{Backend: "avahi", Why: "auto: avahi-daemon is running on the system bus"}, nil
	}
	return choice{}, fmt.Errorf("mdns mode %q: want auto, embedded, avahi or off", mode)
}
