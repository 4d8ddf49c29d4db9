package query

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/daapd/daapd/internal/testkit"
)

// samples are real queries: daap.md's fixtures (from libdmapsharing's
// dmap_share_build_filter comment and OwnTone logs), OwnTone's parser test
// inputs, and queries from DACP remotes. Each has testdata/<name>.golden.
var samples = []struct{ name, query string }{
	{"itemid", `'dmap.itemid:5'`},
	{"artist-prefix", `'daap.songartist:Foo*'`},
	{"itunes-and", `'daap.songgenre:Other'+'daap.songartist:Band'`},
	{"roku-space-and", `'daap.songgenre:Other' 'daap.songartist:Band'`},
	{"dacp-mediakind", `('com.apple.itunes.mediakind:1','com.apple.itunes.mediakind:32') 'daap.songartist!:'`},
	{"albumid-399", `('daap.songalbumid:3241737424055794579'+('com.apple.itunes.extended-media-kind:1','com.apple.itunes.extended-media-kind:32'))`},
	{"music-app-containers", `('dmap.itemname:My Music on thundarr','com.apple.itunes.extended-media-kind@1','com.apple.itunes.extended-media-kind@32','com.apple.itunes.extended-media-kind@128','com.apple.itunes.extended-media-kind@65537')`},
	{"catalina-playlist-media-type", `('com.apple.itunes.playlist-contains-media-type:1','com.apple.itunes.playlist-contains-media-type:32','com.apple.itunes.playlist-contains-media-type:128','com.apple.itunes.playlist-contains-media-type:1024','com.apple.itunes.playlist-contains-media-type:65537')`},
	{"extended-media-kind", `'com.apple.itunes.extended-media-kind:32'`},
	{"escaped-quote", `'daap.songgenre:Kid\'s Audiobooks'`},
	{"album-not-empty", `'daap.songalbum!:'`},
	{"contains-and-space", `('daap.songartist:*cfbnk*' ('com.apple.itunes.mediakind:1','com.apple.itunes.mediakind:32') 'daap.songartist!:')`},
	{"or-then-and", `(('com.apple.itunes.mediakind:4','com.apple.itunes.mediakind:36','com.apple.itunes.mediakind:6','com.apple.itunes.mediakind:7') 'daap.songalbumid:1034227734086706124')`},
	{"remote-artists-groups", `('daap.songartist!:'+('com.apple.itunes.extended-media-kind:1','com.apple.itunes.extended-media-kind:32','com.apple.itunes.xid'))`},
	{"remote-albums", `(('daap.songartist:Foo','daap.songalbumartist:Foo')+('com.apple.itunes.mediakind:1','com.apple.itunes.mediakind:32')+'daap.songalbum!:')`},
	{"remote-search", `('daap.songalbum:*Joji*'+'daap.songalbum!:'+('com.apple.itunes.extended-media-kind:1','com.apple.itunes.extended-media-kind:32'))`},
	{"and-binds-tighter", `'a:1'+'b:2','c:3'+'d:4'`},
	{"suffix-and-literal-star", `('dmap.itemname:*Live','dmap.itemname:a*b','dmap.itemname:\*x\*')`},
}

func TestGolden(t *testing.T) {
	for _, s := range samples {
		t.Run(s.name, func(t *testing.T) {
			q, err := Parse(s.query)
			if err != nil {
				t.Fatal(err)
			}
			got := "query: " + s.query + "\nstring: " + q.String() + "\nfields: " +
				strings.Join(q.Fields(), " ") + "\nast:\n" + q.dump()
			testkit.Golden(t, filepath.Join("testdata", s.name+".golden"), []byte(got))
			again, err := Parse(q.String())
			if err != nil {
				t.Fatalf("Parse(String()) = %v", err)
			}
			if again.dump() != q.dump() || again.String() != q.String() {
				t.Errorf("Parse(%q) differs:\n%s", q.String(), again.dump())
			}
		})
	}
}

// track is a get function over a map; fields not in known are unknown.
func track(values map[string]string) func(string) (string, bool) {
	known := map[string]bool{
		"dmap.itemid": true, "dmap.itemname": true, "daap.songartist": true, "daap.songalbum": true,
		"daap.songalbumartist": true, "daap.songgenre": true, "daap.songalbumid": true,
		"com.apple.itunes.mediakind": true, "com.apple.itunes.extended-media-kind": true,
	}
	return func(f string) (string, bool) {
		return values[f], known[f]
	}
}

func TestMatch(t *testing.T) {
	song := track(map[string]string{
		"dmap.itemid": "5", "dmap.itemname": "Live at Leeds", "daap.songartist": "The Band",
		"daap.songgenre": "Rock", "daap.songalbumid": "3241737424055794579",
		"com.apple.itunes.mediakind": "1", "com.apple.itunes.extended-media-kind": "1",
		"daap.songalbum": "It's *Live*",
	})
	tests := []struct {
		query string
		want  bool
	}{
		{`'dmap.itemid:5'`, true},
		{`'dmap.itemid:6'`, false},
		{`'dmap.itemid!:6'`, true},
		{`'daap.songartist:the band'`, true}, // case-insensitive
		{`'daap.songartist:THE*'`, true},
		{`'daap.songartist:Band*'`, false},
		{`'daap.songartist:*band'`, true},
		{`'daap.songartist:*BAN*'`, true},
		{`'daap.songartist:*'`, true},
		{`'daap.songartist:**'`, true},
		{`'daap.songartist:The'`, false},  // exact, not prefix
		{`'daap.songalbumartist:'`, true}, // empty matches missing
		{`'daap.songalbumartist!:'`, false},
		{`'daap.songartist!:'`, true},
		{`'daap.songartist:'`, false},
		{`'daap.songalbum:It\'s \*Live\*'`, true},
		{`'daap.songalbum:*\*Live\*'`, true},
		{`'daap.songalbum:It*Live'`, false}, // a middle star is literal
		{`'daap.songgenre:Rock'+'daap.songartist:The Band'`, true},
		{`'daap.songgenre:Rock' 'daap.songartist:Other'`, false},
		{`'daap.songgenre:Pop','daap.songartist:The Band'`, true},
		{`'daap.songgenre:Pop'+'dmap.itemid:5','dmap.itemid:5'`, true},
		{`'daap.songgenre:Pop'+('dmap.itemid:4','dmap.itemid:5')`, false},
		{`('com.apple.itunes.mediakind:1','com.apple.itunes.mediakind:32') 'daap.songartist!:'`, true},
		{`'com.apple.itunes.extended-media-kind:32'`, false},
		{`('daap.songalbumid:3241737424055794579'+('com.apple.itunes.extended-media-kind:1','com.apple.itunes.extended-media-kind:32'))`, true},
		// '@' is a bit test.
		{`'com.apple.itunes.extended-media-kind@1'`, true},
		{`'com.apple.itunes.extended-media-kind@65537'`, true},
		{`'com.apple.itunes.extended-media-kind@32'`, false},
		{`'com.apple.itunes.extended-media-kind!@32'`, true},
		{`'com.apple.itunes.extended-media-kind@x'`, false},
		{`'daap.songartist@1'`, false},
		// Unknown fields: dropped from AND, false in OR.
		{`'unknown:1'`, true},
		{`'unknown!:1'`, true},
		{`'unknown:1'+'dmap.itemid:5'`, true},
		{`'unknown:1'+'dmap.itemid:6'`, false},
		{`('dmap.itemid:6','unknown:2')`, false},
		{`('dmap.itemid:5','unknown:2')`, true},
		{`('unknown:1','unknown:2')+'dmap.itemid:5'`, false}, // unknown clauses are false inside an OR
		{`('unknown:1','unknown:2')`, false},
		{`('unknown:1'+'unknown:2'),'dmap.itemid:5'`, true},
		{`('unknown:1','unknown:2')+'dmap.itemid:6'`, false},
		{`('unknown:1'+'unknown:2'),'dmap.itemid:6'`, false},
		{`'com.apple.itunes.xid'`, true},
		{`('com.apple.itunes.extended-media-kind:32','com.apple.itunes.xid')`, false},
		{`'dmap.itemname'`, true}, // no operator: has a value
		{`'daap.songalbumartist'`, false},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			q, err := Parse(tt.query)
			if err != nil {
				t.Fatal(err)
			}
			if got := q.Match(song); got != tt.want {
				t.Errorf("Match = %v, want %v (tree:\n%s)", got, tt.want, q.dump())
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	deep := strings.Repeat("(", MaxDepth+1) + "'a:1'" + strings.Repeat(")", MaxDepth+1)
	many := strings.TrimSuffix(strings.Repeat("'a:1',", MaxClauses+1), ",")
	tests := []struct {
		query, want string
	}{
		{"", "empty query at offset 0"},
		{"   ", "empty query"},
		{"dmap.itemid:5", `expected a clause or (, found 'd' at offset 0`},
		{"'dmap.itemid:5", "unterminated clause at offset 0"},
		{"'dmap.itemid", "unterminated clause"},
		{`'dmap.itemid:5\'`, "unterminated clause"},
		{`'dmap.itemid:5\`, "unterminated clause"},
		{"':5'", "empty field name"},
		{"'!:5'", "empty field name"},
		{"''", "empty clause"},
		{"'dmap item:5'", "invalid character ' ' in field name"},
		{"'a\\b:5'", `invalid character '\\' in field name`},
		{"('a:1'", "expected ) at offset 6"},
		{"'a:1')", "unbalanced ) at offset 5"},
		{"()", "expected a clause or (, found ')'"},
		{"'a:1',", "found end"},
		{"'a:1'+", "expected a clause or ( after +"},
		{"'a:1'+,'b:2'", "after +"},
		{"'a:1''b:2'", "expected +, space, ',' or end"},
		{"'a:1',,'b:2'", "found ','"},
		{deep, "nested deeper than 64"},
		{many, "more than 1000 clauses"},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			q, err := Parse(tt.query)
			var se *SyntaxError
			if err == nil || !errors.As(err, &se) || !errors.Is(err, ErrSyntax) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Parse = %v, %v; want a SyntaxError containing %q", q, err, tt.want)
			}
		})
	}
	// The limits themselves are allowed.
	ok := strings.Repeat("(", MaxDepth) + "'a:1'" + strings.Repeat(")", MaxDepth)
	if _, err := Parse(ok); err != nil {
		t.Errorf("depth %d: %v", MaxDepth, err)
	}
	if _, err := Parse(strings.TrimSuffix(strings.Repeat("'a:1',", MaxClauses), ",")); err != nil {
		t.Errorf("%d clauses: %v", MaxClauses, err)
	}
}

func TestCanonical(t *testing.T) {
	tests := []struct{ in, want string }{
		{`  'a:1'  `, `'a:1'`},
		{`('a:1')`, `'a:1'`},
		{`((('a:1')))`, `'a:1'`},
		{`'a:1' + 'b:2'`, `'a:1'+'b:2'`},
		{`'a:1' ++ 'b:2'`, `'a:1'+'b:2'`},
		{`'a:1' , 'b:2'`, `'a:1','b:2'`},
		{`('a:1'+'b:2')+'c:3'`, `'a:1'+'b:2'+'c:3'`},
		{`('a:1','b:2'),'c:3'`, `'a:1','b:2','c:3'`},
		{`('a:1','b:2')+'c:3'`, `('a:1','b:2')+'c:3'`},
		{`('a:1'+'b:2'),'c:3'`, `'a:1'+'b:2','c:3'`},
		{`'a:x\\y'`, `'a:x\\y'`},
		{`'a:\q'`, `'a:q'`},
		{`'a:*'`, `'a:*'`},
		{`'a:**'`, `'a:**'`},
		{`'a:b*c'`, `'a:b\*c'`},
		{`'a@1*'`, `'a@1\*'`},
		{`'x'`, `'x!:'`},
		{`'a:1'	'b:2'`, `'a:1'+'b:2'`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			q, err := Parse(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if got := q.String(); got != tt.want {
				t.Errorf("String = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestFields(t *testing.T) {
	q, err := Parse(`('b:1','a:2')+'b!:'+'c@4'`)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"a", "b", "c"}, q.Fields()); diff != "" {
		t.Error(diff)
	}
}

func TestNilQuery(t *testing.T) {
	var q *Query
	if !q.Match(nil) || q.String() != "" || q.Fields() != nil {
		t.Error("nil Query: want match-all, empty String and no Fields")
	}
}

func FuzzQuery(f *testing.F) {
	for _, s := range samples {
		f.Add(s.query)
	}
	f.Add(`'a:\'*\\'`)
	f.Add(`(('a:1' 'b:2'),'c:3')`)
	f.Fuzz(func(t *testing.T, s string) {
		q, err := Parse(s)
		if err != nil {
			return
		}
		canon := q.String()
		q2, err := Parse(canon)
		if err != nil {
			t.Fatalf("Parse(%q) ok, Parse(String() = %q): %v", s, canon, err)
		}
		if q2.String() != canon || q2.dump() != q.dump() {
			t.Fatalf("unstable: %q -> %q -> %q", s, canon, q2.String())
		}
		q.Match(func(f string) (string, bool) { return f, len(f)%2 == 0 })
		q.Fields()
	})
}

func BenchmarkMatch(b *testing.B) {
	q, err := Parse(`('daap.songartist:*band*','daap.songalbumartist:*band*')+('com.apple.itunes.mediakind:1','com.apple.itunes.mediakind:32')+'daap.songalbum!:'`)
	if err != nil {
		b.Fatal(err)
	}
	get := track(map[string]string{"daap.songartist": "The Other Band", "daap.songalbum": "X",
		"com.apple.itunes.mediakind": "1"})
	for b.Loop() {
		q.Match(get)
	}
}

func BenchmarkParse(b *testing.B) {
	for b.Loop() {
		if _, err := Parse(samples[6].query); err != nil {
			b.Fatal(err)
		}
	}
}
