package announce

import (
	"log/slog"
	"time"

	"github.com/vishvananda/netlink"
)

// watchLinks signals ch (never blocking) when a link or an address changes,
// from netlink notifications; it falls back to polling when netlink cannot
// be subscribed to. It returns when stop is closed.
func watchLinks(ch chan<- struct{}, stop <-chan struct{}, log *slog.Logger) {
	links := make(chan netlink.LinkUpdate, 16)
	addrs := make(chan netlink.AddrUpdate, 16)
	done := make(chan struct{})
	defer close(done)
	err := netlink.LinkSubscribe(links, done)
	if err == nil {
		err = netlink.AddrSubscribe(addrs, done)
	}
	if err != nil {
		log.Info("announce: embedded: no netlink notifications; polling interfaces", "err", err)
		pollLinks(ch, stop)
		return
	}
	// Changes come in bursts (a link up brings several addresses): settle
	// for a moment, then signal once.
	var settle <-chan time.Time
	for {
		select {
		case <-stop:
			return
		case _, ok := <-links:
			if !ok {
				pollLinks(ch, stop)
				return
			}
			settle = time.After(100 * time.Millisecond)
		case _, ok := <-addrs:
			if !ok {
				pollLinks(ch, stop)
				return
			}
			settle = time.After(100 * time.Millisecond)
		case <-settle:
			settle = nil
			notify(ch)
		}
	}
}
