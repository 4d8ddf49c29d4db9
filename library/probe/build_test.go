package probe

import (
	"bytes"
	"encoding/binary"
	"math"
)

// Builders for hand-made test inputs. Each returns the bytes of a small but
// structurally real file.

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func be16(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }
func be32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }
func be64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }
func le16(v uint16) []byte { return binary.LittleEndian.AppendUint16(nil, v) }
func le32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }
func le64(v uint64) []byte { return binary.LittleEndian.AppendUint64(nil, v) }

// id3v2 returns an ID3v2.4 tag with n bytes of zero padding as its body.
func id3v2(n int, footer bool) []byte {
	flags := byte(0)
	if footer {
		flags = 0x10
	}
	b := []byte{'I', 'D', '3', 4, 0, flags, byte(n >> 21 & 0x7f), byte(n >> 14 & 0x7f), byte(n >> 7 & 0x7f), byte(n & 0x7f)}
	b = append(b, make([]byte, n)...)
	if footer {
		b = append(b, '3', 'D', 'I', 4, 0, flags, b[6], b[7], b[8], b[9])
	}
	return b
}

// mp3Frame returns one MPEG-1 Layer III 44.1 kHz frame at the given
// bitrate index (9 = 128 kbit/s, 10 = 160), stereo or mono, with payload
// copied at the start of the side info.
func mp3Frame(bitrateIdx byte, mono bool, payload []byte) []byte {
	return mpegFrame(3, bitrateIdx, 0, mono, payload)
}

// mpegFrame builds a Layer III frame: version 3 = MPEG-1, 2 = MPEG-2;
// rateIdx picks 44.1/22.05 kHz (0), 48/24 (1) or 32/16 (2).
func mpegFrame(version, bitrateIdx, rateIdx byte, mono bool, payload []byte) []byte {
	mode := byte(0)
	if mono {
		mode = 3
	}
	h := []byte{0xff, 0xe0 | version<<3 | 1<<1 | 1, bitrateIdx<<4 | rateIdx<<2, mode << 6}
	mh, ok := parseMPEG(h)
	if !ok {
		panic("bad test frame")
	}
	f := make([]byte, mh.size)
	copy(f, h)
	copy(f[4:], payload)
	return f
}

func repeat(b []byte, n int) []byte { return bytes.Repeat(b, n) }

// flip returns a copy of b with the byte at i inverted.
func flip(b []byte, i int) []byte {
	c := bytes.Clone(b)
	c[i] ^= 0xff
	return c
}

// xing returns a Xing (or Info) payload for the side-info offset of an
// MPEG-1 stereo frame.
func xing(tag string, frames, nbytes uint32) []byte {
	return cat(make([]byte, 32), []byte(tag), be32(3), be32(frames), be32(nbytes))
}

// mp4Box wraps payload parts in a box.
func mp4Box(typ string, parts ...[]byte) []byte {
	body := cat(parts...)
	return cat(be32(uint32(8+len(body))), []byte(typ), body)
}

// mp4Box64 wraps payload in a box with a 64-bit size.
func mp4Box64(typ string, parts ...[]byte) []byte {
	body := cat(parts...)
	return cat(be32(1), []byte(typ), be64(uint64(16+len(body))), body)
}

func mdhd(version byte, scale uint32, dur uint64) []byte {
	if version == 1 {
		return mp4Box("mdhd", []byte{1, 0, 0, 0}, be64(0), be64(0), be32(scale), be64(dur), be32(0))
	}
	return mp4Box("mdhd", []byte{0, 0, 0, 0}, be32(0), be32(0), be32(scale), be32(uint32(dur)), be32(0))
}

func mvhd(scale uint32, dur uint32) []byte {
	return mp4Box("mvhd", []byte{0, 0, 0, 0}, be32(0), be32(0), be32(scale), be32(dur), make([]byte, 80))
}

func hdlr(h string) []byte {
	return mp4Box("hdlr", be32(0), be32(0), []byte(h), make([]byte, 13))
}

// audioEntry is a version-0 audio sample entry with children.
func audioEntry(typ string, channels, bits uint16, rate uint32, children ...[]byte) []byte {
	return mp4Box(typ, make([]byte, 6), be16(1), be16(0), be16(0), be32(0),
		be16(channels), be16(bits), be16(0), be16(0), be32(rate<<16), cat(children...))
}

// esds returns an esds box for AAC-LC with the given average bitrate and an
// AudioSpecificConfig of 44.1 kHz with the given channel configuration.
func esds(avg uint32, ch byte) []byte {
	asc := []byte{0x12, 0x00 | ch<<3} // AOT 2, rate index 4 (44100)
	dsi := cat([]byte{0x05, byte(len(asc))}, asc)
	dcd := cat([]byte{0x04, byte(13 + len(dsi)), 0x40, 0x15, 0, 0, 0}, be32(avg), be32(avg), dsi)
	es := cat([]byte{0x03, byte(3 + len(dcd))}, be16(1), []byte{0}, dcd)
	return mp4Box("esds", be32(0), es)
}

func trak(handler string, md []byte, entry []byte) []byte {
	stsd := mp4Box("stsd", be32(0), be32(1), entry)
	return mp4Box("trak",
		mp4Box("tkhd", be32(0), be32(0), be32(0), be32(1), make([]byte, 68)),
		mp4Box("mdia", md, hdlr(handler), mp4Box("minf", mp4Box("stbl", stsd, mp4Box("stts", be32(0), be32(0))))))
}

func ftyp() []byte { return mp4Box("ftyp", []byte("M4A "), be32(0), []byte("M4A isom")) }

// streamInfoBody returns a 34-byte FLAC STREAMINFO body.
func streamInfoBody(rate uint32, channels, bits byte, total uint64) []byte {
	b := make([]byte, 34)
	binary.BigEndian.PutUint16(b, 4096)
	binary.BigEndian.PutUint16(b[2:], 4096)
	b[10] = byte(rate >> 12)
	b[11] = byte(rate >> 4)
	b[12] = byte(rate<<4) | (channels-1)<<1 | (bits-1)>>4
	b[13] = (bits-1)<<4 | byte(total>>32&0xf)
	binary.BigEndian.PutUint32(b[14:], uint32(total))
	return b
}

// flacBlock returns a metadata block.
func flacBlock(typ byte, last bool, body []byte) []byte {
	if last {
		typ |= 0x80
	}
	n := len(body)
	return cat([]byte{typ, byte(n >> 16), byte(n >> 8), byte(n)}, body)
}

// flacFrame returns a frame header for fixed block size 4096 at frame
// number n (< 128), 44.1 kHz stereo 16-bit, plus a few payload bytes.
func flacFrame(n byte) []byte {
	h := []byte{0xff, 0xf8, 0xc9, 0x08, n}
	return cat(h, []byte{crc8(h)}, make([]byte, 10))
}

// oggPageBytes returns one Ogg page carrying the packets (each < 255*255
// bytes), with its CRC.
func oggPageBytes(flags byte, granule int64, serial, seq uint32, packets ...[]byte) []byte {
	var lacing, body []byte
	for _, p := range packets {
		n := len(p)
		for n >= 255 {
			lacing = append(lacing, 255)
			n -= 255
		}
		lacing = append(lacing, byte(n))
		body = append(body, p...)
	}
	h := cat([]byte("OggS"), []byte{0, flags}, le64(uint64(granule)), le32(serial), le32(seq), le32(0), []byte{byte(len(lacing))}, lacing)
	page := cat(h, body)
	binary.LittleEndian.PutUint32(page[22:], oggCRC(0, page))
	return page
}

func vorbisID(rate uint32, channels byte, nominal int32) []byte {
	return cat([]byte("\x01vorbis"), le32(0), []byte{channels}, le32(rate), le32(0), le32(uint32(nominal)), le32(0), []byte{0xb8, 1})
}

func opusHead(channels byte, preSkip uint16) []byte {
	return cat([]byte("OpusHead"), []byte{1, channels}, le16(preSkip), le32(44100), le16(0), []byte{0})
}

// wavFmt returns a fmt chunk for PCM.
func wavFmt(tag, channels uint16, rate uint32, bits uint16) []byte {
	align := channels * bits / 8
	return riffChunk("fmt ", cat(le16(tag), le16(channels), le32(rate), le32(rate*uint32(align)), le16(align), le16(bits)))
}

func riffChunk(id string, body []byte) []byte {
	b := cat([]byte(id), le32(uint32(len(body))), body)
	if len(body)%2 == 1 {
		b = append(b, 0)
	}
	return b
}

func riff(chunks ...[]byte) []byte {
	body := cat(chunks...)
	return cat([]byte("RIFF"), le32(uint32(4+len(body))), []byte("WAVE"), body)
}

// ext80 encodes v as an 80-bit extended float.
func ext80(v float64) []byte {
	exp := math.Ilogb(v)
	mant := uint64(math.Ldexp(v, 63-exp))
	return cat(be16(uint16(exp+16383)), be64(mant))
}

func iffChunk(id string, body []byte) []byte {
	b := cat([]byte(id), be32(uint32(len(body))), body)
	if len(body)%2 == 1 {
		b = append(b, 0)
	}
	return b
}

func form(typ string, chunks ...[]byte) []byte {
	body := cat(chunks...)
	return cat([]byte("FORM"), be32(uint32(4+len(body))), []byte(typ), body)
}

func comm(channels uint16, frames uint32, bits uint16, rate float64, extra ...[]byte) []byte {
	return iffChunk("COMM", cat(be16(channels), be32(frames), be16(bits), ext80(rate), cat(extra...)))
}

// adtsFrame returns an AAC-LC ADTS frame of n bytes (header included),
// 44.1 kHz, with the given channel configuration.
func adtsFrame(n int, ch byte) []byte {
	f := make([]byte, n)
	copy(f, []byte{0xff, 0xf1, 1<<6 | 4<<2 | ch>>2, (ch&3)<<6 | byte(n>>11&3), byte(n >> 3), byte(n&7)<<5 | 0x1f, 0xfc})
	return f
}

// ebml returns an element with the given ID bytes and an 8-byte size.
func ebml(id uint32, parts ...[]byte) []byte {
	body := cat(parts...)
	idb := be32(id)
	for len(idb) > 1 && idb[0] == 0 {
		idb = idb[1:]
	}
	size := be64(uint64(len(body)))
	size[0] = 0x01
	return cat(idb, size, body)
}

// mkv returns a Matroska file with one Info and the given track entries.
func mkv(docType string, durationMS float64, entries ...[]byte) []byte {
	f := make([]byte, 8)
	binary.BigEndian.PutUint64(f, math.Float64bits(durationMS))
	return cat(
		ebml(ebmlHeader, ebml(ebmlDocType, []byte(docType))),
		ebml(mkvSegment,
			ebml(mkvInfo, ebml(mkvTimecode, []byte{0x0f, 0x42, 0x40}), ebml(mkvDuration, f)),
			ebml(mkvTracks, cat(entries...)),
			ebml(mkvCluster, make([]byte, 1000))))
}

func mkvTrack(typ byte, codec string, audio ...[]byte) []byte {
	return ebml(mkvTrackEntry, ebml(mkvTrackType, []byte{typ}), ebml(mkvCodecID, []byte(codec)), ebml(mkvAudio, audio...))
}

func f64(v float64) []byte { return be64(math.Float64bits(v)) }
