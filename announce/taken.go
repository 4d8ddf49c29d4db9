package announce

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// brutella/dnssd v1.2.14 probes with QU questions from a socket bound to
// 224.0.0.251:5353, so it never receives the unicast answers that RFC 6762
// §5.4 lets other responders send: a long-running Apple device or another
// daapd with the same name goes unnoticed and both publish it. Before dnssd
// probes, takenNames therefore browses _daap._tcp with plain multicast (QM)
// queries, which every responder answers by multicast, and freeName picks the
// first "Name", "Name (2)", … nobody else uses.

var mdnsGroup = &net.UDPAddr{IP: net.IPv4(224, 0, 0, 251), Port: 5353}

// takenNames browses _daap._tcp.local on the named interfaces for about
// wait and returns the instance names other hosts publish (those whose SRV
// points at ownHost, a stale record of this very responder, are left out).
func takenNames(ctx context.Context, ifaces []string, ownHost string, wait time.Duration) (map[string]bool, error) {
	q := new(dns.Msg)
	q.SetQuestion(serviceType+".local.", dns.TypePTR)
	q.Id = 0
	q.RecursionDesired = false
	query, err := q.Pack()
	if err != nil {
		return nil, err
	}
	var conns []*net.UDPConn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for _, name := range ifaces {
		ifi, err := net.InterfaceByName(name)
		if err != nil {
			continue
		}
		c, err := net.ListenMulticastUDP("udp4", ifi, mdnsGroup)
		if err != nil {
			continue // no IPv4 here; dnssd's own probe still runs
		}
		conns = append(conns, c)
	}
	if len(conns) == 0 {
		return nil, errors.New("no IPv4 multicast socket")
	}
	type answer struct {
		name, target string
	}
	answers := make(chan answer, 64)
	for _, c := range conns {
		go func(c *net.UDPConn) {
			buf := make([]byte, 9000)
			for {
				n, _, err := c.ReadFromUDP(buf)
				if err != nil {
					return // closed
				}
				for _, a := range parseInstances(buf[:n]) {
					answers <- a
				}
			}
		}(c)
	}
	send := func() {
		for _, c := range conns {
			c.WriteToUDP(query, mdnsGroup) // sent on the socket's interface
		}
	}
	send()
	resend := time.NewTimer(wait / 3) // a second query in case the first was lost
	defer resend.Stop()
	done := time.NewTimer(wait)
	defer done.Stop()
	taken := map[string]bool{}
	own := strings.ToLower(ownHost + ".local.")
	for {
		select {
		case a := <-answers:
			if strings.ToLower(a.target) != own {
				taken[a.name] = true
			}
		case <-resend.C:
			send()
		case <-done.C:
			return taken, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// parseInstances returns the _daap._tcp instances a response lists, with
// their SRV targets where the response carries them.
func parseInstances(b []byte) []struct{ name, target string } {
	var m dns.Msg
	if m.Unpack(b) != nil || !m.Response {
		return nil
	}
	suffix := "." + serviceType + ".local."
	targets := map[string]string{}
	var names []string
	for _, rr := range append(append(m.Answer, m.Ns...), m.Extra...) {
		switch rr := rr.(type) {
		case *dns.PTR:
			if strings.EqualFold(rr.Hdr.Name, serviceType+".local.") && rr.Hdr.Ttl > 0 {
				names = append(names, rr.Ptr)
			}
		case *dns.SRV:
			targets[strings.ToLower(rr.Hdr.Name)] = rr.Target
		}
	}
	var out []struct{ name, target string }
	for _, full := range names {
		if len(full) <= len(suffix) || !strings.EqualFold(full[len(full)-len(suffix):], suffix) {
			continue
		}
		out = append(out, struct{ name, target string }{unescapeLabel(full[:len(full)-len(suffix)]), targets[strings.ToLower(full)]})
	}
	return out
}

// unescapeLabel undoes miekg/dns's presentation escapes (\DDD and \X).
func unescapeLabel(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b []byte
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 == len(s) {
			b = append(b, s[i])
			continue
		}
		if i+3 < len(s) && isDigit3(s[i+1:i+4]) {
			b = append(b, byte((s[i+1]-'0')*100+(s[i+2]-'0')*10+(s[i+3]-'0')))
			i += 3
			continue
		}
		b = append(b, s[i+1])
		i++
	}
	return string(b)
}

func isDigit3(s string) bool {
	return len(s) == 3 && '0' <= s[0] && s[0] <= '2' && '0' <= s[1] && s[1] <= '9' && '0' <= s[2] && s[2] <= '9'
}

// freeName returns base or the first "base (N)" not in taken, at most 63
// bytes (base is shortened on a rune boundary to make room for the suffix).
func freeName(base string, taken map[string]bool) (string, error) {
	if !taken[base] {
		return base, nil
	}
	for n := 2; n < 1000; n++ {
		suffix := fmt.Sprintf(" (%d)", n)
		name := truncate(base, maxLabel-len(suffix)) + suffix
		if !taken[name] {
			return name, nil
		}
	}
	return "", fmt.Errorf("no free instance name for %q", base)
}
