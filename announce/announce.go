// Package announce publishes the DAAP share as a Bonjour/mDNS service
// (_daap._tcp), either through the system's avahi-daemon over D-Bus or with
// an embedded responder of its own (on github.com/miekg/dns), and withdraws
// it on Close.
//
// Only one mDNS responder should own a host: with ModeAuto the share goes
// through avahi-daemon whenever it is on the system bus, and the embedded
// responder is the fallback for containers and minimal systems; auto follows
// avahi-daemon coming and going (NameOwnerChanged). shared/docs/mdns.md
// holds the lab measurements behind the two-backend design.
//
// # Why our own responder
//
// Until December 2026 the embedded backend was brutella/dnssd v1.2.14. A
// robustness pass (issue 14) found eight defects inside its responder loop,
// which cannot be corrected from outside: one packet with N copies of a
// question got N answers, each after a 20–125 ms sleep in the only loop
// (N=1494 stalled it ~110 s, 170× amplification); spoofed conflicts pushed
// the host label to "-100" and then published an empty SRV target; no rate
// limit (2,000 queries/s answered one for one); later conflicts never
// noticed; a newcomer with the same host label took it from the established
// responder; address changes neither announced nor withdrawn; new
// interfaces never joined to the group; replies built from the whole 64 KB
// read buffer. No newer dnssd release was available (the module proxy
// offers none past v1.2.14), so responder.go/zone.go replace it, about 700
// lines:
//
//   - Probing (RFC 6762 §8.1): 0–250 ms random wait, three probes 250 ms
//     apart for the instance and host names, then two announcements 1 s
//     apart (§8.3). Any answer for a name being probed is a conflict; a
//     simultaneous probe is settled by §8.2's lexicographic tie-break (the
//     later record set wins, the loser probes again after 1 s). An
//     established name is defended by answering probes, never given up to
//     a newcomer. Conflicts rename ("Name (2)", "host-daapd-2", always a
//     valid ≤ 63-byte label) and are logged at Warn; after 15 conflicts in
//     10 s probes wait 5 s.
//   - After probing, a cache-flush answer with other data for one of our
//     unique records means another host claims the name: probe again (§9).
//   - Answers: one aggregated reply per query whatever its question count
//     (§6), each record multicast at most once a second per interface
//     (probe defence excepted), known answers suppressed (§7.1), QU and
//     legacy unicast replies at most 20 a second. Packets are parsed from
//     the bytes received only, and a flood fills a 64-packet queue whose
//     overflow is dropped, never the responder.
//   - Interfaces and addresses are followed (netlink on Linux, polling
//     elsewhere): a new interface is joined to the groups, probed and
//     announced; a withdrawn address gets a goodbye and the rest is
//     announced again with the cache-flush bit (§8.4, §10.2).
//   - Close sends every record with TTL 0 once per interface and family
//     from the responder's own loop, so a flood does not delay it.
//   - The host label is "<hostname>-daapd", never the machine's own name.
//   - A crash (SIGKILL) sends no goodbye: browsers keep the share for the
//     PTR TTL. Through avahi-daemon the service is withdrawn even then.
//
// Measured in network namespaces (.ci/mdns-test.sh and .ci/mdns-defects.sh;
// BENCHMARKS.md has the load and the Avahi column): start → resolved by
// avahi-browse and python-zeroconf 1.14 s (dnssd: 2.7–3.4 s); first goodbye
// 0.025 s after SIGTERM, 0.06 s under a flood of 1,494-question queries
// (dnssd: none); 2,000 queries/s for 5 s get 5 responses per record
// (dnssd: ~3,500); a 1,494-question query gets one response (dnssd: ~1,500
// over ~110 s). Every defect has a namespace case that fails with dnssd and
// passes now. dnssd is no longer a dependency: browsing was only used for
// the name-conflict pre-check, which proper probing replaces.
//
// Avahi specifics: the entry group is re-registered when avahi-daemon
// returns to the bus and when avahi-daemon renames its host (the SRV target
// follows the new name).
package announce

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/godbus/dbus/v5"
)

const serviceType = "_daap._tcp"

// closeTimeout bounds Close (the goodbyes, or avahi's entry group reset).
const closeTimeout = 2 * time.Second

// Service is what gets announced.
type Service struct {
	Name       string // desired instance name (may be renamed on conflict)
	Port       int
	DatabaseID string // 16 hex digits, persisted by the caller (also Machine ID)
	Password   bool
}

// Options choose and configure the backend.
type Options struct {
	Mode Mode
	// Interfaces to announce on; empty means every usable one, skipping
	// loopback and docker*, br-* and veth* (unless nothing else is usable),
	// followed as interfaces come and go. The embedded responder ignores
	// packets from other interfaces. With avahi, empty leaves the choice to
	// avahi-daemon's own allow-interfaces/deny-interfaces.
	Interfaces []string
	// IPv4Only announces only IPv4 addresses and speaks mDNS over IPv4
	// only (both backends).
	IPv4Only bool
	// HostLabel is the embedded responder's host label; default
	// "<hostname>-daapd", sanitised. Never the machine's own host name.
	HostLabel string
	Log       *slog.Logger // nil: discard
}

// publisher is one running backend.
type publisher interface {
	Name() string
	Close() error
}

// Announcer is a running announcement; see Start.
type Announcer struct {
	log     *slog.Logger
	opts    Options
	backend string

	env probes

	// now is what Name, Backend and Status report, swapped whole so that
	// they never wait for a backend switch or a goodbye under mu.
	now atomic.Pointer[current]

	mu       sync.Mutex // serialises start, Update, backend switches and Close
	svc      Service
	pub      publisher // nil when off or after a failed embedded Update
	name     string    // final name when pub is nil
	closed   bool
	closeErr error

	stopFollow chan struct{} // auto mode: ends follow
	followDone chan struct{} // closed when follow has returned; nil when not following
}

// Start announces s and returns once it is registered (its final name is
// known), or with a one-line error. ctx bounds only the start-up; the
// announcement lasts until Close. An explicit ModeAvahi or ModeEmbedded whose
// backend fails is an error; ModeAuto falls back (avahi → embedded → off)
// and logs why.
func Start(ctx context.Context, s Service, o Options) (*Announcer, error) {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if err := validate(s); err != nil {
		return nil, err
	}
	mode, err := ParseMode(string(o.Mode))
	if err != nil {
		return nil, fmt.Errorf("announce: %w", err)
	}
	return start(ctx, s, o, mode, systemProbes)
}

// probes are the outside world Start looks at and the backends it starts;
// tests replace them.
type probes struct {
	avahi         func(context.Context) (*dbus.Conn, facts)
	port5353      func() error
	links         func() ([]link, error)
	hostname      func() string
	startAvahi    func(context.Context, *dbus.Conn, Service, Options, *slog.Logger) (publisher, error)
	startEmbedded func(context.Context, Service, embeddedConfig) (publisher, error)
	watchAvahi    func(context.Context) (<-chan bool, func(), error)
}

var systemProbes = probes{
	avahi: probeAvahi,
	port5353: func() error {
		c, err := net.ListenPacket("udp4", ":5353") // no SO_REUSEADDR: fails if any responder holds it
		if err == nil {
			c.Close()
		}
		return err
	},
	links:    systemLinks,
	hostname: osHostname,
	startAvahi: func(ctx context.Context, c *dbus.Conn, s Service, o Options, l *slog.Logger) (publisher, error) {
		return startAvahi(ctx, c, s, o.Interfaces, o.IPv4Only, l)
	},
	startEmbedded: func(ctx context.Context, s Service, c embeddedConfig) (publisher, error) {
		return startEmbedded(ctx, s, c)
	},
	watchAvahi: watchAvahi,
}

func start(ctx context.Context, s Service, o Options, mode Mode, env probes) (*Announcer, error) {
	a := &Announcer{log: o.Log, opts: o, env: env, svc: s, name: instanceName(s.Name)}
	if err := a.start(ctx, mode); err != nil {
		return nil, err
	}
	if mode == ModeAuto {
		a.startFollowing(ctx)
	}
	return a, nil
}

// startFollowing watches avahi-daemon on the system bus (auto mode). Without
// a reachable bus (a container without the host's socket) there is nothing
// to follow: the embedded responder stays.
func (a *Announcer) startFollowing(ctx context.Context) {
	events, stop, err := a.env.watchAvahi(ctx)
	if err != nil {
		a.log.Info("announce: auto: not following avahi-daemon (no system D-Bus); the backend stays "+a.backend, "err", err)
		return
	}
	a.stopFollow, a.followDone = make(chan struct{}), make(chan struct{})
	// avahi-daemon may have started between the first look and the watch.
	a.mu.Lock()
	if a.backend != "avahi" {
		conn, f := a.env.avahi(ctx)
		closeConn(conn)
		if f.avahiProblem() == "" {
			a.switchBackend(true)
		}
	}
	a.mu.Unlock()
	go a.follow(events, stop)
}

func validate(s Service) error {
	var errs []error
	if instanceName(s.Name) == "" {
		errs = append(errs, errors.New("empty service name"))
	}
	if s.Port < 1 || s.Port > 65535 {
		errs = append(errs, fmt.Errorf("port %d out of range", s.Port))
	}
	if !isHex16(s.DatabaseID) {
		errs = append(errs, fmt.Errorf("database ID %q is not 16 hex digits", s.DatabaseID))
	}
	if len(errs) > 0 {
		return fmt.Errorf("announce: %w", errors.Join(errs...))
	}
	return nil
}

func isHex16(s string) bool {
	if len(s) != 16 {
		return false
	}
	for _, c := range []byte(s) {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

func (a *Announcer) start(ctx context.Context, mode Mode) error {
	log, env := a.log, a.env
	var f facts
	var conn *dbus.Conn
	if mode == ModeAuto || mode == ModeAvahi {
		conn, f = env.avahi(ctx)
	}
	if mode == ModeAuto || mode == ModeEmbedded {
		f.Port5353 = env.port5353()
	}
	c, err := choose(mode, f)
	if err != nil {
		closeConn(conn)
		return fmt.Errorf("announce: %w", err)
	}
	if c.Backend != "avahi" {
		closeConn(conn)
	}
	switch c.Backend {
	case "off":
		a.set("off", nil)
		log.Info("announce: not announcing (mdns mode off)")
		return nil
	case "avahi":
		pub, err := env.startAvahi(ctx, conn, a.svc, a.opts, log)
		if err == nil {
			a.use("avahi", pub, c.Why)
			return nil
		}
		if mode != ModeAuto {
			return fmt.Errorf("announce: %w", err)
		}
		c = choice{Backend: "embedded", Why: "auto: publishing through avahi-daemon failed: " + err.Error()}
		if f.Port5353 = env.port5353(); f.Port5353 != nil {
			c.Warn = "UDP port 5353 is held by another mDNS stack (" + f.Port5353.Error() + "); the embedded responder shares it"
		}
	}
	// embedded
	if c.Warn != "" {
		log.Warn("announce: " + c.Warn)
	}
	pub, err := a.startEmbedded(ctx)
	if err != nil {
		if mode != ModeAuto {
			return fmt.Errorf("announce: %w", err)
		}
		a.set("off", nil)
		log.Error("announce: not announcing; the share is reachable only by address", "why", c.Why, "err", err)
		return nil
	}
	a.use("embedded", pub, c.Why)
	return nil
}

// use records the running backend and logs the one line saying which and why.
// The line comes first, so whoever sees the backend in Status finds it.
func (a *Announcer) use(backend string, p publisher, why string) {
	a.log.Info("announce: published", "backend", backend, "why", why, "name", p.Name(), "type", serviceType, "port", a.svc.Port)
	a.set(backend, p)
}

// startEmbedded checks that an interface is usable and starts the embedded
// responder, which then follows interface and address changes itself.
func (a *Announcer) startEmbedded(ctx context.Context) (publisher, error) {
	env := a.env
	links, err := env.links()
	if err != nil {
		return nil, fmt.Errorf("embedded: %w", err)
	}
	sel, err := selectLinks(links, a.opts.Interfaces, a.opts.IPv4Only)
	if err != nil {
		return nil, fmt.Errorf("embedded: %w", err)
	}
	if sel.Note != "" {
		a.log.Info("announce: interfaces: " + sel.Note)
	}
	c := embeddedConfig{
		Host:       hostLabel(a.opts.HostLabel, env.hostname()),
		Interfaces: a.opts.Interfaces,
		IPv4Only:   a.opts.IPv4Only,
		Links:      env.links,
		Log:        a.log,
	}
	a.log.Debug("announce: embedded responder", "host", c.Host+".local", "interfaces", sel.Names)
	return env.startEmbedded(ctx, a.svc, c)
}

// Name returns the final instance name, after any conflict renaming.
func (a *Announcer) Name() string { return a.Status().Name }

// current is the backend publishing now.
type current struct {
	backend string
	pub     publisher // nil when nothing publishes
	name    string    // the name asked for, reported when pub is nil
}

// set records the backend publishing now; called with a.mu held.
func (a *Announcer) set(backend string, p publisher) {
	a.backend, a.pub = backend, p
	a.now.Store(&current{backend: backend, pub: p, name: a.name})
}

// Backend returns "avahi", "embedded" or "off": the backend publishing now
// (in auto mode it follows avahi-daemon).
func (a *Announcer) Backend() string { return a.Status().Backend }

// Status is what /healthz reports about the announcement.
type Status struct {
	Backend string `json:"backend"` // "avahi", "embedded" or "off"
	Name    string `json:"name"`    // instance name held now
	Host    string `json:"host"`    // host name the SRV record points at; "" while nothing is published
}

// Status returns the backend publishing now and the names it holds.
func (a *Announcer) Status() Status {
	c := a.now.Load()
	if c == nil {
		return Status{Backend: "off"}
	}
	st := Status{Backend: c.backend, Name: c.name}
	if c.pub != nil {
		st.Name = c.pub.Name()
		if h, ok := c.pub.(interface{ Host() string }); ok {
			st.Host = h.Host()
		}
	}
	return st
}

// Update announces a changed service (name, password, port). Avahi updates
// the TXT record in place or re-registers a new name; the embedded responder
// re-registers (withdraw, probe, announce).
func (a *Announcer) Update(s Service) error {
	if err := validate(s); err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return errors.New("announce: update after Close")
	}
	a.svc, a.name = s, instanceName(s.Name)
	a.set(a.backend, a.pub)
	if u, ok := a.pub.(interface{ Update(Service) error }); ok {
		return u.Update(s)
	}
	if a.backend != "embedded" {
		return nil // off
	}
	if a.pub != nil {
		if err := a.pub.Close(); err != nil {
			a.log.Warn("announce: withdrawing the old announcement", "err", err)
		}
		a.set(a.backend, nil)
	}
	p, err := a.startEmbedded(context.Background()) // interfaces and addresses afresh
	if err != nil {
		return fmt.Errorf("announce: re-register: %w", err)
	}
	a.set(a.backend, p)
	a.log.Info("announce: re-registered", "backend", a.backend, "name", p.Name(), "password", s.Password)
	return nil
}

// Close withdraws the announcement (goodbye packets, or an avahi entry group
// reset) and waits for it, at most about 2 s. It is idempotent.
func (a *Announcer) Close() error {
	a.mu.Lock()
	if a.closed {
		defer a.mu.Unlock()
		return a.closeErr
	}
	a.closed = true
	a.mu.Unlock()
	if a.followDone != nil {
		close(a.stopFollow)
		<-a.followDone
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.pub != nil {
		a.closeErr = a.pub.Close()
		if a.closeErr == nil {
			a.log.Info("announce: withdrawn", "backend", a.backend, "name", a.pub.Name())
		}
	}
	return a.closeErr
}

func closeConn(c *dbus.Conn) {
	if c != nil {
		c.Close()
	}
}
