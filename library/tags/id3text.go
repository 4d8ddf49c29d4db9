package tags

import (
	"bytes"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// ID3v2 text encodings (the first byte of a text frame's payload).
const (
	encLatin1  = 0
	encUTF16   = 1 // with a BOM; little-endian without one
	encUTF16BE = 2
	encUTF8    = 3
)

// decodeText decodes a text frame's payload (encoding byte, then values
// separated by NUL) and appends its values to vals. Odd-length UTF-16 loses
// its last byte instead of failing the frame; v2.4 list values after the
// first may omit the BOM.
func decodeText(b []byte, vals []string) []string {
	enc, data := b[0], b[1:]
	wide := enc == encUTF16 || enc == encUTF16BE
	if wide && len(data)%2 == 1 {
		data = data[:len(data)-1]
	}
	var bom []byte
	for n := len(vals); len(data) > 0 && len(vals)-n < maxValues; {
		n := skipTerminated(enc, data)
		piece := data
		if n < 0 {
			data = nil
		} else {
			piece, data = data[:n-1-boolInt(wide)], data[n:]
		}
		if len(piece) == 0 {
			continue
		}
		if enc == encUTF16 && len(piece) >= 2 {
			if hasBOM(piece) {
				bom = piece[:2:2]
			} else if bom != nil {
				vals = append(vals, decodeUTF16(piece, bom[0] == 0xFE))
				continue
			}
		}
		// Pieces hold no aligned NUL, so they always decode.
		s, _ := decodeID3(enc, piece)
		vals = append(vals, s)
	}
	return vals
}

// decodeDescribed decodes a TXXX or COMM payload (encoding, language for
// COMM, description, NUL, text) into its description and the text's
// NUL-separated values, or nothing when the payload does not decode.
func decodeDescribed(id string, b []byte) (desc string, vals []string) {
	start := 1
	if id == "COMM" {
		start = 4
	}
	if len(b) < start {
		return "", nil
	}
	enc := b[0]
	if (enc == encUTF16 || enc == encUTF16BE) && (len(b)-start)%2 == 1 {
		b = b[:len(b)-1] // odd-length UTF-16 loses its last byte
	}
	d, text, split := splitDescribed(enc, b[start:])
	desc, ok := decodeID3(enc, d)
	if !ok {
		return "", nil
	}
	if !split {
		return desc, []string{""}
	}
	s, ok := decodeID3(enc, text)
	if !ok {
		return "", nil
	}
	return desc, strings.Split(s, "\x00")
}

// splitDescribed splits a described frame's body at the first terminator,
// the way dhowden/tag does (and so the way files tagged and checked with it
// read): the first NUL, or for UTF-16 the first pair of NUL bytes at any
// offset, taking one more NUL when a third follows.
func splitDescribed(enc byte, b []byte) (desc, text []byte, ok bool) {
	delim := []byte{0}
	if enc == encUTF16 || enc == encUTF16BE {
		delim = []byte{0, 0}
	}
	i := bytes.Index(b, delim)
	if i < 0 {
		return b, nil, false
	}
	desc, text = b[:i], b[i+len(delim):]
	if len(text) > 0 && text[0] == 0 {
		desc, text = b[:i+1], text[1:]
	}
	return desc, text, true
}

// decodeID3 decodes b, one value, from encoding enc. Unknown encodings are
// read as ISO-8859-1. ok is false for odd-length UTF-16 (a lone byte is
// the empty string).
func decodeID3(enc byte, b []byte) (s string, ok bool) {
	switch {
	case len(b) == 0:
		return "", true
	case enc == encUTF8:
		return string(b), true
	case enc == encUTF16 || enc == encUTF16BE:
		if len(b) == 1 {
			return "", true
		}
		be := enc == encUTF16BE
		if enc == encUTF16 && hasBOM(b) {
			be, b = b[0] == 0xFE, b[2:]
		}
		if len(b)%2 != 0 {
			return "", false
		}
		return decodeUTF16(b, be), true
	}
	return decodeLatin1(b), true
}

// hasBOM reports whether b starts with a UTF-16 byte order mark.
func hasBOM(b []byte) bool {
	return len(b) >= 2 && (b[0] == 0xFF && b[1] == 0xFE || b[0] == 0xFE && b[1] == 0xFF)
}

// decodeLatin1 decodes ISO-8859-1, where every byte is its code point.
func decodeLatin1(b []byte) string {
	ascii := true
	for _, c := range b {
		if c >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return string(b)
	}
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = utf8.AppendRune(out, rune(c))
	}
	return string(out)
}

// decodeUTF16 decodes UTF-16 of even length; unpaired surrogates become
// U+FFFD, as utf16.Decode makes them.
func decodeUTF16(b []byte, be bool) string {
	unit := func(i int) rune {
		if be {
			return rune(b[i])<<8 | rune(b[i+1])
		}
		return rune(b[i+1])<<8 | rune(b[i])
	}
	out := make([]byte, 0, len(b)/2+len(b)/4)
	for i := 0; i+1 < len(b); i += 2 {
		r := unit(i)
		if utf16.IsSurrogate(r) {
			if i+3 < len(b) {
				if dec := utf16.DecodeRune(r, unit(i+2)); dec != utf8.RuneError {
					out = utf8.AppendRune(out, dec)
					i += 2
					continue
				}
			}
			r = utf8.RuneError
		}
		out = utf8.AppendRune(out, r)
	}
	return string(out)
}
