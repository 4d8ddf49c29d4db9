package tags

import (
	"bytes"
	"compress/zlib"
	"errors"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// readCase is one file of hand-built bytes and the tags it must give. The
// comment on each case names the dhowden/tag bug (deps.md §1.5) it covers.
type readCase struct {
	name      string
	container string
	file      []byte
	want      Tags
	err       bool // Read must fail
}

func zlibBytes(b []byte) []byte {
	var buf bytes.Buffer
	w := zlib.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

var id3Cases = []readCase{
	{
		// #7: TPE1 ["Artist A","Artist B"] read as "Artist AArtist B".
		name: "v24 multi-value latin1", container: "mp3",
		file: mp3(id3(4, 0,
			frame(4, "TIT2", latin1("Song")),
			frame(4, "TPE1", latin1("Artist A", "Artist B")),
			frame(4, "TCON", latin1("Rock", "Pop")),
			frame(4, "TCOM", latin1("C1", "C2", "C1")),
		)),
		want: Tags{Title: "Song", Artist: "Artist A, Artist B", Genre: "Rock", Composer: "C1, C2"},
	},
	{
		name: "v24 multi-value utf16, second value without BOM", container: "mp3",
		file: mp3(id3(4, 0,
			frame(4, "TPE1", utf16t("Ärtist A", "Artist B")),
			frame(4, "TPE2", cat([]byte{1}, utf16le("Band", true), []byte{0, 0}, utf16le("Orchestra", false))),
		)),
		want: Tags{Artist: "Ärtist A, Artist B", AlbumArtist: "Band, Orchestra"},
	},
	{
		name: "v24 utf8 multi-value", container: "mp3",
		file: mp3(id3(4, 0, frame(4, "TPE1", utf8t("Björk", "Sigur Rós")))),
		want: Tags{Artist: "Björk, Sigur Rós"},
	},
	{
		// #8: TDRC "2019-05-03T10:11:12" and "2019-05" gave Year()=0.
		name: "year from timestamp", container: "mp3",
		file: mp3(id3(4, 0, frame(4, "TDRC", latin1("2019-05-03T10:11:12")))),
		want: Tags{Year: 2019},
	},
	{
		name: "year from year-month", container: "mp3",
		file: mp3(id3(4, 0, frame(4, "TDRC", latin1("2019-05")))),
		want: Tags{Year: 2019},
	},
	{
		name: "v23 TYER, TDOR only as fallback", container: "mp3",
		file: mp3(id3(3, 0, frame(3, "TORY", latin1("1970")), frame(3, "TYER", latin1("1999")))),
		want: Tags{Year: 1999},
	},
	{
		// #9: Comment() returned "iTunNORM".
		name: "iTunes COMM frames skipped", container: "mp3",
		file: mp3(id3(3, 0,
			frame(3, "COMM", described("eng", "iTunNORM", " 00000A4C 00000A4C")),
			frame(3, "COMM", described("eng", "iTunSMPB", " 00000000 00000210")),
			frame(3, "COMM", described("eng", "", "A real comment")),
		)),
		want: Tags{Comment: "A real comment"},
	},
	{
		// #10: an empty TCON before TIT2 lost every later frame.
		name: "zero-size frame skipped", container: "mp3",
		file: mp3(id3(3, 0, frame(3, "TCON", nil), frame(3, "TIT2", latin1("After")), frame(3, "TPE1", latin1("Still")))),
		want: Tags{Title: "After", Artist: "Still"},
	},
	{
		// #11: odd-length UTF-16 failed the whole tag.
		name: "odd-length utf16 frame", container: "mp3",
		file: mp3(id3(3, 0,
			frame(3, "TIT2", cat(utf16t("Odd"), []byte{'x'})),
			frame(3, "TALB", latin1("Album")),
			frame(3, "COMM", cat([]byte{1}, []byte("eng"), utf16le("", true), []byte{0, 0}, utf16le("Note", true), []byte{0})),
		)),
		want: Tags{Title: "Odd", Album: "Album", Comment: "Note"},
	},
	{
		// #13 (NUL trimming) and ffmpeg's TXXX compilation.
		name: "TXXX values trimmed, compilation from TXXX", container: "mp3",
		file: mp3(id3(4, 0,
			frame(4, "TXXX", described("", "compilation", "1\x00")),
			frame(4, "TXXX", described("", "ALBUMARTISTSORT", "Beatles, The\x00")),
			frame(4, "TXXX", described("", "MusicBrainz Album Id", "0a1b\x00")),
		)),
		want: Tags{Compilation: true, SortAlbumArtist: "Beatles, The"},
	},
	{
		name: "ffmpeg TXXX TCMP", container: "mp3",
		file: mp3(id3(4, 0, frame(4, "TXXX", described("", "TCMP", "1")))),
		want: Tags{Compilation: true},
	},
	{
		name: "TCMP, sort frames, grouping, BPM, track and disc", container: "mp3",
		file: mp3(id3(3, 0,
			frame(3, "TCMP", latin1("1")),
			frame(3, "TSOP", latin1("Artist, The")),
			frame(3, "TSOA", latin1("Album, The")),
			frame(3, "TSO2", latin1("Various")),
			frame(3, "TSOT", latin1("Song, A")),
			frame(3, "TSOC", latin1("Bach, J.S.")),
			frame(3, "TIT1", latin1("Work")),
			frame(3, "GRP1", latin1("Group")),
			frame(3, "TBPM", latin1("128")),
			frame(3, "TRCK", latin1("3/12")),
			frame(3, "TPOS", latin1("1/2")),
		)),
		want: Tags{Compilation: true, SortArtist: "Artist, The", SortAlbum: "Album, The", SortAlbumArtist: "Various",
			SortTitle: "Song, A", SortComposer: "Bach, J.S.", Grouping: "Group", BPM: 128, Track: 3, TrackTotal: 12, Disc: 1, DiscTotal: 2},
	},
	{
		name: "TIT1 grouping when no GRP1", container: "mp3",
		file: mp3(id3(4, 0, frame(4, "TIT1", latin1("Work")))),
		want: Tags{Grouping: "Work"},
	},
	{
		name: "genre references", container: "mp3",
		file: mp3(id3(3, 0, frame(3, "TCON", latin1("(17)")))),
		want: Tags{Genre: "Rock"},
	},
	{
		name: "genre reference with refinement", container: "mp3",
		file: mp3(id3(3, 0, frame(3, "TCON", latin1("(79)Hard Rock (live)")))),
		want: Tags{Genre: "Hard Rock (live)"},
	},
	{
		name: "genre index out of range", container: "mp3",
		file: mp3(id3(3, 0, frame(3, "TCON", latin1("(255)")), frame(3, "TIT2", latin1("x")))),
		want: Tags{Title: "x"},
	},
	{
		name: "v24 numeric genre", container: "mp3",
		file: mp3(id3(4, 0, frame(4, "TCON", latin1("0", "Jazz")))),
		want: Tags{Genre: "Blues"},
	},
	{
		name: "v23 whole-tag unsynchronisation", container: "mp3",
		file: mp3(cat([]byte{'I', 'D', '3', 3, 0, 0x80}, syncsafe4(28),
			[]byte("TIT2"), be32(5), []byte{0, 0}, []byte{0, 'A', 0xFF, 0x00, 'B', 'C'},
			[]byte("TPE1"), be32(2), []byte{0, 0}, []byte{0, 'X'})),
		want: Tags{Title: "AÿBC", Artist: "X"},
	},
	{
		name: "v24 frame unsynchronisation and data length indicator", container: "mp3",
		file: mp3(id3(4, 0, cat([]byte("TIT2"), syncsafe4(10), []byte{0, 0x03}, syncsafe4(5), []byte{0, 'A', 0xFF, 0x00, 'B'}))),
		want: Tags{Title: "AÿB"},
	},
	{
		name: "v23 compressed frame", container: "mp3",
		file: func() []byte {
			z := zlibBytes(latin1("Squeezed"))
			return mp3(id3(3, 0, cat([]byte("TIT2"), be32(uint32(4+len(z))), []byte{0, 0x80}, be32(9), z)))
		}(),
		want: Tags{Title: "Squeezed"},
	},
	{
		name: "v24 iTunes plain frame sizes", container: "mp3",
		file: mp3(id3(4, 0,
			cat([]byte("TIT2"), be32(201), []byte{0, 0}, latin1(strings.Repeat("t", 200))),
			cat([]byte("TPE1"), be32(3), []byte{0, 0}, latin1("Me")),
		)),
		want: Tags{Title: strings.Repeat("t", 200), Artist: "Me"},
	},
	{
		name: "v23 extended header", container: "mp3",
		file: mp3(id3(3, 0x40, be32(6), make([]byte, 6), frame(3, "TIT2", latin1("Ext")))),
		want: Tags{Title: "Ext"},
	},
	{
		name: "v22 tag", container: "mp3",
		file: mp3(id3(2, 0,
			frame22("TT2", latin1("Old")),
			frame22("TP1", latin1("Timer")),
			frame22("TRK", latin1("7")),
			frame22("PIC", cat([]byte{0}, []byte("PNG"), []byte{3}, []byte("\x00"), pngData)),
		)),
		want: Tags{Title: "Old", Artist: "Timer", Track: 7, HasPicture: true, PictureMIME: "image/png"},
	},
	{
		// dhowden/tag's Picture() returns the first APIC, here the back cover.
		name: "front cover preferred", container: "mp3",
		file: mp3(id3(3, 0,
			frame(3, "APIC", apic("image/png", 4, pngData)),
			frame(3, "APIC", apic("image/jpg", 3, jpegData)),
		)),
		want: Tags{HasPicture: true, PictureMIME: "image/jpeg"},
	},
	{
		name: "invalid UTF-8 replaced, NFD to NFC, spaces trimmed", container: "mp3",
		file: mp3(id3(4, 0,
			frame(4, "TIT2", utf8t("Caf\xe9 ")),
			frame(4, "TPE1", utf8t(" Beyonce\u0301\x00")),
		)),
		want: Tags{Title: "Caf\uFFFD", Artist: "Beyoncé"},
	},
	{
		name: "ID3v1 fills what ID3v2 lacks", container: "mp3",
		file: cat(mp3(id3(3, 0, frame(3, "TIT2", latin1("Two")))),
			[]byte("TAG"), pad("One", 30), pad("Caf\xe9", 30), pad("Album", 30), []byte("1987"), pad("", 28), []byte{0, 5}, []byte{17}),
		want: Tags{Title: "Two", Artist: "Café", Album: "Album", Year: 1987, Track: 5, Genre: "Rock"},
	},
	{
		name: "ID3v1 only", container: "mp3",
		file: cat(mp3(nil), []byte("TAG"), pad("One", 30), pad("", 30), pad("", 30), []byte("1987"), pad("", 30), []byte{255}),
		want: Tags{Title: "One", Year: 1987},
	},
	{
		name: "no ID3", container: "mp3",
		file: mp3(nil), err: true,
	},
	{
		name: "frame overrunning the tag keeps what is there", container: "mp3",
		file: id3(3, 0, frame(3, "TPE1", latin1("Whole")), cat([]byte("TIT2"), be32(1000), []byte{0, 0}, latin1("Cut"))),
		want: Tags{Artist: "Whole", Title: "Cut"},
	},
}

// pad returns s padded with NULs to n bytes.
func pad(s string, n int) []byte { return append([]byte(s), make([]byte, n-len(s))...) }

var mp4Cases = []readCase{
	{
		// #3, #4: trkn 300/400 read as 44/144, tmpo 128 as 0.
		name: "16-bit track, disc and tempo", container: "mp4",
		file: m4a(
			box("trkn", data(0, []byte{0, 0, 0x01, 0x2C, 0x01, 0x90, 0, 0})),
			box("disk", data(0, []byte{0, 0, 0x01, 0x01, 0x01, 0x2C})),
			box("tmpo", data(classInt, []byte{0, 128})),
		),
		want: Tags{Track: 300, TrackTotal: 400, Disc: 257, DiscTotal: 300, BPM: 128},
	},
	{
		// #5: two data atoms came back as "Artist A\x00\x00\x00\x18data…Artist B".
		name: "several data atoms", container: "mp4",
		file: m4a(box("\xa9ART", str("Artist A"), str("Artist B")), box("\xa9nam", str("Title"))),
		want: Tags{Artist: "Artist A, Artist B", Title: "Title"},
	},
	{
		// gnre was dropped: iTunes-purchased files had no genre.
		name: "gnre index", container: "mp4",
		file: m4a(box("gnre", data(0, []byte{0, 18}))),
		want: Tags{Genre: "Rock"},
	},
	{
		name: "text genre wins over gnre", container: "mp4",
		file: m4a(box("gnre", data(0, []byte{0, 18})), box("\xa9gen", str("Shoegaze"))),
		want: Tags{Genre: "Shoegaze"},
	},
	{
		// sort atoms were dropped.
		name: "sort atoms, compilation, grouping, composer, year", container: "mp4",
		file: m4a(
			box("sonm", str("Song, A")), box("soar", str("Artist, The")), box("soaa", str("Various")),
			box("soal", str("Album, The")), box("soco", str("Bach")), box("cpil", data(classInt, []byte{1})),
			box("\xa9grp", str("Group")), box("\xa9wrt", str("Composer")), box("\xa9day", str("2001-02-03T00:00:00Z")),
			box("aART", str("Album Artist")), box("\xa9alb", str("Album")), box("\xa9cmt", str("Comment")),
		),
		want: Tags{SortTitle: "Song, A", SortArtist: "Artist, The", SortAlbumArtist: "Various", SortAlbum: "Album, The",
			SortComposer: "Bach", Compilation: true, Grouping: "Group", Composer: "Composer", Year: 2001,
			AlbumArtist: "Album Artist", Album: "Album", Comment: "Comment"},
	},
	{
		// #1: ©nam holding a JPEG made Title() panic; #6: an implicit class
		// failed the whole file.
		name: "odd data classes", container: "mp4",
		file: m4a(box("\xa9nam", data(classJPEG, jpegData)), box("\xa9alb", data(classImplicit, []byte("Implicit"))),
			box("\xa9ART", data(classUTF16, []byte{0, 'U', 0, 'T', 0, 'F'}))),
		want: Tags{Album: "Implicit", Artist: "UTF"},
	},
	{
		name: "title holding a JPEG", container: "mp4",
		file: m4a(box("\xa9nam", data(classJPEG, jpegData)), box("\xa9ART", str("Artist"))),
		want: Tags{Artist: "Artist"},
	},
	{
		name: "cover art", container: "mp4",
		file: m4a(box("covr", data(classPNG, pngData), data(classJPEG, jpegData))),
		want: Tags{HasPicture: true, PictureMIME: "image/png"},
	},
	{
		name: "freeform atoms as fallbacks", container: "mp4",
		file: m4a(box("----", box("mean", be32(0), []byte("com.apple.iTunes")), box("name", be32(0), []byte("ALBUMARTISTSORT")), str("Sorted"))),
		want: Tags{SortAlbumArtist: "Sorted"},
	},
	{
		name: "64-bit boxes and QuickTime meta", container: "mp4",
		file: box64("moov", box64("udta", box("meta", box("hdlr", make([]byte, 20)), box("ilst", box("\xa9nam", str("Big")))))),
		want: Tags{Title: "Big"},
	},
	{
		name: "box size below its header", container: "mp4",
		file: cat(box("ftyp", []byte("M4A ")), be32(4), []byte("moov")), err: true,
	},
	{
		name: "no ilst", container: "mp4",
		file: cat(box("ftyp", []byte("M4A ")), box("moov", box("mvhd", make([]byte, 100)))), err: true,
	},
}

var vorbisFields = []string{
	"TITLE=Song", "artist=Artist A", "ARTIST=Artist B", "ALBUM ARTIST=Band", "Album=Album",
	"TRACKNUMBER=3/25", "DISCNUMBER=1/2", "DATE=2019-05-03T10:11", "GENRE=Rock", "GENRE=Pop",
	"COMPILATION=1", "ARTISTSORT=Artist, The", "ALBUMSORT=Album, The", "ALBUMARTISTSORT=Band, The",
	"TITLESORT=Song, A", "COMPOSERSORT=Bach", "BPM=120.4", "GROUPING=Group", "COMMENT=Nice",
	"PERFORMER=Not the composer",
}

var vorbisWant = Tags{
	Title: "Song", Artist: "Artist A, Artist B", AlbumArtist: "Band", Album: "Album", Track: 3, TrackTotal: 25,
	Disc: 1, DiscTotal: 2, Year: 2019, Genre: "Rock", Compilation: true, SortArtist: "Artist, The",
	SortAlbum: "Album, The", SortAlbumArtist: "Band, The", SortTitle: "Song, A", SortComposer: "Bach",
	BPM: 120, Grouping: "Group", Comment: "Nice",
}

var flacCases = []readCase{
	{
		// #12: TRACKNUMBER=3/25 gave 0/0, repeated keys kept the last,
		// ALBUM ARTIST unknown, Composer fell back to the artist; #8: DATE
		// "2019-05-03T10:11" gave Year()=1.
		name: "vorbis comment", container: "flac",
		file: flac(block(4, vorbisComment(vorbisFields...))),
		want: vorbisWant,
	},
	{
		name: "field without =", container: "flac",
		file: flac(block(4, vorbisComment("TITLE=Kept", "no equals sign", "ARTIST=Also kept"))),
		want: Tags{Title: "Kept", Artist: "Also kept"},
	},
	{
		name: "separate totals", container: "flac",
		file: flac(block(4, vorbisComment("TRACKNUMBER=4", "TOTALTRACKS=9", "DISCNUMBER=2", "DISCTOTAL=3", "ALBUM_ARTIST=AA"))),
		want: Tags{Track: 4, TrackTotal: 9, Disc: 2, DiscTotal: 3, AlbumArtist: "AA"},
	},
	{
		name: "pictures: front cover preferred", container: "flac",
		file: flac(block(6, flacPictureBody(4, "image/png", pngData)), block(6, flacPictureBody(3, "image/jpeg", jpegData)), block(4, vorbisComment("TITLE=T"))),
		want: Tags{Title: "T", HasPicture: true, PictureMIME: "image/jpeg"},
	},
	{
		// #2: a 92-byte file whose PICTURE claims 0xF0000000 bytes.
		name: "picture length lies", container: "flac",
		file: flac(block(6, cat(be32(3), be32(10), []byte("image/jpeg"), be32(0), make([]byte, 16), be32(0xF0000000), jpegData))),
		err:  true,
	},
	{
		name: "block longer than file", container: "flac",
		file: cat([]byte("fLaC"), flacBlock(0, false, make([]byte, 34)), []byte{4, 0xFF, 0xFF, 0xFF}, vorbisComment("TITLE=x")),
		err:  true,
	},
	{
		name: "comment count lies", container: "flac",
		file: flac(block(4, cat(le32(0), le32(0xFFFFFFFF), le32(7), []byte("TITLE=x")))),
		want: Tags{Title: "x"},
	},
	{
		name: "leading ID3v2 fills gaps", container: "flac",
		file: cat(id3(3, 0, frame(3, "TIT2", latin1("ID3 title")), frame(3, "TCOM", latin1("ID3 composer"))), flac(block(4, vorbisComment("TITLE=Vorbis title")))),
		want: Tags{Title: "Vorbis title", Composer: "ID3 composer"},
	},
	{
		name: "no fLaC marker", container: "flac",
		file: []byte("not a flac file at all"), err: true,
	},
}

var oggCases = []readCase{
	{
		// dhowden/tag enforced CRCs (lowercase-fields.ogg); ours are zero.
		name: "vorbis, zero CRCs", container: "ogg",
		file: ogg(7, 0, vorbisID, vorbisCommentPacket(vorbisFields...), []byte{5, 'v'}),
		want: vorbisWant,
	},
	{
		name: "vorbis comment over two pages", container: "ogg",
		file: ogg(7, 300, vorbisID, vorbisCommentPacket("TITLE="+strings.Repeat("x", 600), "ARTIST=Late"), []byte{5}),
		want: Tags{Title: strings.Repeat("x", 600), Artist: "Late"},
	},
	{
		name: "opus with picture", container: "ogg",
		file: ogg(9, 0, opusHead, opusTags("TITLE=Opus", pictureField(3, "image/png", pngData))),
		want: Tags{Title: "Opus", HasPicture: true, PictureMIME: "image/png"},
	},
	{
		name: "flac in ogg", container: "ogg",
		file: ogg(3, 0, cat([]byte("\x7fFLAC\x01\x00\x00\x02fLaC"), flacBlock(0, false, make([]byte, 34))),
			flacBlock(4, true, vorbisComment("TITLE=Oga"))),
		want: Tags{Title: "Oga"},
	},
	{
		name: "speex", container: "ogg",
		file: ogg(3, 0, cat([]byte("Speex   "), make([]byte, 72)), vorbisComment("TITLE=Spx")),
		want: Tags{Title: "Spx"},
	},
	{
		name: "multiplexed: first audio stream", container: "ogg",
		file: cat(oggPage(1, 0x02, 0, []byte{11}, []byte("\x80theora....")),
			oggPage(2, 0x02, 0, lacing(len(vorbisID)), vorbisID),
			oggPage(1, 0, 1, []byte{4}, []byte("junk")),
			oggPage(2, 0, 1, lacing(len(vorbisCommentPacket("TITLE=Muxed"))), vorbisCommentPacket("TITLE=Muxed"))),
		want: Tags{Title: "Muxed"},
	},
	{
		name: "truncated comment packet", container: "ogg",
		file: func() []byte {
			f := ogg(7, 0, vorbisID, vorbisCommentPacket("TITLE=First", "ARTIST=Second"))
			return f[:bytes.Index(f, []byte("ARTIST"))+3]
		}(),
		want: Tags{Title: "First"},
	},
	{
		name: "not ogg", container: "ogg",
		file: []byte("OggS but nothing after"), err: true,
	},
}

var riffCases = []readCase{
	{
		name: "wav id3 chunk", container: "wav",
		file: wav(riffChunk("id3 ", id3(3, 0, frame(3, "TIT2", latin1("Wave")), frame(3, "TPE1", latin1("Artist"))))),
		want: Tags{Title: "Wave", Artist: "Artist"},
	},
	{
		name: "wav ID3 chunk wins over INFO", container: "wav",
		file: wav(info("INAM", "Info title", "IPRD", "Info album", "ICRD", "2003-01-01", "IGNR", "Jazz", "ICMT", "Hi", "ITRK", "4", "IART", "Info artist"),
			riffChunk("ID3 ", id3(4, 0, frame(4, "TIT2", latin1("ID3 title"))))),
		want: Tags{Title: "ID3 title", Album: "Info album", Year: 2003, Genre: "Jazz", Comment: "Hi", Track: 4, Artist: "Info artist"},
	},
	{
		name: "wav INFO in latin1, IPRT track", container: "wav",
		file: wav(info("INAM", "Caf\xe9", "IPRT", "2")),
		want: Tags{Title: "Café", Track: 2},
	},
	{
		name: "wav without tags", container: "wav",
		file: wav(), err: true,
	},
	{
		name: "aiff id3 chunk", container: "aiff",
		file: aiff(iffChunk("ID3 ", id3(4, 0, frame(4, "TIT2", latin1("Aiff")), frame(4, "TRCK", latin1("2/3"))))),
		want: Tags{Title: "Aiff", Track: 2, TrackTotal: 3},
	},
	{
		name: "aiff NAME and AUTH chunks", container: "aiff",
		file: aiff(iffChunk("NAME", []byte("Name")), iffChunk("AUTH", []byte("Auth")), iffChunk("ANNO", []byte("Note"))),
		want: Tags{Title: "Name", Artist: "Auth", Comment: "Note"},
	},
	{
		name: "aiff odd chunk padding", container: "aiff",
		file: aiff(iffChunk("NAME", []byte("Odd")), iffChunk("ID3 ", id3(3, 0, frame(3, "TPE1", latin1("Padded"))))),
		want: Tags{Title: "Odd", Artist: "Padded"},
	},
}

func allCases() []readCase {
	return append(append(append(append(append([]readCase(nil), id3Cases...), mp4Cases...), flacCases...), oggCases...), riffCases...)
}

func TestRead(t *testing.T) {
	for _, tc := range allCases() {
		t.Run(tc.container+"/"+tc.name, func(t *testing.T) {
			got, err := Read(bytes.NewReader(tc.file), int64(len(tc.file)), tc.container)
			if tc.err {
				if err == nil {
					t.Fatalf("Read = %+v, want an error", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("Read (-want +got):\n%s", d)
			}
			// Sniffing the container gives the same result.
			if sniffed, err := Read(bytes.NewReader(tc.file), int64(len(tc.file)), ""); err != nil || sniffed != got {
				t.Errorf("Read with container \"\" = %+v, %v", sniffed, err)
			}
		})
	}
}

func TestPicture(t *testing.T) {
	tests := []struct {
		name, container string
		file            []byte
		data            []byte
		mime            string
	}{
		{"mp3 front over back", "mp3", mp3(id3(3, 0, frame(3, "APIC", apic("image/png", 4, pngData)), frame(3, "APIC", apic("image/jpg", 3, jpegData)))), jpegData, "image/jpeg"},
		{"mp3 other picture", "mp3", mp3(id3(4, 0, frame(4, "APIC", apic("png", 0, pngData)))), pngData, "image/png"},
		{"mp3 compressed APIC", "mp3", mp3(id3(4, 0, cat([]byte("APIC"), syncsafe4(4+len(zlibBytes(apic("", 3, jpegData)))), []byte{0, 0x09},
			syncsafe4(len(apic("", 3, jpegData))), zlibBytes(apic("", 3, jpegData))))), jpegData, "image/jpeg"},
		{"mp3 v22 PIC", "mp3", mp3(id3(2, 0, frame22("PIC", cat([]byte{0}, []byte("JPG"), []byte{3, 0}, jpegData)))), jpegData, "image/jpeg"},
		{"mp4 first covr", "mp4", m4a(box("covr", data(classPNG, pngData), data(classJPEG, jpegData))), pngData, "image/png"},
		{"flac front", "flac", flac(block(6, flacPictureBody(4, "image/png", pngData)), block(6, flacPictureBody(3, "image/jpeg", jpegData))), jpegData, "image/jpeg"},
		{"opus front", "ogg", ogg(9, 0, opusHead, opusTags(pictureField(0, "image/png", pngData), pictureField(3, "image/jpeg", jpegData), "TITLE=x")), jpegData, "image/jpeg"},
		{"vorbis legacy COVERART", "ogg", ogg(9, 0, vorbisID, vorbisCommentPacket("COVERART="+b64(pngData))), pngData, "image/png"},
		{"wav id3 chunk", "wav", wav(riffChunk("id3 ", id3(3, 0, frame(3, "APIC", apic("image/jpeg", 3, jpegData))))), jpegData, "image/jpeg"},
		{"aiff id3 chunk", "aiff", aiff(iffChunk("ID3 ", id3(3, 0, frame(3, "APIC", apic("image/png", 3, pngData))))), pngData, "image/png"},
		{"mime from data when declared wrong", "flac", flac(block(6, flacPictureBody(3, "image/gif", pngData))), pngData, "image/png"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, mime, err := Picture(bytes.NewReader(tc.file), int64(len(tc.file)), tc.container)
			if err != nil {
				t.Fatalf("Picture: %v", err)
			}
			if !bytes.Equal(b, tc.data) || mime != tc.mime {
				t.Errorf("Picture = %q, %q; want %q, %q", b, mime, tc.data, tc.mime)
			}
		})
	}
}

func TestPictureErrors(t *testing.T) {
	noPic := flac(block(4, vorbisComment("TITLE=x")))
	if _, _, err := Picture(bytes.NewReader(noPic), int64(len(noPic)), "flac"); !errors.Is(err, ErrNoPicture) || !errors.Is(err, ErrNoTags) {
		t.Errorf("no picture: err = %v, want ErrNoPicture (an ErrNoTags)", err)
	}
	big := m4a(box("covr", data(classJPEG, make([]byte, MaxPicture+1))))
	if _, _, err := Picture(bytes.NewReader(big), int64(len(big)), "mp4"); err == nil || errors.Is(err, ErrNoTags) {
		t.Errorf("oversized picture: err = %v, want a size error", err)
	}
	tg, err := Read(bytes.NewReader(big), int64(len(big)), "mp4")
	if err != nil || !tg.HasPicture {
		t.Errorf("oversized picture: Read = %+v, %v; want HasPicture", tg, err)
	}
}

// TestLyingLengthsCheap checks that lengths read from the file are checked
// before anything is allocated for them (deps.md §1.5 #2: 3.75 GiB).
func TestLyingLengthsCheap(t *testing.T) {
	files := map[string][]byte{
		"flac": flac(block(6, cat(be32(3), be32(10), []byte("image/jpeg"), be32(0), make([]byte, 16), be32(0xF0000000), jpegData))),
		"mp3":  mp3(id3(4, 0, cat([]byte("TIT2"), []byte{0x7F, 0x7F, 0x7F, 0x7F}, []byte{0, 0}, latin1("x")))),
		"ogg":  ogg(7, 0, vorbisID, cat([]byte("\x03vorbis"), le32(0xFFFFFFF0), []byte("v"))),
		"mp4":  cat(box("ftyp", []byte("M4A ")), be32(1), []byte("moov"), []byte{0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}),
		"wav":  cat([]byte("RIFF"), le32(0xFFFFFFFF), []byte("WAVE"), []byte("id3 "), le32(0xFFFFFFF0), id3(3, 0)),
	}
	for container, file := range files {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		for range 10 {
			Read(bytes.NewReader(file), int64(len(file)), container)
			Picture(bytes.NewReader(file), int64(len(file)), container)
		}
		runtime.ReadMemStats(&after)
		if d := after.TotalAlloc - before.TotalAlloc; d > 4<<20 {
			t.Errorf("%s: 20 reads of %d bytes allocated %d bytes", container, len(file), d)
		}
	}
}
