package announce

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSelectLinks(t *testing.T) {
	v4 := netip.MustParseAddr("192.0.2.1")
	ll6 := netip.MustParseAddr("fe80::1")
	up := func(name string, addrs ...netip.Addr) link {
		return link{Name: name, Up: true, Multicast: true, Addrs: addrs}
	}
	lo := link{Name: "lo", Up: true, Loopback: true, Addrs: []netip.Addr{netip.MustParseAddr("127.0.0.1")}}
	loMC := lo
	loMC.Multicast = true
	down := link{Name: "eth1", Multicast: true, Addrs: []netip.Addr{v4}}
	noMC := link{Name: "tun0", Up: true, Addrs: []netip.Addr{v4}}

	for _, tc := range []struct {
		name     string
		links    []link
		want     []string
		ipv4Only bool
		sel      selection
		err      string
	}{
		{name: "one ethernet", links: []link{lo, up("eth0", v4, ll6)},
			sel: selection{Names: []string{"eth0"}}},
		{name: "multicast loopback is skipped", links: []link{loMC, up("eth0", v4)},
			sel: selection{Names: []string{"eth0"}}},
		{name: "docker bridges and veths skipped", links: []link{lo, up("eth0", v4), up("docker0", v4), up("br-1a2b3c", v4), up("veth12ab", ll6), up("wlan0", ll6)},
			sel: selection{Names: []string{"eth0", "wlan0"}}},
		{name: "down and non-multicast ignored", links: []link{lo, up("eth0", v4), down, noMC},
			sel: selection{Names: []string{"eth0"}}},
		{name: "only a veth: used, with a note", links: []link{lo, up("veth-a", v4)},
			sel: selection{Names: []string{"veth-a"}, Note: "only veth-a usable, which are skipped by default; using them"}},
		{name: "ipv4 only skips v6-only links", links: []link{up("eth0", v4), up("wlan0", ll6)}, ipv4Only: true,
			sel: selection{Names: []string{"eth0"}}},
		{name: "nothing usable", links: []link{lo, down, noMC},
			err: "no usable network interface: need one that is up, multicast and has an address, not loopback (have lo (loopback), eth1 (down), tun0 (no multicast))"},
		{name: "ipv4 only, no IPv4", links: []link{up("eth0", ll6)}, ipv4Only: true,
			err: "no usable network IPv4 interface"},
		{name: "no interfaces at all", err: "(have none)"},
		{name: "explicit", links: []link{lo, up("eth0", v4), up("docker0", v4)}, want: []string{"docker0"},
			sel: selection{Names: []string{"docker0"}}},
		{name: "explicit loopback allowed", links: []link{loMC}, want: []string{"lo"},
			sel: selection{Names: []string{"lo"}}},
		{name: "explicit missing and down", links: []link{lo, up("eth0", v4), down}, want: []string{"eth9", "eth1", "eth0"},
			err: "no usable interface: eth9: no such interface; eth1: down (have lo (loopback), eth0, eth1 (down))"},
		{name: "explicit ipv4 only without IPv4", links: []link{up("eth0", ll6)}, want: []string{"eth0"}, ipv4Only: true,
			err: "eth0: no IPv4 address"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sel, err := selectLinks(tc.links, tc.want, tc.ipv4Only)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want it to contain %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.sel, sel); diff != "" {
				t.Errorf("selection (-want +got):\n%s", diff)
			}
		})
	}
}
