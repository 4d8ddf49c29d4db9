package probe

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// oggPage is a parsed Ogg page header.
type oggPage struct {
	flags   byte
	granule int64
	serial  uint32
	hdrLen  int // header including the segment table
	bodyLen int // sum of lacing values
	first   int // length of the first packet's part on this page
}

// parseOggPage decodes the page header at b[0:]; b must start with "OggS".
func parseOggPage(b []byte) (oggPage, bool) {
	if len(b) < 27 || string(b[:4]) != "OggS" || b[4] != 0 {
		return oggPage{}, false
	}
	n := int(b[26])
	if len(b) < 27+n {
		return oggPage{}, false
	}
	p := oggPage{
		flags:   b[5],
		granule: int64(binary.LittleEndian.Uint64(b[6:])),
		serial:  binary.LittleEndian.Uint32(b[14:]),
		hdrLen:  27 + n,
		first:   -1,
	}
	for _, l := range b[27 : 27+n] {
		p.bodyLen += int(l)
		if p.first < 0 && l < 255 {
			p.first = p.bodyLen
		}
	}
	if p.first < 0 {
		p.first = p.bodyLen
	}
	return p, true
}

// oggStream is an audio logical stream found on a beginning-of-stream page.
type oggStream struct {
	serial   uint32
	codec    string
	rate     int // of the granule position
	outRate  int // reported sample rate
	channels int
	bits     int
	preSkip  int64
	bitrate  int // nominal kbit/s, 0 if unknown
}

// oggIdent recognises an identification packet.
func oggIdent(pkt []byte, serial uint32) (oggStream, bool) {
	s := oggStream{serial: serial}
	switch {
	case len(pkt) >= 30 && string(pkt[:7]) == "\x01vorbis":
		s.codec = "vorbis"
		s.channels = int(pkt[11])
		s.rate = u32(binary.LittleEndian.Uint32(pkt[12:]))
		if br := int32(binary.LittleEndian.Uint32(pkt[20:])); br > 0 {
			s.bitrate = int(br / 1000)
		}
	case len(pkt) >= 19 && string(pkt[:8]) == "OpusHead":
		s.codec = "opus"
		s.channels = int(pkt[9])
		s.preSkip = int64(binary.LittleEndian.Uint16(pkt[10:]))
		s.rate = 48000 // Opus granules always count 48 kHz samples
	case len(pkt) >= 51 && string(pkt[:5]) == "\x7fFLAC" && string(pkt[9:13]) == "fLaC":
		si, ok := parseStreamInfo(pkt[17:])
		if !ok {
			return s, false
		}
		s.codec, s.rate, s.channels, s.bits = "flac", si.rate, si.channels, si.bits
	case len(pkt) >= 80 && string(pkt[:8]) == "Speex   ":
		s.codec = "speex"
		s.rate = u32(binary.LittleEndian.Uint32(pkt[36:]))
		s.channels = u32(binary.LittleEndian.Uint32(pkt[48:]))
		if br := int32(binary.LittleEndian.Uint32(pkt[52:])); br > 0 {
			s.bitrate = int(br / 1000)
		}
	default:
		return s, false
	}
	s.outRate = s.rate
	return s, s.rate > 0
}

// oggCodecs maps the start of a stream's first packet to its codec.
var oggCodecs = []struct{ magic, codec string }{
	{"\x01vorbis", "vorbis"},
	{"OpusHead", "opus"},
	{"\x7fFLAC", "flac"},
	{"Speex   ", "speex"},
}

// oggCodec names the codec whose identification packet starts with b, or
// returns "".
func oggCodec(b []byte) string {
	for _, c := range oggCodecs {
		if bytes.HasPrefix(b, []byte(c.magic)) {
			return c.codec
		}
	}
	return ""
}

// maxOggTail bounds how far back from the end Probe looks for the last page
// of the audio stream.
const maxOggTail = 1 << 20

func probeOgg(rd *reader) (Info, error) {
	info := Info{Container: "ogg"}
	// Beginning-of-stream pages come first; one per logical stream.
	var s oggStream
	found := false
	var off int64
	streams := 0
	tagged := false
	var bos int64 // the audio stream's first page
	for range 64 {
		h := rd.upTo(off, 27+255)
		pg, ok := parseOggPage(h)
		if !ok || pg.flags&2 == 0 {
			break
		}
		streams++
		if !found {
			if pkt := rd.upTo(off+int64(pg.hdrLen), pg.first); len(pkt) == pg.first {
				s, found = oggIdent(pkt, pg.serial)
				bos = off
			}
		}
		if !tagged {
			// The tags are those of the first stream of a codec we know,
			// even when its identification header is too damaged to play.
			if codec := oggCodec(rd.upTo(off+int64(pg.hdrLen), 8)); codec != "" {
				rd.block(Block{Kind: BlockOgg, Serial: pg.serial, Codec: codec, Offset: off})
				tagged = true
			}
		}
		off += int64(pg.hdrLen + pg.bodyLen)
	}
	if !found {
		if off == 0 {
			return info, fmt.Errorf("ogg: %w", ErrTruncated)
		}
		return info, ErrNoAudio
	}
	info.Codec, info.SampleRate, info.Channels, info.BitsPerSample = s.codec, s.outRate, s.channels, s.bits
	if err := oggHeaderPages(rd, bos, off, s.serial); err != nil {
		return info, err
	}
	if g := lastGranule(rd, s.serial); g > 0 {
		g -= s.preSkip
		if g > 0 {
			info.DurationMS = msec(uint64(g), uint64(s.rate))
		}
	}
	// For a single stream the average over the file beats the Vorbis/Speex
	// nominal rate, which encoders set loosely (tags and pictures count in
	// it too). Multiplexed files share their size with video.
	if streams == 1 {
		info.Bitrate = kbps(rd.size, info.DurationMS)
	}
	if info.Bitrate == 0 {
		info.Bitrate = s.bitrate
	}
	return info, nil
}

// lastGranule returns the granule position of the last page of serial that
// has one, reading backwards from the end of the file in window-sized steps
// up to maxOggTail. It returns -1 when none is found.
func lastGranule(rd *reader, serial uint32) int64 {
	end := rd.size
	for end > 0 && rd.size-end < maxOggTail {
		start := max(end-window, 0)
		// Read a little past end so a page header straddling it is whole.
		b := rd.upTo(start, int(end-start)+27+255)
		for i := len(b); ; {
			j := bytes.LastIndex(b[:i], []byte("OggS"))
			if j < 0 {
				break
			}
			i = j
			if j >= int(end-start) {
				continue // searched with the previous chunk
			}
			if pg, ok := parseOggPage(b[j:]); ok && pg.serial == serial && pg.granule != -1 {
				return pg.granule
			}
		}
		end = start
	}
	return -1
}

// oggHeaderPages checks the checksums of the audio stream's first page (at
// bos) and of its next page, found from after on: they carry the headers,
// and decoders drop a page whose checksum fails, so a bad one leaves the
// stream without headers (TagLib's lowercase-fields.ogg, edited in place).
func oggHeaderPages(rd *reader, bos, after int64, serial uint32) error {
	if !oggPageSound(rd, bos) {
		return fmt.Errorf("ogg: %w: the first page fails its checksum", ErrUndecodable)
	}
	off := after
	for range 16 {
		pg, ok := parseOggPage(rd.upTo(off, 27+255))
		if !ok {
			return nil // the walk for the length will judge the rest
		}
		if pg.serial == serial {
			if !oggPageSound(rd, off) {
				return fmt.Errorf("ogg: %w: a header page fails its checksum", ErrUndecodable)
			}
			return nil
		}
		off += int64(pg.hdrLen + pg.bodyLen)
	}
	return nil
}

// oggPageSound reports whether the page at off is whole and matches its
// CRC. A page cut short by the end of the file counts as sound: a
// truncated stream still plays up to there.
func oggPageSound(rd *reader, off int64) bool {
	pg, ok := parseOggPage(rd.upTo(off, 27+255))
	if !ok {
		return true
	}
	b := rd.at(off, pg.hdrLen+pg.bodyLen)
	if b == nil {
		return true
	}
	want := binary.LittleEndian.Uint32(b[22:])
	c := oggCRC(0, b[:22])
	c = oggCRC(c, []byte{0, 0, 0, 0})
	return oggCRC(c, b[26:]) == want
}

// oggCRCTables are the slicing-by-8 tables of Ogg's CRC-32: polynomial
// 0x04c11db7, not reflected, no final XOR (hash/crc32 computes only
// reflected CRCs). [0] is the classic byte-at-a-time table; a Vorbis setup
// header page of a few KiB would cost ~10 µs byte by byte.
var oggCRCTables = func() (t [8][256]uint32) {
	for i := range t[0] {
		c := uint32(i) << 24
		for range 8 {
			if c&0x80000000 != 0 {
				c = c<<1 ^ 0x04c11db7
			} else {
				c <<= 1
			}
		}
		t[0][i] = c
	}
	for k := 1; k < 8; k++ {
		for i := range t[k] {
			p := t[k-1][i]
			t[k][i] = p<<8 ^ t[0][p>>24]
		}
	}
	return t
}()

func oggCRC(c uint32, b []byte) uint32 {
	t := &oggCRCTables
	for len(b) >= 8 {
		c ^= binary.BigEndian.Uint32(b)
		c = t[7][c>>24] ^ t[6][c>>16&0xff] ^ t[5][c>>8&0xff] ^ t[4][c&0xff] ^
			t[3][b[4]] ^ t[2][b[5]] ^ t[1][b[6]] ^ t[0][b[7]]
		b = b[8:]
	}
	for _, x := range b {
		c = c<<8 ^ t[0][byte(c>>24)^x]
	}
	return c
}
