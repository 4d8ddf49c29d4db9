package probe

// AC-3 and E-AC-3 (Dolby Digital, Dolby Digital Plus) raw streams: frames
// start with the sync word 0x0B77; bsid tells the two apart.

var (
	ac3Rates    = [3]int{48000, 44100, 32000}
	ac3Bitrates = [19]int{32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384, 448, 512, 576, 640}
	ac3Chans    = [8]int{2, 1, 2, 3, 3, 4, 4, 5}
	eac3Blocks  = [4]int{1, 2, 3, 6}
	eac3Rates2  = [3]int{24000, 22050, 16000}
)

// ac3Header is a decoded AC-3 or E-AC-3 sync frame header.
type ac3Header struct {
	eac3     bool
	rate     int
	channels int
	size     int // frame bytes
	samples  int
	bitrate  int // kbit/s (AC-3 only)
	match    uint32
}

// parseAC3 decodes the header at b (at least 8 bytes).
func parseAC3(b []byte) (ac3Header, bool) {
	if len(b) < 8 || b[0] != 0x0b || b[1] != 0x77 {
		return ac3Header{}, false
	}
	bsid := int(b[5] >> 3)
	var h ac3Header
	switch {
	case bsid <= 10:
		fscod, code := int(b[4]>>6), int(b[4]&0x3f)
		if fscod == 3 || code >= 38 {
			return ac3Header{}, false
		}
		h.rate = ac3Rates[fscod]
		h.bitrate = ac3Bitrates[code>>1]
		switch fscod {
		case 0:
			h.size = h.bitrate * 2 * 2 // 16-bit words: 2 per kbit/s at 48 kHz
		case 1: // 44.1 kHz frames alternate between two sizes
			h.size = (320*h.bitrate/147 + code&1) * 2
		case 2:
			h.size = h.bitrate * 3 * 2
		}
		h.samples = 1536
		acmod := int(b[6] >> 5)
		h.channels = ac3Chans[acmod]
		// lfeon follows acmod and optional 2-bit fields.
		bit := 3
		if acmod&1 != 0 && acmod != 1 {
			bit += 2
		}
		if acmod&4 != 0 {
			bit += 2
		}
		if acmod == 2 {
			bit += 2
		}
		if (uint16(b[6])<<8|uint16(b[7]))>>(15-bit)&1 != 0 {
			h.channels++
		}
		h.match = uint32(b[4]>>6)<<8 | uint32(bsid)
	case bsid <= 16:
		h.eac3 = true
		if b[2]>>6 == 1 { // strmtyp 1: a dependent substream
			return ac3Header{}, false
		}
		h.size = (int(b[2]&7)<<8 | int(b[3]) + 1) * 2
		fscod := int(b[4] >> 6)
		blocks := 6
		if fscod == 3 {
			c2 := int(b[4] >> 4 & 3)
			if c2 == 3 {
				return ac3Header{}, false
			}
			h.rate = eac3Rates2[c2]
		} else {
			h.rate = ac3Rates[fscod]
			blocks = eac3Blocks[b[4]>>4&3]
		}
		h.samples = 256 * blocks
		acmod := int(b[4] >> 1 & 7)
		h.channels = ac3Chans[acmod] + int(b[4]&1)
		h.match = uint32(b[4]>>6)<<8 | uint32(bsid)
	default:
		return ac3Header{}, false
	}
	if h.size < 8 {
		return ac3Header{}, false
	}
	return h, true
}

// isAC3 reports whether off starts two consecutive frames of one stream
// (or one that ends the file).
func isAC3(rd *reader, off int64) bool {
	h, ok := parseAC3(rd.at(off, 8))
	if !ok {
		return false
	}
	next := off + int64(h.size)
	if next >= audioEnd(rd, off) {
		return next <= rd.size
	}
	n, ok := parseAC3(rd.at(next, 8))
	return ok && n.match == h.match
}

// probeAC3 counts the frames of a raw AC-3 or E-AC-3 stream (bounded,
// extrapolated past maxScan as for ADTS); dependent E-AC-3 substreams are
// skipped over.
func probeAC3(rd *reader, start int64) (Info, error) {
	first, _ := parseAC3(rd.at(start, 8))
	info := Info{Container: "ac3", Codec: "ac3", SampleRate: first.rate, Channels: first.channels}
	if first.eac3 {
		info.Container, info.Codec = "eac3", "eac3"
	}
	end := audioEnd(rd, start)
	limit := min(end, start+maxScan)
	var samples uint64
	off := start
	for off+8 <= limit {
		if !rd.has(off, 8) {
			rd.upTo(off, scanRead)
		}
		b := rd.at(off, 8)
		h, ok := parseAC3(b)
		if !ok && first.eac3 && len(b) == 8 && b[0] == 0x0b && b[1] == 0x77 {
			// a dependent substream: skip it without counting samples
			off += int64(int(b[2]&7)<<8|int(b[3])+1) * 2
			continue
		}
		if !ok || h.match != first.match || off+int64(h.size) > end {
			break
		}
		samples += uint64(h.samples)
		off += int64(h.size)
	}
	return frameScan(info, start, off, end, limit, samples, first.rate), nil
}
