package announce

import (
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
)

// skipPrefixes name interfaces that are skipped by default: container
// bridges and the host ends of container links, whose addresses no LAN
// client can reach (linuxserver/docker-daapd#63, owntone-server#1028).
var skipPrefixes = []string{"docker", "br-", "veth"}

// link is what interface selection needs to know about one interface.
type link struct {
	Index     int
	Name      string
	Up        bool
	Loopback  bool
	Multicast bool
	Addrs     []netip.Addr
}

// selection is the outcome of interface selection.
type selection struct {
	Names []string // interfaces to announce on
	Note  string   // why the default skip list was overridden, if it was
}

// systemLinks lists the machine's interfaces.
func systemLinks() ([]link, error) {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil, fmt.Errorf("list network interfaces: %w", err)
	}
	links := make([]link, 0, len(ifs))
	for _, ifi := range ifs {
		l := link{
			Index:     ifi.Index,
			Name:      ifi.Name,
			Up:        ifi.Flags&net.FlagUp != 0,
			Loopback:  ifi.Flags&net.FlagLoopback != 0,
			Multicast: ifi.Flags&net.FlagMulticast != 0,
		}
		addrs, _ := ifi.Addrs()
		for _, a := range addrs {
			if p, err := netip.ParsePrefix(a.String()); err == nil {
				l.Addrs = append(l.Addrs, p.Addr())
			}
		}
		links = append(links, l)
	}
	return links, nil
}

// unusable reports why l cannot carry mDNS, or "" if it can.
func (l link) unusable(ipv4Only bool) string {
	switch {
	case !l.Up:
		return "down"
	case !l.Multicast:
		return "no multicast"
	case ipv4Only && !slices.ContainsFunc(l.Addrs, netip.Addr.Is4):
		return "no IPv4 address"
	case len(l.Addrs) == 0:
		return "no address"
	}
	return ""
}

// selectLinks picks the interfaces to announce on. With want set, each named
// interface must exist and be usable. Otherwise every usable interface is
// taken except loopback and the skipPrefixes; if that leaves none, the
// skipped ones are used after all (a namespace or container whose only link
// is a veth) and Note says so.
func selectLinks(links []link, want []string, ipv4Only bool) (selection, error) {
	if len(want) > 0 {
		var errs []string
		for _, w := range want {
			i := slices.IndexFunc(links, func(l link) bool { return l.Name == w })
			if i < 0 {
				errs = append(errs, fmt.Sprintf("%s: no such interface", w))
			} else if why := links[i].unusable(ipv4Only); why != "" {
				errs = append(errs, fmt.Sprintf("%s: %s", w, why))
			}
		}
		if errs != nil {
			return selection{}, fmt.Errorf("no usable interface: %s (have %s)", strings.Join(errs, "; "), linkNames(links))
		}
		return selection{Names: slices.Clone(want)}, nil
	}
	var pick, skipped []string
	for _, l := range links {
		if l.unusable(false) != "" {
			continue
		}
		switch {
		case l.Loopback, ipv4Only && l.unusable(true) != "":
		case slices.ContainsFunc(skipPrefixes, func(p string) bool { return strings.HasPrefix(l.Name, p) }):
			skipped = append(skipped, l.Name)
		default:
			pick = append(pick, l.Name)
		}
	}
	if len(pick) > 0 {
		return selection{Names: pick}, nil
	}
	if len(skipped) > 0 {
		return selection{Names: skipped, Note: fmt.Sprintf("only %s usable, which are skipped by default; using them", strings.Join(skipped, ", "))}, nil
	}
	what := "interface"
	if ipv4Only {
		what = "IPv4 interface"
	}
	return selection{}, fmt.Errorf("no usable network %s: need one that is up, multicast and has an address, not loopback (have %s)", what, linkNames(links))
}

func linkNames(links []link) string {
	if len(links) == 0 {
		return "none"
	}
	var b strings.Builder
	for i, l := range links {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(l.Name)
		if l.Loopback {
			b.WriteString(" (loopback)")
		} else if why := l.unusable(false); why != "" {
			b.WriteString(" (" + why + ")")
		}
	}
	return b.String()
}
