package announce

import (
	"bytes"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// This file is the embedded responder's packet logic: which records it owns,
// how it answers one received query, and when a received record conflicts
// with its own. It touches no socket and no clock (now is passed in), so all
// of it is table-tested.

// TTLs (RFC 6762 §10): records naming a host live 120 s, others 75 min.
const (
	ttlHost  = 120
	ttlOther = 4500
	// legacyTTL caps TTLs in answers to legacy unicast queries (§6.7).
	legacyTTL = 10
)

// zone is the set of records one responder owns: a service instance on a
// host label. Addresses are per interface (RFC 6762 §6.2: answer with the
// addresses of the interface the query came in on).
type zone struct {
	Instance string // instance label, e.g. "My Library"
	Host     string // host label, e.g. "nas-daapd"
	Port     uint16
	TXT      []string
}

func (z zone) serviceName() string { return serviceType + ".local." }
func (z zone) instanceFQDN() string {
	return escapeLabel(z.Instance) + "." + z.serviceName()
}
func (z zone) hostFQDN() string { return z.Host + ".local." }

const servicesName = "_services._dns-sd._udp.local."

// escapeLabel writes an instance label in miekg/dns presentation form.
func escapeLabel(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '.' || c == '\\' || c == '(' || c == ')' || c == ';' || c == ' ' || c == '@' || c == '"' || c == '$':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < ' ' || c > '~':
			b.WriteByte('\\')
			b.WriteByte('0' + c/100)
			b.WriteByte('0' + c/10%10)
			b.WriteByte('0' + c%10)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func hdr(name string, t uint16, ttl uint32, flush bool) dns.RR_Header {
	class := uint16(dns.ClassINET)
	if flush {
		class |= 1 << 15 // cache-flush bit (RFC 6762 §10.2)
	}
	return dns.RR_Header{Name: name, Rrtype: t, Class: class, Ttl: ttl}
}

// records returns every record the zone owns on an interface with the given
// addresses: the shared PTRs, then the unique SRV, TXT, A and AAAA.
func (z zone) records(addrs []netip.Addr) []dns.RR {
	inst, host := z.instanceFQDN(), z.hostFQDN()
	rrs := []dns.RR{
		&dns.PTR{Hdr: hdr(z.serviceName(), dns.TypePTR, ttlOther, false), Ptr: inst},
		&dns.PTR{Hdr: hdr(servicesName, dns.TypePTR, ttlOther, false), Ptr: z.serviceName()},
		&dns.SRV{Hdr: hdr(inst, dns.TypeSRV, ttlHost, true), Target: host, Port: z.Port},
		&dns.TXT{Hdr: hdr(inst, dns.TypeTXT, ttlOther, true), Txt: z.TXT},
	}
	for _, a := range addrs {
		if a.Is4() {
			rrs = append(rrs, &dns.A{Hdr: hdr(host, dns.TypeA, ttlHost, true), A: a.AsSlice()})
		} else {
			rrs = append(rrs, &dns.AAAA{Hdr: hdr(host, dns.TypeAAAA, ttlHost, true), AAAA: a.AsSlice()})
		}
	}
	return rrs
}

// unique reports whether rr is one of the zone's unique records (probed,
// defended, cache-flush).
func unique(rr dns.RR) bool { return rr.Header().Rrtype != dns.TypePTR }

// probeQuestion is the probe for the zone's names (RFC 6762 §8.1): an ANY
// question for the instance and one for the host, with the proposed records
// in the authority section.
func (z zone) probe(addrs []netip.Addr) *dns.Msg {
	m := new(dns.Msg)
	m.Question = []dns.Question{
		{Name: z.instanceFQDN(), Qtype: dns.TypeANY, Qclass: dns.ClassINET},
		{Name: z.hostFQDN(), Qtype: dns.TypeANY, Qclass: dns.ClassINET},
	}
	for _, rr := range z.records(addrs) {
		if unique(rr) {
			rr = dns.Copy(rr)
			rr.Header().Class = dns.ClassINET // no cache-flush bit in the authority section
			m.Ns = append(m.Ns, rr)
		}
	}
	return m
}

// announcement is an unsolicited response with every record (§8.3); with
// ttl0 it is the goodbye (§10.1).
func (z zone) announcement(addrs []netip.Addr, goodbye bool) *dns.Msg {
	m := response()
	m.Answer = z.records(addrs)
	if goodbye {
		for _, rr := range m.Answer {
			rr.Header().Ttl = 0
		}
	}
	return m
}

func response() *dns.Msg {
	m := new(dns.Msg)
	m.Response, m.Authoritative = true, true
	return m
}

// query is one received packet, already cut to the bytes received.
type query struct {
	Msg     *dns.Msg
	Src     netip.AddrPort
	IfIndex int
}

// reply is what the responder sends for one received query.
type reply struct {
	Msg     *dns.Msg
	Unicast bool // to Src; otherwise to the multicast group on IfIndex
}

// rateKey identifies one record on one interface for the once-per-second
// multicast rule (RFC 6762 §6).
type rateKey struct {
	IfIndex int
	Name    string
	Type    uint16
	Data    string // rdata, wire form
}

func recordKey(ifIndex int, rr dns.RR) rateKey {
	h := rr.Header()
	return rateKey{ifIndex, strings.ToLower(h.Name), h.Rrtype, string(rdata(rr))}
}

// answerer answers queries for a zone. Its only state is when each record
// was last multicast on each interface; bounded by records × interfaces.
type answerer struct {
	lastSent map[rateKey]time.Time
}

// answer builds at most one reply to q (RFC 6762 §6: one aggregated response
// per query, however many questions it holds). addrs are the addresses of
// the interface q arrived on. Records multicast on that interface less than
// a second ago are left out, except in answers to probes; records the
// querier lists as known answers with at least half their TTL left are left
// out (§7.1). The reply goes by unicast for legacy queries (source port not
// 5353, §6.7) and for QU questions (§5.4), which the caller rate-limits.
func (a *answerer) answer(z zone, q query, addrs []netip.Addr, now time.Time) (reply, bool) {
	m := q.Msg
	if m.Response || m.Opcode != dns.OpcodeQuery || m.Rcode != 0 || len(m.Question) == 0 {
		return reply{}, false
	}
	legacy := q.Src.Port() != 5353
	own := z.records(addrs)
	probe := len(m.Ns) > 0
	unicast := legacy
	var ans []dns.RR
	seen := map[int]bool{}
	for _, qu := range m.Question {
		if qu.Qclass&0x8000 != 0 {
			unicast = true
		}
		if c := qu.Qclass &^ 0x8000; c != dns.ClassINET && c != dns.ClassANY {
			continue
		}
		for i, rr := range own {
			h := rr.Header()
			if seen[i] || !strings.EqualFold(h.Name, qu.Name) || (qu.Qtype != dns.TypeANY && qu.Qtype != h.Rrtype) {
				continue
			}
			if knownAnswer(m.Answer, rr) {
				continue
			}
			seen[i] = true
			ans = append(ans, rr)
		}
	}
	if len(ans) == 0 {
		return reply{}, false
	}
	if !unicast && !probe {
		ans = slices.DeleteFunc(ans, func(rr dns.RR) bool {
			return now.Sub(a.lastSent[recordKey(q.IfIndex, rr)]) < time.Second
		})
		if len(ans) == 0 {
			return reply{}, false
		}
	}
	r := response()
	r.Answer = ans
	r.Extra = additional(own, ans)
	if legacy {
		r.Id = m.Id
		r.Question = slices.Clone(m.Question[:1])
		for _, rr := range append(slices.Clone(r.Answer), r.Extra...) {
			rr.Header().Class &^= 1 << 15
			rr.Header().Ttl = min(rr.Header().Ttl, legacyTTL)
		}
	}
	if !unicast {
		a.sent(q.IfIndex, r, now)
	}
	return reply{Msg: r, Unicast: unicast}, true
}

// sent records that r was multicast on ifIndex at now.
func (a *answerer) sent(ifIndex int, r *dns.Msg, now time.Time) {
	if a.lastSent == nil {
		a.lastSent = map[rateKey]time.Time{}
	}
	for _, rr := range r.Answer {
		a.lastSent[recordKey(ifIndex, rr)] = now
	}
}

// forget drops rate-limit entries older than a second (keeps the map bounded
// by the records actually in play).
func (a *answerer) forget(now time.Time) {
	for k, t := range a.lastSent {
		if now.Sub(t) >= time.Second {
			delete(a.lastSent, k)
		}
	}
}

// knownAnswer reports whether known lists rr with at least half its TTL.
func knownAnswer(known []dns.RR, rr dns.RR) bool {
	for _, k := range known {
		if sameRecord(k, rr) && k.Header().Ttl >= rr.Header().Ttl/2 {
			return true
		}
	}
	return false
}

// additional lists the records that help resolve ans (RFC 6763 §12): SRV,
// TXT and addresses for a PTR, addresses for an SRV.
func additional(own, ans []dns.RR) []dns.RR {
	want := map[uint16]bool{}
	for _, rr := range ans {
		switch rr.Header().Rrtype {
		case dns.TypePTR:
			if strings.EqualFold(rr.Header().Name, servicesName) {
				continue
			}
			want[dns.TypeSRV], want[dns.TypeTXT], want[dns.TypeA], want[dns.TypeAAAA] = true, true, true, true
		case dns.TypeSRV:
			want[dns.TypeA], want[dns.TypeAAAA] = true, true
		}
	}
	var extra []dns.RR
	for _, rr := range own {
		if want[rr.Header().Rrtype] && !slices.ContainsFunc(ans, func(a dns.RR) bool { return sameRecord(a, rr) }) {
			extra = append(extra, rr)
		}
	}
	return extra
}

// sameRecord compares name, type, class (without the cache-flush bit) and
// data, not the TTL.
func sameRecord(a, b dns.RR) bool {
	ha, hb := a.Header(), b.Header()
	return ha.Rrtype == hb.Rrtype && ha.Class&^(1<<15) == hb.Class&^(1<<15) &&
		strings.EqualFold(ha.Name, hb.Name) && bytes.Equal(rdata(a), rdata(b))
}

// rdata is rr's data in wire form without name compression, the form RFC
// 6762 §8.2 compares.
func rdata(rr dns.RR) []byte {
	buf := make([]byte, dns.Len(rr)+16)
	n, err := dns.PackRR(rr, buf, 0, nil, false)
	if err != nil {
		return nil
	}
	var name [256]byte
	nl, err := dns.PackDomainName(dns.Fqdn(rr.Header().Name), name[:], 0, nil, false)
	if err != nil || nl+10 > n {
		return nil
	}
	return buf[nl+10 : n] // after the name, type, class, TTL and rdlength
}

// verdict is what a received packet means for the names the zone holds.
type verdict int

const (
	noConflict   verdict = iota
	conflict             // another host uses one of our names: rename (probing) or re-probe (established)
	lostTieBreak         // a simultaneous probe won (§8.2): wait a second, probe again
)

// check reads a received packet for conflicts with the zone. ours holds the
// zone's unique records on every interface (a record we own on another
// interface, looped back or forwarded, is not a conflict). probing says
// whether the zone is still probing: then any answer for our names is a
// conflict, and a simultaneous probe is settled by the tie-break. An
// established zone ignores probes (it defends by answering them) and sees a
// conflict only in a cache-flush answer with other data (§9).
// It returns which name is contested: the instance, the host, or both.
func (z zone) check(m *dns.Msg, ours []dns.RR, probing bool) (v verdict, inst, host bool) {
	instName, hostName := z.instanceFQDN(), z.hostFQDN()
	which := func(name string) (bool, bool) {
		return strings.EqualFold(name, instName), strings.EqualFold(name, hostName)
	}
	if !m.Response {
		if !probing || len(m.Ns) == 0 {
			return noConflict, false, false
		}
		// Simultaneous probe tie-break, per name.
		for _, name := range []string{instName, hostName} {
			theirs := filter(m.Ns, name)
			if len(theirs) == 0 {
				continue
			}
			if compareSets(filter(ours, name), theirs) < 0 {
				i, h := which(name)
				return lostTieBreak, i, h
			}
		}
		return noConflict, false, false
	}
	for _, rr := range append(slices.Clone(m.Answer), m.Extra...) {
		h := rr.Header()
		i, hn := which(h.Name)
		if !i && !hn || h.Ttl == 0 {
			continue
		}
		if !probing && h.Class&(1<<15) == 0 {
			continue // §9: only cache-flush records conflict with established ones
		}
		if slices.ContainsFunc(ours, func(o dns.RR) bool { return sameRecord(o, rr) }) {
			continue
		}
		if !probing && !slices.ContainsFunc(ours, func(o dns.RR) bool {
			return o.Header().Rrtype == h.Rrtype && strings.EqualFold(o.Header().Name, h.Name)
		}) {
			continue // a type we do not hold under that name
		}
		inst, host = inst || i, host || hn
	}
	if inst || host {
		return conflict, inst, host
	}
	return noConflict, false, false
}

func filter(rrs []dns.RR, name string) []dns.RR {
	var out []dns.RR
	for _, rr := range rrs {
		if strings.EqualFold(rr.Header().Name, name) {
			out = append(out, rr)
		}
	}
	return out
}

// compareSets is RFC 6762 §8.2's lexicographic comparison of two probes'
// records for one name: each set sorted by class, type, then rdata bytes,
// compared pairwise; the first difference decides, and a set that runs out
// first is the earlier. It returns <0 when ours is earlier (we lose).
func compareSets(ours, theirs []dns.RR) int {
	sortRRs := func(rrs []dns.RR) []dns.RR {
		s := slices.Clone(rrs)
		slices.SortFunc(s, compareRR)
		return s
	}
	a, b := sortRRs(ours), sortRRs(theirs)
	for i := 0; i < len(a) && i < len(b); i++ {
		if c := compareRR(a[i], b[i]); c != 0 {
			return c
		}
	}
	return len(a) - len(b)
}

func compareRR(a, b dns.RR) int {
	ha, hb := a.Header(), b.Header()
	if c := int(ha.Class&^(1<<15)) - int(hb.Class&^(1<<15)); c != 0 {
		return c
	}
	if c := int(ha.Rrtype) - int(hb.Rrtype); c != 0 {
		return c
	}
	return bytes.Compare(rdata(a), rdata(b))
}
