package announce

import (
	"context"
	"fmt"
	"log"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/brutella/dnssd"
	dnssdlog "github.com/brutella/dnssd/log"
)

// embedded publishes through brutella/dnssd v1.2.14 inside the process.
//
// It follows the pitfalls measured in shared/docs/mdns.md: its own host
// label, names cut to 63 bytes, ProbeService first so the final name is known
// without racing Respond, Respond only under a plain WithCancel context, no
// Remove and no UpdateText (a change re-registers), and Close = cancel and
// wait for Respond, which sends the goodbye packets.
type embedded struct {
	name   string
	cancel context.CancelFunc
	done   chan struct{} // closed when Respond has returned
}

// embeddedConfig is what startEmbedded needs beyond the Service.
type embeddedConfig struct {
	Host   string   // host label, never the machine's own name
	Ifaces []string // nil: every multicast interface, tracked live by dnssd
	IPv4   []net.IP // with IPv4Only: the only addresses announced
	Log    *slog.Logger
}

// browseWait is how long startEmbedded listens for names already in use.
const browseWait = time.Second

// browseIfaces is the interfaces to browse on: the selected ones, or every
// multicast interface when dnssd tracks them itself.
func browseIfaces(ifaces []string) []string {
	if ifaces != nil {
		return ifaces
	}
	var names []string
	for _, ifi := range dnssd.MulticastInterfaces() {
		names = append(names, ifi.Name)
	}
	return names
}

// startEmbedded probes for a unique name, then starts the responder. ctx
// bounds the probing only.
func startEmbedded(ctx context.Context, s Service, c embeddedConfig) (*embedded, error) {
	redirectDNSSDLogs(c.Log)
	cfg := dnssd.Config{
		Type:   serviceType,
		Host:   c.Host,
		Text:   TXT(s),
		Port:   s.Port,
		Ifaces: c.Ifaces,
		IPs:    c.IPv4,
	}

	// dnssd's reader goroutines stop only on context.Canceled, never on a
	// deadline: give it a cancel-only context tied to ctx.
	pctx, pcancel := context.WithCancel(context.Background())
	defer pcancel()
	defer context.AfterFunc(ctx, pcancel)()

	want := instanceName(s.Name)
	base := want
	if taken, err := takenNames(pctx, browseIfaces(c.Ifaces), c.Host, browseWait); err != nil {
		c.Log.Debug("announce: browsing for names in use failed; relying on dnssd's probe", "err", err)
	} else if base, err = freeName(want, taken); err != nil {
		return nil, fmt.Errorf("embedded: %w", err)
	}
	var svc dnssd.Service
	for try := 0; ; try++ {
		cfg.Name = base
		var err error
		if svc, err = dnssd.NewService(cfg); err != nil {
			return nil, fmt.Errorf("embedded: %w", err)
		}
		svc.Name = base // NewService would strip a " (N)" suffix
		if svc, err = dnssd.ProbeService(pctx, svc); err != nil {
			if ctx.Err() != nil {
				return nil, fmt.Errorf("embedded: probing %q: %w", base, ctx.Err())
			}
			return nil, fmt.Errorf("embedded: probing %q (port 5353 unusable?): %w", base, err)
		}
		if len(svc.Name) <= maxLabel {
			break
		}
		// Renamed to "Name (2)" past 63 bytes, which dnssd would never
		// publish: shorten the base by the overflow and probe again.
		if try == 3 {
			return nil, fmt.Errorf("embedded: no free instance name of at most %d bytes for %q", maxLabel, base)
		}
		base = truncate(base, len(base)-(len(svc.Name)-maxLabel))
	}

	if svc.Name != want {
		c.Log.Info("announce: name taken on the network, renamed", "taken", want, "name", svc.Name)
	}
	rp, err := dnssd.NewResponder()
	if err != nil {
		return nil, fmt.Errorf("embedded: port 5353 unusable: %w", err)
	}
	if _, err := rp.Add(svc); err != nil {
		return nil, fmt.Errorf("embedded: %w", err)
	}
	rctx, cancel := context.WithCancel(context.Background())
	e := &embedded{name: svc.Name, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(e.done)
		if err := rp.Respond(rctx); rctx.Err() == nil {
			c.Log.Error("announce: embedded responder stopped; the share is no longer announced", "err", err)
		}
	}()
	return e, nil
}

func (e *embedded) Name() string { return e.name }

// Close cancels Respond, which sends the goodbye packets (the PTR with TTL 0,
// twice, 250 ms apart, per interface), and waits for it up to closeTimeout.
func (e *embedded) Close() error {
	e.cancel()
	select {
	case <-e.done:
		return nil
	case <-time.After(closeTimeout):
		return fmt.Errorf("embedded: goodbye not finished after %v", closeTimeout)
	}
}

// dnssdLogger is where dnssd's log lines go; see redirectDNSSDLogs.
var dnssdLogger struct {
	once sync.Once
	to   atomic.Pointer[slog.Logger]
}

// redirectDNSSDLogs sends dnssd's package-global loggers, which print to
// stdout, into l at Debug level. The global output is switched once; later
// calls only change the target logger. dnssd's debug output (every packet)
// is formatted only when l has Debug enabled the first time.
func redirectDNSSDLogs(l *slog.Logger) {
	dnssdLogger.to.Store(l)
	dnssdLogger.once.Do(func() {
		for _, dl := range []*dnssdlog.Logger{dnssdlog.Info, dnssdlog.Debug} {
			dl.SetPrefix("")
			dl.SetFlags(log.Lshortfile)
		}
		dnssdlog.Info.SetOutput(slogWriter{})
		if l.Enabled(context.Background(), slog.LevelDebug) {
			dnssdlog.Debug.SetOutput(slogWriter{})
		}
	})
}

type slogWriter struct{}

func (slogWriter) Write(p []byte) (int, error) {
	if l := dnssdLogger.to.Load(); l != nil {
		l.Debug("dnssd: " + strings.TrimSpace(string(p)))
	}
	return len(p), nil
}
