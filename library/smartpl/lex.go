package smartpl

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

type tokenKind uint8

const (
	tEOF tokenKind = iota
	tError
	tWord   // keyword or field name; lower holds it lower-cased
	tString // text holds the content without quotes
	tNumber
	tDate // YYYY-MM-DD
	tLBrace
	tRBrace
	tLParen
	tRParen
	tEq
	tLt
	tGt
	tLe
	tGe
)

type token struct {
	kind      tokenKind
	text      string
	lower     string
	line, col int
}

func (t token) String() string {
	switch t.kind {
	case tEOF:
		return "the end"
	case tString:
		return `"` + t.text + `"`
	case tError:
		return t.text
	}
	return fmt.Sprintf("%q", t.text)
}

// lexer splits the source into tokens, tracking lines and columns.
type lexer struct {
	src       string
	pos       int
	line, col int
}

func (l *lexer) advance(n int) {
	for _, r := range l.src[l.pos : l.pos+n] {
		if r == '\n' {
			l.line++
			l.col = 1
		} else {
			l.col++
		}
	}
	l.pos += n
}

func isLetter(c byte) bool { return c == '_' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') }
func isDigit(c byte) bool  { return '0' <= c && c <= '9' }

func (l *lexer) next() token {
	// Skip white space and # comments.
	for l.pos < len(l.src) {
		c := l.src[l.pos]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			l.advance(1)
			continue
		case c == '#':
			end := strings.IndexByte(l.src[l.pos:], '\n')
			if end < 0 {
				end = len(l.src) - l.pos
			}
			l.advance(end)
			continue
		}
		break
	}
	t := token{line: l.line, col: l.col}
	if l.pos == len(l.src) {
		return t
	}
	rest := l.src[l.pos:]
	c := rest[0]
	switch {
	case c == '"':
		end := strings.IndexAny(rest[1:], "\"\n")
		if end < 0 || rest[1+end] == '\n' {
			t.kind, t.text = tError, "unterminated string (strings end with \" on the same line)"
			return t
		}
		t.kind, t.text = tString, rest[1:1+end]
		l.advance(end + 2)
		return t
	case isDigit(c):
		n := 0
		for n < len(rest) && isDigit(rest[n]) {
			n++
		}
		if n == 4 && len(rest) >= 10 && rest[4] == '-' && isDigit(rest[5]) && isDigit(rest[6]) &&
			rest[7] == '-' && isDigit(rest[8]) && isDigit(rest[9]) && (len(rest) == 10 || !isLetter(rest[10]) && !isDigit(rest[10])) {
			t.kind, t.text = tDate, rest[:10]
			l.advance(10)
			return t
		}
		if n < len(rest) && isLetter(rest[n]) {
			break // 10days: not a number
		}
		t.kind, t.text = tNumber, rest[:n]
		l.advance(n)
		return t
	case isLetter(c):
		n := 0
		for n < len(rest) && (isLetter(rest[n]) || isDigit(rest[n])) {
			n++
		}
		t.kind, t.text, t.lower = tWord, rest[:n], strings.ToLower(rest[:n])
		l.advance(n)
		return t
	}
	ops := []struct {
		s string
		k tokenKind
	}{{"<=", tLe}, {">=", tGe}, {"{", tLBrace}, {"}", tRBrace}, {"(", tLParen}, {")", tRParen}, {"=", tEq}, {"<", tLt}, {">", tGt}}
	for _, o := range ops {
		if strings.HasPrefix(rest, o.s) {
			t.kind, t.text = o.k, o.s
			l.advance(len(o.s))
			return t
		}
	}
	r, _ := utf8.DecodeRuneInString(rest)
	t.kind, t.text = tError, fmt.Sprintf("unexpected character %q", r)
	return t
}
