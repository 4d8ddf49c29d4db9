package announce

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestInstanceName(t *testing.T) {
	a := func(n int) string { return strings.Repeat("a", n) }
	for _, tc := range []struct {
		name, in, want string
	}{
		{"short", "Lab DAAP", "Lab DAAP"},
		{"exactly 63", a(63), a(63)},
		{"64 ascii", a(64), a(63)},
		{"2-byte rune ends at 63", a(61) + "é", a(61) + "é"},
		{"2-byte rune straddles 63", a(62) + "é", a(62)},
		{"3-byte rune straddles 63", a(61) + "日本", a(61)},
		{"3-byte runes fill 63", strings.Repeat("日", 22), strings.Repeat("日", 21)},
		{"4-byte rune straddles 63", a(60) + "🎵", a(60)},
		{"4-byte rune ends at 63", a(59) + "🎵x", a(59) + "🎵"},
		{"space at the cut", a(62) + " xyz", a(62)},
		{"control characters", "Lab\x00\tDAAP\n", "LabDAAP"},
		{"invalid utf-8", "Lab\xff DAAP", "Lab DAAP"},
		{"surrounding space", "  Lab  ", "Lab"},
		{"only space", "   ", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := instanceName(tc.in)
			if got != tc.want {
				t.Errorf("instanceName(%q) = %q, want %q", tc.in, got, tc.want)
			}
			if len(got) > maxLabel || !utf8.ValidString(got) {
				t.Errorf("instanceName(%q) = %q: %d bytes, valid UTF-8 %v", tc.in, got, len(got), utf8.ValidString(got))
			}
		})
	}
}

func TestHostLabel(t *testing.T) {
	for _, tc := range []struct {
		name, label, hostname, want string
	}{
		{"default", "", "nas", "nas-daapd"},
		{"fqdn", "", "nas.example.org", "nas-daapd"},
		{"underscores and spaces", "", "my_nas box", "my-nas-box-daapd"},
		{"non-ascii", "", "bücher-nas", "b-cher-nas-daapd"},
		{"leading and trailing junk", "", "-_nas_-", "nas-daapd"},
		{"empty hostname", "", "", "daapd"},
		{"only junk", "", "___", "daapd"},
		{"long hostname", "", strings.Repeat("h", 80), strings.Repeat("h", 57) + "-daapd"},
		{"given label", "lab-a-daapd", "ignored", "lab-a-daapd"},
		{"given label sanitised", "Lab A.daapd", "ignored", "Lab-A-daapd"},
		{"given label too long", strings.Repeat("x", 70), "", strings.Repeat("x", 63)},
		{"given label only junk", "..", "nas", "daapd"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := hostLabel(tc.label, tc.hostname)
			if got != tc.want {
				t.Errorf("hostLabel(%q, %q) = %q, want %q", tc.label, tc.hostname, got, tc.want)
			}
		})
	}
}

// FuzzNames checks the name sanitisers on arbitrary input.
func FuzzNames(f *testing.F) {
	for _, s := range []string{"Lab DAAP", strings.Repeat("日", 22), "a\xffb", "-x-", "my_nas box"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := instanceName(s)
		if len(n) > maxLabel || !utf8.ValidString(n) || strings.TrimSpace(n) != n {
			t.Errorf("instanceName(%q) = %q", s, n)
		}
		l := hostLabel(s, s)
		if l == "" || len(l) > maxLabel || l[0] == '-' || l[len(l)-1] == '-' {
			t.Errorf("hostLabel(%q) = %q", s, l)
		}
		for _, r := range l {
			if !(r == '-' || '0' <= r && r <= '9' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z') {
				t.Errorf("hostLabel(%q) = %q: bad rune %q", s, l, r)
			}
		}
	})
}
