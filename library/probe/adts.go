package probe

// adtsHeader is a decoded ADTS (raw AAC stream) frame header.
type adtsHeader struct {
	rate     int
	channels int
	size     int // frame length including the header
	samples  int // 1024 per raw data block
	match    uint32
}

// parseADTS decodes the 7-byte header at b.
func parseADTS(b []byte) (adtsHeader, bool) {
	if len(b) < 7 || b[0] != 0xff || b[1]&0xf6 != 0xf0 {
		return adtsHeader{}, false
	}
	si := int(b[2] >> 2 & 0xf)
	if si >= len(aacRates) {
		return adtsHeader{}, false
	}
	h := adtsHeader{
		rate:     aacRates[si],
		channels: int(b[2]&1)<<2 | int(b[3]>>6),
		size:     int(b[3]&3)<<11 | int(b[4])<<3 | int(b[5]>>5),
		samples:  1024 * (int(b[6]&3) + 1),
		// MPEG version, profile, rate and channels stay constant.
		match: uint32(b[1]&0x08)<<16 | uint32(b[2]&0xfd)<<8 | uint32(b[3]&0xc0),
	}
	if h.size < 7 {
		return adtsHeader{}, false
	}
	if h.channels == 7 {
		h.channels = 8
	}
	return h, true
}

// isADTS reports whether off starts two consecutive ADTS frames (or one
// that ends the file).
func isADTS(rd *reader, off int64) bool {
	h, ok := parseADTS(rd.at(off, 7))
	if !ok {
		return false
	}
	next := off + int64(h.size)
	if next == rd.size {
		return true
	}
	n, ok := parseADTS(rd.at(next, 7))
	return ok && n.match == h.match
}

// probeADTS counts the frames of a raw AAC stream: ADTS headers carry no
// total, so this is the bounded frame scan, extrapolated past maxScan.
func probeADTS(rd *reader, start int64) (Info, error) {
	first, _ := parseADTS(rd.at(start, 7))
	info := Info{Container: "aac", Codec: "aac", SampleRate: first.rate, Channels: first.channels}
	end := audioEnd(rd, start)
	limit := min(end, start+maxScan)
	var samples uint64
	off := start
	for off+7 <= limit {
		if !rd.has(off, 7) {
			rd.upTo(off, scanRead)
		}
		h, ok := parseADTS(rd.at(off, 7))
		if !ok || h.match != first.match || off+int64(h.size) > end {
			break // junk, another stream, or a frame cut short
		}
		samples += uint64(h.samples)
		off += int64(h.size)
	}
	return frameScan(info, start, off, end, limit, samples, first.rate), nil
}

// frameScan sets info's duration and bitrate from a scan of the frames in
// [start, end) that counted samples at rate up to off. A scan stopped by
// limit before the end is extrapolated over the rest of the file by size.
func frameScan(info Info, start, off, end, limit int64, samples uint64, rate int) Info {
	scanned := min(off, end) - start
	if scanned <= 0 {
		return info
	}
	audio := scanned
	if off >= limit && limit < end {
		audio = end - start
		samples = uint64(float64(samples) * float64(audio) / float64(scanned))
	}
	info.DurationMS = msec(samples, uint64(rate))
	info.Bitrate = kbps(audio, info.DurationMS)
	return info
}
