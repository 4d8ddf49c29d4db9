package probe

import (
	"encoding/binary"
	"fmt"
	"math/bits"
)

// Native readers of the 2000s lossless and lossy formats whose headers
// state their length: Monkey's Audio, WavPack, TTA and Musepack. Each
// length is clamped by the file size where the format allows a check.

// probeAPE reads a Monkey's Audio header: the descriptor and header of
// version 3.98 and later, or the single older header.
func probeAPE(rd *reader, start int64) (Info, error) {
	info := Info{Container: "ape", Codec: "ape"}
	b := rd.at(start, 76)
	if b == nil {
		return info, fmt.Errorf("ape: %w", ErrTruncated)
	}
	le := binary.LittleEndian
	version := int(le.Uint16(b[4:]))
	if version < apeMinVersion || version > apeMaxVersion {
		return info, fmt.Errorf("ape: %w: file version %d (decoders read %d to %d)", ErrUndecodable, version, apeMinVersion, apeMaxVersion)
	}
	var frames, finalBlocks, blocksPerFrame uint32
	var seekTable int64 // offset of the seek table, from start
	if version >= 3980 {
		desc := le.Uint32(b[8:])
		h := rd.at(start+int64(desc), 24)
		if desc < 52 || desc > 1<<16 || h == nil {
			return info, fmt.Errorf("ape: %w: header", ErrTruncated)
		}
		seekTable = int64(desc) + int64(le.Uint32(b[12:]))
		blocksPerFrame, finalBlocks, frames = le.Uint32(h[4:]), le.Uint32(h[8:]), le.Uint32(h[12:])
		info.BitsPerSample = int(le.Uint16(h[16:]))
		info.Channels = int(le.Uint16(h[18:]))
		info.SampleRate = u32(le.Uint32(h[20:]))
	} else {
		level := le.Uint16(b[6:])
		flags := le.Uint16(b[8:])
		info.Channels = int(le.Uint16(b[10:]))
		info.SampleRate = u32(le.Uint32(b[12:]))
		frames, finalBlocks = le.Uint32(b[24:]), le.Uint32(b[28:])
		// After the 32-byte header: a peak level, a seek table length,
		// then the WAV header unless the decoder is to make one up.
		seekTable = 32
		if flags&4 != 0 {
			seekTable += 4
		}
		if flags&16 != 0 {
			seekTable += 4
		}
		if flags&32 == 0 {
			seekTable += int64(le.Uint32(b[16:]))
		}
		switch {
		case version >= 3950:
			blocksPerFrame = 73728 * 4
		case version >= 3900 || (version >= 3800 && level == 4000):
			blocksPerFrame = 73728
		default:
			blocksPerFrame = 9216
		}
		switch {
		case flags&1 != 0:
			info.BitsPerSample = 8
		case flags&8 != 0:
			info.BitsPerSample = 24
		default:
			info.BitsPerSample = 16
		}
	}
	if info.SampleRate <= 0 || info.Channels <= 0 || frames == 0 || finalBlocks > blocksPerFrame {
		return info, fmt.Errorf("ape: %w: version %d, %d frames at %d Hz", ErrTruncated, version, frames, info.SampleRate)
	}
	samples := uint64(frames-1)*uint64(blocksPerFrame) + uint64(finalBlocks)
	info.DurationMS = msec(samples, uint64(info.SampleRate))
	if info.DurationMS == 0 {
		return info, fmt.Errorf("ape: %w: no samples", ErrTruncated)
	}
	// A frame holds at least a few bytes: a count far beyond the file
	// size is a damaged header.
	if uint64(frames) > uint64(rd.size) {
		return info, fmt.Errorf("ape: %w: %d frames in %d bytes", ErrTruncated, frames, rd.size)
	}
	// Seek table entries are file offsets (after any leading tag): when
	// the second frame starts past the end, not even the first frame is
	// whole (TagLib's mac-390-hdr.ape is a header alone).
	if e := rd.at(start+seekTable, 8); frames > 1 && e != nil && start+int64(le.Uint32(e[4:])) > rd.size {
		return info, fmt.Errorf("ape: %w: the first frame ends past the end of the file", ErrUndecodable)
	}
	info.Bitrate = kbps(rd.size-start, info.DurationMS)
	return info, nil
}

// Monkey's Audio file versions decoders read (ffmpeg: 3.80 to 3.99).
const (
	apeMinVersion = 3800
	apeMaxVersion = 3990
)

// wavpackRates are the standard sample rates by WavPack's 4-bit index.
var wavpackRates = [15]int{6000, 8000, 9600, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000, 64000, 88200, 96000, 192000}

// probeWavPack reads the first WavPack block header, and its metadata
// sub-blocks for a non-standard rate and the channel count. DSD WavPack
// counts samples in bytes of eight 1-bit samples per channel.
func probeWavPack(rd *reader, start int64) (Info, error) {
	info := Info{Container: "wavpack", Codec: "wavpack"}
	le := binary.LittleEndian
	// A WavPack file may begin with blocks that hold no audio; the first
	// block with samples states the total.
	off := start
	var h []byte
	for range 64 {
		h = rd.at(off, 32)
		if h == nil || string(h[:4]) != "wvpk" {
			return info, fmt.Errorf("wavpack: %w: block header", ErrTruncated)
		}
		if le.Uint32(h[20:]) > 0 { // block_samples
			break
		}
		off += 8 + int64(le.Uint32(h[4:]))
	}
	size := le.Uint32(h[4:])
	total := uint64(le.Uint32(h[12:]))
	unknown := total == 0xFFFFFFFF
	total |= uint64(h[11]) << 32 // total_samples_u8: bits 32-39
	flags := le.Uint32(h[24:])
	dsd := flags&(1<<31) != 0
	info.BitsPerSample = int(flags&3+1) * 8
	info.Channels = 2
	if flags&4 != 0 {
		info.Channels = 1
	}
	if idx := flags >> 23 & 0xF; idx < 15 {
		info.SampleRate = wavpackRates[idx]
	}
	// Metadata sub-blocks: 0x27 sample rate, 0x0D channel info, 0x0E DSD.
	end := off + 8 + int64(min(size, 1<<20))
	dsdShift := 0
	for p, n := off+32, 0; p+2 <= end && n < 256; n++ {
		m := rd.at(p, 4)
		if m == nil {
			break
		}
		id := m[0]
		l := int64(m[1]) * 2
		hdr := int64(2)
		if id&0x80 != 0 { // large
			l = int64(uint32(m[1])|uint32(m[2])<<8|uint32(m[3])<<16) * 2
			hdr = 4
		}
		data := rd.upTo(p+hdr, int(min(l, 8)))
		switch id & 0x3F {
		case 0x27:
			if len(data) >= 3 {
				info.SampleRate = int(uint32(data[0]) | uint32(data[1])<<8 | uint32(data[2])<<16)
			}
		case 0x0D:
			if err := wavpackChannelMask(id, l, data); err != nil {
				return info, err
			}
			if len(data) >= 1 && data[0] > 0 {
				info.Channels = int(data[0])
				if l >= 6 && len(data) >= 3 { // 12-bit channel count in the large form
					info.Channels = int(data[0]) | int(data[2]&0xF)<<8
					if info.Channels == 0 {
						info.Channels = int(data[0])
					}
				}
			}
		case 0x0E:
			if len(data) >= 1 {
				dsdShift = int(data[0])
			}
		}
		p += hdr + l
	}
	if unknown || total == 0 {
		return info, fmt.Errorf("wavpack: %w: length not in the header", ErrTruncated)
	}
	if info.SampleRate == 0 {
		return info, fmt.Errorf("wavpack: %w: no sample rate", ErrTruncated)
	}
	if dsd {
		info.Codec = "dsd"
		info.BitsPerSample = 1
		info.SampleRate <<= dsdShift
		info.SampleRate *= 8
		total *= 8
	}
	info.DurationMS = msec(total, uint64(info.SampleRate))
	info.Bitrate = kbps(rd.size-start, info.DurationMS)
	return info, nil
}

// wavpackChannelMask checks a channel info sub-block (id, l bytes, data its
// first bytes): decoders refuse a speaker mask whose speakers are not as
// many as the channels (TagLib's four_channels.wv: 4 channels, mask 0x4).
func wavpackChannelMask(id byte, l int64, data []byte) error {
	n := l
	if id&0x40 != 0 { // odd size: the last byte is padding
		n--
	}
	if n < 2 || n > 5 || int64(len(data)) < n {
		return nil // no mask, or the 12-bit count forms decoders check loosely
	}
	var mask uint32
	for i := n - 1; i >= 1; i-- {
		mask = mask<<8 | uint32(data[i])
	}
	if ch := int(data[0]); mask != 0 && ch != 0 && bits.OnesCount32(mask) != ch {
		return fmt.Errorf("wavpack: %w: %d channels, but a speaker mask (0x%x) for %d", ErrUndecodable, ch, mask, bits.OnesCount32(mask))
	}
	return nil
}

// probeTTA reads the TTA1 header.
func probeTTA(rd *reader, start int64) (Info, error) {
	info := Info{Container: "tta", Codec: "tta"}
	b := rd.at(start, 22)
	if b == nil {
		return info, fmt.Errorf("tta: %w", ErrTruncated)
	}
	le := binary.LittleEndian
	info.Channels = int(le.Uint16(b[6:]))
	info.BitsPerSample = int(le.Uint16(b[8:]))
	info.SampleRate = u32(le.Uint32(b[10:]))
	samples := le.Uint32(b[14:])
	if info.SampleRate == 0 || info.Channels == 0 || samples == 0 {
		return info, fmt.Errorf("tta: %w: %d samples at %d Hz", ErrTruncated, samples, info.SampleRate)
	}
	info.DurationMS = msec(uint64(samples), uint64(info.SampleRate))
	info.Bitrate = kbps(rd.size-start, info.DurationMS)
	return info, nil
}

// mpcRates are Musepack's sample rates by index.
var mpcRates = [4]int{44100, 48000, 37800, 32000}

// probeMPC reads a Musepack SV7 header ("MP+") or an SV8 stream header
// packet ("MPCK" then "SH").
func probeMPC(rd *reader, start int64) (Info, error) {
	info := Info{Container: "musepack", Codec: "musepack", Channels: 2}
	b := rd.at(start, 32)
	if b == nil {
		return info, fmt.Errorf("musepack: %w", ErrTruncated)
	}
	le := binary.LittleEndian
	var samples uint64
	if string(b[:3]) == "MP+" {
		if b[3]&0x0F != 7 {
			return info, fmt.Errorf("%w: musepack stream version %d", ErrUnknownFormat, b[3]&0x0F)
		}
		frames := uint64(le.Uint32(b[4:]))
		info.SampleRate = mpcRates[le.Uint32(b[8:])>>16&3]
		// Every frame decodes to 1152 samples (ffmpeg ignores the
		// gapless length of the last one).
		samples = frames * 1152
	} else {
		// SV8: packets of a 2-byte key and a variable-length size.
		off := start + 4
		found := false
		for range 64 {
			k := rd.at(off, 2)
			if k == nil {
				break
			}
			size, n := mpcVarint(rd.upTo(off+2, 9))
			if n == 0 || size < 2+uint64(n) {
				break
			}
			if string(k) == "SH" {
				p := rd.upTo(off+2+int64(n), 32)
				if len(p) < 6 {
					break
				}
				p = p[5:] // CRC and stream version
				count, m := mpcVarint(p)
				if m == 0 {
					break
				}
				silence, m2 := mpcVarint(p[m:])
				if m2 == 0 || len(p) < m+m2+2 {
					break
				}
				r := p[m+m2]
				if r>>5 >= byte(len(mpcRates)) {
					return info, fmt.Errorf("musepack: %w: sample rate index %d", ErrUndecodable, r>>5)
				}
				info.SampleRate = mpcRates[r>>5]
				info.Channels = int(p[m+m2+1]>>4) + 1
				samples = count - min(silence, count)
				found = true
				break
			}
			off += int64(size)
		}
		if !found {
			return info, fmt.Errorf("musepack: %w: no stream header", ErrTruncated)
		}
	}
	info.DurationMS = msec(samples, uint64(info.SampleRate))
	if info.DurationMS == 0 {
		return info, fmt.Errorf("musepack: %w: no samples", ErrTruncated)
	}
	info.Bitrate = kbps(rd.size-start, info.DurationMS)
	return info, nil
}

// mpcVarint decodes Musepack SV8's big-endian 7-bit varint; n is 0 when b
// ends first or the number is longer than 8 bytes.
func mpcVarint(b []byte) (v uint64, n int) {
	for i := 0; i < len(b) && i < 8; i++ {
		v = v<<7 | uint64(b[i]&0x7F)
		if b[i]&0x80 == 0 {
			return v, i + 1
		}
	}
	return 0, 0
}
