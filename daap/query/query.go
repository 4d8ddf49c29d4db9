// Package query parses and evaluates the DAAP query language, the value of
// the query= parameter:
//
//	('daap.songartist:*Band*','daap.songalbumartist:*Band*')+'com.apple.itunes.mediakind:1'
//
// Grammar (the HTTP layer has already URL-decoded the string):
//
//	query  = or
//	or     = and { "," and }
//	and    = term { ("+" | white space) term }   AND binds tighter than OR
//	term   = "(" or ")" | clause
//	clause = "'" field ["!"] (":" | "@") value "'"
//
// Runs of spaces and "+" between terms are one AND (a form decoder may have
// turned "+" into a space). Inside a value, \' is a quote, \\ a backslash
// and \* a literal star.
//
// Matching, for field:value:
//   - Strings compare case-insensitively (simple Unicode folding).
//   - An unescaped star at the start or end is a wildcard: *x* contains x,
//     x* starts with x, *x ends with x; stars elsewhere are literal.
//   - An empty value matches an empty or missing field; field!: therefore
//     means "has a value".
//   - Numbers compare as the decimal strings the caller's get returns, so
//     get must format integers in plain decimal (unsigned for 64-bit IDs).
//   - field!:value is the negation.
//   - field@n (Music.app's container queries) is a bit test: true when the
//     field's value and n, both decimal integers, share a set bit.
//   - A clause without an operator ('com.apple.itunes.xid', sent by some
//     DACP clients) is read as field!: (has a value).
//
// Unknown fields (get reports known=false) never make a query fail: such a
// clause is dropped from an AND and is false inside an OR; an AND made only
// of unknown clauses is itself unknown (dropped in turn), while an OR made
// only of them is false. A query that is a lone unknown clause, or an AND
// of them, matches everything. Callers should log Fields() they do not know
// once, not per item.
package query

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Limits against hostile queries.
const (
	MaxClauses = 1000 // clauses in one query
	MaxDepth   = 64   // nested parentheses
)

// ErrSyntax is wrapped by every *SyntaxError.
var ErrSyntax = errors.New("query syntax error")

// SyntaxError reports where a query fails to parse.
type SyntaxError struct {
	Offset int // byte offset in the query
	Msg    string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("query: %s at offset %d", e.Msg, e.Offset)
}

func (e *SyntaxError) Unwrap() error { return ErrSyntax }

// Query is a parsed query: a tree of AND and OR groups over clauses.
// Groups are flattened (no AND directly inside an AND) and never hold a
// single child, so equal queries have equal trees and equal String forms.
type Query struct {
	root *node
}

type kind uint8

const (
	clause kind = iota
	and
	or
)

// wildcard is how a ':' clause's pattern is matched.
type wildcard uint8

const (
	exact wildcard = iota
	prefix
	suffix
	contains
)

var wildcardNames = [...]string{"exact", "prefix", "suffix", "contains"}

type node struct {
	kind kind
	kids []*node // and, or

	// clause
	field   string
	not     bool
	bits    bool     // the '@' operator
	wild    wildcard // for ':'
	pattern string   // without wildcard stars, unescaped
	lower   string   // pattern, lower-cased
	mask    uint64   // for '@'
	maskOK  bool     // pattern is a decimal integer
}

// Parse parses a query. An empty query is a syntax error: callers treat a
// missing or empty query= as "no filter" before calling Parse.
func Parse(s string) (*Query, error) {
	p := parser{s: s}
	p.space()
	if p.pos == len(s) {
		return nil, p.errorf("empty query")
	}
	n, err := p.or(0)
	if err != nil {
		return nil, err
	}
	p.space()
	if p.pos < len(s) {
		if s[p.pos] == ')' {
			return nil, p.errorf("unbalanced )")
		}
		return nil, p.errorf("expected +, space, ',' or end, found %q", s[p.pos])
	}
	return &Query{root: n}, nil
}

type parser struct {
	s       string
	pos     int
	clauses int
}

func (p *parser) errorf(format string, args ...any) error {
	return &SyntaxError{Offset: p.pos, Msg: fmt.Sprintf(format, args...)}
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func (p *parser) space() {
	for p.pos < len(p.s) && isSpace(p.s[p.pos]) {
		p.pos++
	}
}

func (p *parser) or(depth int) (*node, error) {
	var kids []*node
	for {
		n, err := p.and(depth)
		if err != nil {
			return nil, err
		}
		kids = append(kids, n)
		p.space()
		if p.pos == len(p.s) || p.s[p.pos] != ',' {
			return group(or, kids), nil
		}
		p.pos++
	}
}

func (p *parser) and(depth int) (*node, error) {
	var kids []*node
	for {
		n, err := p.term(depth)
		if err != nil {
			return nil, err
		}
		kids = append(kids, n)
		start, plus := p.pos, false
		for p.pos < len(p.s) && (isSpace(p.s[p.pos]) || p.s[p.pos] == '+') {
			plus = plus || p.s[p.pos] == '+'
			p.pos++
		}
		if p.pos < len(p.s) && p.pos > start && (p.s[p.pos] == '\'' || p.s[p.pos] == '(') {
			continue
		}
		if plus {
			return nil, p.errorf("expected a clause or ( after +")
		}
		p.pos = start
		return group(and, kids), nil
	}
}

func (p *parser) term(depth int) (*node, error) {
	p.space()
	if p.pos == len(p.s) {
		return nil, p.errorf("expected a clause or (, found end")
	}
	switch p.s[p.pos] {
	case '(':
		if depth >= MaxDepth {
			return nil, p.errorf("nested deeper than %d", MaxDepth)
		}
		p.pos++
		n, err := p.or(depth + 1)
		if err != nil {
			return nil, err
		}
		p.space()
		if p.pos == len(p.s) || p.s[p.pos] != ')' {
			return nil, p.errorf("expected )")
		}
		p.pos++
		return n, nil
	case '\'':
		return p.clause()
	}
	return nil, p.errorf("expected a clause or (, found %q", p.s[p.pos])
}

// group flattens kids of the same kind into one group; one child is
// returned as is.
func group(k kind, kids []*node) *node {
	if len(kids) == 1 {
		return kids[0]
	}
	g := &node{kind: k}
	for _, c := range kids {
		if c.kind == k {
			g.kids = append(g.kids, c.kids...)
		} else {
			g.kids = append(g.kids, c)
		}
	}
	return g
}

func (p *parser) clause() (*node, error) {
	start := p.pos
	p.clauses++
	if p.clauses > MaxClauses {
		return nil, p.errorf("more than %d clauses", MaxClauses)
	}
	p.pos++ // opening quote
	n := &node{kind: clause}
	// The field runs to the operator or the closing quote.
	f := p.pos
	for p.pos < len(p.s) && p.s[p.pos] != ':' && p.s[p.pos] != '@' && p.s[p.pos] != '\'' {
		c := p.s[p.pos]
		if c == '\\' || c < 0x20 || c == 0x7f || isSpace(c) {
			return nil, p.errorf("invalid character %q in field name", c)
		}
		p.pos++
	}
	if p.pos == len(p.s) {
		p.pos = start
		return nil, p.errorf("unterminated clause")
	}
	field := p.s[f:p.pos]
	op := p.s[p.pos]
	p.pos++
	if op == '\'' { // no operator: "has a value"
		n.field, n.not = field, true
		if field == "" {
			return nil, p.errorf("empty clause")
		}
		return n, nil
	}
	if strings.HasSuffix(field, "!") {
		field, n.not = field[:len(field)-1], true
	}
	if field == "" {
		return nil, p.errorf("empty field name")
	}
	n.field, n.bits = field, op == '@'

	// The value runs to the first unescaped quote.
	var val []byte
	leading, trailing := false, false
	for {
		if p.pos == len(p.s) {
			p.pos = start
			return nil, p.errorf("unterminated clause")
		}
		c := p.s[p.pos]
		p.pos++
		if c == '\'' {
			break
		}
		escaped := false
		if c == '\\' {
			if p.pos == len(p.s) {
				p.pos = start
				return nil, p.errorf("unterminated clause")
			}
			c, escaped = p.s[p.pos], true
			p.pos++
		}
		if c == '*' && !escaped && !n.bits {
			if len(val) == 0 && !leading {
				leading = true
				continue
			}
			// A trailing star: only if it ends the value.
			if p.pos < len(p.s) && p.s[p.pos] == '\'' {
				trailing = true
				continue
			}
		}
		val = append(val, c)
	}
	n.pattern = string(val)
	switch {
	case leading && trailing:
		n.wild = contains
	case leading:
		n.wild = prefix // "*": everything
		if len(val) > 0 {
			n.wild = suffix
		}
	case trailing:
		n.wild = prefix
	}
	n.lower = strings.ToLower(n.pattern)
	if n.bits {
		n.mask, n.maskOK = parseUint(n.pattern)
	}
	return n, nil
}

func parseUint(s string) (uint64, bool) {
	v, err := strconv.ParseUint(s, 10, 64)
	return v, err == nil
}

// String returns the canonical form of q: ' quoted clauses, + for AND, ','
// for OR, parentheses only around an OR inside an AND. Parse(q.String())
// gives an equal query. A nil Query prints as "".
func (q *Query) String() string {
	if q == nil {
		return ""
	}
	var sb strings.Builder
	q.root.write(&sb)
	return sb.String()
}

func (n *node) write(sb *strings.Builder) {
	switch n.kind {
	case clause:
		sb.WriteByte('\'')
		sb.WriteString(n.field)
		if n.not {
			sb.WriteByte('!')
		}
		if n.bits {
			sb.WriteByte('@')
		} else {
			sb.WriteByte(':')
		}
		if n.wild == prefix && n.pattern == "" {
			sb.WriteByte('*')
		} else {
			if n.wild == suffix || n.wild == contains {
				sb.WriteByte('*')
			}
			escape(sb, n.pattern)
			if n.wild == prefix || n.wild == contains {
				sb.WriteByte('*')
			}
		}
		sb.WriteByte('\'')
	case and, or:
		sep := "+"
		if n.kind == or {
			sep = ","
		}
		for i, k := range n.kids {
			if i > 0 {
				sb.WriteString(sep)
			}
			paren := n.kind == and && k.kind == or
			if paren {
				sb.WriteByte('(')
			}
			k.write(sb)
			if paren {
				sb.WriteByte(')')
			}
		}
	}
}

func escape(sb *strings.Builder, s string) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '\'' || c == '\\' || c == '*' {
			sb.WriteByte('\\')
		}
		sb.WriteByte(s[i])
	}
}

// Fields returns the sorted, distinct field names q uses.
// The caller can log the ones it does not know once per query.
func (q *Query) Fields() []string {
	if q == nil {
		return nil
	}
	var out []string
	var walk func(*node)
	walk = func(n *node) {
		if n.kind == clause {
			out = append(out, n.field)
		}
		for _, k := range n.kids {
			walk(k)
		}
	}
	walk(q.root)
	slices.Sort(out)
	return slices.Compact(out)
}

// result is a clause's or group's value: unknown groups are dropped.
type result uint8

const (
	no result = iota
	yes
	unknown
)

// Match evaluates q against one item. get returns a field's value as text
// (integers in decimal, "" when the item lacks it) and known=false for a
// field the caller does not support. A nil Query matches everything.
func (q *Query) Match(get func(field string) (value string, known bool)) bool {
	if q == nil {
		return true
	}
	return q.root.eval(get) != no
}

func (n *node) eval(get func(string) (string, bool)) result {
	switch n.kind {
	case and:
		r := unknown
		for _, k := range n.kids {
			switch k.eval(get) {
			case no:
				return no
			case yes:
				r = yes
			}
		}
		return r
	case or:
		// An unknown clause is false inside an OR, so an OR of nothing but
		// unknown clauses is false, never "no filter".
		for _, k := range n.kids {
			if k.eval(get) == yes {
				return yes
			}
		}
		return no
	}
	v, known := get(n.field)
	if !known {
		return unknown
	}
	if n.match(v) != n.not {
		return yes
	}
	return no
}

func (n *node) match(v string) bool {
	if n.bits {
		x, ok := parseUint(v)
		return ok && n.maskOK && x&n.mask != 0
	}
	switch n.wild {
	case exact:
		return strings.EqualFold(v, n.pattern)
	case prefix:
		return strings.HasPrefix(strings.ToLower(v), n.lower)
	case suffix:
		return strings.HasSuffix(strings.ToLower(v), n.lower)
	}
	return strings.Contains(strings.ToLower(v), n.lower)
}

// dump writes the tree one node per line, for golden tests.
func (q *Query) dump() string {
	var sb strings.Builder
	var walk func(*node, string)
	walk = func(n *node, indent string) {
		switch n.kind {
		case and, or:
			sb.WriteString(indent + [...]string{and: "and", or: "or"}[n.kind] + "\n")
			for _, k := range n.kids {
				walk(k, indent+"  ")
			}
			return
		}
		op := ":"
		if n.bits {
			op = "@"
		}
		if n.not {
			op = "!" + op
		}
		how := wildcardNames[n.wild]
		if n.bits {
			how = "bits"
		}
		fmt.Fprintf(&sb, "%s%s %s %s %q\n", indent, n.field, op, how, n.pattern)
	}
	walk(q.root, "")
	return sb.String()
}
