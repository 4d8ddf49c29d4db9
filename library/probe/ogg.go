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
