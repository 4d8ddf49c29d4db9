package announce

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/godbus/dbus/v5"
	"github.com/holoplot/go-avahi"
)

const (
	avahiBusName = "org.freedesktop.Avahi"
	busCallLimit = 3 * time.Second  // one D-Bus round trip during probing
	registerCap  = 15 * time.Second // entry group commit until established
)

// Entry group states (avahi-common/defs.h AvahiEntryGroupState).
const (
	groupEstablished = avahi.EntryGroupEstablished
	groupCollision   = avahi.EntryGroupCollision
	groupFailure     = avahi.EntryGroupFailure
)

// probeAvahi connects to the system bus (DBUS_SYSTEM_BUS_ADDRESS is honoured)
// and asks, without activating anything, whether avahi-daemon runs. The
// connection is returned for reuse when the bus was reached.
func probeAvahi(ctx context.Context) (*dbus.Conn, facts) {
	var f facts
	conn, err := connectSystemBus(ctx)
	if err != nil {
		f.BusErr = err
		return nil, f
	}
	cctx, cancel := context.WithTimeout(ctx, busCallLimit)
	defer cancel()
	err = conn.BusObject().CallWithContext(cctx, "org.freedesktop.DBus.NameHasOwner", 0, avahiBusName).Store(&f.AvahiOwned)
	if err != nil {
		f.BusErr = fmt.Errorf("NameHasOwner: %w", err)
		return conn, f
	}
	if !f.AvahiOwned {
		return conn, f
	}
	f.AvahiState, f.StateErr = avahiState(cctx, conn)
	return conn, f
}

func avahiState(ctx context.Context, conn *dbus.Conn) (int32, error) {
	var st int32
	err := conn.Object(avahiBusName, "/").CallWithContext(ctx, "org.freedesktop.Avahi.Server.GetState", 0).Store(&st)
	if err != nil {
		return 0, fmt.Errorf("GetState: %w", err)
	}
	return st, nil
}

// connectSystemBus dials, authenticates and says Hello, within busCallLimit.
func connectSystemBus(ctx context.Context) (*dbus.Conn, error) {
	type result struct {
		conn *dbus.Conn
		err  error
	}
	ch := make(chan result, 1)
	go func() {
		c, err := dialSystemBus()
		ch <- result{c, err}
	}()
	t := time.NewTimer(busCallLimit)
	defer t.Stop()
	select {
	case r := <-ch:
		return r.conn, r.err
	case <-ctx.Done():
	case <-t.C:
	}
	go func() { // close it if it comes late
		if r := <-ch; r.conn != nil {
			r.conn.Close()
		}
	}()
	return nil, errors.New("no answer from the system D-Bus within " + busCallLimit.String())
}

// dialSystemBus connects, authenticates and says Hello, telling a bus that
// is not there from one that turned the connection down.
func dialSystemBus() (*dbus.Conn, error) {
	c, err := dbus.SystemBusPrivate()
	if err != nil {
		return nil, fmt.Errorf("unreachable: %w", err)
	}
	if err = c.Auth(nil); err == nil {
		err = c.Hello()
	}
	if err != nil {
		c.Close()
		return nil, refusal(err, os.Geteuid())
	}
	return c, nil
}

// refusal explains an error from a bus that took the connection and then
// turned it down. dbus-daemon silently closes the connection of a uid it
// cannot look up in its own user database (bus_policy_allow_unix_user needs
// the uid's groups): the usual cause is a container user without an account
// on the host whose bus socket is mounted in.
func refusal(err error, uid int) error {
	closed := errors.Is(err, io.EOF) || errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET)
	if closed && uid != 0 {
		return fmt.Errorf("closed the connection of uid %d (dbus-daemon drops uids that have no account "+
			"on its machine: in a container, create that account on the host or run the container "+
			"as a host user; see the README's Docker section): %w", uid, err)
	}
	return fmt.Errorf("D-Bus refused the connection: %w", err)
}

// avahiPub publishes through the system avahi-daemon. One goroutine (loop)
// owns the entry group after start: it drains state changes, renames on
// collisions, re-registers when avahi-daemon comes back on the bus, and
// applies updates.
type avahiPub struct {
	log    *slog.Logger
	conn   *dbus.Conn
	srv    *avahi.Server
	ifaces []int32 // kernel interface indexes; [InterfaceUnspec] for all
	proto  int32

	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc
	done   chan struct{} // closed when loop has returned

	svc       Service
	eg        *avahi.EntryGroup   // nil while avahi-daemon is away
	gen       int                 // generation of eg, to ignore stale events
	stale     []*avahi.EntryGroup // groups of a daemon that left the bus
	srvClosed bool                // srv closed after the bus connection was lost
	events    chan groupEvent
	sigs      chan *dbus.Signal
	updates   chan update

	hostStale bool // avahi-daemon is renaming its host: re-register when it runs

	mu   sync.Mutex
	name string // final instance name
	host string // avahi-daemon's host name, "" while nothing is published
}

type groupEvent struct {
	gen int
	avahi.EntryGroupState
}

type update struct {
	svc   Service
	reply chan error
}

// startAvahi registers s through avahi-daemon on conn and returns once the
// entry group is established (or failed). ctx bounds the registration.
func startAvahi(ctx context.Context, conn *dbus.Conn, s Service, ifaces []string, ipv4Only bool, log *slog.Logger) (*avahiPub, error) {
	p := &avahiPub{
		log:     log,
		conn:    conn,
		ifaces:  []int32{avahi.InterfaceUnspec},
		proto:   avahi.ProtoUnspec,
		svc:     s,
		name:    instanceName(s.Name),
		done:    make(chan struct{}),
		events:  make(chan groupEvent, 64),
		sigs:    make(chan *dbus.Signal, 16),
		updates: make(chan update),
	}
	if ipv4Only {
		p.proto = avahi.ProtoInet
	}
	if len(ifaces) > 0 {
		p.ifaces = nil
		for _, name := range ifaces {
			ifi, err := net.InterfaceByName(name)
			if err != nil {
				return nil, fmt.Errorf("avahi: interface %s: %w", name, err)
			}
			p.ifaces = append(p.ifaces, int32(ifi.Index))
		}
	}
	p.ctx, p.cancel = context.WithCancel(context.Background())
	stop := context.AfterFunc(ctx, p.cancel) // abandon registration with ctx
	defer stop()

	var err error
	if p.srv, err = avahi.ServerNew(conn); err != nil {
		p.cancel()
		return nil, fmt.Errorf("avahi: %w", err)
	}
	// Watch avahi-daemon leaving and coming back (restart, upgrade).
	if err := conn.AddMatchSignalContext(p.ctx,
		dbus.WithMatchSender("org.freedesktop.DBus"),
		dbus.WithMatchInterface("org.freedesktop.DBus"),
		dbus.WithMatchMember("NameOwnerChanged"),
		dbus.WithMatchArg(0, avahiBusName)); err != nil {
		p.shutdown()
		return nil, fmt.Errorf("avahi: watch NameOwnerChanged: %w", err)
	}
	// Follow avahi-daemon's host name: after a host name conflict it picks
	// another one, and the SRV target must follow (re-register).
	if err := conn.AddMatchSignalContext(p.ctx,
		dbus.WithMatchInterface("org.freedesktop.Avahi.Server"),
		dbus.WithMatchMember("StateChanged"),
		dbus.WithMatchObjectPath("/")); err != nil {
		p.shutdown()
		return nil, fmt.Errorf("avahi: watch StateChanged: %w", err)
	}
	conn.Signal(p.sigs)

	rctx, rcancel := context.WithTimeout(p.ctx, registerCap)
	defer rcancel()
	if err = p.newGroup(); err == nil {
		err = p.publish(rctx)
	}
	if err != nil {
		p.shutdown()
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return nil, fmt.Errorf("avahi: %w", err)
	}
	go p.loop()
	return p, nil
}

func (p *avahiPub) Name() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.name
}

func (p *avahiPub) setName(n string) {
	p.mu.Lock()
	p.name = n
	p.mu.Unlock()
}

// newGroup creates an entry group and drains its state channel for good:
// go-avahi's dispatcher holds the server mutex while it sends on that
// 10-slot channel, so a full channel would stall every later call.
func (p *avahiPub) newGroup() error {
	eg, err := p.srv.EntryGroupNew()
	if err != nil {
		return fmt.Errorf("EntryGroupNew: %w", err)
	}
	p.gen++
	p.eg = eg
	go func(gen int, ch <-chan avahi.EntryGroupState) {
		for {
			select {
			case st := <-ch:
				select {
				case p.events <- groupEvent{gen, st}:
				case <-p.ctx.Done():
					return
				}
			case <-p.ctx.Done():
				return
			}
		}
	}(p.gen, eg.StateChangeChannel)
	return nil
}

// publish adds the service under the current name and commits, taking
// avahi's alternative name on each collision, until the group is
// established.
func (p *avahiPub) publish(ctx context.Context) error {
	txt := avahiTXT(TXT(p.svc))
	for range 32 {
		name := p.Name()
		for _, ifi := range p.ifaces {
			if err := p.eg.AddService(ifi, p.proto, 0, name, serviceType, "", "", uint16(p.svc.Port), txt); err != nil {
				return fmt.Errorf("AddService %q: %w", name, err)
			}
		}
		if err := p.eg.Commit(); err != nil {
			return fmt.Errorf("Commit: %w", err) //lint:ignore ST1005 a D-Bus method name
		}
		st, err := p.wait(ctx)
		if err != nil {
			return err
		}
		switch st.State {
		case groupEstablished:
			host, err := p.srv.GetHostNameFqdn()
			if err != nil {
				host = "?"
			}
			p.mu.Lock()
			p.host = host
			p.mu.Unlock()
			return nil
		case groupFailure:
			return fmt.Errorf("avahi-daemon failed to register %q: %s", name, st.Error)
		}
		if err := p.rename(name); err != nil {
			return err
		}
	}
	return errors.New("no free instance name after 32 collisions")
}

// rename resets the group after a collision and takes avahi's alternative
// name ("Name #2").
func (p *avahiPub) rename(taken string) error {
	alt, err := p.srv.GetAlternativeServiceName(taken)
	if err != nil {
		return fmt.Errorf("GetAlternativeServiceName: %w", err)
	}
	p.log.Info("announce: name taken on the network, renamed", "taken", taken, "name", alt)
	p.setName(alt)
	if err := p.eg.Reset(); err != nil {
		return fmt.Errorf("Reset: %w", err) //lint:ignore ST1005 a D-Bus method name
	}
	return nil
}

// wait returns the next final state (established, collision or failure)
// of the current group.
func (p *avahiPub) wait(ctx context.Context) (avahi.EntryGroupState, error) {
	for {
		select {
		case ev := <-p.events:
			if ev.gen == p.gen && (ev.State == groupEstablished || ev.State == groupCollision || ev.State == groupFailure) {
				return ev.EntryGroupState, nil
			}
		case <-ctx.Done():
			return avahi.EntryGroupState{}, fmt.Errorf("waiting for avahi-daemon to register %q: %w", p.Name(), ctx.Err())
		}
	}
}

func (p *avahiPub) loop() {
	defer close(p.done)
	for {
		select {
		case <-p.ctx.Done():
			return
		case ev := <-p.events:
			if ev.gen != p.gen || p.eg == nil {
				continue
			}
			switch ev.State {
			case groupCollision: // another host claimed the name later
				err := p.rename(p.Name())
				if err == nil {
					err = p.publish(p.ctx)
				}
				if err != nil && p.ctx.Err() == nil {
					p.log.Error("announce: avahi: re-register after a name conflict failed", "err", err)
				}
			case groupFailure:
				p.log.Error("announce: avahi-daemon withdrew the service", "name", p.Name(), "err", ev.Error)
			}
		case sig, ok := <-p.sigs:
			if !ok {
				p.sigs = nil
				p.eg = nil
				p.log.Error("announce: lost the system D-Bus connection; the share is no longer announced")
				// go-avahi's dispatcher spins on the closed channel until Close.
				p.srv.Close()
				p.srvClosed = true
				continue
			}
			if owner, ok := avahiOwnerChange(sig); ok {
				p.ownerChanged(owner)
			} else if st, ok := avahiServerState(sig); ok {
				p.serverState(st)
			}
		case u := <-p.updates:
			u.reply <- p.apply(u.svc)
		}
	}
}

// avahiOwnerChange reads a NameOwnerChanged signal for avahi's bus name.
func avahiOwnerChange(sig *dbus.Signal) (newOwner string, ok bool) {
	if sig.Name != "org.freedesktop.DBus.NameOwnerChanged" || len(sig.Body) != 3 {
		return "", false
	}
	name, _ := sig.Body[0].(string)
	newOwner, _ = sig.Body[2].(string)
	return newOwner, name == avahiBusName
}

// avahiServerState reads avahi's Server.StateChanged signal.
func avahiServerState(sig *dbus.Signal) (int32, bool) {
	if sig.Name != "org.freedesktop.Avahi.Server.StateChanged" || len(sig.Body) < 1 {
		return 0, false
	}
	st, ok := sig.Body[0].(int32)
	return st, ok
}

// serverState follows avahi-daemon renaming its host (issue 14, defect 9):
// on a host name collision or while it registers a new name, the group's
// SRV still points at the old name, so reset it; once the daemon runs
// again, publish anew (an empty host makes avahi use its current name).
func (p *avahiPub) serverState(st int32) {
	if p.eg == nil {
		return
	}
	switch st {
	case avahiRegistering, avahiCollision:
		if !p.hostStale {
			p.log.Warn("announce: avahi-daemon is changing its host name; re-registering the share when it is done", "state", avahiStates[st])
			p.hostStale = true
			p.setHost("")
			p.eg.Reset()
		}
	case avahiRunning:
		if !p.hostStale {
			return
		}
		p.hostStale = false
		p.setName(instanceName(p.svc.Name))
		ctx, cancel := context.WithTimeout(p.ctx, registerCap)
		defer cancel()
		if err := p.publish(ctx); err != nil {
			if p.ctx.Err() == nil {
				p.log.Error("announce: avahi: re-register after a host rename failed", "err", err)
			}
			return
		}
		p.log.Info("announce: avahi-daemon renamed its host; share re-registered", "name", p.Name(), "host", p.Host())
	}
}

func (p *avahiPub) setHost(h string) {
	p.mu.Lock()
	p.host = h
	p.mu.Unlock()
}

// Host returns avahi-daemon's host name the share points at, "" while
// nothing is published.
func (p *avahiPub) Host() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.host
}

// ownerChanged follows avahi-daemon leaving and returning to the bus; a
// restarted daemon knows nothing of our group, so register again.
func (p *avahiPub) ownerChanged(owner string) {
	if p.eg != nil {
		// Freed once a daemon owns the name again: a call now could
		// D-Bus-activate the avahi-daemon an administrator just stopped.
		p.stale = append(p.stale, p.eg)
		p.eg = nil
	}
	p.setHost("")
	if owner == "" {
		p.log.Warn("announce: avahi-daemon left the system bus; the share is unpublished until it returns")
		return
	}
	for _, eg := range p.stale {
		p.srv.EntryGroupFree(eg) // unknown to the new daemon; drops go-avahi's entry
	}
	p.stale = nil
	err := p.waitRunning()
	if err == nil {
		p.setName(instanceName(p.svc.Name))
		if err = p.newGroup(); err == nil {
			err = p.publish(p.ctx)
		}
	}
	if err != nil {
		if p.ctx.Err() == nil {
			p.log.Error("announce: avahi-daemon restarted; publishing again failed", "err", err)
		}
		return
	}
	p.log.Info("announce: avahi-daemon restarted; published again", "name", p.Name())
}

// waitRunning polls the restarted daemon until its host records are up.
func (p *avahiPub) waitRunning() error {
	ctx, cancel := context.WithTimeout(p.ctx, registerCap)
	defer cancel()
	for {
		st, err := avahiState(ctx, p.conn)
		if err == nil && (st == avahiRunning || st == avahiRegistering) {
			return nil
		}
		select {
		case <-ctx.Done():
			if err == nil {
				err = fmt.Errorf("avahi-daemon stayed in state %s", avahiStates[st])
			}
			return err
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Update changes the announced service: a TXT change is sent with
// UpdateServiceTxt, a new name or port re-registers.
func (p *avahiPub) Update(s Service) error {
	u := update{s, make(chan error, 1)}
	select {
	case p.updates <- u:
		return <-u.reply
	case <-p.done:
		return errors.New("avahi: announcer closed")
	}
}

func (p *avahiPub) apply(s Service) error {
	old := p.svc
	p.svc = s
	if p.eg == nil {
		return nil // published as s when avahi-daemon returns
	}
	if instanceName(s.Name) == instanceName(old.Name) && s.Port == old.Port {
		txt := avahiTXT(TXT(s))
		for _, ifi := range p.ifaces {
			if err := p.eg.UpdateServiceTxt(ifi, p.proto, 0, p.Name(), serviceType, "", txt); err != nil {
				return fmt.Errorf("avahi: UpdateServiceTxt: %w", err)
			}
		}
		return nil
	}
	if err := p.eg.Reset(); err != nil {
		return fmt.Errorf("avahi: Reset: %w", err)
	}
	p.setName(instanceName(s.Name))
	ctx, cancel := context.WithTimeout(p.ctx, registerCap)
	defer cancel()
	if err := p.publish(ctx); err != nil {
		return fmt.Errorf("avahi: %w", err)
	}
	return nil
}

// Close withdraws the service (Reset: avahi-daemon sends the goodbyes),
// frees the group and closes the server and bus connection. go-avahi's
// Server.Close can block, so after closeTimeout the bus connection is cut,
// which also makes avahi-daemon drop the group.
func (p *avahiPub) Close() error {
	p.cancel()
	finished := make(chan struct{})
	go func() {
		<-p.done
		p.shutdown()
		close(finished)
	}()
	select {
	case <-finished:
		return nil
	case <-time.After(closeTimeout):
		p.conn.Close()
		return fmt.Errorf("avahi: withdraw not finished after %v; closed the D-Bus connection instead", closeTimeout)
	}
}

// abandon stops without a D-Bus call to avahi-daemon, which has left the
// bus: a call could D-Bus-activate the daemon an administrator just stopped.
func (p *avahiPub) abandon() {
	p.cancel()
	select {
	case <-p.done:
	case <-time.After(closeTimeout):
	}
	p.conn.Close()
	if !p.srvClosed {
		p.srv.Close() // its calls now fail at once on the closed connection
		p.srvClosed = true
	}
}

// shutdown releases everything; the loop must not be running.
func (p *avahiPub) shutdown() {
	p.cancel()
	if p.srvClosed {
		return
	}
	if p.eg != nil {
		p.eg.Reset()
		p.srv.EntryGroupFree(p.eg)
		p.eg = nil
	}
	p.srv.Close() // frees the other groups, closes conn
}
