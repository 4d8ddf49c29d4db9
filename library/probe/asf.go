package probe

import (
	"encoding/binary"
	"fmt"
)

// ASF object GUIDs, in their on-disk byte order.
var (
	asfFileProps     = guid("8CABDCA1-A947-11CF-8EE4-00C00C205365")
	asfStreamProps   = guid("B7DC0791-A9B7-11CF-8EE6-00C00C205365")
	asfAudioMedia    = guid("F8699E40-5B4D-11CF-A8FD-00805F5C442B")
	asfContentDesc   = guid("75B22633-668E-11CF-A6D9-00AA0062CE6C")
	asfExtContent    = guid("D2D0A440-E307-11D2-97F0-00A0C95EA850")
	asfHeaderExt     = guid("5FBF03B5-A92E-11CF-8EE3-00C00C205365")
	asfMetadataLib   = guid("44231C94-9498-49D1-A141-1D134E457054")
	asfMetadata      = guid("C5F8CBEA-5BAF-4877-8467-AA8C44FA4CCA")
	asfCodecWMA      = map[uint16]string{0x0160: "wma", 0x0161: "wma", 0x0162: "wmapro", 0x0163: "wmalossless", 0x000A: "wma", 0x0055: "mp3", 0x0001: "pcm"}
	asfVideoMedia    = guid("BC19EFC0-5B4D-11CF-A8FD-00805F5C442B")
	asfMaxHeaderSize = int64(64 << 20)
)

// guid turns the text form of a GUID into its ASF byte order: the first
// three groups little-endian, the rest as written.
func guid(s string) string {
	var b []byte
	hex := func(c byte) byte {
		switch {
		case c >= '0' && c <= '9':
			return c - '0'
		case c >= 'A' && c <= 'F':
			return c - 'A' + 10
		}
		return c - 'a' + 10
	}
	var raw []byte
	for i := 0; i+1 < len(s); {
		if s[i] == '-' {
			i++
			continue
		}
		raw = append(raw, hex(s[i])<<4|hex(s[i+1]))
		i += 2
	}
	b = append(b, raw[3], raw[2], raw[1], raw[0], raw[5], raw[4], raw[7], raw[6])
	b = append(b, raw[8:]...)
	return string(b)
}

// asfObject is one object in an ASF header (or header extension).
type asfObject struct {
	GUID   string // 16 bytes, on-disk order
	Offset int64  // payload start (after the 24-byte object header)
	Size   int64  // payload length, clamped to its parent
}

// walkASF calls fn for each object in [off, end), at most maxChunks.
func walkASF(rd *reader, off, end int64, fn func(asfObject) bool) {
	for range maxChunks {
		h := rd.at(off, 24)
		if h == nil || off+24 > end {
			return
		}
		size := int64(binary.LittleEndian.Uint64(h[16:]))
		if size < 24 || size > end-off {
			size = end - off
		}
		if !fn(asfObject{GUID: string(h[:16]), Offset: off + 24, Size: size - 24}) {
			return
		}
		off += size
	}
}

// probeASF reads a WMA file's header: the file properties (play duration
// minus preroll) and the first audio stream's WAVEFORMATEX.
func probeASF(rd *reader) (Info, error) {
	info := Info{Container: "asf"}
	h := rd.at(0, 30)
	if h == nil {
		return info, fmt.Errorf("asf: %w", ErrTruncated)
	}
	hsize := min(int64(binary.LittleEndian.Uint64(h[16:])), rd.size, asfMaxHeaderSize)
	var duration100ns, preroll, packets uint64
	var maxBitrate, packetSize uint32
	audio, video := false, false
	walkASF(rd, 30, hsize, func(o asfObject) bool {
		switch o.GUID {
		case asfFileProps:
			b := rd.at(o.Offset, 80)
			if b == nil {
				return true
			}
			duration100ns = binary.LittleEndian.Uint64(b[40:])
			preroll = binary.LittleEndian.Uint64(b[56:])
			packets = binary.LittleEndian.Uint64(b[32:])
			if lo, hi := binary.LittleEndian.Uint32(b[68:]), binary.LittleEndian.Uint32(b[72:]); lo == hi {
				packetSize = lo
			}
			maxBitrate = binary.LittleEndian.Uint32(b[76:])
		case asfContentDesc, asfExtContent:
			rd.block(Block{Kind: BlockASF, ID: asfTagKinds[o.GUID], Offset: o.Offset, Size: o.Size})
		case asfHeaderExt:
			// 16-byte reserved GUID, 2-byte reserved, 4-byte data size.
			walkASF(rd, o.Offset+22, o.Offset+o.Size, func(e asfObject) bool {
				if id, ok := asfTagKinds[e.GUID]; ok && id == ASFMetadata {
					rd.block(Block{Kind: BlockASF, ID: id, Offset: e.Offset, Size: e.Size})
				}
				return true
			})
		case asfStreamProps:
			b := rd.at(o.Offset, 54+16)
			if b == nil {
				return true
			}
			switch string(b[:16]) {
			case asfAudioMedia:
				if audio {
					return true
				}
				audio = true
				wf := b[54:]
				tag := binary.LittleEndian.Uint16(wf)
				info.Codec = asfCodecWMA[tag]
				if info.Codec == "" {
					info.Codec = fmt.Sprintf("asf_0x%04x", tag)
				}
				info.Channels = int(binary.LittleEndian.Uint16(wf[2:]))
				info.SampleRate = u32(binary.LittleEndian.Uint32(wf[4:]))
				info.Bitrate = int(binary.LittleEndian.Uint32(wf[8:]) * 8 / 1000)
				info.BitsPerSample = int(binary.LittleEndian.Uint16(wf[14:]))
				if info.Codec != "wmalossless" && info.Codec != "pcm" {
					info.BitsPerSample = 0
				}
			case asfVideoMedia:
				video = true
			}
		}
		return true
	})
	if !audio {
		return info, ErrNoAudio
	}
	if video {
		return info, fmt.Errorf("%w: a video file", ErrNoAudio)
	}
	ms := duration100ns / 10000
	ms -= min(ms, preroll)
	if ms == 0 {
		return info, fmt.Errorf("asf: %w: no play duration", ErrTruncated)
	}
	// A truncated file holds fewer packets than its header states: the
	// length is that of the packets present (after the 50-byte data
	// object header).
	if data := rd.size - hsize - 50; packetSize > 0 && packets > 0 && packets < 1<<40 && data < int64(packets)*int64(packetSize) {
		ms = ms * uint64(max(data, 0)) / (packets * uint64(packetSize))
		if ms == 0 {
			return info, fmt.Errorf("asf: %w: no audio packets", ErrTruncated)
		}
	}
	info.DurationMS = uint32(min(ms, 1<<32-1))
	if info.Bitrate == 0 {
		info.Bitrate = int(maxBitrate / 1000)
	}
	return info, nil
}

// asfTagKinds maps the GUIDs of the ASF objects that carry tags to the ID
// of their BlockASF.
var asfTagKinds = map[string]string{
	asfContentDesc: ASFContentDescription,
	asfExtContent:  ASFExtendedContent,
	asfMetadata:    ASFMetadata,
	asfMetadataLib: ASFMetadata,
}

// ASF tag object kinds: the ID of a BlockASF.
const (
	ASFContentDescription = "content"
	ASFExtendedContent    = "extended"
	ASFMetadata           = "metadata" // metadata and metadata library objects
)
