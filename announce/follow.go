package announce

import (
	"context"
	"fmt"
	"time"

	"github.com/godbus/dbus/v5"
)

// In ModeAuto the announcer follows avahi-daemon on the system bus
// (NameOwnerChanged for org.freedesktop.Avahi): when it appears, the
// embedded responder says goodbye and the share is published through it;
// when it leaves, the embedded responder takes over. One responder per host
// at any time, and the log and Status say which one publishes.

// avahiWait bounds how long a newly started avahi-daemon may take to be
// usable before auto stays with (or goes back to) the embedded responder.
const avahiWait = 15 * time.Second

// watchAvahi reports avahi-daemon's presence on the system bus: true when
// org.freedesktop.Avahi gains an owner, false when it loses it. stop closes
// the connection and the channel.
func watchAvahi(ctx context.Context) (events <-chan bool, stop func(), err error) {
	conn, err := connectSystemBus(ctx)
	if err != nil {
		return nil, nil, err
	}
	if err := conn.AddMatchSignalContext(ctx,
		dbus.WithMatchSender("org.freedesktop.DBus"),
		dbus.WithMatchInterface("org.freedesktop.DBus"),
		dbus.WithMatchMember("NameOwnerChanged"),
		dbus.WithMatchArg(0, avahiBusName)); err != nil {
		conn.Close()
		return nil, nil, fmt.Errorf("watch NameOwnerChanged: %w", err)
	}
	sigs := make(chan *dbus.Signal, 16)
	conn.Signal(sigs)
	out := make(chan bool, 4)
	go func() {
		defer close(out)
		for sig := range sigs { // closed when conn closes
			if owner, ok := avahiOwnerChange(sig); ok {
				select {
				case out <- owner != "":
				default: // the follower is behind; it re-checks the bus anyway
				}
			}
		}
	}()
	return out, func() { conn.Close() }, nil
}

// follow switches backends on avahi-daemon's comings and goings until stop
// is closed. A repeat of the last event changes nothing: avahi-daemon has
// not come or gone since.
func (a *Announcer) follow(events <-chan bool, stopWatch func()) {
	defer close(a.followDone)
	defer stopWatch()
	seen, last := false, false
	for {
		select {
		case <-a.stopFollow:
			return
		case present, ok := <-events:
			if !ok {
				a.log.Warn("announce: lost the system D-Bus; auto no longer follows avahi-daemon")
				return
			}
			if seen && present == last {
				continue
			}
			seen, last = true, present
			a.mu.Lock()
			if !a.closed {
				a.switchBackend(present)
			}
			a.mu.Unlock()
		}
	}
}

// switchBackend moves the announcement to avahi (present) or to the embedded
// responder. Called with a.mu held.
func (a *Announcer) switchBackend(present bool) {
	switch {
	case present && a.backend != "avahi":
		a.log.Info("announce: avahi-daemon appeared on the system bus; handing the share over to it")
		if a.pub != nil {
			if err := a.pub.Close(); err != nil {
				a.log.Warn("announce: stopping the embedded responder", "err", err)
			}
			a.set("off", nil)
		}
		ctx, cancel := context.WithTimeout(context.Background(), avahiWait)
		defer cancel()
		pub, err := a.startAvahiWhenReady(ctx)
		if err == nil {
			a.use("avahi", pub, "auto: avahi-daemon appeared on the system bus")
			return
		}
		a.log.Warn("announce: avahi-daemon appeared but publishing through it failed; staying embedded", "err", err)
		a.fallBack("auto: publishing through avahi-daemon failed")
	case !present && a.backend == "avahi":
		a.log.Warn("announce: avahi-daemon left the system bus; the embedded responder takes over")
		if ab, ok := a.pub.(interface{ abandon() }); ok {
			ab.abandon() // no D-Bus calls: they could activate the daemon again
		} else if a.pub != nil {
			a.pub.Close()
		}
		a.set("off", nil)
		a.fallBack("auto: avahi-daemon left the system bus")
	}
}

// fallBack starts the embedded responder, or records that nothing is
// announced. Called with a.mu held.
func (a *Announcer) fallBack(why string) {
	pub, err := a.startEmbedded(context.Background())
	if err != nil {
		a.set("off", nil)
		a.log.Error("announce: not announcing; the share is reachable only by address", "why", why, "err", err)
		return
	}
	a.use("embedded", pub, why)
}

// startAvahiWhenReady waits for a freshly started avahi-daemon to reach the
// running state, then registers through it.
func (a *Announcer) startAvahiWhenReady(ctx context.Context) (publisher, error) {
	for {
		conn, f := a.env.avahi(ctx)
		if p := f.avahiProblem(); p == "" {
			pub, err := a.env.startAvahi(ctx, conn, a.svc, a.opts, a.log)
			if err != nil {
				closeConn(conn)
			}
			return pub, err
		} else if f.BusErr != nil || !f.AvahiOwned {
			closeConn(conn)
			return nil, fmt.Errorf("%s", p)
		}
		closeConn(conn)
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("avahi-daemon not ready within %v", avahiWait)
		case <-time.After(200 * time.Millisecond):
		}
	}
}
