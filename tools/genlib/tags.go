package main

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"strconv"
)

// Tags is what genlib writes into one file. Zero values are not written.
type Tags struct {
	Title       string `json:"title"`
	Artist      string `json:"artist"`
	AlbumArtist string `json:"album_artist"`
	Album       string `json:"album"`
	Genre       string `json:"genre"`
	Composer    string `json:"composer,omitempty"`
	SortArtist  string `json:"sort_artist,omitempty"`
	Year        int    `json:"year"`
	Track       int    `json:"track"`
	TrackTotal  int    `json:"track_total"`
	Disc        int    `json:"disc"`
	DiscTotal   int    `json:"disc_total"`
	Compilation bool   `json:"compilation,omitempty"`

	Cover     []byte `json:"-"`
	CoverMIME string `json:"-"`
}

func numTotal(n, total int) string {
	if n == 0 {
		return ""
	}
	if total == 0 {
		return strconv.Itoa(n)
	}
	return strconv.Itoa(n) + "/" + strconv.Itoa(total)
}

func itoa(n int) string {
	if n == 0 {
		return ""
	}
	return strconv.Itoa(n)
}

// id3v24 returns an ID3v2.4 tag (UTF-8 text frames, APIC front cover) with
// padding bytes of zeros after the frames.
func id3v24(t *Tags, padding int) []byte {
	var body []byte
	frame := func(id string, data []byte) {
		body = append(body, id...)
		body = appendSyncsafe(body, len(data))
		body = append(body, 0, 0)
		body = append(body, data...)
	}
	text := func(id, s string) {
		if s != "" {
			frame(id, append([]byte{3}, s...))
		}
	}
	text("TIT2", t.Title)
	text("TPE1", t.Artist)
	text("TPE2", t.AlbumArtist)
	text("TALB", t.Album)
	text("TCON", t.Genre)
	text("TCOM", t.Composer)
	text("TSOP", t.SortArtist)
	text("TDRC", itoa(t.Year))
	text("TRCK", numTotal(t.Track, t.TrackTotal))
	text("TPOS", numTotal(t.Disc, t.DiscTotal))
	if t.Compilation {
		text("TCMP", "1")
	}
	if t.Cover != nil {
		data := []byte{0}
		data = append(data, t.CoverMIME...)
		data = append(data, 0, 3, 0) // MIME terminator, front cover, empty description
		frame("APIC", append(data, t.Cover...))
	}
	tag := append([]byte("ID3\x04\x00\x00"), 0, 0, 0, 0)
	binary.BigEndian.PutUint32(tag[6:], syncsafe(len(body)+padding))
	tag = append(tag, body...)
	return append(tag, make([]byte, padding)...)
}

func syncsafe(n int) uint32 {
	return uint32(n&0x7f | (n>>7&0x7f)<<8 | (n>>14&0x7f)<<16 | (n>>21&0x7f)<<24)
}

func appendSyncsafe(b []byte, n int) []byte {
	return binary.BigEndian.AppendUint32(b, syncsafe(n))
}

// vorbisComments returns the comment list shared by FLAC, Ogg Vorbis and
// Opus, without vendor string or framing. Pictures go in as
// METADATA_BLOCK_PICTURE only when inOgg (FLAC uses a PICTURE block).
func vorbisComments(t *Tags, vendor string, inOgg bool) []byte {
	var list [][]byte
	add := func(k, v string) {
		if v != "" {
			list = append(list, []byte(k+"="+v))
		}
	}
	add("TITLE", t.Title)
	add("ARTIST", t.Artist)
	add("ALBUMARTIST", t.AlbumArtist)
	add("ALBUM", t.Album)
	add("GENRE", t.Genre)
	add("COMPOSER", t.Composer)
	add("ARTISTSORT", t.SortArtist)
	add("DATE", itoa(t.Year))
	add("TRACKNUMBER", itoa(t.Track))
	add("TRACKTOTAL", itoa(t.TrackTotal))
	add("DISCNUMBER", itoa(t.Disc))
	add("DISCTOTAL", itoa(t.DiscTotal))
	if t.Compilation {
		add("COMPILATION", "1")
	}
	if inOgg && t.Cover != nil {
		add("METADATA_BLOCK_PICTURE", base64.StdEncoding.EncodeToString(flacPicture(t)))
	}
	var b bytes.Buffer
	le := func(n int) { b.Write(binary.LittleEndian.AppendUint32(nil, uint32(n))) }
	le(len(vendor))
	b.WriteString(vendor)
	le(len(list))
	for _, c := range list {
		le(len(c))
		b.Write(c)
	}
	return b.Bytes()
}

// flacPicture is a FLAC PICTURE block body (also the payload of
// METADATA_BLOCK_PICTURE): front cover, MIME, no description, size unknown.
func flacPicture(t *Tags) []byte {
	var b []byte
	be := func(n int) { b = binary.BigEndian.AppendUint32(b, uint32(n)) }
	be(3)
	be(len(t.CoverMIME))
	b = append(b, t.CoverMIME...)
	be(0) // description
	be(coverSize)
	be(coverSize)
	be(24)
	be(0)
	be(len(t.Cover))
	return append(b, t.Cover...)
}
