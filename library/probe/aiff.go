package probe

import (
	"encoding/binary"
	"fmt"
	"math"
	"strings"
)

// aifcCodecs maps AIFC compression types to codec names, with the number of
// samples one "sample frame" of COMM holds (packets for ADPCM).
var aifcCodecs = map[string]struct {
	codec   string
	samples uint64
}{
	"NONE": {"pcm", 1}, "twos": {"pcm", 1}, "sowt": {"pcm", 1}, "raw ": {"pcm", 1},
	"in24": {"pcm", 1}, "in32": {"pcm", 1}, "fl32": {"pcm_float", 1}, "FL32": {"pcm_float", 1},
	"fl64": {"pcm_float", 1}, "FL64": {"pcm_float", 1}, "alaw": {"alaw", 1}, "ALAW": {"alaw", 1},
	"ulaw": {"ulaw", 1}, "ULAW": {"ulaw", 1}, "ima4": {"adpcm_ima", 64}, "MAC3": {"mace3", 6},
	"MAC6": {"mace6", 6}, "GSM ": {"gsm", 160}, "QDM2": {"qdm2", 1}, "QDMC": {"qdmc", 1},
}

// extended decodes an 80-bit IEEE 754 extended-precision number, as AIFF
// stores its sample rate. It returns 0 for values out of range.
func extended(b []byte) float64 {
	exp := int(binary.BigEndian.Uint16(b) & 0x7fff)
	mant := binary.BigEndian.Uint64(b[2:])
	if b[0]&0x80 != 0 || exp == 0 || mant == 0 || exp == 0x7fff {
		return 0
	}
	v := math.Ldexp(float64(mant), exp-16383-63)
	if v < 1 || v > 1e8 || math.IsNaN(v) {
		return 0
	}
	return v
}

func probeAIFF(rd *reader) (Info, error) {
	info := Info{Container: "aiff"}
	h := rd.at(0, 12)
	if h == nil {
		return info, ErrUnknownFormat
	}
	form := string(h[8:12])
	if form != "AIFF" && form != "AIFC" {
		return info, fmt.Errorf("%w: IFF %q", ErrUnknownFormat, form)
	}
	var comm, ssnd chunk
	var haveComm, haveSSND bool
	walkIFF(rd, 12, rd.size, binary.BigEndian, func(c chunk) bool {
		switch c.ID {
		case "COMM":
			if !haveComm {
				comm, haveComm = c, true
			}
		case "SSND":
			if !haveSSND {
				ssnd, haveSSND = c, true
			}
		case "ID3 ", "id3 ":
			rd.block(Block{Kind: BlockID3v2, Offset: c.Offset, Size: c.Size})
		case "NAME", "AUTH", "ANNO":
			rd.block(Block{Kind: BlockText, ID: c.ID, Offset: c.Offset, Size: c.Size})
		}
		return true // on past the sound data: tags often follow it
	})
	if !haveComm {
		return info, fmt.Errorf("aiff: %w: no COMM chunk", ErrTruncated)
	}
	b := rd.at(comm.Offset, int(min(comm.Size, 24)))
	if len(b) < 18 {
		return info, fmt.Errorf("aiff: %w: short COMM chunk", ErrTruncated)
	}
	info.Channels = int(binary.BigEndian.Uint16(b))
	frames := uint64(binary.BigEndian.Uint32(b[2:]))
	bits := int(binary.BigEndian.Uint16(b[6:]))
	rate := extended(b[8:18])
	if rate == 0 {
		return info, fmt.Errorf("aiff: bad sample rate")
	}
	info.SampleRate = int(math.Round(rate))
	info.Codec, info.BitsPerSample = "pcm", bits
	per := uint64(1)
	if form == "AIFC" && len(b) >= 22 {
		ct := string(b[18:22])
		c, ok := aifcCodecs[ct]
		if !ok {
			c.codec, c.samples = strings.ToLower(strings.TrimSpace(strings.Map(printable, ct))), 1
		}
		info.Codec, per = c.codec, c.samples
		switch c.codec {
		case "pcm", "pcm_float":
			switch ct {
			case "fl32", "FL32", "in32":
				info.BitsPerSample = 32
			case "fl64", "FL64":
				info.BitsPerSample = 64
			case "in24":
				info.BitsPerSample = 24
			}
		case "alaw", "ulaw":
			info.BitsPerSample = 8
		default:
			info.BitsPerSample = 0
		}
	}
	samples := frames * per
	info.DurationMS = uint32(min(math.Floor(float64(samples)*1000/rate), math.MaxUint32))
	if info.BitsPerSample > 0 && per == 1 {
		info.Bitrate = int(float64(info.BitsPerSample*info.Channels) * rate / 1000)
	} else if haveSSND {
		info.Bitrate = kbps(ssnd.Size-8, info.DurationMS)
	}
	return info, nil
}
