package announce

import (
	"os"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxLabel is the longest DNS label in bytes (RFC 1035 §2.3.4); a longer
// instance name cannot be packed and would never be published.
const maxLabel = 63

// instanceName cleans a service instance name: invalid UTF-8 and control
// characters are dropped, surrounding space trimmed, and the result cut to
// 63 bytes on a rune boundary.
func instanceName(name string) string {
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, strings.ToValidUTF8(name, ""))
	return truncate(strings.TrimSpace(name), maxLabel)
}

// truncate cuts s to at most max bytes without splitting a UTF-8 sequence,
// and trims the space that may end up at the cut.
func truncate(s string, max int) string {
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strings.TrimRightFunc(s[:cut], unicode.IsSpace)
}

// hostLabel returns the embedded responder's host label: the sanitised
// label given, or "<first label of hostname>-daapd". It never equals the
// machine's own host name, which a system responder (avahi-daemon) owns.
func hostLabel(label, hostname string) string {
	if label == "" {
		first, _, _ := strings.Cut(hostname, ".")
		label = sanitiseLabel(first)
		if label == "" {
			return "daapd"
		}
		return truncate(label, maxLabel-len("-daapd")) + "-daapd"
	}
	if label = sanitiseLabel(label); label == "" {
		return "daapd"
	}
	return label
}

// sanitiseLabel reduces s to an RFC 952/1123 host label: ASCII letters,
// digits and inner hyphens, at most 63 bytes. Other runs of characters become
// one hyphen.
func sanitiseLabel(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range s {
		switch {
		case r < utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
		default:
			dash = true
		}
	}
	return strings.TrimRight(truncate(b.String(), maxLabel), "-")
}

// osHostname is os.Hostname without the error ("" when unknown).
func osHostname() string {
	h, _ := os.Hostname()
	return h
}
