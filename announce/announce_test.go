package announce

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"strings"
	"testing"

	"github.com/godbus/dbus/v5"
	"github.com/google/go-cmp/cmp"
)

type fakePub struct {
	name     string
	closes   int
	updates  []Service
	closeErr error
}

func (p *fakePub) Name() string { return p.name }
func (p *fakePub) Close() error { p.closes++; return p.closeErr }

// fakeAvahiPub also takes in-place updates, like avahiPub.
type fakeAvahiPub struct{ fakePub }

func (p *fakeAvahiPub) Update(s Service) error { p.updates = append(p.updates, s); return nil }

// world is a fake environment for start: what the probes see and what the
// backends do.
type world struct {
	facts      facts
	avahiErr   error
	embErr     error
	links      []link
	avahiPubs  []*fakeAvahiPub
	embPubs    []*fakePub
	embConfigs []embeddedConfig
	events     chan bool // avahi-daemon on the bus; nil: no bus to watch
}

func (w *world) probes() probes {
	return probes{
		avahi:    func(context.Context) (*dbus.Conn, facts) { return nil, w.facts },
		port5353: func() error { return w.facts.Port5353 },
		links:    func() ([]link, error) { return w.links, nil },
		hostname: func() string { return "nas" },
		startAvahi: func(_ context.Context, _ *dbus.Conn, s Service, _ Options, _ *slog.Logger) (publisher, error) {
			if w.avahiErr != nil {
				return nil, w.avahiErr
			}
			p := &fakeAvahiPub{fakePub{name: instanceName(s.Name)}}
			w.avahiPubs = append(w.avahiPubs, p)
			return p, nil
		},
		startEmbedded: func(_ context.Context, s Service, c embeddedConfig) (publisher, error) {
			w.embConfigs = append(w.embConfigs, c)
			if w.embErr != nil {
				return nil, w.embErr
			}
			p := &fakePub{name: instanceName(s.Name) + " (2)"}
			w.embPubs = append(w.embPubs, p)
			return p, nil
		},
		watchAvahi: func(context.Context) (<-chan bool, func(), error) {
			if w.events == nil {
				return nil, nil, errors.New("no bus")
			}
			return w.events, func() {}, nil
		},
	}
}

var (
	eth0 = link{Name: "eth0", Up: true, Multicast: true, Addrs: []netip.Addr{netip.MustParseAddr("192.0.2.1")}}
	svc  = Service{Name: "Lab DAAP", Port: 3689, DatabaseID: "0123456789ABCDEF"}
)

func TestStart(t *testing.T) {
	avahiUp := facts{AvahiOwned: true, AvahiState: avahiRunning}
	noBus := facts{BusErr: errors.New("dial unix /nowhere: connect: no such file or directory")}
	for _, tc := range []struct {
		name     string
		mode     Mode
		w        world
		backend  string
		err      string // Start error, substring
		logs     []string
		fullName string
	}{
		{name: "auto picks avahi", mode: ModeAuto, w: world{facts: avahiUp, links: []link{eth0}},
			backend: "avahi", fullName: "Lab DAAP",
			logs: []string{`level=INFO msg="announce: published" backend=avahi why="auto: avahi-daemon is running on the system bus" name="Lab DAAP"`}},
		{name: "auto falls back to embedded", mode: ModeAuto, w: world{facts: noBus, links: []link{eth0}},
			backend: "embedded", fullName: "Lab DAAP (2)",
			logs: []string{`backend=embedded why="auto: system D-Bus: dial unix /nowhere`}},
		{name: "auto: avahi fails at AddService, embedded", mode: ModeAuto,
			w:       world{facts: avahiUp, avahiErr: errors.New("avahi: AddService: org.freedesktop.DBus.Error.AccessDenied"), links: []link{eth0}},
			backend: "embedded",
			logs:    []string{`why="auto: publishing through avahi-daemon failed: avahi: AddService: org.freedesktop.DBus.Error.AccessDenied"`}},
		{name: "auto: nothing works, off", mode: ModeAuto, w: world{facts: noBus},
			backend: "off", fullName: "Lab DAAP",
			logs: []string{`level=ERROR msg="announce: not announcing; the share is reachable only by address"`, `no usable network interface`}},
		{name: "auto warns about another stack", mode: ModeAuto,
			w:       world{facts: facts{Port5353: errors.New("bind: address already in use")}, links: []link{eth0}},
			backend: "embedded",
			logs:    []string{`level=WARN msg="announce: UDP port 5353 is held by another mDNS stack (bind: address already in use)`}},
		{name: "explicit avahi fails", mode: ModeAvahi, w: world{facts: noBus, links: []link{eth0}},
			err: "announce: mdns mode avahi: system D-Bus: dial unix /nowhere"},
		{name: "explicit avahi registration fails", mode: ModeAvahi, w: world{facts: avahiUp, avahiErr: errors.New("avahi: Commit: boom")},
			err: "announce: avahi: Commit: boom"},
		{name: "explicit embedded, no interface", mode: ModeEmbedded, w: world{facts: avahiUp},
			err: "announce: embedded: no usable network interface"},
		{name: "explicit embedded, 5353 unusable", mode: ModeEmbedded, w: world{links: []link{eth0}, embErr: errors.New("embedded: port 5353 unusable: permission denied")},
			err: "announce: embedded: port 5353 unusable"},
		{name: "explicit embedded beside avahi", mode: ModeEmbedded, w: world{facts: avahiUp, links: []link{eth0}},
			backend: "embedded", logs: []string{`why="mdns mode embedded"`}},
		{name: "off", mode: ModeOff, w: world{facts: avahiUp, links: []link{eth0}},
			backend: "off", logs: []string{`msg="announce: not announcing (mdns mode off)"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			o := Options{Mode: tc.mode, Log: slog.New(slog.NewTextHandler(&buf, nil))}
			a, err := start(context.Background(), svc, o, tc.mode, tc.w.probes())
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || strings.Contains(err.Error(), "\n") {
					t.Fatalf("err = %v, want one line containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			if a.Backend() != tc.backend {
				t.Errorf("Backend() = %q, want %q", a.Backend(), tc.backend)
			}
			if tc.fullName != "" && a.Name() != tc.fullName {
				t.Errorf("Name() = %q, want %q", a.Name(), tc.fullName)
			}
			for _, want := range tc.logs {
				if !strings.Contains(buf.String(), want) {
					t.Errorf("log lacks %q:\n%s", want, buf.String())
				}
			}
		})
	}
}

func TestStartValidates(t *testing.T) {
	_, err := Start(context.Background(), Service{Name: " ", Port: 0, DatabaseID: "xyz"}, Options{Mode: ModeOff})
	want := `announce: empty service name` + "\n" + `port 0 out of range` + "\n" + `database ID "xyz" is not 16 hex digits`
	if err == nil || err.Error() != want {
		t.Errorf("err = %v, want %q", err, want)
	}
	if _, err := Start(context.Background(), svc, Options{Mode: "zeroconf"}); err == nil {
		t.Error("unknown mode accepted")
	}
}

func TestEmbeddedConfig(t *testing.T) {
	docker := link{Name: "docker0", Up: true, Multicast: true, Addrs: []netip.Addr{netip.MustParseAddr("172.17.0.1")}}
	for _, tc := range []struct {
		name    string
		o       Options
		links   []link
		want    embeddedConfig
		wantErr bool
	}{
		{"default", Options{}, []link{eth0, docker}, embeddedConfig{Host: "nas-daapd"}, false},
		{"explicit", Options{Interfaces: []string{"docker0"}, HostLabel: "box", IPv4Only: true}, []link{eth0, docker},
			embeddedConfig{Host: "box", Interfaces: []string{"docker0"}, IPv4Only: true}, false},
		{"no such interface", Options{Interfaces: []string{"eth9"}}, []link{eth0}, embeddedConfig{}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := world{facts: facts{BusErr: errors.New("none")}, links: tc.links}
			tc.o.Log = slog.New(slog.DiscardHandler)
			_, err := start(context.Background(), svc, tc.o, ModeEmbedded, w.probes())
			if tc.wantErr {
				if err == nil {
					t.Error("no error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := w.embConfigs[0]
			if got.Links == nil {
				t.Error("no Links func: the responder could not follow interface changes")
			}
			got.Log, got.Links = nil, nil
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("config (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCloseIdempotent(t *testing.T) {
	for _, mode := range []Mode{ModeEmbedded, ModeAvahi, ModeOff} {
		t.Run(string(mode), func(t *testing.T) {
			w := world{facts: facts{AvahiOwned: true, AvahiState: avahiRunning}, links: []link{eth0}}
			a, err := start(context.Background(), svc, Options{Log: slog.New(slog.DiscardHandler)}, mode, w.probes())
			if err != nil {
				t.Fatal(err)
			}
			for range 3 {
				if err := a.Close(); err != nil {
					t.Fatal(err)
				}
			}
			for _, p := range w.embPubs {
				if p.closes != 1 {
					t.Errorf("embedded closed %d times", p.closes)
				}
			}
			for _, p := range w.avahiPubs {
				if p.closes != 1 {
					t.Errorf("avahi closed %d times", p.closes)
				}
			}
			if err := a.Update(svc); err == nil {
				t.Error("Update after Close succeeded")
			}
		})
	}
	// a failing Close reports the same error every time
	w := world{links: []link{eth0}}
	a, _ := start(context.Background(), svc, Options{Log: slog.New(slog.DiscardHandler)}, ModeEmbedded, w.probes())
	w.embPubs[0].closeErr = errors.New("goodbye not finished")
	if e1, e2 := a.Close(), a.Close(); e1 == nil || e1 != e2 || w.embPubs[0].closes != 1 {
		t.Errorf("Close = %v, %v after %d closes", e1, e2, w.embPubs[0].closes)
	}
}

func TestUpdate(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	t.Run("embedded re-registers", func(t *testing.T) {
		w := world{links: []link{eth0}}
		a, err := start(context.Background(), svc, Options{Log: log}, ModeEmbedded, w.probes())
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		s2 := svc
		s2.Name, s2.Password = "New Name", true
		if err := a.Update(s2); err != nil {
			t.Fatal(err)
		}
		if len(w.embPubs) != 2 || w.embPubs[0].closes != 1 || w.embPubs[1].closes != 0 {
			t.Fatalf("publishers %d, old closed %d times", len(w.embPubs), w.embPubs[0].closes)
		}
		if a.Name() != "New Name (2)" {
			t.Errorf("Name() = %q", a.Name())
		}
		if w.embConfigs[1].Host != w.embConfigs[0].Host {
			t.Errorf("host label changed: %q → %q", w.embConfigs[0].Host, w.embConfigs[1].Host)
		}
	})
	t.Run("avahi updates in place", func(t *testing.T) {
		w := world{facts: facts{AvahiOwned: true, AvahiState: avahiRunning}}
		a, err := start(context.Background(), svc, Options{Log: log}, ModeAvahi, w.probes())
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		s2 := svc
		s2.Password = true
		if err := a.Update(s2); err != nil {
			t.Fatal(err)
		}
		if len(w.avahiPubs) != 1 || len(w.avahiPubs[0].updates) != 1 || !w.avahiPubs[0].updates[0].Password {
			t.Errorf("avahi updates = %+v", w.avahiPubs[0].updates)
		}
	})
	t.Run("off", func(t *testing.T) {
		a, err := start(context.Background(), svc, Options{Log: log}, ModeOff, (&world{}).probes())
		if err != nil {
			t.Fatal(err)
		}
		s2 := svc
		s2.Name = "Other"
		if err := a.Update(s2); err != nil || a.Name() != "Other" {
			t.Errorf("Update = %v, Name() = %q", err, a.Name())
		}
	})
	t.Run("invalid", func(t *testing.T) {
		a, _ := start(context.Background(), svc, Options{Log: log}, ModeOff, (&world{}).probes())
		if err := a.Update(Service{Name: "x", Port: 3689}); err == nil {
			t.Error("Update accepted an empty database ID")
		}
	})
}

// TestFollowAvahi: in auto mode the announcer follows avahi-daemon on the
// bus (issue 14, defect 10): embedded while it is away, avahi while it is
// there, one backend at a time.
func TestFollowAvahi(t *testing.T) {
	absent := facts{AvahiOwned: false}
	present := facts{AvahiOwned: true, AvahiState: avahiRunning}
	w := &world{facts: absent, links: []link{eth0}, events: make(chan bool)}
	a, err := start(context.Background(), svc, Options{Log: slog.New(slog.DiscardHandler)}, ModeAuto, w.probes())
	if err != nil {
		t.Fatal(err)
	}
	step := func(what string, up bool, wantBackend string) {
		t.Helper()
		if up {
			w.facts = present
		} else {
			w.facts = absent
		}
		w.events <- up
		w.events <- up // a repeat is ignored; the send returns once the first was handled
		if got := a.Backend(); got != wantBackend {
			t.Fatalf("%s: backend %s, want %s", what, got, wantBackend)
		}
	}
	if a.Backend() != "embedded" {
		t.Fatalf("start: backend %s", a.Backend())
	}
	step("avahi-daemon starts", true, "avahi")
	if w.embPubs[0].closes != 1 || len(w.avahiPubs) != 1 {
		t.Errorf("embedded closes %d, avahi pubs %d", w.embPubs[0].closes, len(w.avahiPubs))
	}
	step("avahi-daemon stops", false, "embedded")
	if w.avahiPubs[0].closes != 1 || len(w.embPubs) != 2 {
		t.Errorf("avahi closes %d, embedded pubs %d", w.avahiPubs[0].closes, len(w.embPubs))
	}
	if st := a.Status(); st.Backend != "embedded" || st.Name != "Lab DAAP (2)" {
		t.Errorf("status %+v", st)
	}
	w.avahiErr = errors.New("refused")
	step("avahi-daemon starts but refuses", true, "embedded")
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if w.embPubs[2].closes != 1 {
		t.Errorf("last embedded closes %d", w.embPubs[2].closes)
	}
}
