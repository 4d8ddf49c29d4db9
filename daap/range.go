package daap

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"
	"time"
)

// errRange is the error of a Range header none of whose ranges exists.
var errRange = errors.New("range not satisfiable")

// parseRange applies a Range header to a body of n bytes as RFC 9110 §14
// says, for both the direct and the transcoded streams:
//
//   - partial is false (send the whole body, 200) for no header, a unit
//     other than bytes, a malformed header (RFC 9110 lets a server ignore
//     it), and several ranges that remain apart once overlapping and
//     adjacent ones are merged: daapd does not send multipart/byteranges,
//     which no DAAP client asks for;
//   - partial is false too for an empty body whose Range asks for a
//     suffix: satisfiable, but only by the whole (empty) body;
//   - err is errRange (416) when no range is satisfiable: every first-pos
//     is at or past the end, and every suffix-length is zero ("bytes=-0");
//   - otherwise the one range, from start to end inclusive (206).
//
// The unit is case-insensitive, list elements may be empty and surrounded
// by whitespace, positions are digits only, and numbers too big for an
// int64 are taken as the largest (a last-pos past the end is the end).
func parseRange(h string, n int64) (start, end int64, partial bool, err error) {
	whole := func() (int64, int64, bool, error) { return 0, n - 1, false, nil }
	unit, set, ok := strings.Cut(h, "=")
	if !ok || !strings.EqualFold(strings.TrimSpace(unit), "bytes") {
		return whole()
	}
	type span struct{ start, end int64 }
	var spans []span
	valid := false
	emptyOK := false // a satisfiable suffix-range of an empty body
	for el := range strings.SplitSeq(set, ",") {
		el = strings.Trim(el, " \t")
		if el == "" {
			continue // the list rule allows empty elements
		}
		a, b, ok := strings.Cut(el, "-")
		if !ok {
			return whole()
		}
		a, b = strings.Trim(a, " \t"), strings.Trim(b, " \t")
		if a == "" { // suffix-range: the last b bytes
			k, ok := digits(b)
			if !ok {
				return whole()
			}
			switch {
			case k > 0 && n > 0:
				spans = append(spans, span{max(n-k, 0), n - 1})
			case k > 0:
				emptyOK = true
			}
			valid = true
			continue
		}
		first, ok := digits(a)
		if !ok {
			return whole()
		}
		last := int64(math.MaxInt64)
		if b != "" {
			if last, ok = digits(b); !ok || last < first {
				return whole()
			}
		}
		if first < n {
			spans = append(spans, span{first, min(last, n-1)})
		}
		valid = true
	}
	switch {
	case !valid || emptyOK:
		return whole()
	case len(spans) == 0:
		return 0, 0, false, errRange
	}
	// Merge overlapping and adjacent ranges.
	slices.SortFunc(spans, func(x, y span) int { return cmp.Compare(x.start, y.start) })
	merged := spans[:1]
	for _, sp := range spans[1:] {
		if last := &merged[len(merged)-1]; sp.start <= last.end+1 {
			last.end = max(last.end, sp.end)
		} else {
			merged = append(merged, sp)
		}
	}
	if len(merged) > 1 {
		return whole()
	}
	return merged[0].start, merged[0].end, true, nil
}

// digits parses a non-empty run of ASCII digits, saturating at the largest
// int64.
func digits(s string) (int64, bool) {
	if s == "" {
		return 0, false
	}
	var v int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		if v > (math.MaxInt64-int64(c-'0'))/10 {
			v = math.MaxInt64
			continue
		}
		v = v*10 + int64(c-'0')
	}
	return v, true
}

// ifRangeHolds reports whether r's If-Range (RFC 9110 §13.1.5), if any,
// lets its Range apply to a body last modified at mod. daapd sends no
// ETags, so only an HTTP-date equal to Last-Modified does.
func ifRangeHolds(r *http.Request, mod time.Time) bool {
	ir := r.Header.Get("If-Range")
	if ir == "" {
		return true
	}
	t, err := http.ParseTime(ir)
	return err == nil && t.Equal(mod.Truncate(time.Second))
}

// rangeNotSatisfiable answers 416 for a body of n bytes.
func (s *Server) rangeNotSatisfiable(w http.ResponseWriter, r *http.Request, n int64) {
	w.Header().Set("Content-Range", fmt.Sprintf("bytes */%d", n))
	s.fail(w, r, &httpError{status: http.StatusRequestedRangeNotSatisfiable, msg: "range not satisfiable"})
}
