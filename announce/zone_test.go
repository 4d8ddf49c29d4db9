package announce

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

var (
	testZone  = zone{Instance: "Lab DAAP", Host: "lab-a-daapd", Port: 3689, TXT: []string{"txtvers=1", "Machine Name=Lab DAAP"}}
	testAddrs = []netip.Addr{netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("fe80::1")}
	mdnsSrc   = netip.MustParseAddrPort("192.0.2.2:5353")
	t0        = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
)

func question(name string, t uint16, qu bool) dns.Question {
	c := uint16(dns.ClassINET)
	if qu {
		c |= 1 << 15
	}
	return dns.Question{Name: name, Qtype: t, Qclass: c}
}

func msg(qs ...dns.Question) *dns.Msg { return &dns.Msg{Question: qs} }

// rrs lists a message's answers as "TYPE name" lines, for comparing.
func rrs(section []dns.RR) string {
	var s []string
	for _, rr := range section {
		s = append(s, dns.TypeToString[rr.Header().Rrtype]+" "+rr.Header().Name)
	}
	return strings.Join(s, ", ")
}

const (
	ptrName  = "_daap._tcp.local."
	instName = `Lab\ DAAP._daap._tcp.local.`
	hostName = "lab-a-daapd.local."
)

func TestAnswer(t *testing.T) {
	own := testZone.records(testAddrs)
	fresh := func() *answerer { return &answerer{} }
	ptrQ := msg(question(ptrName, dns.TypePTR, false))
	knownPTR := ptrQ.Copy()
	knownPTR.Answer = []dns.RR{dns.Copy(own[0])}
	staleKnown := knownPTR.Copy()
	staleKnown.Answer[0].Header().Ttl = ttlOther/2 - 1
	probe := msg(question(hostName, dns.TypeANY, false))
	probe.Ns = []dns.RR{&dns.A{Hdr: hdr(hostName, dns.TypeA, ttlHost, false), A: []byte{192, 0, 2, 9}}}
	many := msg()
	for range 1494 {
		many.Question = append(many.Question, question(ptrName, dns.TypePTR, false))
	}
	legacy := msg(question(hostName, dns.TypeA, false))
	legacy.Id = 4242
	for _, tc := range []struct {
		name      string
		m         *dns.Msg
		src       netip.AddrPort
		recent    bool // the same query was answered by multicast 0.5 s ago
		want      string
		wantExtra string
		unicast   bool
	}{
		{name: "PTR with additionals", m: ptrQ, want: "PTR " + ptrName,
			wantExtra: "SRV " + instName + ", TXT " + instName + ", A " + hostName + ", AAAA " + hostName},
		{name: "1494 copies of one question: one answer (defect 1)", m: many, want: "PTR " + ptrName,
			wantExtra: "SRV " + instName + ", TXT " + instName + ", A " + hostName + ", AAAA " + hostName},
		{name: "SRV brings addresses", m: msg(question(instName, dns.TypeSRV, false)), want: "SRV " + instName,
			wantExtra: "A " + hostName + ", AAAA " + hostName},
		{name: "host A only", m: msg(question(hostName, dns.TypeA, false)), want: "A " + hostName},
		{name: "ANY for the host", m: msg(question(hostName, dns.TypeANY, false)), want: "A " + hostName + ", AAAA " + hostName},
		{name: "case-insensitive", m: msg(question("LAB-A-DAAPD.local.", dns.TypeA, false)), want: "A " + hostName},
		{name: "services enumeration", m: msg(question(servicesName, dns.TypePTR, false)), want: "PTR " + servicesName},
		{name: "not ours", m: msg(question("other.local.", dns.TypeA, false))},
		{name: "known answer suppressed (§7.1)", m: knownPTR},
		{name: "known answer with under half the TTL is not", m: staleKnown, want: "PTR " + ptrName,
			wantExtra: "SRV " + instName + ", TXT " + instName + ", A " + hostName + ", AAAA " + hostName},
		{name: "rate limit: once a second per interface", m: ptrQ, recent: true},
		{name: "probe defence ignores the rate limit", m: probe, recent: true, want: "A " + hostName + ", AAAA " + hostName},
		{name: "QU question: unicast", m: msg(question(hostName, dns.TypeA, true)), want: "A " + hostName, unicast: true},
		{name: "legacy unicast", m: legacy, src: netip.MustParseAddrPort("192.0.2.2:40000"), want: "A " + hostName, unicast: true},
		{name: "a response is not a query", m: &dns.Msg{MsgHdr: dns.MsgHdr{Response: true}, Question: ptrQ.Question}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := fresh()
			src := tc.src
			if !src.IsValid() {
				src = mdnsSrc
			}
			if tc.recent {
				a.answer(testZone, query{Msg: tc.m, Src: mdnsSrc, IfIndex: 2}, testAddrs, t0.Add(-500*time.Millisecond))
			}
			rep, ok := a.answer(testZone, query{Msg: tc.m, Src: src, IfIndex: 2}, testAddrs, t0)
			if ok != (tc.want != "") {
				t.Fatalf("answered = %v, want %v (%v)", ok, tc.want != "", rep.Msg)
			}
			if !ok {
				return
			}
			if got := rrs(rep.Msg.Answer); got != tc.want {
				t.Errorf("answers = %s, want %s", got, tc.want)
			}
			if got := rrs(rep.Msg.Extra); got != tc.wantExtra {
				t.Errorf("additional = %s, want %s", got, tc.wantExtra)
			}
			if rep.Unicast != tc.unicast {
				t.Errorf("unicast = %v", rep.Unicast)
			}
			if _, err := rep.Msg.Pack(); err != nil {
				t.Errorf("pack: %v", err)
			}
		})
	}
	t.Run("legacy reply echoes id and question, TTL ≤ 10, no cache-flush", func(t *testing.T) {
		rep, _ := fresh().answer(testZone, query{Msg: legacy, Src: netip.MustParseAddrPort("192.0.2.2:40000")}, testAddrs, t0)
		if rep.Msg.Id != 4242 || len(rep.Msg.Question) != 1 {
			t.Errorf("id %d, questions %d", rep.Msg.Id, len(rep.Msg.Question))
		}
		for _, rr := range rep.Msg.Answer {
			if rr.Header().Ttl > legacyTTL || rr.Header().Class != dns.ClassINET {
				t.Errorf("legacy record %v", rr)
			}
		}
	})
	t.Run("a second later the record goes out again", func(t *testing.T) {
		a := fresh()
		a.answer(testZone, query{Msg: ptrQ, Src: mdnsSrc}, testAddrs, t0)
		if _, ok := a.answer(testZone, query{Msg: ptrQ, Src: mdnsSrc}, testAddrs, t0.Add(time.Second)); !ok {
			t.Error("not answered after 1 s")
		}
		a.forget(t0.Add(2 * time.Second))
		if len(a.lastSent) != 0 {
			t.Errorf("forget kept %d entries", len(a.lastSent))
		}
	})
	t.Run("the reply is at most the size of the zone", func(t *testing.T) {
		rep, _ := fresh().answer(testZone, query{Msg: many, Src: mdnsSrc}, testAddrs, t0)
		b, _ := rep.Msg.Pack()
		if len(b) > 512 {
			t.Errorf("reply to 1494 questions is %d bytes", len(b))
		}
	})
}

func TestCheck(t *testing.T) {
	ours := slices.DeleteFunc(testZone.records(testAddrs), func(rr dns.RR) bool { return !unique(rr) })
	resp := func(rrs ...dns.RR) *dns.Msg { m := response(); m.Answer = rrs; return m }
	flushA := func(name string, ip byte) dns.RR {
		return &dns.A{Hdr: hdr(name, dns.TypeA, ttlHost, true), A: []byte{192, 0, 2, ip}}
	}
	otherSRV := &dns.SRV{Hdr: hdr(instName, dns.TypeSRV, ttlHost, true), Target: "other.local.", Port: 3689}
	sharedA := &dns.A{Hdr: hdr(hostName, dns.TypeA, ttlHost, false), A: []byte{192, 0, 2, 9}}
	goodbyeA := flushA(hostName, 9)
	goodbyeA.Header().Ttl = 0
	probeWith := func(rrs ...dns.RR) *dns.Msg {
		m := msg(question(hostName, dns.TypeANY, false))
		m.Ns = rrs
		return m
	}
	later := &dns.A{Hdr: hdr(hostName, dns.TypeA, ttlHost, false), A: []byte{192, 0, 2, 200}} // > 192.0.2.1
	earlier := &dns.A{Hdr: hdr(hostName, dns.TypeA, ttlHost, false), A: []byte{10, 0, 0, 1}}
	ownProbe := testZone.probe(testAddrs)
	for _, tc := range []struct {
		name       string
		m          *dns.Msg
		probing    bool
		want       verdict
		inst, host bool
	}{
		{"our own announcement looped back", testZone.announcement(testAddrs, false), false, noConflict, false, false},
		{"our own probe looped back", ownProbe, true, noConflict, false, false},
		{"established: cache-flush A for our host from elsewhere (§9)", resp(flushA(hostName, 9)), false, conflict, false, true},
		{"established: other SRV for our instance (defect 4)", resp(otherSRV), false, conflict, true, false},
		{"established: a shared record is no conflict", resp(sharedA), false, noConflict, false, false},
		{"established: a goodbye is no conflict", resp(goodbyeA), false, noConflict, false, false},
		{"established: somebody else's name", resp(flushA("lab-b.local.", 9)), false, noConflict, false, false},
		{"established: a probe is answered, not yielded to (defect 5)", probeWith(later), false, noConflict, false, false},
		{"probing: any answer for our host (defect 5)", resp(sharedA), true, conflict, false, true},
		{"probing: answer for the instance", resp(otherSRV), true, conflict, true, false},
		{"probing: simultaneous probe, theirs later: we lose (§8.2)", probeWith(later), true, lostTieBreak, false, true},
		{"probing: simultaneous probe, theirs earlier: we win", probeWith(earlier), true, noConflict, false, false},
		{"probing: more records in theirs wins", probeWith(ours[2], ours[3], &dns.AAAA{Hdr: hdr(hostName, dns.TypeAAAA, ttlHost, false), AAAA: netip.MustParseAddr("fe80::2").AsSlice()}), true, lostTieBreak, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, inst, host := testZone.check(tc.m, ours, tc.probing)
			if v != tc.want || inst != tc.inst || host != tc.host {
				t.Errorf("check = %v inst=%v host=%v, want %v inst=%v host=%v", v, inst, host, tc.want, tc.inst, tc.host)
			}
		})
	}
}

func TestCompareSets(t *testing.T) {
	a := func(ip byte) dns.RR {
		return &dns.A{Hdr: hdr(hostName, dns.TypeA, 120, false), A: []byte{192, 0, 2, ip}}
	}
	aaaa := &dns.AAAA{Hdr: hdr(hostName, dns.TypeAAAA, 120, false), AAAA: netip.MustParseAddr("fe80::1").AsSlice()}
	for _, tc := range []struct {
		name         string
		ours, theirs []dns.RR
		want         int // sign
	}{
		{"equal", []dns.RR{a(1)}, []dns.RR{a(1)}, 0},
		{"rdata decides", []dns.RR{a(1)}, []dns.RR{a(2)}, -1},
		{"order does not matter", []dns.RR{a(2), a(1)}, []dns.RR{a(1), a(2)}, 0},
		{"type before rdata", []dns.RR{aaaa}, []dns.RR{a(200)}, 1},
		{"the longer set is later", []dns.RR{a(1)}, []dns.RR{a(1), aaaa}, -1},
		{"TTL is ignored", []dns.RR{a(1)}, []dns.RR{&dns.A{Hdr: hdr(hostName, dns.TypeA, 1, false), A: []byte{192, 0, 2, 1}}}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := compareSets(tc.ours, tc.theirs)
			if (got < 0) != (tc.want < 0) || (got > 0) != (tc.want > 0) {
				t.Errorf("compareSets = %d, want sign %d", got, tc.want)
			}
		})
	}
}

func TestZoneMessages(t *testing.T) {
	p := testZone.probe(testAddrs)
	if got := rrs(p.Ns); got != "SRV "+instName+", TXT "+instName+", A "+hostName+", AAAA "+hostName {
		t.Errorf("probe authority = %s", got)
	}
	for _, rr := range p.Ns {
		if rr.Header().Class != dns.ClassINET {
			t.Errorf("probe record with cache-flush bit: %v", rr)
		}
	}
	bye := testZone.announcement(testAddrs, true)
	for _, rr := range bye.Answer {
		if rr.Header().Ttl != 0 {
			t.Errorf("goodbye with TTL: %v", rr)
		}
	}
	if len(bye.Answer) != 6 || !bye.Response || !bye.Authoritative {
		t.Errorf("goodbye = %v", bye)
	}
	for _, m := range []*dns.Msg{p, bye} {
		if _, err := m.Pack(); err != nil {
			t.Error(err)
		}
	}
}

func TestNumbered(t *testing.T) {
	long := strings.Repeat("x", 63)
	for _, tc := range []struct {
		base   string
		n      int
		format string
		want   string
	}{
		{"Lab", 0, " (%d)", "Lab"},
		{"Lab", 1, " (%d)", "Lab (2)"},
		{"nas-daapd", 119, "-%d", "nas-daapd-120"},
		{long, 1, "-%d", strings.Repeat("x", 61) + "-2"},
	} {
		if got := numbered(tc.base, tc.n, tc.format); got != tc.want || len(got) > maxLabel {
			t.Errorf("numbered(%q, %d) = %q, want %q", tc.base, tc.n, got, tc.want)
		}
	}
}

// FuzzHandle: arbitrary bytes through unpack, conflict check and answer
// never panic, and an answer always packs.
func FuzzHandle(f *testing.F) {
	for _, m := range []*dns.Msg{msg(question(ptrName, dns.TypePTR, true)), testZone.probe(testAddrs), testZone.announcement(testAddrs, false)} {
		b, _ := m.Pack()
		f.Add(b)
	}
	f.Add([]byte{0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0}) // QDCOUNT=1, no question (defect 8)
	ours := slices.DeleteFunc(testZone.records(testAddrs), func(rr dns.RR) bool { return !unique(rr) })
	f.Fuzz(func(t *testing.T, b []byte) {
		var m dns.Msg
		if m.Unpack(b) != nil {
			return
		}
		testZone.check(&m, ours, true)
		testZone.check(&m, ours, false)
		var a answerer
		if rep, ok := a.answer(testZone, query{Msg: &m, Src: mdnsSrc}, testAddrs, t0); ok {
			if _, err := rep.Msg.Pack(); err != nil {
				t.Fatalf("reply does not pack: %v", err)
			}
		}
	})
}

// BenchmarkHandleQuery is the work per query of a flood: unpack the bytes
// received, then answer (here rate-limited, as in a flood).
func BenchmarkHandleQuery(b *testing.B) {
	q, _ := msg(question(hostName, dns.TypeA, false)).Pack()
	var a answerer
	a.answer(testZone, query{Msg: msg(question(hostName, dns.TypeA, false)), Src: mdnsSrc, IfIndex: 2}, testAddrs, t0)
	b.ReportAllocs()
	for b.Loop() {
		var m dns.Msg
		if err := m.Unpack(q); err != nil {
			b.Fatal(err)
		}
		a.answer(testZone, query{Msg: &m, Src: mdnsSrc, IfIndex: 2}, testAddrs, t0.Add(500*time.Millisecond))
	}
}
