package probe

import (
	"encoding/binary"
	"fmt"
)

// ID3v2Size returns the total length of the ID3v2 tag that starts b (header,
// body and footer), or 0 if b does not start with a valid ID3v2 header.
func ID3v2Size(b []byte) int64 {
	if len(b) < 10 || string(b[:3]) != "ID3" || b[3] == 0xff || b[4] == 0xff {
		return 0
	}
	if b[6]|b[7]|b[8]|b[9] >= 0x80 {
		return 0
	}
	n := int64(b[6])<<21 | int64(b[7])<<14 | int64(b[8])<<7 | int64(b[9])
	n += 10
	if b[3] >= 4 && b[5]&0x10 != 0 {
		n += 10 // footer
	}
	return n
}

// skipID3v2 returns the offset after any ID3v2 tags starting at off. Some
// taggers write several tags in a row.
func skipID3v2(rd *reader, off int64) int64 {
	for range 16 {
		n := ID3v2Size(rd.at(off, 10))
		if n == 0 {
			break
		}
		off += n
	}
	return off
}

// mpegHeader is a decoded MPEG audio frame header.
type mpegHeader struct {
	version  int // 1, 2, or 25 (MPEG 2.5)
	layer    int // 1, 2, 3
	bitrate  int // kbit/s; 0 for free format
	rate     int // Hz
	pad      bool
	mono     bool
	crc      bool
	size     int // frame length in bytes
	samples  int // samples per frame
	rawMatch uint32
}

var mpegBitrates = [2][3][16]int{
	{ // MPEG-1, layers I, II, III
		{0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448, -1},
		{0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384, -1},
		{0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, -1},
	},
	{ // MPEG-2 and 2.5, layers I, II, III
		{0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256, -1},
		{0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160, -1},
		{0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160, -1},
	},
}

var mpegRates = map[int][3]int{1: {44100, 48000, 32000}, 2: {22050, 24000, 16000}, 25: {11025, 12000, 8000}}

// parseMPEG decodes the 4-byte frame header in b. Free-format frames
// (bitrate index 0) are rejected: their length is not in the header.
func parseMPEG(b []byte) (mpegHeader, bool) {
	if len(b) < 4 || b[0] != 0xff || b[1]&0xe0 != 0xe0 {
		return mpegHeader{}, false
	}
	var h mpegHeader
	switch (b[1] >> 3) & 3 {
	case 0:
		h.version = 25
	case 2:
		h.version = 2
	case 3:
		h.version = 1
	default:
		return h, false
	}
	h.layer = 4 - int((b[1]>>1)&3)
	if h.layer == 4 {
		return h, false
	}
	h.crc = b[1]&1 == 0
	bi, ri := b[2]>>4, (b[2]>>2)&3
	if ri == 3 || bi == 0 || bi == 15 {
		return h, false
	}
	lsf := 0
	if h.version != 1 {
		lsf = 1
	}
	h.bitrate = mpegBitrates[lsf][h.layer-1][bi]
	h.rate = mpegRates[h.version][ri]
	h.pad = b[2]&2 != 0
	h.mono = b[3]>>6 == 3
	pad := 0
	if h.pad {
		pad = 1
	}
	switch {
	case h.layer == 1:
		h.samples = 384
		h.size = (12*h.bitrate*1000/h.rate + pad) * 4
	case h.layer == 3 && h.version != 1:
		h.samples = 576
		h.size = 72*h.bitrate*1000/h.rate + pad
	default:
		h.samples = 1152
		h.size = 144*h.bitrate*1000/h.rate + pad
	}
	// Version, layer and sample rate must stay constant within a stream.
	h.rawMatch = uint32(b[1]&0xfe)<<8 | uint32(b[2]&0x0c)
	return h, true
}

// frameAt parses the frame header at off.
func frameAt(rd *reader, off int64) (mpegHeader, bool) {
	return parseMPEG(rd.at(off, 4))
}

// confirmed reports whether the frame at off is followed by n-1 more frames
// of the same stream, or by the end of the audio. When more than two frames
// are asked for, at least two must exist.
func confirmed(rd *reader, off, end int64, h mpegHeader, n int) bool {
	for i := range n - 1 {
		off += int64(h.size)
		if off >= end-4 && off <= end {
			return i > 0 || n <= 2
		}
		next, ok := frameAt(rd, off)
		if !ok || next.rawMatch != h.rawMatch {
			return false
		}
		h = next
	}
	return true
}

// syncLimit bounds how far past the tag (or file start) Probe looks for the
// first frame: junk, padding and broken tags before audio are common.
const syncLimit = 64 << 10

// findFrame finds the first confirmed frame in [start, start+syncLimit).
func findFrame(rd *reader, start, end int64, need int) (int64, mpegHeader, bool) {
	lim := min(start+syncLimit, end-4)
	for off := start; off < lim; off++ {
		b := rd.upTo(off, 4)
		if len(b) < 4 {
			break
		}
		if b[0] != 0xff {
			continue
		}
		h, ok := parseMPEG(b)
		if ok && confirmed(rd, off, end, h, need) {
			return off, h, true
		}
	}
	return 0, mpegHeader{}, false
}

// audioEnd returns the offset where the frames starting at start end: before
// the tags that may trail them. An ID3v1 tag comes last; before it, in any
// order, APE tags, Lyrics3v2 tags and an ID3v2 tag with a footer.
func audioEnd(rd *reader, start int64) int64 {
	end := rd.size
	// One tail read covers the footers of the usual trailing tags; a
	// footer further back (behind a large APE tag) costs one more read.
	if tail := max(end-tailRead, start); !rd.has(tail, int(end-tail)) {
		rd.upTo(tail, int(end-tail))
	}
	if end-start >= 128 {
		if b := rd.at(end-128, 3); string(b) == "TAG" {
			end -= 128
		}
	}
	for range 4 {
		n := trailingTag(rd, start, end)
		if n == 0 {
			break
		}
		end -= n
	}
	return end
}

// tailRead is how much audioEnd reads at the end of a file: ID3v1, APE and
// Lyrics3 footers and the small tags behind them. A whole window there
// copied four times the bytes (twice: kernel, then read-ahead buffer) for
// the same single read; a footer further back costs one more read.
const tailRead = 16 << 10

// trailingTag returns the length of the tag that ends at end, or 0.
func trailingTag(rd *reader, start, end int64) int64 {
	room := end - start
	if b := rd.at(end-32, 32); room >= 32 && b != nil && string(b[:8]) == "APETAGEX" {
		n := int64(binary.LittleEndian.Uint32(b[12:]))
		if binary.LittleEndian.Uint32(b[20:])&(1<<31) != 0 {
			n += 32 // header present
		}
		if n >= 32 && n <= room {
			return n
		}
	}
	if b := rd.at(end-15, 15); room >= 15 && b != nil && string(b[6:]) == "LYRICS200" {
		n := int64(0)
		for _, c := range b[:6] {
			if c < '0' || c > '9' {
				return 0
			}
			n = n*10 + int64(c-'0')
		}
		if n+15 <= room {
			return n + 15
		}
	}
	if b := rd.at(end-10, 10); room >= 10 && b != nil && string(b[:3]) == "3DI" {
		if n := ID3v2Size(append([]byte("ID3"), b[3:]...)); n > 0 && n <= room {
			return n
		}
	}
	return 0
}

// xingOffset is where a Xing/Info header sits: after the side information.
func xingOffset(h mpegHeader) int64 {
	switch {
	case h.version == 1 && !h.mono:
		return 4 + 32
	case h.version == 1 || !h.mono:
		return 4 + 17
	default:
		return 4 + 9
	}
}

// scanRead is the read size of the frame scan.
const scanRead = 1 << 20

// maxScan bounds the frame scan fallback; past it the duration is
// extrapolated from the bytes per frame seen so far.
const maxScan = 64 << 20

func probeMP3(rd *reader, start int64, tagged bool) (Info, error) {
	end := audioEnd(rd, start)
	// A file with an ID3v2 tag is announced as audio, so two frames in a
	// row suffice; bare bytes need four before we call them MP3.
	need := 4
	if tagged {
		need = 2
	}
	off, h, ok := findFrame(rd, start, end, need)
	if !ok {
		if tagged {
			return Info{}, fmt.Errorf("%w: no MPEG audio frame after ID3v2 tag", ErrUnknownFormat)
		}
		return Info{}, ErrUnknownFormat
	}
	info := Info{
		Container:  "mp3",
		Codec:      [4]string{"", "mp1", "mp2", "mp3"}[h.layer],
		SampleRate: h.rate,
		Channels:   2,
	}
	if h.mono {
		info.Channels = 1
	}
	audio := end - off
	rate := uint64(h.rate)

	// A VBR header (Xing/Info or VBRI) in the first frame.
	if h.layer == 3 {
		frames, nbytes, found := vbrHeader(rd, off, h)
		if found && frames > 0 {
			if trim := lameTrim(rd, off, h); trim >= uint64(frames)*uint64(h.samples) {
				return info, fmt.Errorf("mp3: %w: %d frames, all encoder delay and padding", ErrUndecodable, frames)
			}
		}
		if found {
			// The header frame itself carries no audio.
			after := audio - int64(h.size)
			plausible := frames > 0
			if nbytes > 0 && (int64(nbytes) > audio+int64(h.size) || int64(nbytes) < after/2) {
				plausible = false // claims more or far fewer bytes than the file has
			}
			if plausible {
				ms := msec(uint64(frames)*uint64(h.samples), rate)
				n := int64(nbytes)
				if n == 0 || n > after {
					n = after
				}
				// At least the format's lowest bitrate, and not far below
				// what the first frames average, else the count lies (or
				// the file was cut short).
				br := kbps(n, ms)
				if ms > 0 && br >= minBitrate(h)/2 && (nbytes > 0 || 3*br >= sampleBitrate(rd, off+int64(h.size), end)) {
					info.DurationMS, info.Bitrate = ms, br
					return info, nil
				}
			}
			off += int64(h.size)
			audio -= int64(h.size)
			if nh, ok := frameAt(rd, off); ok {
				h = nh
			}
		}
	}

	// Constant bitrate: the first frames all agree.
	if cbr(rd, off, end, h) {
		info.Bitrate = h.bitrate
		info.DurationMS = uint32(min(uint64(audio)*8/uint64(h.bitrate), 1<<32-1))
		return info, nil
	}
	frames, scanned, capped := scanFrames(rd, off, end)
	if frames == 0 {
		return info, nil
	}
	if capped {
		frames = uint64(float64(frames) * float64(audio) / float64(scanned))
	} else {
		audio = scanned
	}
	info.DurationMS = msec(frames*uint64(h.samples), rate)
	info.Bitrate = kbps(audio, info.DurationMS)
	return info, nil
}

func minBitrate(h mpegHeader) int {
	if h.version == 1 {
		return 32
	}
	return 8
}

// vbrHeader reads a Xing/Info or VBRI header in the frame at off and returns
// its frame and byte counts (0 when absent).
func vbrHeader(rd *reader, off int64, h mpegHeader) (frames, nbytes uint32, found bool) {
	if b := rd.at(off+xingOffset(h), 16); b != nil && (string(b[:4]) == "Xing" || string(b[:4]) == "Info") {
		flags := binary.BigEndian.Uint32(b[4:])
		p := 8
		if flags&1 != 0 {
			frames = binary.BigEndian.Uint32(b[p:])
			p += 4
		}
		if flags&2 != 0 {
			nbytes = binary.BigEndian.Uint32(b[p:])
		}
		return frames, nbytes, true
	}
	if b := rd.at(off+4+32, 18); b != nil && string(b[:4]) == "VBRI" {
		return binary.BigEndian.Uint32(b[14:]), binary.BigEndian.Uint32(b[10:]), true
	}
	return 0, 0, false
}

// lameTrim returns the samples a LAME tag after the Xing/Info header of the
// frame at off says the encoder added (delay plus padding), or 0.
func lameTrim(rd *reader, off int64, h mpegHeader) uint64 {
	x := off + xingOffset(h)
	b := rd.at(x, 8)
	if b == nil || string(b[:4]) != "Xing" && string(b[:4]) != "Info" {
		return 0
	}
	flags := binary.BigEndian.Uint32(b[4:])
	p := x + 8
	for _, f := range []struct {
		bit uint32
		n   int64
	}{{1, 4}, {2, 4}, {4, 100}, {8, 4}} { // frames, bytes, TOC, quality
		if flags&f.bit != 0 {
			p += f.n
		}
	}
	t := rd.at(p, 24)
	if t == nil || string(t[:4]) != "LAME" {
		return 0
	}
	delay := uint64(t[21])<<4 | uint64(t[22])>>4
	padding := uint64(t[22]&0xF)<<8 | uint64(t[23])
	return delay + padding
}

// sampleBitrate averages the bitrates of the buffered frames from off (at
// most cbrFrames), or returns 0 if there are none.
func sampleBitrate(rd *reader, off, end int64) int {
	sum, n := 0, 0
	for range cbrFrames {
		if off >= end-4 || !rd.has(off, 4) {
			break
		}
		f, ok := frameAt(rd, off)
		if !ok {
			break
		}
		sum += f.bitrate
		n++
		off += int64(f.size)
	}
	if n == 0 {
		return 0
	}
	return sum / n
}

// cbrFrames is how many frames must share one bitrate for a CBR estimate.
const cbrFrames = 64

// cbr reports whether the frames from off all have h's bitrate, checking up
// to cbrFrames of them, but only those already buffered once 8 agree: a
// second read for the sample is not worth it.
func cbr(rd *reader, off, end int64, h mpegHeader) bool {
	for i := range cbrFrames {
		if off >= end-4 || (i >= 8 && !rd.has(off, 4)) {
			return true
		}
		f, ok := frameAt(rd, off)
		if !ok || f.rawMatch != h.rawMatch {
			return true // junk or the end of the stream; judge what we saw
		}
		if f.bitrate != h.bitrate {
			return false
		}
		off += int64(f.size)
	}
	return true
}

// scanFrames counts the frames from off, resynchronising over junk, up to
// maxScan bytes. It returns the count, the bytes covered, and whether it
// stopped at the maxScan limit rather than at the end of the audio.
func scanFrames(rd *reader, off, end int64) (frames uint64, scanned int64, capped bool) {
	start := off
	limit := min(end, start+maxScan)
	var ref uint32
	for off < limit-4 {
		if !rd.has(off, 4) {
			rd.upTo(off, scanRead) // read ahead in big steps
		}
		h, ok := frameAt(rd, off)
		if ok && off+int64(h.size) > end {
			break // cut short: not a playable frame
		}
		if ok && (ref == 0 || h.rawMatch == ref) {
			ref = h.rawMatch
			frames++
			off += int64(h.size)
			continue
		}
		// Lost sync: find the next confirmed frame.
		next, nh, found := findFrame(rd, off+1, end, 3)
		if !found || nh.rawMatch != ref {
			break
		}
		off = next
	}
	return frames, min(off, end) - start, off >= limit-4 && limit < end
}
