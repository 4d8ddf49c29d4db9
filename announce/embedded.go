package announce

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/miekg/dns"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// The embedded responder: one goroutine (loop) owns all state; two readers
// hand it the packets received, cut to their length, through a bounded
// channel that drops what a flood pushes beyond it. Timers drive probing
// (RFC 6762 §8.1), announcing (§8.3) and re-announcing after address
// changes (§8.4); interface changes come from netlink on Linux and from
// polling elsewhere (watchLinks).

var (
	group4 = netip.MustParseAddrPort("224.0.0.251:5353")
	group6 = netip.MustParseAddrPort("[ff02::fb]:5353")
)

// Timing of probing and announcing (RFC 6762 §8).
const (
	probeWait     = 250 * time.Millisecond // between probes, and after the last
	probeCount    = 3
	tieBreakWait  = time.Second      // after losing a simultaneous-probe tie-break
	stormWindow   = 10 * time.Second // §8.1: 15 conflicts in 10 s …
	stormCount    = 15
	stormWait     = 5 * time.Second // … and probes wait 5 s
	announceGap   = time.Second
	announceCount = 2
	unicastBurst  = 20 // unicast replies (QU and legacy queries) per second
	inQueue       = 64 // received packets waiting for the loop
)

// embeddedConfig is what startEmbedded needs beyond the Service.
type embeddedConfig struct {
	Host       string   // host label, never the machine's own name
	Interfaces []string // as Options.Interfaces; empty: every usable one, tracked live
	IPv4Only   bool
	Links      func() ([]link, error)
	Log        *slog.Logger
}

type packet struct {
	data    []byte
	src     netip.AddrPort
	ifIndex int
}

type ifaceState struct {
	name  string
	addrs []netip.Addr
}

// responder is the embedded mDNS responder for one service.
type responder struct {
	log *slog.Logger
	cfg embeddedConfig
	p4  *ipv4.PacketConn
	p6  *ipv6.PacketConn // nil with IPv4Only or without IPv6

	in      chan packet
	linkCh  chan struct{}
	quit    chan struct{}
	done    chan struct{}
	started chan error   // the first probe's outcome, once
	dropped atomic.Int64 // packets the loop had no room for

	mu       sync.Mutex
	zone     zone
	instBase string
	hostBase string
	instN    int // rename counters: "Name (N)", "host-N"
	hostN    int

	// Owned by loop.
	ifaces     map[int]*ifaceState
	ans        answerer
	probing    bool // names not yet ours: do not answer, any answer is a conflict
	verifying  bool // probing names we hold (new interface): keep answering
	probesSent int
	announces  int // announcements still to send
	next       time.Time
	conflicts  []time.Time
	uniTokens  float64
	uniAt      time.Time
	isStarted  bool
}

// startEmbedded opens the sockets, probes for a unique name and returns once
// the service is announced (or ctx ends).
func startEmbedded(ctx context.Context, s Service, c embeddedConfig) (*responder, error) {
	r := &responder{
		log:      c.Log,
		cfg:      c,
		in:       make(chan packet, inQueue),
		linkCh:   make(chan struct{}, 1),
		quit:     make(chan struct{}),
		done:     make(chan struct{}),
		started:  make(chan error, 1),
		instBase: instanceName(s.Name),
		hostBase: c.Host,
		ifaces:   map[int]*ifaceState{},
	}
	r.zone = zone{Instance: r.instBase, Host: r.hostBase, Port: uint16(s.Port), TXT: txtStrings(TXT(s))}
	if err := r.listen(); err != nil {
		return nil, fmt.Errorf("embedded: %w", err)
	}
	if err := r.refreshLinks(time.Now()); err != nil {
		r.closeSockets()
		return nil, fmt.Errorf("embedded: %w", err)
	}
	stopWatch := make(chan struct{})
	go watchLinks(r.linkCh, stopWatch, c.Log)
	go r.read4()
	if r.p6 != nil {
		go r.read6()
	}
	go func() {
		defer close(stopWatch)
		r.loop()
	}()
	select {
	case err := <-r.started:
		if err != nil {
			r.Close()
			return nil, fmt.Errorf("embedded: %w", err)
		}
		return r, nil
	case <-ctx.Done():
		r.Close()
		return nil, fmt.Errorf("embedded: probing %q: %w", r.instBase, ctx.Err())
	}
}

// reuse sets SO_REUSEADDR and SO_REUSEPORT, as every mDNS stack does, so
// that browsers on the same host can share port 5353.
func reuse(_, _ string, c syscall.RawConn) error {
	var serr error
	err := c.Control(func(fd uintptr) { serr = setReuse(fd) })
	if err != nil {
		return err
	}
	return serr
}

func (r *responder) listen() error {
	lc := net.ListenConfig{Control: reuse}
	c4, err := lc.ListenPacket(context.Background(), "udp4", "0.0.0.0:5353")
	if err != nil {
		return fmt.Errorf("port 5353 unusable: %w", err)
	}
	r.p4 = ipv4.NewPacketConn(c4)
	r.p4.SetControlMessage(ipv4.FlagInterface, true)
	r.p4.SetMulticastTTL(255)
	r.p4.SetMulticastLoopback(true) // browsers on this host see the share too
	if r.cfg.IPv4Only {
		return nil
	}
	c6, err := lc.ListenPacket(context.Background(), "udp6", "[::]:5353")
	if err != nil {
		r.log.Info("announce: embedded: IPv4 only", "why", err)
		return nil
	}
	r.p6 = ipv6.NewPacketConn(c6)
	r.p6.SetControlMessage(ipv6.FlagInterface, true)
	r.p6.SetMulticastHopLimit(255)
	r.p6.SetMulticastLoopback(true)
	return nil
}

func (r *responder) closeSockets() {
	r.p4.Close()
	if r.p6 != nil {
		r.p6.Close()
	}
}

func (r *responder) read4() {
	buf := make([]byte, 9000)
	for {
		n, cm, src, err := r.p4.ReadFrom(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		if cm != nil {
			r.deliver(buf[:n], src, cm.IfIndex)
		}
	}
}

func (r *responder) read6() {
	buf := make([]byte, 9000)
	for {
		n, cm, src, err := r.p6.ReadFrom(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		if cm != nil {
			r.deliver(buf[:n], src, cm.IfIndex)
		}
	}
}

// deliver queues a copy of the bytes received (never the whole buffer: a
// short packet must not be read with a previous packet's tail), or drops it
// when the loop is behind.
func (r *responder) deliver(b []byte, src net.Addr, ifIndex int) {
	ua, ok := src.(*net.UDPAddr)
	if !ok {
		return
	}
	ap := ua.AddrPort()
	p := packet{data: slices.Clone(b), src: netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), ifIndex: ifIndex}
	select {
	case r.in <- p:
	default:
		r.dropped.Add(1)
	}
}

// Name returns the instance name held now.
func (r *responder) Name() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.zone.Instance
}

// Host returns the host name held now (e.g. "nas-daapd.local").
func (r *responder) Host() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.zone.Host + ".local"
}

func (r *responder) currentZone() zone {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.zone
}

// Close sends the goodbyes (every record with TTL 0, once per interface and
// family) and stops; it waits at most closeTimeout.
func (r *responder) Close() error {
	select {
	case <-r.quit:
	default:
		close(r.quit)
	}
	select {
	case <-r.done:
		return nil
	case <-time.After(closeTimeout):
		return fmt.Errorf("embedded: goodbye not finished after %v", closeTimeout)
	}
}

func (r *responder) loop() {
	defer close(r.done)
	defer r.closeSockets()
	now := time.Now()
	r.startProbing(now, time.Duration(rand.Int64N(int64(probeWait))), false)
	timer := time.NewTimer(time.Until(r.next))
	defer timer.Stop()
	clean := time.NewTicker(10 * time.Second)
	defer clean.Stop()
	for {
		select {
		case <-r.quit:
			if r.isStarted {
				r.goodbye()
			}
			return
		case p := <-r.in:
			r.handle(p, time.Now())
		case <-timer.C:
			r.tick(time.Now())
		case <-r.linkChanged():
			if err := r.refreshLinks(time.Now()); err != nil {
				r.log.Warn("announce: embedded: reading interfaces", "err", err)
			}
		case now := <-clean.C:
			r.ans.forget(now)
			if n := r.dropped.Swap(0); n > 0 {
				r.log.Warn("announce: embedded: dropped packets while busy (flood?)", "count", n)
			}
		}
		if !r.next.IsZero() {
			timer.Reset(time.Until(r.next))
		}
	}
}

func (r *responder) linkChanged() <-chan struct{} { return r.linkCh }

// startProbing (re)starts the probe sequence after wait.
func (r *responder) startProbing(now time.Time, wait time.Duration, verifying bool) {
	r.probing, r.verifying = true, verifying
	r.probesSent, r.announces = 0, 0
	r.next = now.Add(wait)
}

// tick sends the next probe or announcement.
func (r *responder) tick(now time.Time) {
	if now.Before(r.next) || r.next.IsZero() {
		return
	}
	z := r.currentZone()
	switch {
	case r.probing && r.probesSent < probeCount:
		r.probesSent++
		r.sendAll(func(addrs []netip.Addr) *dns.Msg { return z.probe(r.allAddrs()) })
		r.next = now.Add(probeWait)
	case r.probing:
		r.probing, r.verifying = false, false
		r.announces = announceCount
		r.next = now
		r.tick(now)
		if !r.isStarted {
			r.isStarted = true
			r.started <- nil
		}
	case r.announces > 0:
		r.announces--
		r.sendAll(func(addrs []netip.Addr) *dns.Msg { return z.announcement(addrs, false) })
		for idx, st := range r.ifaces {
			r.ans.sent(idx, z.announcement(st.addrs, false), now)
		}
		r.next = now.Add(announceGap)
		if r.announces == 0 {
			r.next = time.Time{}
		}
	default:
		r.next = time.Time{}
	}
}

// goodbye withdraws every record on every interface (RFC 6762 §10.1).
func (r *responder) goodbye() {
	z := r.currentZone()
	r.sendAll(func(addrs []netip.Addr) *dns.Msg { return z.announcement(addrs, true) })
}

// allAddrs is every address the host label has, on any interface.
func (r *responder) allAddrs() []netip.Addr {
	var all []netip.Addr
	for _, st := range r.ifaces {
		all = append(all, st.addrs...)
	}
	slices.SortFunc(all, netip.Addr.Compare)
	return slices.Compact(all)
}

// sendAll multicasts build(addrs of the interface) on every interface and
// family.
func (r *responder) sendAll(build func(addrs []netip.Addr) *dns.Msg) {
	for idx, st := range r.ifaces {
		r.multicast(idx, st, build(st.addrs))
	}
}

func (r *responder) multicast(idx int, st *ifaceState, m *dns.Msg) {
	b, err := m.Pack()
	if err != nil {
		r.log.Error("announce: embedded: packing a message", "err", err)
		return
	}
	if slices.ContainsFunc(st.addrs, netip.Addr.Is4) {
		r.p4.WriteTo(b, &ipv4.ControlMessage{IfIndex: idx}, net.UDPAddrFromAddrPort(group4))
	}
	if r.p6 != nil && slices.ContainsFunc(st.addrs, func(a netip.Addr) bool { return a.Is6() }) {
		r.p6.WriteTo(b, &ipv6.ControlMessage{IfIndex: idx}, net.UDPAddrFromAddrPort(group6))
	}
}

func (r *responder) send(m *dns.Msg, idx int, dst netip.AddrPort) {
	b, err := m.Pack()
	if err != nil {
		return
	}
	if dst.Addr().Is4() {
		r.p4.WriteTo(b, &ipv4.ControlMessage{IfIndex: idx}, net.UDPAddrFromAddrPort(dst))
	} else if r.p6 != nil {
		r.p6.WriteTo(b, &ipv6.ControlMessage{IfIndex: idx}, net.UDPAddrFromAddrPort(dst))
	}
}

// ourRecords is the zone's unique records over every interface's addresses.
func (r *responder) ourRecords(z zone) []dns.RR {
	var rrs []dns.RR
	for _, rr := range z.records(r.allAddrs()) {
		if unique(rr) {
			rrs = append(rrs, rr)
		}
	}
	return rrs
}

// handle reads one received packet: conflicts first, then the answer.
func (r *responder) handle(p packet, now time.Time) {
	st := r.ifaces[p.ifIndex]
	if st == nil {
		return // an interface we do not serve
	}
	var m dns.Msg
	if err := m.Unpack(p.data); err != nil {
		return
	}
	z := r.currentZone()
	probing := r.probing && !r.verifying
	if m.Response || probing {
		v, inst, host := z.check(&m, r.ourRecords(z), r.probing)
		switch v {
		case conflict:
			r.conflict(now, p.src, inst, host)
			return
		case lostTieBreak:
			r.log.Info("announce: embedded: a simultaneous probe won the tie-break; probing again in 1 s", "from", p.src.Addr())
			r.startProbing(now, tieBreakWait, false)
			return
		}
	}
	if m.Response || probing {
		return
	}
	if len(m.Ns) > 0 && compareSets(r.ourRecords(z), m.Ns) == 0 {
		return // our own probe, looped back
	}
	rep, ok := r.ans.answer(z, query{Msg: &m, Src: p.src, IfIndex: p.ifIndex}, st.addrs, now)
	if !ok {
		return
	}
	if rep.Unicast {
		if !r.takeUnicastToken(now) {
			return
		}
		r.send(rep.Msg, p.ifIndex, p.src)
		return
	}
	// Multicast on the interface and family the query came in on.
	dst := group4
	if p.src.Addr().Is6() {
		dst = group6
	}
	r.send(rep.Msg, p.ifIndex, dst)
}

// takeUnicastToken bounds unicast replies to unicastBurst a second.
func (r *responder) takeUnicastToken(now time.Time) bool {
	r.uniTokens = min(unicastBurst, r.uniTokens+now.Sub(r.uniAt).Seconds()*unicastBurst)
	r.uniAt = now
	if r.uniTokens < 1 {
		return false
	}
	r.uniTokens--
	return true
}

// conflict renames the contested names and probes again (RFC 6762 §9),
// slowing down to a probe every 5 s after 15 conflicts in 10 s (§8.1).
func (r *responder) conflict(now time.Time, from netip.AddrPort, inst, host bool) {
	r.conflicts = slices.DeleteFunc(r.conflicts, func(t time.Time) bool { return now.Sub(t) >= stormWindow })
	r.conflicts = append(r.conflicts, now)
	wait := time.Duration(0)
	if len(r.conflicts) >= stormCount {
		wait = stormWait
	}
	r.mu.Lock()
	old := r.zone
	if r.probing {
		// Someone already answers for the name we probe: take the next one.
		if inst {
			r.instN++
			r.zone.Instance = numbered(r.instBase, r.instN, " (%d)")
		}
		if host {
			r.hostN++
			r.zone.Host = numbered(r.hostBase, r.hostN, "-%d")
		}
	}
	z := r.zone
	r.mu.Unlock()
	if r.isStarted && (z.Instance != old.Instance || z.Host != old.Host) {
		r.withdrawRenamed(old, z)
	}
	if r.probing {
		r.log.Warn("announce: embedded: name conflict, renamed", "from", from.Addr(),
			"instance", old.Instance, "now", z.Instance, "host", old.Host+".local", "now_host", z.Host+".local", "next_probe", wait)
	} else {
		r.log.Warn("announce: embedded: another host answers for our name; probing again", "from", from.Addr(),
			"instance", inst, "host", host, "name", z.Instance, "host_name", z.Host+".local", "next_probe", wait)
	}
	r.startProbing(now, wait, false)
}

// withdrawRenamed says goodbye to the records of old that the rename gave
// up: the other host's records under the same names stay (a goodbye only
// removes the record with our data), while caches that never heard the
// other host (another address family) stop resolving the name to us.
func (r *responder) withdrawRenamed(old, now zone) {
	r.sendAll(func(addrs []netip.Addr) *dns.Msg {
		bye := old.announcement(addrs, true)
		bye.Answer = slices.DeleteFunc(bye.Answer, func(rr dns.RR) bool {
			h := rr.Header()
			switch h.Rrtype {
			case dns.TypeA, dns.TypeAAAA:
				return old.Host == now.Host
			case dns.TypeSRV:
				return old.Instance == now.Instance && old.Host == now.Host
			default: // the instance's PTR and TXT, not _services
				return old.Instance == now.Instance || strings.EqualFold(h.Name, servicesName)
			}
		})
		return bye
	})
}

// numbered returns base with suffix n appended, cut so that the label stays
// within 63 bytes; n=0 is base itself.
func numbered(base string, n int, format string) string {
	if n == 0 {
		return base
	}
	suffix := fmt.Sprintf(format, n+1)
	return truncate(base, maxLabel-len(suffix)) + suffix
}

// refreshLinks reads the interfaces, joins the group on new ones, leaves it
// on vanished ones, and announces address changes: a withdrawn address gets
// a goodbye, and the records are announced again with the cache-flush bit
// (RFC 6762 §8.4, §10.2). A new interface gets probed and announced.
func (r *responder) refreshLinks(now time.Time) error {
	links, err := r.cfg.Links()
	if err != nil {
		return err
	}
	sel, err := selectLinks(links, r.cfg.Interfaces, r.cfg.IPv4Only)
	if err != nil && len(r.ifaces) == 0 {
		return err
	}
	want := map[int]*ifaceState{}
	for _, l := range links {
		if !slices.Contains(sel.Names, l.Name) {
			continue
		}
		st := &ifaceState{name: l.Name}
		for _, a := range l.Addrs {
			if a.Is4() || !r.cfg.IPv4Only && r.p6 != nil {
				st.addrs = append(st.addrs, a.Unmap())
			}
		}
		slices.SortFunc(st.addrs, netip.Addr.Compare)
		want[l.Index] = st
	}
	z := r.currentZone()
	newIface, changed := false, false
	for idx, old := range r.ifaces {
		st := want[idx]
		if st == nil {
			r.leave(idx)
			delete(r.ifaces, idx)
			r.log.Info("announce: embedded: interface gone", "iface", old.name)
			continue
		}
		var gone []netip.Addr
		for _, a := range old.addrs {
			if !slices.Contains(st.addrs, a) {
				gone = append(gone, a)
			}
		}
		if len(gone) > 0 && r.isStarted {
			bye := response()
			for _, rr := range z.records(gone) {
				if t := rr.Header().Rrtype; t == dns.TypeA || t == dns.TypeAAAA {
					rr.Header().Ttl = 0
					bye.Answer = append(bye.Answer, rr)
				}
			}
			r.multicast(idx, st, bye)
		}
		if !slices.Equal(old.addrs, st.addrs) {
			changed = true
			r.log.Info("announce: embedded: addresses changed", "iface", st.name, "addrs", st.addrs, "withdrawn", gone)
			if !slices.ContainsFunc(old.addrs, netip.Addr.Is4) && slices.ContainsFunc(st.addrs, netip.Addr.Is4) ||
				!slices.ContainsFunc(old.addrs, netip.Addr.Is6) && slices.ContainsFunc(st.addrs, netip.Addr.Is6) {
				r.join(idx, st) // a family appeared
			}
		}
		r.ifaces[idx] = st
	}
	for idx, st := range want {
		if r.ifaces[idx] != nil {
			continue
		}
		r.join(idx, st)
		r.ifaces[idx] = st
		newIface = true
		r.log.Info("announce: embedded: serving interface", "iface", st.name, "addrs", st.addrs)
	}
	switch {
	case !r.isStarted || r.probing:
	case newIface:
		r.startProbing(now, 0, true)
	case changed:
		r.announces = announceCount
		r.next = now
	}
	return nil
}

func (r *responder) join(idx int, st *ifaceState) {
	ifi, err := net.InterfaceByIndex(idx)
	if err != nil {
		return
	}
	if slices.ContainsFunc(st.addrs, netip.Addr.Is4) {
		if err := r.p4.JoinGroup(ifi, &net.UDPAddr{IP: group4.Addr().AsSlice()}); err != nil && !errors.Is(err, syscall.EADDRINUSE) {
			r.log.Warn("announce: embedded: joining 224.0.0.251", "iface", st.name, "err", err)
		}
	}
	if r.p6 != nil && slices.ContainsFunc(st.addrs, netip.Addr.Is6) {
		if err := r.p6.JoinGroup(ifi, &net.UDPAddr{IP: group6.Addr().AsSlice()}); err != nil && !errors.Is(err, syscall.EADDRINUSE) {
			r.log.Warn("announce: embedded: joining ff02::fb", "iface", st.name, "err", err)
		}
	}
}

func (r *responder) leave(idx int) {
	ifi, err := net.InterfaceByIndex(idx)
	if err != nil {
		return // gone with the interface
	}
	r.p4.LeaveGroup(ifi, &net.UDPAddr{IP: group4.Addr().AsSlice()})
	if r.p6 != nil {
		r.p6.LeaveGroup(ifi, &net.UDPAddr{IP: group6.Addr().AsSlice()})
	}
}
