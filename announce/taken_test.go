package announce

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"
)

func TestFreeName(t *testing.T) {
	long := strings.Repeat("ö", 31) + "x" // 63 bytes
	for _, tc := range []struct {
		name, base string
		taken      []string
		want       string
	}{
		{"free", "Lab", []string{"Other"}, "Lab"},
		{"taken", "Lab", []string{"Lab"}, "Lab (2)"},
		{"taken twice", "Lab", []string{"Lab", "Lab (2)"}, "Lab (3)"},
		{"long, suffix fits on a rune boundary", long, []string{long}, strings.Repeat("ö", 29) + " (2)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			taken := map[string]bool{}
			for _, n := range tc.taken {
				taken[n] = true
			}
			got, err := freeName(tc.base, taken)
			if err != nil || got != tc.want || len(got) > maxLabel {
				t.Errorf("freeName = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func response(t testing.TB, rrs ...string) []byte {
	m := new(dns.Msg)
	m.Response = true
	for _, s := range rrs {
		rr, err := dns.NewRR(s)
		if err != nil {
			t.Fatal(err)
		}
		m.Answer = append(m.Answer, rr)
	}
	b, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseInstances(t *testing.T) {
	type inst = struct{ name, target string }
	for _, tc := range []struct {
		name string
		msg  []byte
		want []inst
	}{
		{"ptr and srv", response(t,
			`_daap._tcp.local. 4500 IN PTR Lab\ DAAP._daap._tcp.local.`,
			`Lab\ DAAP._daap._tcp.local. 120 IN SRV 0 0 3689 nas.local.`),
			[]inst{{"Lab DAAP", "nas.local."}}},
		{"escaped dot and utf-8", response(t,
			`_daap._tcp.local. 4500 IN PTR Mr\.\ Bücher._daap._tcp.local.`),
			[]inst{{"Mr. Bücher", ""}}},
		{"goodbye ignored", response(t, `_daap._tcp.local. 0 IN PTR Gone._daap._tcp.local.`), nil},
		{"other type ignored", response(t, `_http._tcp.local. 4500 IN PTR Web._http._tcp.local.`), nil},
		{"garbage", []byte{1, 2, 3}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := parseInstances(tc.msg)
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(inst{})); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// FuzzParseInstances: arbitrary packets never panic, and names stay valid.
func FuzzParseInstances(f *testing.F) {
	f.Add(response(f, `_daap._tcp.local. 4500 IN PTR Lab\ DAAP._daap._tcp.local.`, `Lab\ DAAP._daap._tcp.local. 120 IN SRV 0 0 3689 nas.local.`))
	f.Add(response(f, `_daap._tcp.local. 4500 IN PTR a\255\.b._daap._tcp.local.`))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, in := range parseInstances(b) {
			if in.name == "" {
				t.Errorf("empty instance name from %x", b)
			}
		}
		unescapeLabel(string(b))
	})
}
