package daap

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/daapd/daapd/daap/dmap"
	"github.com/daapd/daapd/library"
)

// field is one item field: the dotted name clients use in meta= and query=,
// its wire tag, how to encode it and its value as text for queries.
type field struct {
	name    string
	tag     string
	classic bool // libdmapsharing 2.9.41 knows the code (from dmap.Codes)
	emit    func(b *dmap.Builder, tag string, t *library.Track)
	value   func(t *library.Track) string
}

func str(name, tag string, get func(*library.Track) string) field {
	return field{name: name, tag: tag,
		emit: func(b *dmap.Builder, tag string, t *library.Track) {
			if v := get(t); v != "" {
				b.String(tag, v)
			}
		},
		value: get}
}

// num is an integer field, omitted when zero unless always is set.
func num(name, tag string, always bool, get func(*library.Track) int64) field {
	return field{name: name, tag: tag,
		emit: func(b *dmap.Builder, tag string, t *library.Track) {
			if v := get(t); v != 0 || always {
				b.Int(tag, v)
			}
		},
		value: func(t *library.Track) string { return strconv.FormatInt(get(t), 10) }}
}

// id64 is a 64-bit id: sent as its bit pattern, compared in queries as
// unsigned decimal.
func id64(name, tag string, get func(*library.Track) uint64) field {
	f := num(name, tag, false, func(t *library.Track) int64 { return u64(get(t)) })
	f.value = func(t *library.Track) string { return strconv.FormatUint(get(t), 10) }
	return f
}

func constant(name, tag string, v int64) field {
	return num(name, tag, true, func(*library.Track) int64 { return v })
}

// clamp keeps a value within an unsigned field of the given width in bytes.
func clamp(v int64, bytes int) int64 {
	lim := int64(1)<<(8*bytes) - 1
	return min(max(v, 0), lim)
}

func hasArt(t *library.Track) int64 {
	if t.Art().Source != library.ArtworkNone {
		return 1
	}
	return 0
}

func mediaKind(t *library.Track) int64 { return int64(t.Kind()) }

func u64(v uint64) int64 { return int64(v) } // 8-byte ids travel as their bit pattern

// itemFieldRows lists the item fields in wire order: mikd first (iTunes
// expects it), miid second, then the rest. itemFields moves the codes
// libdmapsharing 2.9.41 lacks after those it knows, keeping this order
// otherwise.
var itemFieldRows = []field{
	constant("dmap.itemkind", "mikd", 2),
	num("dmap.itemid", "miid", true, func(t *library.Track) int64 { return int64(t.ID) }),
	str("dmap.itemname", "minm", func(t *library.Track) string { return t.Title }),
	id64("dmap.persistentid", "mper", func(t *library.Track) uint64 { return t.PersistentID }),
	str("daap.songalbum", "asal", func(t *library.Track) string { return t.Album }),
	str("daap.songartist", "asar", func(t *library.Track) string { return t.Artist }),
	str("daap.songalbumartist", "asaa", albumArtist),
	str("daap.songgenre", "asgn", func(t *library.Track) string { return t.Genre }),
	str("daap.songcomposer", "ascp", func(t *library.Track) string { return t.Composer() }),
	str("daap.songcomment", "ascm", func(t *library.Track) string { return t.Comment() }),
	str("daap.songgrouping", "agrp", func(t *library.Track) string { return t.Grouping() }),
	num("daap.songyear", "asyr", false, func(t *library.Track) int64 { return clamp(int64(t.Year), 2) }),
	num("daap.songtracknumber", "astn", false, func(t *library.Track) int64 { return clamp(int64(t.TrackNumber), 2) }),
	num("daap.songtrackcount", "astc", false, func(t *library.Track) int64 { return clamp(int64(t.TrackCount), 2) }),
	num("daap.songdiscnumber", "asdn", false, func(t *library.Track) int64 { return clamp(int64(t.DiscNumber), 2) }),
	num("daap.songdisccount", "asdc", false, func(t *library.Track) int64 { return clamp(int64(t.DiscCount), 2) }),
	num("daap.songtime", "astm", true, func(t *library.Track) int64 { return int64(t.DurationMS) }),
	str("daap.songformat", "asfm", songFormat),
	str("daap.songdescription", "asdt", description),
	num("daap.songsize", "assz", true, func(t *library.Track) int64 { return clamp(t.Size, 4) }),
	num("daap.songbitrate", "asbr", false, func(t *library.Track) int64 { return clamp(int64(t.Bitrate), 2) }),
	num("daap.songsamplerate", "assr", false, func(t *library.Track) int64 { return clamp(int64(t.SampleRate), 4) }),
	num("daap.songbeatsperminute", "asbt", false, func(t *library.Track) int64 { return clamp(int64(t.BPM), 2) }),
	num("daap.songcompilation", "asco", true, func(t *library.Track) int64 {
		if t.Compilation {
			return 1
		}
		return 0
	}),
	dateField("daap.songdateadded", "asda", func(t *library.Track) time.Time { return t.Added.Time() }),
	dateField("daap.songdatemodified", "asdm", func(t *library.Track) time.Time { return t.ModTime.Time() }),
	constant("daap.songdatakind", "asdk", 0), // 0 = a file
	constant("daap.songdisabled", "asdb", 0),
	num("com.apple.itunes.mediakind", "aeMK", false, mediaKind), // music 1, podcast 4, audiobook 8
	constant("com.apple.itunes.has-video", "aeHV", 0),
	str("daap.sortartist", "assa", func(t *library.Track) string { return cmp.Or(t.SortArtist(), t.Artist) }),
	str("daap.sortalbum", "assu", func(t *library.Track) string { return cmp.Or(t.SortAlbum(), t.Album) }),
	id64("daap.songalbumid", "asai", func(t *library.Track) uint64 { return t.AlbumID }),
	id64("daap.songartistid", "asri", func(t *library.Track) uint64 { return t.ArtistID }),
	str("daap.sortname", "assn", func(t *library.Track) string { return cmp.Or(t.SortTitle(), t.Title) }),
	str("daap.sortalbumartist", "assl", func(t *library.Track) string {
		name, sortName := t.GroupArtist()
		return cmp.Or(sortName, name)
	}),
	str("daap.sortcomposer", "assc", func(t *library.Track) string { return cmp.Or(t.SortComposer(), t.Composer()) }),
	num("com.apple.itunes.extended-media-kind", "aeMk", false, mediaKind),
	num("daap.songextradata", "ased", false, hasArt),
	num("daap.songartworkcount", "asac", false, hasArt),
	num("daap.songcodectype", "ascd", false, codecType),
}

// dateField is a date, omitted when unknown.
func dateField(name, tag string, get func(*library.Track) time.Time) field {
	return field{name: name, tag: tag,
		emit: func(b *dmap.Builder, tag string, t *library.Track) {
			if v := get(t); !v.IsZero() && v.Unix() > 0 {
				b.Date(tag, v)
			}
		},
		value: func(t *library.Track) string {
			if v := get(t); !v.IsZero() {
				return strconv.FormatInt(v.Unix(), 10)
			}
			return ""
		}}
}

// fieldTable is the item fields in wire order with an index by name.
type fieldTable struct {
	rows   []field
	byName map[string]int
	all    fieldSet
	deflt  fieldSet // when a request has no meta=
}

// fieldSet is a sorted list of row indexes; row 0 (mikd) and 1 (miid) are
// always in it.
type fieldSet []int

func (fs fieldSet) key() string {
	var sb strings.Builder
	for _, i := range fs {
		sb.WriteString(strconv.Itoa(i))
		sb.WriteByte(',')
	}
	return sb.String()
}

func itemFields() *fieldTable {
	rows := slices.Clone(itemFieldRows)
	for i := range rows {
		c, ok := dmap.Lookup(rows[i].tag)
		if !ok || c.Name != rows[i].name {
			panic("daap: item field " + rows[i].name + " does not match the dmap table")
		}
		rows[i].classic = c.Classic
	}
	slices.SortStableFunc(rows, func(a, b field) int {
		switch {
		case a.classic == b.classic:
			return 0
		case a.classic:
			return -1
		}
		return 1
	})
	ft := &fieldTable{rows: rows, byName: make(map[string]int, len(rows))}
	for i, f := range rows {
		ft.byName[f.name] = i
		ft.all = append(ft.all, i)
	}
	ft.deflt = ft.parse("dmap.itemname,dmap.persistentid,daap.songalbum,daap.songartist,daap.songalbumartist,"+
		"daap.songgenre,daap.songtime,daap.songtracknumber,daap.songdiscnumber,daap.songyear,daap.songformat,"+
		"daap.songsize,com.apple.itunes.mediakind", false)
	return ft
}

// parse resolves a meta= value: comma-separated dotted names, "all" for
// every field. Unknown names are skipped. classic drops the codes
// libdmapsharing 2.9.41 does not know.
func (ft *fieldTable) parse(meta string, classic bool) fieldSet {
	var set fieldSet
	if meta == "" {
		set = slices.Clone(ft.deflt)
	} else {
		seen := make([]bool, len(ft.rows))
		seen[0], seen[1] = true, true
		for name := range strings.SplitSeq(meta, ",") {
			name = strings.TrimSpace(name)
			if name == "all" {
				for i := range seen {
					seen[i] = true
				}
				break
			}
			if i, ok := ft.byName[name]; ok {
				seen[i] = true
			}
		}
		// iTunes asks for ased only; the artwork count goes with it.
		if i, ok := ft.byName["daap.songextradata"]; ok && seen[i] {
			seen[ft.byName["daap.songartworkcount"]] = true
		}
		for i, ok := range seen {
			if ok {
				set = append(set, i)
			}
		}
	}
	if classic {
		set = slices.DeleteFunc(set, func(i int) bool { return !ft.rows[i].classic })
	}
	return set
}

// encode appends one track's fields (within an mlit the caller opened).
func (ft *fieldTable) encode(b *dmap.Builder, set fieldSet, t *library.Track) {
	for _, i := range set {
		f := &ft.rows[i]
		f.emit(b, f.tag, t)
	}
}

// albumArtist is the album artist clients group by, as the catalog groups
// albums (library.Track.GroupArtist).
func albumArtist(t *library.Track) string {
	name, _ := t.GroupArtist()
	return name
}

// Sort names fall back to the names they sort, so that clients sorting by
// them see every item.

// songFormat is the file extension clients use for the stream URL.
func songFormat(t *library.Track) string {
	if t.Format != "" {
		return t.Format
	}
	if i := strings.LastIndexByte(t.Path, '.'); i >= 0 && !strings.Contains(t.Path[i:], "/") {
		return strings.ToLower(t.Path[i+1:])
	}
	return "mp3"
}

// codecInfo describes a codec: daap.songdescription and the four-character
// daap.songcodectype.
var codecInfo = map[string]struct{ desc, fourcc string }{
	"mp3":    {"MPEG audio file", "mpeg"},
	"aac":    {"AAC audio file", "mp4a"},
	"alac":   {"Apple Lossless audio file", "alac"},
	"flac":   {"FLAC audio file", "flac"},
	"vorbis": {"Ogg Vorbis audio file", "ogg "},
	"opus":   {"Opus audio file", "opus"},
	"pcm":    {"WAV audio file", "wav "},
	"wav":    {"WAV audio file", "wav "},
	"aiff":   {"AIFF audio file", "aif "},
	"wma":    {"WMA audio file", "wma "},

	"wmapro":      {"WMA Pro audio file", "wma "},
	"wmalossless": {"WMA Lossless audio file", "wma "},
	"ape":         {"Monkey's Audio file", "ape "},
	"wavpack":     {"WavPack audio file", "wvpk"},
	"musepack":    {"Musepack audio file", "mpc "},
	"tta":         {"TTA audio file", "tta "},
	"tak":         {"TAK audio file", "tak "},
	"ac3":         {"AC-3 audio file", "ac-3"},
	"eac3":        {"E-AC-3 audio file", "ec-3"},
	"dts":         {"DTS audio file", "dts "},
	"mp2":         {"MPEG-1 Layer II audio file", "mpeg"},
	"speex":       {"Speex audio file", "spx "},
	"dsd":         {"DSD audio file", "dsd "},
	"pcm_float":   {"WAV audio file", "wav "},
}

func codecKey(t *library.Track) string {
	c := t.Codec
	if c == "pcm" && (t.Format == "aif" || t.Format == "aiff" || t.Format == "aifc") {
		return "aiff"
	}
	if c == "" {
		switch f := songFormat(t); f {
		case "m4a", "m4b", "mp4":
			return "aac"
		case "ogg", "oga":
			return "vorbis"
		case "aif", "aifc":
			return "aiff"
		default:
			return f
		}
	}
	return c
}

func description(t *library.Track) string {
	if ci, ok := codecInfo[codecKey(t)]; ok {
		return ci.desc
	}
	if f := songFormat(t); f != "" {
		return strings.ToUpper(f) + " audio file"
	}
	return ""
}

func codecType(t *library.Track) int64 {
	ci, ok := codecInfo[codecKey(t)]
	if !ok {
		return 0
	}
	c := ci.fourcc
	return int64(c[0])<<24 | int64(c[1])<<16 | int64(c[2])<<8 | int64(c[3])
}
