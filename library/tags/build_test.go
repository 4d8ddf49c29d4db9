package tags

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"strings"
	"unicode/utf16"
)

// Builders for hand-made tag bytes. They write exactly what the cases ask
// for, lies included, so every test shows the bytes it feeds in.

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func be32(n uint32) []byte { return binary.BigEndian.AppendUint32(nil, n) }
func le32(n uint32) []byte { return binary.LittleEndian.AppendUint32(nil, n) }

func syncsafe4(n int) []byte {
	return []byte{byte(n >> 21 & 0x7F), byte(n >> 14 & 0x7F), byte(n >> 7 & 0x7F), byte(n & 0x7F)}
}

// id3 builds an ID3v2.<version> tag around frames, with header flags.
func id3(version, flags byte, frames ...[]byte) []byte {
	body := cat(frames...)
	return cat([]byte{'I', 'D', '3', version, 0, flags}, syncsafe4(len(body)), body)
}

// frame builds a v2.3 (plain size) or v2.4 (sync-safe size) frame.
func frame(version byte, id string, payload []byte) []byte {
	size := be32(uint32(len(payload)))
	if version == 4 {
		size = syncsafe4(len(payload))
	}
	return cat([]byte(id), size, []byte{0, 0}, payload)
}

// frame22 builds an ID3v2.2 frame.
func frame22(id string, payload []byte) []byte {
	n := len(payload)
	return cat([]byte(id), []byte{byte(n >> 16), byte(n >> 8), byte(n)}, payload)
}

// latin1 is a text payload in ISO-8859-1 (encoding 0), values NUL-separated.
func latin1(vals ...string) []byte {
	var b []byte
	for _, v := range vals {
		for _, r := range v {
			b = append(b, byte(r))
		}
		b = append(b, 0)
	}
	return cat([]byte{0}, b[:len(b)-1])
}

// utf8t is a text payload in UTF-8 (encoding 3).
func utf8t(vals ...string) []byte { return cat([]byte{3}, []byte(strings.Join(vals, "\x00"))) }

// utf16le encodes s as UTF-16LE with a BOM when bom is set.
func utf16le(s string, bom bool) []byte {
	var b []byte
	if bom {
		b = []byte{0xFF, 0xFE}
	}
	for _, u := range utf16.Encode([]rune(s)) {
		b = binary.LittleEndian.AppendUint16(b, u)
	}
	return b
}

// utf16t is a text payload in UTF-16 with BOM (encoding 1); each value
// carries its own BOM.
func utf16t(vals ...string) []byte {
	b := []byte{1}
	for i, v := range vals {
		if i > 0 {
			b = append(b, 0, 0)
		}
		b = append(b, utf16le(v, true)...)
	}
	return b
}

// described is a TXXX payload (or COMM, with lang) in ISO-8859-1.
func described(lang, desc, text string) []byte {
	return cat([]byte{0}, []byte(lang), []byte(desc), []byte{0}, []byte(text))
}

// apic is an APIC payload: ISO-8859-1, MIME, picture type, description.
func apic(mime string, typ byte, data []byte) []byte {
	return cat([]byte{0}, []byte(mime), []byte{0, typ}, []byte("desc\x00"), data)
}

var (
	jpegData = []byte("\xFF\xD8\xFF\xE0\x00\x10JFIF\x00fake-jpeg")
	pngData  = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDRfake-png")
)

// mp3 is an ID3v2 tag followed by a few MPEG frame headers' worth of bytes.
func mp3(tag []byte) []byte { return cat(tag, bytes.Repeat([]byte{0xFF, 0xFB, 0x90, 0x00}, 64)) }

// box builds an MP4 box.
func box(typ string, children ...[]byte) []byte {
	body := cat(children...)
	return cat(be32(uint32(8+len(body))), []byte(typ), body)
}

// box64 builds an MP4 box with a 64-bit size.
func box64(typ string, children ...[]byte) []byte {
	body := cat(children...)
	return cat(be32(1), []byte(typ), binary.BigEndian.AppendUint64(nil, uint64(16+len(body))), body)
}

// data builds an ilst data atom of the given class.
func data(class uint32, v []byte) []byte { return box("data", be32(class), be32(0), v) }

func str(s string) []byte { return data(classUTF8, []byte(s)) }

// m4a wraps ilst items in ftyp, moov/udta/meta (full box with hdlr) and a
// small mdat.
func m4a(items ...[]byte) []byte {
	meta := box("meta", be32(0), box("hdlr", be32(0), be32(0), []byte("mdirappl"), make([]byte, 9)), box("ilst", items...))
	return cat(box("ftyp", []byte("M4A "), be32(0), []byte("M4A mp42isom")),
		box("moov", box("mvhd", make([]byte, 100)), box("udta", meta)),
		box("mdat", make([]byte, 256)))
}

// flacBlock builds a FLAC metadata block header and body.
func flacBlock(typ byte, last bool, body []byte) []byte {
	if last {
		typ |= 0x80
	}
	n := len(body)
	return cat([]byte{typ, byte(n >> 16), byte(n >> 8), byte(n)}, body)
}

// vorbisComment builds a Vorbis comment body from "KEY=value" fields.
func vorbisComment(fields ...string) []byte {
	b := cat(le32(6), []byte("vendor"), le32(uint32(len(fields))))
	for _, f := range fields {
		b = cat(b, le32(uint32(len(f))), []byte(f))
	}
	return b
}

// flacPictureBody builds a FLAC PICTURE block body.
func flacPictureBody(typ uint32, mime string, img []byte) []byte {
	return cat(be32(typ), be32(uint32(len(mime))), []byte(mime), be32(4), []byte("desc"),
		be32(1), be32(1), be32(24), be32(0), be32(uint32(len(img))), img)
}

// flac builds a FLAC file: marker, STREAMINFO, the given blocks (the last
// one flagged last) and a few bytes of frames.
func flac(blocks ...func(last bool) []byte) []byte {
	b := cat([]byte("fLaC"), flacBlock(0, len(blocks) == 0, make([]byte, 34)))
	for i, bl := range blocks {
		b = cat(b, bl(i == len(blocks)-1))
	}
	return cat(b, []byte{0xFF, 0xF8, 0x69, 0x08}, make([]byte, 64))
}

func block(typ byte, body []byte) func(bool) []byte {
	return func(last bool) []byte { return flacBlock(typ, last, body) }
}

// oggPage builds one Ogg page; its CRC is left zero, which the reader
// must tolerate. segs are lacing values; body is the page payload.
func oggPage(serial uint32, flags byte, seq uint32, segs []byte, body []byte) []byte {
	h := cat([]byte("OggS"), []byte{0, flags}, make([]byte, 8), le32(serial), le32(seq), le32(0), []byte{byte(len(segs))}, segs)
	return cat(h, body)
}

// lacing returns the lacing values of one complete packet of n bytes.
func lacing(n int) []byte {
	segs := bytes.Repeat([]byte{255}, n/255)
	return append(segs, byte(n%255))
}

// ogg builds a single-stream Ogg file: each packet on its own page, and a
// packet longer than split bytes spread over two pages.
func ogg(serial uint32, split int, packets ...[]byte) []byte {
	var out []byte
	seq := uint32(0)
	for i, p := range packets {
		flags := byte(0)
		if i == 0 {
			flags = 0x02
		}
		if split > 0 && len(p) > split {
			a, b := p[:split/255*255], p[split/255*255:]
			out = cat(out, oggPage(serial, flags, seq, bytes.Repeat([]byte{255}, len(a)/255), a))
			seq++
			out = cat(out, oggPage(serial, 0x01, seq, lacing(len(b)), b))
		} else {
			out = cat(out, oggPage(serial, flags, seq, lacing(len(p)), p))
		}
		seq++
	}
	return cat(out, oggPage(serial, 0x04, seq, []byte{8}, make([]byte, 8)))
}

var (
	vorbisID = cat([]byte("\x01vorbis"), make([]byte, 23))
	opusHead = cat([]byte("OpusHead"), []byte{1, 2, 0x38, 1, 0x80, 0xBB, 0, 0, 0, 0, 0})
)

func vorbisCommentPacket(fields ...string) []byte {
	return cat([]byte("\x03vorbis"), vorbisComment(fields...), []byte{1})
}

func opusTags(fields ...string) []byte { return cat([]byte("OpusTags"), vorbisComment(fields...)) }

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// pictureField is a METADATA_BLOCK_PICTURE comment field.
func pictureField(typ uint32, mime string, img []byte) string {
	return "METADATA_BLOCK_PICTURE=" + base64.StdEncoding.EncodeToString(flacPictureBody(typ, mime, img))
}

// riffChunk builds a RIFF chunk (little-endian size, padded to even).
func riffChunk(id string, body []byte) []byte {
	b := cat([]byte(id), le32(uint32(len(body))), body)
	if len(body)%2 == 1 {
		b = append(b, 0)
	}
	return b
}

// wav builds a RIFF WAVE file with fmt, data and the extra chunks.
func wav(chunks ...[]byte) []byte {
	body := cat([]byte("WAVE"), riffChunk("fmt ", make([]byte, 16)), riffChunk("data", make([]byte, 100)), cat(chunks...))
	return cat([]byte("RIFF"), le32(uint32(len(body))), body)
}

// info builds a LIST/INFO chunk from id, text pairs.
func info(kv ...string) []byte {
	b := []byte("INFO")
	for i := 0; i+1 < len(kv); i += 2 {
		b = cat(b, riffChunk(kv[i], append([]byte(kv[i+1]), 0)))
	}
	return riffChunk("LIST", b)
}

// iffChunk builds an IFF chunk (big-endian size, padded to even).
func iffChunk(id string, body []byte) []byte {
	b := cat([]byte(id), be32(uint32(len(body))), body)
	if len(body)%2 == 1 {
		b = append(b, 0)
	}
	return b
}

// aiff builds a FORM AIFF file with COMM, SSND and the extra chunks.
func aiff(chunks ...[]byte) []byte {
	body := cat([]byte("AIFF"), iffChunk("COMM", make([]byte, 18)), iffChunk("SSND", make([]byte, 100)), cat(chunks...))
	return cat([]byte("FORM"), be32(uint32(len(body))), body)
}
