package probe

import (
	"encoding/binary"
	"fmt"
	"math"
	"strings"
)

// EBML element IDs used here (with their length marker bits, as written).
const (
	ebmlHeader     = 0x1a45dfa3
	ebmlDocType    = 0x4282
	mkvSegment     = 0x18538067
	mkvInfo        = 0x1549a966
	mkvTimecode    = 0x2ad7b1
	mkvDuration    = 0x4489
	mkvTracks      = 0x1654ae6b
	mkvTrackEntry  = 0xae
	mkvTrackType   = 0x83
	mkvCodecID     = 0x86
	mkvAudio       = 0xe1
	mkvSampleRate  = 0xb5
	mkvOutputRate  = 0x78b5
	mkvChannels    = 0x9f
	mkvBitDepth    = 0x6264
	mkvCluster     = 0x1f43b675
	mkvUnknownSize = -1
)

// mkvCodecs maps Matroska codec ID prefixes to codec names.
var mkvCodecs = []struct{ prefix, codec string }{
	{"A_OPUS", "opus"}, {"A_VORBIS", "vorbis"}, {"A_FLAC", "flac"}, {"A_AAC", "aac"},
	{"A_MPEG/L3", "mp3"}, {"A_MPEG/L2", "mp2"}, {"A_MPEG/L1", "mp1"}, {"A_AC3", "ac3"},
	{"A_EAC3", "eac3"}, {"A_ALAC", "alac"}, {"A_PCM/FLOAT", "pcm_float"}, {"A_PCM", "pcm"},
	{"A_DTS", "dts"}, {"A_TRUEHD", "truehd"}, {"A_WAVPACK", "wavpack"}, {"A_TTA", "tta"},
}

// ebmlVint reads a variable-length integer at b. For IDs the marker bit is
// kept; for sizes it is removed and all ones mean "unknown".
func ebmlVint(b []byte, keepMarker bool) (v int64, n int, ok bool) {
	if len(b) == 0 || b[0] == 0 {
		return 0, 0, false
	}
	n = 1
	for b[0]&(0x80>>(n-1)) == 0 {
		n++
	}
	if n > 8 || len(b) < n || (keepMarker && n > 4) {
		return 0, 0, false
	}
	first := b[0]
	if !keepMarker {
		first &^= 0x80 >> (n - 1)
	}
	v = int64(first)
	allOnes := first == byte(0xff>>n)
	for _, c := range b[1:n] {
		v = v<<8 | int64(c)
		allOnes = allOnes && c == 0xff
	}
	if !keepMarker && allOnes {
		v = mkvUnknownSize
	}
	return v, n, true
}

// ebmlElem is one element: ID and payload extent.
type ebmlElem struct {
	id         int64
	start, end int64 // end is the parent's end for unknown sizes
}

// ebmlChildren calls fn for each element in [off, end) until it returns
// false.
func ebmlChildren(rd *reader, off, end int64, fn func(ebmlElem) bool) {
	for range maxBoxes {
		b := rd.upTo(off, 12)
		id, n1, ok := ebmlVint(b, true)
		if !ok {
			return
		}
		size, n2, ok := ebmlVint(b[n1:], false)
		if !ok {
			return
		}
		e := ebmlElem{id: id, start: off + int64(n1+n2)}
		if size == mkvUnknownSize || size > end-e.start {
			e.end = end
		} else {
			e.end = e.start + size
		}
		if e.start > end || !fn(e) {
			return
		}
		off = e.end
	}
}

func ebmlUint(b []byte) uint64 {
	var v uint64
	for _, c := range b[:min(len(b), 8)] {
		v = v<<8 | uint64(c)
	}
	return v
}

func ebmlFloat(b []byte) float64 {
	switch len(b) {
	case 4:
		return float64(math.Float32frombits(binary.BigEndian.Uint32(b)))
	case 8:
		return math.Float64frombits(binary.BigEndian.Uint64(b))
	}
	return 0
}

// payload returns an element's bytes, capped at 256 (enough for every
// field read here).
func (e ebmlElem) payload(rd *reader) []byte {
	return rd.upTo(e.start, int(min(e.end-e.start, 256)))
}

func probeMKV(rd *reader) (Info, error) {
	info := Info{Container: "matroska"}
	var segment ebmlElem
	found := false
	ebmlChildren(rd, 0, rd.size, func(e ebmlElem) bool {
		switch e.id {
		case ebmlHeader:
			ebmlChildren(rd, e.start, e.end, func(c ebmlElem) bool {
				if c.id == ebmlDocType && string(c.payload(rd)) == "webm" {
					info.Container = "webm"
				}
				return true
			})
		case mkvSegment:
			segment, found = e, true
			return false
		}
		return true
	})
	if !found {
		return info, fmt.Errorf("matroska: %w: no segment", ErrTruncated)
	}
	scale := uint64(1_000_000) // ns per timecode unit
	var duration float64
	tracks := 0
	audio := false
	tw := mkvTagWalk{rd: rd, segment: segment}
	ebmlChildren(rd, segment.start, segment.end, func(e ebmlElem) bool {
		tw.elem(e)
		switch e.id {
		case mkvInfo:
			ebmlChildren(rd, e.start, e.end, func(c ebmlElem) bool {
				switch c.id {
				case mkvTimecode:
					if v := ebmlUint(c.payload(rd)); v > 0 {
						scale = v
					}
				case mkvDuration:
					duration = ebmlFloat(c.payload(rd))
				}
				return true
			})
		case mkvTracks:
			ebmlChildren(rd, e.start, e.end, func(t ebmlElem) bool {
				if t.id != mkvTrackEntry {
					return true
				}
				tracks++
				if !audio {
					audio = readMKVTrack(rd, t, &info)
				}
				return true
			})
		case mkvCluster:
			return false // headers precede the media data; the SeekHead points past it
		}
		return true
	})
	tw.finish()
	if !audio {
		return info, ErrNoAudio
	}
	if ms := duration * float64(scale) / 1e6; ms > 0 && ms < math.MaxUint32 {
		info.DurationMS = uint32(ms)
	}
	if tracks == 1 {
		info.Bitrate = kbps(rd.size, info.DurationMS)
	}
	return info, nil
}

// readMKVTrack fills info from an audio TrackEntry and reports whether it
// was one.
func readMKVTrack(rd *reader, t ebmlElem, info *Info) bool {
	isAudio := false
	var codec string
	var rate, outRate float64
	var channels, bits uint64
	ebmlChildren(rd, t.start, t.end, func(c ebmlElem) bool {
		switch c.id {
		case mkvTrackType:
			isAudio = ebmlUint(c.payload(rd)) == 2
		case mkvCodecID:
			codec = string(c.payload(rd))
		case mkvAudio:
			ebmlChildren(rd, c.start, c.end, func(a ebmlElem) bool {
				switch a.id {
				case mkvSampleRate:
					rate = ebmlFloat(a.payload(rd))
				case mkvOutputRate:
					outRate = ebmlFloat(a.payload(rd))
				case mkvChannels:
					channels = ebmlUint(a.payload(rd))
				case mkvBitDepth:
					bits = ebmlUint(a.payload(rd))
				}
				return true
			})
		}
		return true
	})
	if !isAudio {
		return false
	}
	info.Codec = strings.ToLower(strings.Map(printable, codec))
	for _, m := range mkvCodecs {
		if strings.HasPrefix(codec, m.prefix) {
			info.Codec = m.codec
			break
		}
	}
	if outRate > 0 {
		rate = outRate
	}
	if rate > 0 && rate < 1e7 {
		info.SampleRate = int(rate)
	}
	info.Channels = int(min(channels, 255))
	if info.Channels == 0 {
		info.Channels = 1 // the Matroska default
	}
	switch info.Codec {
	case "pcm", "pcm_float", "flac", "alac", "wavpack", "tta", "truehd":
		info.BitsPerSample = int(min(bits, 64))
	}
	return true
}
