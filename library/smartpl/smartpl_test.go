package smartpl

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// track is a test Item.
type track struct {
	text  map[Field]string
	ints  map[Field]int64
	times map[Field]time.Time
}

func (t track) Text(f Field) string    { return t.text[f] }
func (t track) Int(f Field) int64      { return t.ints[f] }
func (t track) Time(f Field) time.Time { return t.times[f] }

// now is the fixed clock: Wednesday 2025-06-18 15:30 UTC.
var now = time.Date(2025, 6, 18, 15, 30, 0, 0, time.UTC)

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

var song = track{
	text: map[Field]string{Artist: "Rob Zombie", AlbumArtist: "", Album: "Hellbilly Deluxe", Title: "Dragula",
		Genre: "Techno-Industrial", Composer: "Zombie", Comment: "remaster", Path: "/music/Rob Zombie/Dragula.mp3",
		Type: "mp3", CodecType: "mp3", Grouping: "Live"},
	ints: map[Field]int64{Year: 1998, Track: 3, Disc: 1, Compilation: 0, Bitrate: 320, SampleRate: 44100,
		BitsPerSample: 0, SongLength: 222000, FileSize: 8_000_000, MediaKind: KindMusic},
	times: map[Field]time.Time{TimeAdded: time.Date(2025, 6, 17, 9, 0, 0, 0, time.UTC), TimeModified: day(2020, 1, 1)},
}

func TestPredicates(t *testing.T) {
	for _, tc := range []struct {
		expr string
		want bool
	}{
		{`artist is "rob zombie"`, true},
		{`artist is "Rob"`, false},
		{`artist includes "ZOMB"`, true},
		{`artist starts with "rob"`, true},
		{`artist starts with "zombie"`, false},
		{`artist ends with "BIE"`, true},
		{`album_artist is empty`, true},
		{`album_artist is ""`, true},
		{`artist is empty`, false},
		{`album includes "deluxe"`, true},
		{`title is "dragula"`, true},
		{`genre includes "techno"`, true},
		{`composer is "zombie"`, true},
		{`comment includes "master"`, true},
		{`path starts with "/music/"`, true},
		{`type is "MP3"`, true},
		{`codectype is "mp3"`, true},
		{`grouping is "live"`, true},
		{`year = 1998`, true},
		{`year < 1998`, false},
		{`year <= 1998`, true},
		{`year > 1997`, true},
		{`year >= 1999`, false},
		{`track = 3`, true},
		{`disc = 1`, true},
		{`compilation = 0`, true},
		{`bitrate >= 320`, true},
		{`samplerate = 44100`, true},
		{`bits_per_sample = 0`, true},
		{`song_length > 180000`, true},
		{`file_size < 1000`, false},
		{`time_added after yesterday`, true},
		{`time_added after today`, false},
		{`time_added before today`, true},
		{`time_modified before 2020-01-02`, true},
		{`time_modified after 2019-12-31`, true},
		{`media_kind is music`, true},
		{`media_kind is audiobook`, false},
		{`media_kind is podcast`, false},
		{`data_kind is file`, true},
		{`data_kind is url`, false},
		{`scan_kind is files`, true},
		{`play_count = 0`, false},
		{`not play_count > 5`, true},
		{`rating > 0`, false},
		{`time_played after last week`, false},
		{`genre includes "techno" and artist includes "zombie"`, true},
		{`genre includes "techno" and not genre includes "industrial"`, false},
		{`genre is "pop" or artist includes "zombie"`, true},
		{`genre is "pop" or artist includes "zombie" and year < 1990`, false},
		{`(genre is "pop" or artist includes "zombie") and year > 1990`, true},
		{`NOT (year < 1990 OR year > 2000)`, true},
		{`not not year = 1998`, true},
		{`Artist IS "rob zombie" AnD YEAR = 1998`, true},
		{`title includes "ULA"`, true},
		{`title ends with "dragula!"`, false},
		{`composer starts with "zombie and more"`, false},
	} {
		t.Run(tc.expr, func(t *testing.T) {
			p, err := ParseQuery("t", tc.expr)
			if err != nil {
				t.Fatal(err)
			}
			if got := p.Match(song, now); got != tc.want {
				t.Errorf("Match = %v, want %v", got, tc.want)
			}
			again, err := ParseQuery("t", p.Query())
			if err != nil || again.Query() != p.Query() {
				t.Errorf("Query() %q does not parse back: %v", p.Query(), err)
			}
		})
	}
}

func TestRelativeDates(t *testing.T) {
	// now is Wednesday 2025-06-18 15:30 UTC.
	for _, tc := range []struct {
		date string
		want time.Time
	}{
		{"2004-01-01", day(2004, 1, 1)},
		{"today", day(2025, 6, 18)},
		{"yesterday", day(2025, 6, 17)},
		{"this week", day(2025, 6, 16)},
		{"last week", day(2025, 6, 9)},
		{"last month", day(2025, 5, 1)},
		{"last year", day(2024, 1, 1)},
		{"3 days ago", day(2025, 6, 15)},
		{"1 day ago", day(2025, 6, 17)},
		{"2 weeks ago", day(2025, 6, 4)},
		{"1 month ago", day(2025, 5, 18)},
		{"1 year ago", day(2024, 6, 18)},
		{"3 weeks before today", day(2025, 5, 28)},
		{"2 days after yesterday", day(2025, 6, 19)},
		{"1 month before 2025-03-31", day(2025, 3, 3)}, // Go normalises Feb 31
		{"10 years after 2000-01-01", day(2010, 1, 1)},
		{"2 weeks before last month", day(2025, 4, 17)},
		{"1 DAYS AGO", day(2025, 6, 17)},
	} {
		t.Run(tc.date, func(t *testing.T) {
			p, err := ParseQuery("t", "time_added after "+tc.date)
			if err != nil {
				t.Fatal(err)
			}
			got := p.expr.date.resolve(now)
			if !got.Equal(tc.want) {
				t.Errorf("%s = %v, want %v", tc.date, got, tc.want)
			}
		})
	}
	// Sunday belongs to the week that started on the Monday before.
	sunday := time.Date(2025, 6, 22, 23, 0, 0, 0, time.UTC)
	p, _ := ParseQuery("t", "time_added after this week")
	if got := p.expr.date.resolve(sunday); !got.Equal(day(2025, 6, 16)) {
		t.Errorf("this week on a Sunday = %v", got)
	}
	// The clock's zone decides what midnight is.
	berlin := time.FixedZone("CEST", 2*3600)
	p, _ = ParseQuery("t", "time_added after today")
	if got := p.expr.date.resolve(time.Date(2025, 6, 18, 0, 30, 0, 0, berlin)); !got.Equal(time.Date(2025, 6, 17, 22, 0, 0, 0, time.UTC)) {
		t.Errorf("today in CEST = %v", got.UTC())
	}
}

func TestParseFile(t *testing.T) {
	src := "# OwnTone example\n\"Random 10 Rated Pop songs\" {\n  rating > 0 and\n  genre is \"Pop\" and\n  media_kind is music\n  order by random desc\n  limit 10\n}\n"
	p, err := Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	got := struct {
		Name     string
		Random   bool
		Limit    int
		Warnings []string
		String   string
	}{p.Name, p.Random, p.Limit, p.Warnings, p.String()}
	want := struct {
		Name     string
		Random   bool
		Limit    int
		Warnings []string
		String   string
	}{"Random 10 Rated Pop songs", true, 10, []string{"daapd does not track rating; conditions on it match nothing"},
		`"Random 10 Rated Pop songs" { rating > 0 and genre is "Pop" and media_kind is music order by random desc limit 10 }`}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Error(diff)
	}
	p2, err := Parse(p.String())
	if err != nil || p2.String() != p.String() {
		t.Errorf("String does not round-trip: %v", err)
	}
}

func TestWarningsOncePerField(t *testing.T) {
	p, err := ParseQuery("t", `play_count = 0 or play_count > 9 or data_kind is url or data_kind is url order by rating`)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"daapd does not track play_count; conditions on it match nothing",
		"daapd serves only files: data_kind is url matches nothing",
		"order by rating: daapd does not track rating; catalog order is used",
	}
	if diff := cmp.Diff(want, p.Warnings); diff != "" {
		t.Error(diff)
	}
}

func TestErrors(t *testing.T) {
	for _, tc := range []struct {
		src       string
		line, col int
		msg       string
	}{
		{``, 1, 1, "expected the playlist name"},
		{`{ year = 1 }`, 1, 1, "expected the playlist name"},
		{`"" { year = 1 }`, 1, 1, "empty playlist name"},
		{`"x" year = 1`, 1, 5, "expected { after the name"},
		{"\"x\" {\n  year = 1", 2, 11, "expected and, or, order by, limit or }"},
		{"\"x\" {\n}", 2, 1, "empty query"},
		{"\"x\" {\n  yeer = 1\n}", 2, 3, `unknown field "yeer"`},
		{"\"x\" {\n  year is 1\n}", 2, 8, "expected =, <, >, <= or >= after year"},
		{"\"x\" {\n  year = \"1\"\n}", 2, 10, "expected a number"},
		{"\"x\" {\n  artist = \"a\"\n}", 2, 10, "expected is, includes, starts with or ends with"},
		{"\"x\" {\n  artist is abc\n}", 2, 13, "expected a string in double quotes"},
		{"\"x\" {\n  artist is \"abc\n}", 2, 13, "unterminated string"},
		{"\"x\" {\n  artist starts \"a\"\n}", 2, 17, "expected with after starts"},
		{"\"x\" {\n  media_kind is radio\n}", 2, 17, "expected one of audiobook, movie, music, podcast, tvshow"},
		{"\"x\" {\n  time_added after 2 fortnights ago\n}", 2, 22, "expected days, weeks, months or years"},
		{"\"x\" {\n  time_added after 2 days\n}", 3, 1, "expected ago, before or after"},
		{"\"x\" {\n  time_added after next week\n}", 2, 20, "expected a date"},
		{"\"x\" {\n  time_added after last decade\n}", 2, 25, "expected this week, last week"},
		{"\"x\" {\n  time_added after 2025-13-01\n}", 2, 20, "is not a date"},
		{"\"x\" {\n  time_added = 2025-01-01\n}", 2, 14, "expected before or after"},
		{"\"x\" {\n  (year = 1\n}", 3, 1, "expected ) or and/or"},
		{"\"x\" {\n  year = 1 and\n}", 3, 1, "expected a field name"},
		{"\"x\" {\n  year = 1 order year\n}", 2, 18, "expected by after order"},
		{"\"x\" {\n  year = 1 order by loudness\n}", 2, 21, `unknown field "loudness" to order by`},
		{"\"x\" {\n  year = 1 limit ten\n}", 2, 18, "expected a number after limit"},
		{"\"x\" {\n  year = 1 limit 0\n}", 2, 18, "is not a positive number"},
		{"\"x\" {\n  year = 1 having track_count > 2\n}", 2, 12, "having is not supported"},
		{"\"x\" { year = 1 }\n\"y\" { year = 2 }", 2, 1, "one playlist per file"},
		{"\"x\" { year = 99999999999999999999 }", 1, 14, "too large"},
		{"\"x\" { year = 1 && year = 2 }", 1, 16, "unexpected character '&'"},
		{"\"ü\" { ärtist is \"a\" }", 1, 7, "unexpected character 'ä'"},
		{"\"x\" {\n\tyear = 1 }  junk", 2, 14, "one playlist per file"},
		{"\"x\" {" + strings.Repeat("(", MaxDepth+1) + "year = 1" + strings.Repeat(")", MaxDepth+1) + "}", 1, 6 + MaxDepth, "nested deeper"},
		{"\"x\" { year = 1 " + strings.Repeat("or year = 1 ", MaxPredicates) + "}", 1, 16 + 12*(MaxPredicates-1) + 3, "more than 1000 conditions"},
	} {
		t.Run(tc.msg, func(t *testing.T) {
			_, err := Parse(tc.src)
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Parse(%q) = %v, want a *SyntaxError", tc.src, err)
			}
			if se.Line != tc.line || se.Col != tc.col || !strings.Contains(se.Msg, tc.msg) {
				t.Errorf("Parse(%q) = %d:%d %q, want %d:%d containing %q", tc.src, se.Line, se.Col, se.Msg, tc.line, tc.col, tc.msg)
			}
			se.File = "Jazz.smartpl"
			if !strings.HasPrefix(se.Error(), "Jazz.smartpl:") {
				t.Errorf("Error() = %q", se.Error())
			}
		})
	}
}

func TestParseQueryErrors(t *testing.T) {
	for _, q := range []string{``, `year = 1 }`, `"x" { year = 1 }`, `order by year`} {
		if _, err := ParseQuery("t", q); err == nil {
			t.Errorf("ParseQuery(%q) succeeded", q)
		}
	}
}

func items(ts ...track) func(int) Item { return func(i int) Item { return ts[i] } }

func TestSelect(t *testing.T) {
	mk := func(title string, year int64, added time.Time, kind int64) track {
		return track{text: map[Field]string{Title: title}, ints: map[Field]int64{Year: year, MediaKind: kind},
			times: map[Field]time.Time{TimeAdded: added}}
	}
	ts := []track{
		mk("b", 1960, day(2025, 6, 1), KindMusic),
		mk("A", 1965, day(2025, 6, 17), KindMusic),
		mk("c", 1999, day(2025, 6, 10), KindAudiobook),
		mk("d", 1950, time.Time{}, KindMusic), // no date: never after anything
		mk("e", 1960, day(2025, 6, 18), KindPodcast),
	}
	for _, tc := range []struct {
		query string
		want  []int
	}{
		{`year < 1970`, []int{0, 1, 3, 4}},
		{`year < 1970 order by year`, []int{3, 0, 4, 1}},
		{`year < 1970 order by year desc`, []int{1, 0, 4, 3}},
		{`year < 1970 order by title asc limit 2`, []int{1, 0}},
		{`year > 0 order by title desc`, []int{4, 3, 2, 0, 1}},
		{`time_added after 30 days ago order by time_added desc`, []int{4, 1, 2, 0}},
		{`time_added after 30 days ago order by time_added desc limit 1`, []int{4}},
		{`media_kind is music`, []int{0, 1, 3}},
		{`not media_kind is music`, []int{2, 4}},
		{`year = 2000`, nil},
	} {
		t.Run(tc.query, func(t *testing.T) {
			p, err := ParseQuery("t", tc.query)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, p.Select(now, 1, len(ts), items(ts...))); diff != "" {
				t.Error(diff)
			}
		})
	}
}

func TestSelectRandom(t *testing.T) {
	var ts []track
	for i := range 50 {
		ts = append(ts, track{ints: map[Field]int64{Year: int64(i)}})
	}
	p, err := ParseQuery("t", `year >= 10 order by random limit 10`)
	if err != nil {
		t.Fatal(err)
	}
	a := p.Select(now, 7, len(ts), items(ts...))
	if len(a) != 10 {
		t.Fatalf("%d items, want 10", len(a))
	}
	for _, i := range a {
		if i < 10 {
			t.Errorf("item %d does not match", i)
		}
	}
	if b := p.Select(now.Add(time.Hour), 7, len(ts), items(ts...)); !cmp.Equal(a, b) {
		t.Errorf("same day, different selection: %v, %v", a, b)
	}
	if b := p.Select(now.AddDate(0, 0, 1), 7, len(ts), items(ts...)); cmp.Equal(a, b) {
		t.Errorf("next day, same selection: %v", a)
	}
}

// TestExamples parses the README's examples and those of OwnTone's
// smart-playlists.md, which users bring along.
func TestExamples(t *testing.T) {
	for _, src := range []string{
		"# Comments run to the end of the line.\n\"Jazz before 1970\" {\n    genre includes \"jazz\"\n    and year < 1970\n    and not media_kind is audiobook\n    order by year asc\n    limit 200\n}\n",
		`"techno" { genre includes "techno" and artist includes "zombie" }`,
		`"techno 2015" { genre includes "techno" and artist includes "zombie" and not genre includes "industrial" }`,
		`"Local music" { data_kind is file and media_kind is music }`,
		`"Unplayed podcasts and audiobooks" { play_count = 0 and (media_kind is podcast or media_kind is audiobook) }`,
		`"Recently added music" { media_kind is music order by time_added desc limit 10 }`,
		`"Files added after January 1, 2004" { time_added after 2004-01-01 }`,
		`"Recently Added" { time_added after 2 weeks ago }`,
		`"Recently played audiobooks" { time_played after last week and media_kind is audiobook }`,
	} {
		if _, err := Parse(src); err != nil {
			t.Errorf("%q: %v", src, err)
		}
	}
	for _, q := range []string{
		"song_length > 600000 order by song_length desc limit 50",
		"time_added after last month and not media_kind is podcast",
		`genre includes "jazz" and year < 1970 order by year`,
		`Jazz=genre is "Jazz" order by year`[5:],
	} {
		if _, err := ParseQuery("q", q); err != nil {
			t.Errorf("%q: %v", q, err)
		}
	}
}

func TestMatchFold(t *testing.T) {
	for _, tc := range []struct {
		op   Op
		v, p string
		want bool
	}{
		{Includes, "Techno-Industrial", "industrial", true},
		{Includes, "Sigur Rós", "rós", true},
		{Includes, "SIGUR RÓS", "rós", true},
		{StartsWith, "Ärzte", "ärz", true},
		{EndsWith, "The Beatles", "beatles", true},
		{EndsWith, "The Beatles", "the", false},
		{StartsWith, "a", "ab", false},
		{Includes, "", "", true},
		{Includes, "abc", "", true},
		{Includes, "[x]", "[X]", false}, // patterns are lower-cased by the parser
	} {
		if got := matchFold(tc.op, tc.v, tc.p); got != tc.want {
			t.Errorf("%s %q %q = %v", opNames[tc.op], tc.v, tc.p, got)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add("\"x\" { artist is \"a\" and (year < 1970 or not genre includes \"b\") order by year desc limit 3 }")
	f.Add("\"x\" { time_added after 3 weeks before last month or time_modified before 2004-01-01 }")
	f.Add("# c\n\"x\" {\n media_kind is podcast\n order by random\n}")
	f.Add("\"x\" { play_count = 0 and data_kind is url and album_artist is empty }")
	f.Fuzz(func(t *testing.T, src string) {
		p, err := Parse(src)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) || se.Line < 1 || se.Col < 1 {
				t.Fatalf("Parse(%q): %v without a position", src, err)
			}
			return
		}
		canon := p.String()
		p2, err := Parse(canon)
		if err != nil {
			t.Fatalf("Parse(%q) ok, Parse(String() = %q): %v", src, canon, err)
		}
		if p2.String() != canon {
			t.Fatalf("unstable: %q -> %q -> %q", src, canon, p2.String())
		}
		p.Select(now, 1, 2, items(song, track{}))
	})
}
