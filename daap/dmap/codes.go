// Package dmap encodes and decodes DMAP, the tagged binary format of DAAP
// replies: a 4-byte ASCII tag, a 4-byte big-endian length, then the payload.
// Containers nest. The package is a codec only; it knows nothing of HTTP.
package dmap

import "fmt"

// Type is a content-code type as sent in /content-codes (mcty).
//
// Odd integer types are non-negative, even ones signed (see Codes).
type Type uint8

// Content-code types.
const (
	Byte        Type = 1  // 1-byte unsigned integer
	SignedByte  Type = 2  // 1-byte signed integer
	Short       Type = 3  // 2-byte unsigned integer
	SignedShort Type = 4  // 2-byte signed integer
	Int         Type = 5  // 4-byte unsigned integer
	SignedInt   Type = 6  // 4-byte signed integer
	Long        Type = 7  // 8-byte unsigned integer
	SignedLong  Type = 8  // 8-byte signed integer
	String      Type = 9  // UTF-8 text, no terminator
	Date        Type = 10 // 4-byte Unix seconds
	Version     Type = 11 // 16-bit major, 8-bit minor, 8-bit patch
	Container   Type = 12 // a sequence of elements
)

var typeNames = [...]string{"", "byte", "signed byte", "short", "signed short", "int", "signed int",
	"long", "signed long", "string", "date", "version", "container"}

func (t Type) String() string {
	if int(t) < len(typeNames) && t != 0 {
		return typeNames[t]
	}
	return fmt.Sprintf("type(%d)", uint8(t))
}

// Width is the payload size of a fixed-size type in bytes, or 0 for strings,
// containers and unknown types.
func (t Type) Width() int {
	switch t {
	case Byte, SignedByte:
		return 1
	case Short, SignedShort:
		return 2
	case Int, SignedInt, Date, Version:
		return 4
	case Long, SignedLong:
		return 8
	}
	return 0
}

// Integer reports whether t is one of the eight integer types.
func (t Type) Integer() bool { return t >= Byte && t <= SignedLong }

// Signed reports whether t is a signed integer type.
func (t Type) Signed() bool { return t.Integer() && t%2 == 0 }

// Code is one content code: its wire tag, dotted name and type.
type Code struct {
	Tag  string // 4 ASCII bytes, e.g. "minm"
	Name string // dotted name, e.g. "dmap.itemname"
	Type Type
	// Classic marks codes that libdmapsharing 2.9.41 (Rhythmbox on Debian
	// bookworm) knows with the same width. That library stops parsing a
	// container at the first code it does not know, so only Classic codes
	// are safe to send it. asai is known there but as 4 bytes (we send 8),
	// so it is not Classic.
	Classic bool
}

// Codes lists every content code daapd speaks, in /content-codes order.
//
// Sources: OwnTone src/dmap_fields.gperf, libdmapsharing dmap-structure.c
// (2.9.41 and 4.x), flask-daapserver daap_data.py, Wireshark packet-daap.c.
// Odd (unsigned) types are used for every non-negative integer, even types
// only for truly signed fields (asrv, msto). Widths follow OwnTone and
// iTunes where the sources disagree (asai and mper are 8 bytes).
var Codes = []Code{
	// Envelopes and generic fields.
	{"mstt", "dmap.status", Int, true},
	{"msts", "dmap.statusstring", String, true},
	{"mcon", "dmap.container", Container, true},
	{"mlcl", "dmap.listing", Container, true},
	{"mlit", "dmap.listingitem", Container, true},
	{"mbcl", "dmap.bag", Container, true},
	{"mdcl", "dmap.dictionary", Container, true},
	{"miid", "dmap.itemid", Int, true},
	{"minm", "dmap.itemname", String, true},
	{"mikd", "dmap.itemkind", Byte, true},
	{"mper", "dmap.persistentid", Long, true},
	{"mcti", "dmap.containeritemid", Int, true},
	{"mpco", "dmap.parentcontainerid", Int, true},
	{"mimc", "dmap.itemcount", Int, true},
	{"mctc", "dmap.containercount", Int, true},
	{"mrco", "dmap.returnedcount", Int, true},
	{"mtco", "dmap.specifiedtotalcount", Int, true},

	// /server-info.
	{"msrv", "dmap.serverinforesponse", Container, true},
	{"mpro", "dmap.protocolversion", Version, true},
	{"apro", "daap.protocolversion", Version, true},
	{"aeSV", "com.apple.itunes.music-sharing-version", Int, true},
	{"ated", "daap.supportsextradata", Short, false},
	{"asgr", "daap.supportsgroups", Short, false},
	{"aeMQ", "com.apple.itunes.unknown-MQ", Byte, false},
	{"aeTr", "com.apple.itunes.unknown-Tr", Byte, false},
	{"aeSL", "com.apple.itunes.unknown-SL", Byte, false},
	{"aeSR", "com.apple.itunes.unknown-SR", Byte, false},
	{"aeFP", "com.apple.itunes.req-fplay", Byte, true}, // never announce: triggers FairPlay
	{"msed", "dmap.supportsedit", Byte, false},
	{"mslr", "dmap.loginrequired", Byte, true},
	{"mstm", "dmap.timeoutinterval", Int, true},
	{"msal", "dmap.supportsautologout", Byte, true},
	{"msau", "dmap.authenticationmethod", Byte, true},
	{"msas", "dmap.authenticationschemes", Byte, true},
	{"msup", "dmap.supportsupdate", Byte, true},
	{"mspi", "dmap.supportspersistentids", Byte, true},
	{"msex", "dmap.supportsextensions", Byte, true},
	{"msbr", "dmap.supportsbrowse", Byte, true},
	{"msqy", "dmap.supportsquery", Byte, true},
	{"msix", "dmap.supportsindex", Byte, true},
	{"msrs", "dmap.supportsresolve", Byte, true},
	{"msdc", "dmap.databasescount", Int, true},
	{"mstc", "dmap.utctime", Date, false},
	{"msto", "dmap.utcoffset", SignedInt, false},

	// /content-codes.
	{"mccr", "dmap.contentcodesresponse", Container, true},
	{"mcnm", "dmap.contentcodesnumber", Int, true}, // the tag's 4 bytes; use Builder.Raw
	{"mcna", "dmap.contentcodesname", String, true},
	{"mcty", "dmap.contentcodestype", Short, true},

	// /login, /update.
	{"mlog", "dmap.loginresponse", Container, true},
	{"mlid", "dmap.sessionid", Int, true},
	{"mupd", "dmap.updateresponse", Container, true},
	{"musr", "dmap.serverrevision", Int, true},
	{"muty", "dmap.updatetype", Byte, true},
	{"mudl", "dmap.deletedidlisting", Container, true},

	// /databases.
	{"avdb", "daap.serverdatabases", Container, true},
	{"mdbk", "dmap.databasekind", Int, false},
	{"meds", "dmap.editcommandssupported", Int, false},
	{"aeCs", "com.apple.itunes.artworkchecksum", Int, false},

	// /databases/N/items.
	{"adbs", "daap.databasesongs", Container, true},
	{"asal", "daap.songalbum", String, true},
	{"asar", "daap.songartist", String, true},
	{"asaa", "daap.songalbumartist", String, true},
	{"asai", "daap.songalbumid", Long, false}, // 4 bytes in libdmapsharing
	{"asri", "daap.songartistid", Long, false},
	{"asbr", "daap.songbitrate", Short, true},
	{"asbt", "daap.songbeatsperminute", Short, true},
	{"ascm", "daap.songcomment", String, true},
	{"asco", "daap.songcompilation", Byte, true},
	{"ascp", "daap.songcomposer", String, true},
	{"ascd", "daap.songcodectype", Int, false},
	{"ascs", "daap.songcodecsubtype", Int, false},
	{"ascn", "daap.songcontentdescription", String, false},
	{"ascr", "daap.songcontentrating", Byte, false},
	{"asct", "daap.songcategory", String, false},
	{"asda", "daap.songdateadded", Date, true},
	{"asdm", "daap.songdatemodified", Date, true},
	{"asdr", "daap.songdatereleased", Date, false},
	{"asdp", "daap.songdatepurchased", Date, false},
	{"asdc", "daap.songdisccount", Short, true},
	{"asdn", "daap.songdiscnumber", Short, true},
	{"asdb", "daap.songdisabled", Byte, true},
	{"asdk", "daap.songdatakind", Byte, true},
	{"asdt", "daap.songdescription", String, true},
	{"ased", "daap.songextradata", Short, false},
	{"asac", "daap.songartworkcount", Short, false},
	{"aseq", "daap.songeqpreset", String, true},
	{"asfm", "daap.songformat", String, true},
	{"asgn", "daap.songgenre", String, true},
	{"agrp", "daap.songgrouping", String, true},
	{"asgp", "daap.songgapless", Byte, false},
	{"ashp", "daap.songhasbeenplayed", Byte, false},
	{"asbk", "daap.bookmarkable", Byte, false},
	{"asbo", "daap.songbookmark", Int, false},
	{"asky", "daap.songkeywords", String, false},
	{"aslc", "daap.songlongcontentdescription", String, false},
	{"asls", "daap.songlongsize", Long, false},
	{"aspu", "daap.songpodcasturl", String, false},
	{"aspc", "daap.songuserplaycount", Int, false},
	{"asrv", "daap.songrelativevolume", SignedByte, true},
	{"assr", "daap.songsamplerate", Int, true},
	{"assz", "daap.songsize", Int, true},
	{"asst", "daap.songstarttime", Int, true},
	{"assp", "daap.songstoptime", Int, true},
	{"astm", "daap.songtime", Int, true},
	{"astc", "daap.songtrackcount", Short, true},
	{"astn", "daap.songtracknumber", Short, true},
	{"asur", "daap.songuserrating", Byte, true},
	{"asyr", "daap.songyear", Short, true},
	{"asul", "daap.songdataurl", String, true},
	{"assn", "daap.sortname", String, false},
	{"assa", "daap.sortartist", String, true},
	{"assu", "daap.sortalbum", String, true},
	{"assl", "daap.sortalbumartist", String, false},
	{"assc", "daap.sortcomposer", String, false},
	{"asss", "daap.sortseriesname", String, false},
	{"aeHV", "com.apple.itunes.has-video", Byte, true},
	{"aeHD", "com.apple.itunes.is-hd-video", Byte, false},
	{"aeMK", "com.apple.itunes.mediakind", Byte, true},
	{"aeMk", "com.apple.itunes.extended-media-kind", Int, false},
	{"aeNV", "com.apple.itunes.norm-volume", Int, false},
	{"aePC", "com.apple.itunes.is-podcast", Byte, false},
	{"aeCR", "com.apple.itunes.content-rating", String, false},
	{"aeSN", "com.apple.itunes.series-name", String, false},
	{"aeNN", "com.apple.itunes.network-name", String, false},
	{"aeEN", "com.apple.itunes.episode-num-str", String, false},
	{"aeES", "com.apple.itunes.episode-sort", Int, false},
	{"aeSU", "com.apple.itunes.season-num", Int, false},
	{"aeAI", "com.apple.itunes.itms-artistid", Int, false},
	{"aeCI", "com.apple.itunes.itms-composerid", Int, false},
	{"aeGI", "com.apple.itunes.itms-genreid", Int, false},
	{"aePI", "com.apple.itunes.itms-playlistid", Int, false},
	{"aeSI", "com.apple.itunes.itms-songid", Int, false},
	{"aeSF", "com.apple.itunes.itms-storefrontid", Int, false},
	{"aeGH", "com.apple.itunes.gapless-heur", Int, false},
	{"aeGD", "com.apple.itunes.gapless-enc-dr", Int, false},
	{"aeGE", "com.apple.itunes.gapless-enc-del", Int, false},
	{"aeGR", "com.apple.itunes.gapless-resy", Long, false},
	{"aeGU", "com.apple.itunes.gapless-dur", Long, false},

	// /databases/N/containers and their items.
	{"aply", "daap.databaseplaylists", Container, true},
	{"apso", "daap.playlistsongs", Container, true},
	{"abpl", "daap.baseplaylist", Byte, true},
	{"aeSP", "com.apple.itunes.smart-playlist", Byte, true},
	{"aePS", "com.apple.itunes.special-playlist", Byte, true},
	{"aePP", "com.apple.itunes.is-podcast-playlist", Byte, true},
	{"aeSG", "com.apple.itunes.saved-genius", Byte, true},
	{"apsm", "daap.playlistshufflemode", Byte, false},
	{"aprm", "daap.playlistrepeatmode", Byte, false},

	// /databases/N/browse: the mlit children of these hold a bare string.
	{"abro", "daap.databasebrowse", Container, true},
	{"abar", "daap.browseartistlisting", Container, true},
	{"abal", "daap.browsealbumlisting", Container, true},
	{"abgn", "daap.browsegenrelisting", Container, true},
	{"abcp", "daap.browsecomposerlisting", Container, true},

	// /databases/N/groups.
	{"agal", "daap.albumgrouping", Container, true},
	{"agar", "daap.artistgrouping", Container, false},
	{"agac", "daap.groupalbumcount", Int, false},

	// include-sort-headers=1.
	{"mshl", "dmap.sortingheaderlisting", Container, false},
	{"mshc", "dmap.sortingheaderchar", Short, false},
	{"mshi", "dmap.sortingheaderindex", Int, false},
	{"mshn", "dmap.sortingheadernumber", Int, false},
}

var byTag, byName = indexCodes()

func indexCodes() (map[string]Code, map[string]Code) {
	t := make(map[string]Code, len(Codes))
	n := make(map[string]Code, len(Codes))
	for _, c := range Codes {
		t[c.Tag] = c
		n[c.Name] = c
	}
	return t, n
}

// Lookup returns the code with the given 4-byte tag.
func Lookup(tag string) (Code, bool) {
	c, ok := byTag[tag]
	return c, ok
}

// ByName returns the code with the given dotted name, e.g. "dmap.itemname".
func ByName(name string) (Code, bool) {
	c, ok := byName[name]
	return c, ok
}
