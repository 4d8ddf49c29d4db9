// Package smartpl parses and evaluates smart playlists in OwnTone's .smartpl
// language, so playlists written for OwnTone (and mt-daapd before it) work
// unchanged:
//
//	# Comments run from # to the end of the line.
//	"Jazz before 1970" {
//	    genre includes "jazz" and year < 1970 and not media_kind is audiobook
//	    order by year asc
//	    limit 100
//	}
//
// Grammar (keywords, field names and units are case-insensitive; white space
// and line breaks separate tokens):
//
//	file      = STRING "{" query "}"
//	query     = expr [ "order" "by" ( field | "random" ) [ "asc" | "desc" ] ] [ "limit" NUMBER ]
//	expr      = and { "or" and }
//	and       = unary { "and" unary }                     AND binds tighter than OR
//	unary     = "not" unary | "(" expr ")" | predicate
//	predicate = textfield ( "is" | "includes" | "starts" "with" | "ends" "with" ) STRING
//	          | textfield "is" "empty"
//	          | intfield ( "=" | "<" | ">" | "<=" | ">=" ) NUMBER
//	          | datefield ( "before" | "after" ) date
//	          | ( "media_kind" | "data_kind" | "scan_kind" ) "is" WORD
//	date      = YYYY-MM-DD | relative | NUMBER unit "ago"
//	          | NUMBER unit ( "before" | "after" ) ( YYYY-MM-DD | relative )
//	relative  = "today" | "yesterday" | "this" "week" | "last" ( "week" | "month" | "year" )
//	unit      = "day[s]" | "week[s]" | "month[s]" | "year[s]"
//
// Strings are double-quoted and hold no quote and no line break (OwnTone's
// rule). Text comparisons ignore case. Relative dates are resolved when the
// playlist is evaluated, in the clock's time zone: "today" is midnight,
// "this week" Monday midnight, "last month" the first of the previous month.
//
// Fields daapd does not track (play_count, skip_count, rating, usermark,
// time_played, time_skipped, date_released, and the like) parse, make their
// predicate false, and are reported in Playlist.Warnings.
package smartpl

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Limits against hostile files.
const (
	MaxSize       = 64 << 10 // bytes of source
	MaxDepth      = 64       // nested parentheses and nots
	MaxPredicates = 1000
)

// Field is a track attribute a playlist can test or sort by.
type Field uint8

// Fields daapd tracks, then those it does not (see Tracked).
const (
	NoField Field = iota
	Artist
	AlbumArtist
	Album
	Title
	Genre
	Composer
	Comment
	Path
	Type
	CodecType
	Grouping
	Year
	Track
	Disc
	Compilation
	Bitrate
	SampleRate
	BitsPerSample
	SongLength
	FileSize
	TimeAdded
	TimeModified
	MediaKind
	DataKind
	ScanKind
	untracked // fields below parse but match nothing
	PlayCount
	SkipCount
	Rating
	Usermark
	TimePlayed
	TimeSkipped
	DateReleased
	ArtistID
	SongArtistID
	SongAlbumID
)

// Tracked reports whether daapd knows f's value for a track.
func (f Field) Tracked() bool { return f < untracked }

type fieldType uint8

const (
	textType fieldType = iota + 1
	intType
	dateType
	enumType
)

var fieldTable = []struct {
	name string
	f    Field
	typ  fieldType
}{
	{"artist", Artist, textType},
	{"album_artist", AlbumArtist, textType},
	{"album", Album, textType},
	{"title", Title, textType},
	{"genre", Genre, textType},
	{"composer", Composer, textType},
	{"comment", Comment, textType},
	{"path", Path, textType},
	{"type", Type, textType},
	{"codectype", CodecType, textType},
	{"grouping", Grouping, textType},
	{"artist_id", ArtistID, textType},
	{"songartistid", SongArtistID, textType},
	{"songalbumid", SongAlbumID, textType},
	{"year", Year, intType},
	{"track", Track, intType},
	{"disc", Disc, intType},
	{"compilation", Compilation, intType},
	{"bitrate", Bitrate, intType},
	{"samplerate", SampleRate, intType},
	{"bits_per_sample", BitsPerSample, intType},
	{"song_length", SongLength, intType},
	{"file_size", FileSize, intType},
	{"play_count", PlayCount, intType},
	{"skip_count", SkipCount, intType},
	{"rating", Rating, intType},
	{"usermark", Usermark, intType},
	{"time_added", TimeAdded, dateType},
	{"time_modified", TimeModified, dateType},
	{"time_played", TimePlayed, dateType},
	{"time_skipped", TimeSkipped, dateType},
	{"date_released", DateReleased, dateType},
	{"media_kind", MediaKind, enumType},
	{"data_kind", DataKind, enumType},
	{"scan_kind", ScanKind, enumType},
}

var (
	fieldByName = map[string]int{}
	fieldNames  = map[Field]string{}
	fieldTypes  = map[Field]fieldType{}
)

func init() {
	for i, r := range fieldTable {
		fieldByName[r.name] = i
		fieldNames[r.f] = r.name
		fieldTypes[r.f] = r.typ
	}
}

func (f Field) String() string { return fieldNames[f] }

// Media kinds, with their DAAP values (com.apple.itunes.mediakind).
const (
	KindMusic     = 1
	KindMovie     = 2
	KindPodcast   = 4
	KindAudiobook = 8
	KindTVShow    = 64
)

// enumValues lists the operands of each enumeration: the value an item's
// Int(field) is compared with, and whether daapd can ever have it.
var enumValues = map[Field]map[string]struct {
	v       int64
	tracked bool
}{
	MediaKind: {"music": {KindMusic, true}, "movie": {KindMovie, true}, "podcast": {KindPodcast, true},
		"audiobook": {KindAudiobook, true}, "tvshow": {KindTVShow, true}},
	DataKind: {"file": {0, true}, "url": {1, false}, "spotify": {2, false}, "pipe": {3, false}},
	ScanKind: {"files": {0, true}, "file": {0, true}, "spotify": {1, false}, "rss": {2, false}},
}

// Op is a comparison.
type Op uint8

const (
	Is Op = iota + 1
	Includes
	StartsWith
	EndsWith
	IsEmpty
	Equal
	Less
	Greater
	LessEqual
	GreaterEqual
	Before
	After
)

var opNames = [...]string{Is: "is", Includes: "includes", StartsWith: "starts with", EndsWith: "ends with",
	IsEmpty: "is empty", Equal: "=", Less: "<", Greater: ">", LessEqual: "<=", GreaterEqual: ">=",
	Before: "before", After: "after"}

// Playlist is one parsed smart playlist.
type Playlist struct {
	Name   string
	expr   *node
	Order  Field // NoField: catalog order
	Desc   bool
	Random bool // order by random
	Limit  int  // 0: no limit
	// Warnings name what the playlist uses that daapd cannot evaluate,
	// once each; such predicates are false.
	Warnings []string
	dates    int // date predicates, numbered 0..dates-1
}

type nodeKind uint8

const (
	andNode nodeKind = iota + 1
	orNode
	notNode
	predNode
)

type node struct {
	kind nodeKind
	kids []*node // and, or: two or more; not: one

	field Field
	op    Op
	text  string // text operand as written; lower-cased in lower
	lower string
	num   int64 // int operand, or the enum value
	word  string
	never bool // untracked field or value: always false
	date  dateExpr
	di    int // index among the playlist's dates
}

// Anchor is a date a relative date counts from.
type anchor uint8

const (
	absolute anchor = iota
	today
	yesterday
	thisWeek
	lastWeek
	lastMonth
	lastYear
)

var anchorNames = [...]string{today: "today", yesterday: "yesterday", thisWeek: "this week",
	lastWeek: "last week", lastMonth: "last month", lastYear: "last year"}

type unit uint8

const (
	days unit = iota + 1
	weeks
	months
	years
)

var unitNames = [...]string{days: "days", weeks: "weeks", months: "months", years: "years"}

// dateExpr is [n unit before|after] anchor; "n unit ago" is n unit before today.
type dateExpr struct {
	anchor  anchor
	y, m, d int // absolute
	n       int // 0: no interval
	unit    unit
	after   bool // the interval is added, not subtracted
	ago     bool // written "ago" (printing only)
}

// SyntaxError says where a playlist fails to parse. File is empty unless
// the caller sets it.
type SyntaxError struct {
	File      string
	Line, Col int // 1-based; Col counts characters
	Msg       string
}

func (e *SyntaxError) Error() string {
	if e.File != "" {
		return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
	}
	return fmt.Sprintf("line %d, column %d: %s", e.Line, e.Col, e.Msg)
}

// Parse parses a whole .smartpl file: "Name" { query }.
func Parse(src string) (*Playlist, error) {
	p, err := newParser(src)
	if err != nil {
		return nil, err
	}
	t := p.next()
	if t.kind != tString {
		return nil, p.errAt(t, "expected the playlist name in double quotes, found %s", t)
	}
	name := strings.TrimSpace(t.text)
	if name == "" {
		return nil, p.errAt(t, "empty playlist name")
	}
	if t := p.next(); t.kind != tLBrace {
		return nil, p.errAt(t, "expected { after the name, found %s", t)
	}
	pl, err := p.query(tRBrace)
	if err != nil {
		return nil, err
	}
	if t := p.next(); t.kind != tEOF {
		return nil, p.errAt(t, "expected the end of the file after }, found %s (one playlist per file)", t)
	}
	pl.Name = name
	return pl, nil
}

// ParseQuery parses a query without name and braces (expression, then
// optional order by and limit), as smart_playlists entries in the config
// give it.
func ParseQuery(name, src string) (*Playlist, error) {
	p, err := newParser(src)
	if err != nil {
		return nil, err
	}
	pl, err := p.query(tEOF)
	if err != nil {
		return nil, err
	}
	pl.Name = name
	return pl, nil
}

func newParser(src string) (*parser, error) {
	if len(src) > MaxSize {
		return nil, &SyntaxError{Line: 1, Col: 1, Msg: fmt.Sprintf("larger than %d bytes", MaxSize)}
	}
	if !utf8.ValidString(src) {
		return nil, &SyntaxError{Line: 1, Col: 1, Msg: "not valid UTF-8"}
	}
	src = strings.TrimPrefix(src, "\ufeff")
	return &parser{lx: lexer{src: src, line: 1, col: 1}, warned: map[string]bool{}}, nil
}

type parser struct {
	lx     lexer
	peeked *token
	pl     *Playlist
	preds  int
	warned map[string]bool
}

func (p *parser) next() token {
	if p.peeked != nil {
		t := *p.peeked
		p.peeked = nil
		return t
	}
	return p.lx.next()
}

func (p *parser) peek() token {
	if p.peeked == nil {
		t := p.lx.next()
		p.peeked = &t
	}
	return *p.peeked
}

func (p *parser) errAt(t token, format string, args ...any) error {
	if t.kind == tError {
		return &SyntaxError{Line: t.line, Col: t.col, Msg: t.text}
	}
	return &SyntaxError{Line: t.line, Col: t.col, Msg: fmt.Sprintf(format, args...)}
}

// isWord reports whether t is the keyword w (case-insensitive).
func isWord(t token, w string) bool { return t.kind == tWord && t.lower == w }

func (p *parser) query(end tokenKind) (*Playlist, error) {
	p.pl = &Playlist{}
	if t := p.peek(); t.kind == end {
		return nil, p.errAt(t, "empty query: expected an expression")
	}
	e, err := p.or(0)
	if err != nil {
		return nil, err
	}
	p.pl.expr = e
	if t := p.peek(); isWord(t, "having") {
		return nil, p.errAt(t, "having is not supported")
	}
	if t := p.peek(); isWord(t, "order") {
		p.next()
		if t := p.next(); !isWord(t, "by") {
			return nil, p.errAt(t, "expected by after order, found %s", t)
		}
		t := p.next()
		switch {
		case isWord(t, "random"):
			p.pl.Random = true
		case t.kind == tWord:
			i, ok := fieldByName[t.lower]
			if !ok {
				return nil, p.errAt(t, "unknown field %s to order by", t)
			}
			p.pl.Order = fieldTable[i].f
			if !p.pl.Order.Tracked() {
				p.warn(fmt.Sprintf("order by %s: daapd does not track %s; catalog order is used", t.lower, t.lower))
				p.pl.Order = NoField
			}
		default:
			return nil, p.errAt(t, "expected a field or random after order by, found %s", t)
		}
		if t := p.peek(); isWord(t, "asc") || isWord(t, "desc") {
			p.next()
			p.pl.Desc = t.lower == "desc"
		}
	}
	if t := p.peek(); isWord(t, "limit") {
		p.next()
		t := p.next()
		if t.kind != tNumber {
			return nil, p.errAt(t, "expected a number after limit, found %s", t)
		}
		n, err := strconv.Atoi(t.text)
		if err != nil || n <= 0 || n > 1<<30 {
			return nil, p.errAt(t, "limit %s is not a positive number", t.text)
		}
		p.pl.Limit = n
	}
	if t := p.next(); t.kind != end {
		want := "}"
		if end == tEOF {
			want = "the end"
		}
		return nil, p.errAt(t, "expected and, or, order by, limit or %s, found %s", want, t)
	}
	return p.pl, nil
}

func (p *parser) warn(msg string) {
	if !p.warned[msg] {
		p.warned[msg] = true
		p.pl.Warnings = append(p.pl.Warnings, msg)
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
		if !isWord(p.peek(), "or") {
			return group(orNode, kids), nil
		}
		p.next()
	}
}

func (p *parser) and(depth int) (*node, error) {
	var kids []*node
	for {
		n, err := p.unary(depth)
		if err != nil {
			return nil, err
		}
		kids = append(kids, n)
		if !isWord(p.peek(), "and") {
			return group(andNode, kids), nil
		}
		p.next()
	}
}

// group flattens kids of the same kind; one child is returned as is.
func group(k nodeKind, kids []*node) *node {
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

func (p *parser) unary(depth int) (*node, error) {
	t := p.peek()
	if depth >= MaxDepth && (isWord(t, "not") || t.kind == tLParen) {
		return nil, p.errAt(t, "nested deeper than %d", MaxDepth)
	}
	switch {
	case isWord(t, "not"):
		p.next()
		n, err := p.unary(depth + 1)
		if err != nil {
			return nil, err
		}
		if n.kind == notNode { // not not x is x
			return n.kids[0], nil
		}
		return &node{kind: notNode, kids: []*node{n}}, nil
	case t.kind == tLParen:
		p.next()
		n, err := p.or(depth + 1)
		if err != nil {
			return nil, err
		}
		if t := p.next(); t.kind != tRParen {
			return nil, p.errAt(t, "expected ) or and/or, found %s", t)
		}
		return n, nil
	}
	return p.predicate()
}

func (p *parser) predicate() (*node, error) {
	t := p.next()
	if t.kind != tWord {
		return nil, p.errAt(t, "expected a field name, not or (, found %s", t)
	}
	i, ok := fieldByName[t.lower]
	if !ok {
		return nil, p.errAt(t, "unknown field %s", t)
	}
	if p.preds++; p.preds > MaxPredicates {
		return nil, p.errAt(t, "more than %d conditions", MaxPredicates)
	}
	row := fieldTable[i]
	n := &node{kind: predNode, field: row.f, never: !row.f.Tracked()}
	if n.never {
		p.warn(fmt.Sprintf("daapd does not track %s; conditions on it match nothing", row.name))
	}
	opTok := p.next()
	switch row.typ {
	case textType:
		switch {
		case isWord(opTok, "is"):
			n.op = Is
			if isWord(p.peek(), "empty") {
				p.next()
				n.op = IsEmpty
				return n, nil
			}
		case isWord(opTok, "includes"):
			n.op = Includes
		case isWord(opTok, "starts"), isWord(opTok, "ends"):
			if w := p.next(); !isWord(w, "with") {
				return nil, p.errAt(w, "expected with after %s, found %s", opTok.lower, w)
			}
			n.op = StartsWith
			if opTok.lower == "ends" {
				n.op = EndsWith
			}
		default:
			return nil, p.errAt(opTok, "expected is, includes, starts with or ends with after %s, found %s", row.name, opTok)
		}
		v := p.next()
		if v.kind != tString {
			return nil, p.errAt(v, "expected a string in double quotes after %s %s, found %s", row.name, opNames[n.op], v)
		}
		n.text, n.lower = v.text, strings.ToLower(v.text)
	case intType:
		ops := map[tokenKind]Op{tEq: Equal, tLt: Less, tGt: Greater, tLe: LessEqual, tGe: GreaterEqual}
		op, ok := ops[opTok.kind]
		if !ok {
			return nil, p.errAt(opTok, "expected =, <, >, <= or >= after %s, found %s", row.name, opTok)
		}
		n.op = op
		v := p.next()
		if v.kind != tNumber {
			return nil, p.errAt(v, "expected a number after %s %s, found %s", row.name, opNames[op], v)
		}
		x, err := strconv.ParseInt(v.text, 10, 64)
		if err != nil {
			return nil, p.errAt(v, "number %s is too large", v.text)
		}
		n.num = x
	case dateType:
		switch {
		case isWord(opTok, "before"):
			n.op = Before
		case isWord(opTok, "after"):
			n.op = After
		default:
			return nil, p.errAt(opTok, "expected before or after after %s, found %s", row.name, opTok)
		}
		d, err := p.date()
		if err != nil {
			return nil, err
		}
		n.date, n.di = d, p.pl.dates
		p.pl.dates++
	case enumType:
		if !isWord(opTok, "is") {
			return nil, p.errAt(opTok, "expected is after %s, found %s", row.name, opTok)
		}
		n.op = Is
		v := p.next()
		vals := enumValues[row.f]
		ev, ok := vals[v.lower]
		if v.kind != tWord || !ok {
			return nil, p.errAt(v, "expected one of %s after %s is, found %s", enumList(vals), row.name, v)
		}
		n.num, n.word = ev.v, v.lower
		if !ev.tracked {
			n.never = true
			p.warn(fmt.Sprintf("daapd serves only files: %s is %s matches nothing", row.name, v.lower))
		}
	}
	return n, nil
}

func enumList(vals map[string]struct {
	v       int64
	tracked bool
}) string {
	var names []string
	for k := range vals {
		names = append(names, k)
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

// date parses a date operand.
func (p *parser) date() (dateExpr, error) {
	t := p.next()
	var d dateExpr
	if t.kind == tNumber {
		n, err := strconv.Atoi(t.text)
		if err != nil || n > 100000 {
			return d, p.errAt(t, "interval %s is too large", t.text)
		}
		u := p.next()
		switch strings.TrimSuffix(u.lower, "s") {
		case "day":
			d.unit = days
		case "week":
			d.unit = weeks
		case "month":
			d.unit = months
		case "year":
			d.unit = years
		}
		if u.kind != tWord || d.unit == 0 {
			return d, p.errAt(u, "expected days, weeks, months or years after %s, found %s", t.text, u)
		}
		d.n = n
		w := p.next()
		switch {
		case isWord(w, "ago"):
			d.anchor, d.ago = today, true
			return d, nil
		case isWord(w, "before"):
		case isWord(w, "after"):
			d.after = true
		default:
			return d, p.errAt(w, "expected ago, before or after after %s %s, found %s", t.text, u.lower, w)
		}
		t = p.next()
	}
	if t.kind == tDate {
		y, _ := strconv.Atoi(t.text[:4])
		m, _ := strconv.Atoi(t.text[5:7])
		dd, _ := strconv.Atoi(t.text[8:10])
		if m < 1 || m > 12 || dd < 1 || dd > 31 {
			return d, p.errAt(t, "%s is not a date", t.text)
		}
		d.anchor, d.y, d.m, d.d = absolute, y, m, dd
		return d, nil
	}
	switch {
	case isWord(t, "today"):
		d.anchor = today
	case isWord(t, "yesterday"):
		d.anchor = yesterday
	case isWord(t, "this"), isWord(t, "last"):
		w := p.next()
		switch {
		case isWord(t, "this") && isWord(w, "week"):
			d.anchor = thisWeek
		case isWord(t, "last") && isWord(w, "week"):
			d.anchor = lastWeek
		case isWord(t, "last") && isWord(w, "month"):
			d.anchor = lastMonth
		case isWord(t, "last") && isWord(w, "year"):
			d.anchor = lastYear
		default:
			return d, p.errAt(w, "expected this week, last week, last month or last year, found %s %s", t.lower, w)
		}
	default:
		return d, p.errAt(t, "expected a date (YYYY-MM-DD, today, yesterday, this week, last week, last month, last year or N days ago), found %s", t)
	}
	return d, nil
}

// resolve returns the instant d stands for, relative to now.
func (d dateExpr) resolve(now time.Time) time.Time {
	loc := now.Location()
	y, m, day := now.Date()
	var t time.Time
	switch d.anchor {
	case absolute:
		t = time.Date(d.y, time.Month(d.m), d.d, 0, 0, 0, 0, loc)
	case today:
		t = time.Date(y, m, day, 0, 0, 0, 0, loc)
	case yesterday:
		t = time.Date(y, m, day-1, 0, 0, 0, 0, loc)
	case thisWeek, lastWeek:
		back := (int(now.Weekday()) + 6) % 7 // days since Monday
		if d.anchor == lastWeek {
			back += 7
		}
		t = time.Date(y, m, day-back, 0, 0, 0, 0, loc)
	case lastMonth:
		t = time.Date(y, m-1, 1, 0, 0, 0, 0, loc)
	case lastYear:
		t = time.Date(y-1, 1, 1, 0, 0, 0, 0, loc)
	}
	if d.n == 0 {
		return t
	}
	n := d.n
	if !d.after {
		n = -n
	}
	switch d.unit {
	case days:
		return t.AddDate(0, 0, n)
	case weeks:
		return t.AddDate(0, 0, 7*n)
	case months:
		return t.AddDate(0, n, 0)
	}
	return t.AddDate(n, 0, 0)
}

func (d dateExpr) String() string {
	var sb strings.Builder
	if d.n > 0 {
		fmt.Fprintf(&sb, "%d %s ", d.n, unitNames[d.unit])
		if d.ago {
			sb.WriteString("ago")
			return sb.String()
		}
		if d.after {
			sb.WriteString("after ")
		} else {
			sb.WriteString("before ")
		}
	}
	if d.anchor == absolute {
		fmt.Fprintf(&sb, "%04d-%02d-%02d", d.y, d.m, d.d)
	} else {
		sb.WriteString(anchorNames[d.anchor])
	}
	return sb.String()
}

// String returns the canonical form of p: "Name" { query }, on one line.
// Parse(p.String()) gives an equal playlist.
func (p *Playlist) String() string {
	return `"` + p.Name + `" { ` + p.Query() + ` }`
}

// Query returns the canonical query: the expression, then order by and
// limit when set. ParseQuery accepts it.
func (p *Playlist) Query() string {
	var sb strings.Builder
	p.expr.write(&sb, false)
	switch {
	case p.Random:
		sb.WriteString(" order by random")
	case p.Order != NoField:
		sb.WriteString(" order by " + p.Order.String())
	}
	if p.Random || p.Order != NoField {
		if p.Desc {
			sb.WriteString(" desc")
		} else {
			sb.WriteString(" asc")
		}
	}
	if p.Limit > 0 {
		fmt.Fprintf(&sb, " limit %d", p.Limit)
	}
	return sb.String()
}

func (n *node) write(sb *strings.Builder, paren bool) {
	switch n.kind {
	case andNode, orNode:
		if paren {
			sb.WriteByte('(')
		}
		sep := " and "
		if n.kind == orNode {
			sep = " or "
		}
		for i, k := range n.kids {
			if i > 0 {
				sb.WriteString(sep)
			}
			// An or inside an and needs parentheses; so does anything
			// under a not (handled there).
			k.write(sb, n.kind == andNode && k.kind == orNode)
		}
		if paren {
			sb.WriteByte(')')
		}
		return
	case notNode:
		sb.WriteString("not ")
		k := n.kids[0]
		k.write(sb, k.kind == andNode || k.kind == orNode)
		return
	}
	sb.WriteString(n.field.String() + " " + opNames[n.op])
	switch {
	case n.op == IsEmpty:
	case n.word != "":
		sb.WriteString(" " + n.word)
	case n.op >= Equal && n.op <= GreaterEqual:
		sb.WriteString(" " + strconv.FormatInt(n.num, 10))
	case n.op == Before || n.op == After:
		sb.WriteString(" " + n.date.String())
	default:
		sb.WriteString(` "` + n.text + `"`)
	}
}
