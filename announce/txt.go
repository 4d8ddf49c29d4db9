package announce

import (
	"sort"
	"strconv"
)

// DAAP versions announced in the TXT record: 3.0.12 and 3.0.11, as sent by
// iTunes 12 era servers (see shared/docs/daap.md).
const (
	daapVersion = 196620 // 3<<16 | 12
	itshVersion = 196619 // 3<<16 | 11
)

// TXT returns the TXT record of s: txtvers=1, Database ID and Machine ID (the
// same 16 hex digits), Machine Name, Password=true|false, Version and
// iTSh Version. Machine Name is the instance name as published (at most 63
// bytes, see [Start]).
func TXT(s Service) map[string]string {
	return map[string]string{
		"txtvers":      "1",
		"Database ID":  s.DatabaseID,
		"Machine ID":   s.DatabaseID,
		"Machine Name": instanceName(s.Name),
		"Password":     strconv.FormatBool(s.Password),
		"Version":      strconv.Itoa(daapVersion),
		"iTSh Version": strconv.Itoa(itshVersion),
	}
}

// txtStrings renders a TXT map as "key=value" strings in wire order:
// txtvers first (RFC 6763 §6.7), then the other keys sorted.
func txtStrings(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		if k != "txtvers" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	if _, ok := m["txtvers"]; ok {
		keys = append([]string{"txtvers"}, keys...)
	}
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = k + "=" + m[k]
	}
	return out
}

// avahiTXT is the TXT record as go-avahi's AddService wants it.
func avahiTXT(m map[string]string) [][]byte {
	ss := txtStrings(m)
	out := make([][]byte, len(ss))
	for i, s := range ss {
		out[i] = []byte(s)
	}
	return out
}
