package tags

import "testing"

func TestParseYear(t *testing.T) {
	for in, want := range map[string]int{
		"2019": 2019, "2019-05-03T10:11:12": 2019, "2019-05": 2019, "05/03/2019": 2019,
		"20190503": 2019, " 1999 ": 1999, "99": 0, "": 0, "(c) 1987 Label": 1987, "abc": 0,
	} {
		if got := parseYear(in); got != want {
			t.Errorf("parseYear(%q) = %d, want %d", in, got, want)
		}
	}
}

func TestParsePair(t *testing.T) {
	for in, want := range map[string][2]int{
		"3": {3, 0}, "3/25": {3, 25}, " 03 / 25 ": {3, 25}, "3 of 25": {3, 25}, "/12": {0, 12},
		"": {0, 0}, "A1": {0, 0}, "99999999999999999999": {999999999, 0},
	} {
		if n, total := parsePair(in); n != want[0] || total != want[1] {
			t.Errorf("parsePair(%q) = %d, %d; want %v", in, n, total, want)
		}
	}
}

func TestParseBPMAndBool(t *testing.T) {
	for in, want := range map[string]int{"128": 128, "120.4": 120, "0128": 128, "": 0, "fast": 0, "-5": 0} {
		if got := parseBPM(in); got != want {
			t.Errorf("parseBPM(%q) = %d, want %d", in, got, want)
		}
	}
	for in, want := range map[string]bool{"1": true, "true": true, "YES": true, "0": false, "": false, "false": false, "no": false} {
		if got := parseBool(in); got != want {
			t.Errorf("parseBool(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestExpandGenre(t *testing.T) {
	for in, want := range map[string]string{
		"Rock": "Rock", "17": "Rock", "(17)": "Rock", "(17)(18)": "Rock", "(17)Hard": "Hard",
		"(RX)": "Remix", "(CR)": "Cover", "((Paren)": "(Paren)", "(255)": "", "(191)": "Psybient", "(": "(",
	} {
		if got := expandGenre(in); got != want {
			t.Errorf("expandGenre(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestClean(t *testing.T) {
	for in, want := range map[string]string{
		"  x \x00\x00": "x", "a\x00b": "ab", "Beyonce\u0301": "Beyoncé", "\xff\xfe": "\uFFFD", "\u00a0nbsp\t": "nbsp",
	} {
		if got := clean(in); got != want {
			t.Errorf("clean(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNormMIME(t *testing.T) {
	for in, want := range map[string]string{
		"image/jpg": "image/jpeg", "JPG": "image/jpeg", "PNG": "image/png", "image/png": "image/png", "": "", "tiff": "image/tiff",
	} {
		if got := normMIME(in); got != want {
			t.Errorf("normMIME(%q) = %q, want %q", in, got, want)
		}
	}
}
