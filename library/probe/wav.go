package probe

import (
	"encoding/binary"
	"fmt"
)

// wavCodecs maps WAVE format tags to codec names.
var wavCodecs = map[uint16]string{
	0x0001: "pcm", 0x0003: "pcm_float", 0x0006: "alaw", 0x0007: "ulaw",
	0x0002: "adpcm_ms", 0x0011: "adpcm_ima", 0x0031: "gsm", 0x0050: "mp2", 0x0055: "mp3",
	0x00ff: "aac", 0x1610: "aac", 0x2000: "ac3", 0x2001: "dts", 0xf1ac: "flac",
}

func probeWAV(rd *reader) (Info, error) {
	info := Info{Container: "wav"}
	if h := rd.at(0, 12); h == nil || string(h[8:12]) != "WAVE" {
		return info, ErrUnknownFormat
	}
	var fmtc, data chunk
	var haveFmt, haveData bool
	var factSamples uint32
	// The walk goes on past the data chunk: tags often follow the audio.
	walkRIFF(rd, func(c chunk) bool {
		switch c.ID {
		case "fmt ":
			if !haveFmt {
				fmtc, haveFmt = c, true
			}
		case "fact":
			if b := rd.at(c.Offset, 4); b != nil && c.Size >= 4 {
				factSamples = binary.LittleEndian.Uint32(b)
			}
		case "data":
			if !haveData {
				data, haveData = c, true
			}
		case "id3 ", "ID3 ":
			rd.block(Block{Kind: BlockID3v2, Offset: c.Offset, Size: c.Size})
		case "LIST":
			if string(rd.at(c.Offset, 4)) == "INFO" {
				walkIFF(rd, c.Offset+4, c.Offset+c.Size, binary.LittleEndian, func(item chunk) bool {
					rd.block(Block{Kind: BlockInfo, ID: item.ID, Offset: item.Offset, Size: item.Size})
					return true
				})
			}
		}
		return true
	})
	if !haveFmt {
		return info, fmt.Errorf("wav: %w: no fmt chunk", ErrTruncated)
	}
	b := rd.at(fmtc.Offset, int(min(fmtc.Size, 40)))
	if len(b) < 16 {
		return info, fmt.Errorf("wav: %w: short fmt chunk", ErrTruncated)
	}
	tag := binary.LittleEndian.Uint16(b)
	if tag == 0xfffe && len(b) >= 26 {
		tag = binary.LittleEndian.Uint16(b[24:]) // extensible: the subformat GUID's first two bytes
	}
	info.Codec = wavCodecs[tag]
	if info.Codec == "" {
		info.Codec = fmt.Sprintf("wav_0x%04x", tag)
	}
	info.Channels = int(binary.LittleEndian.Uint16(b[2:]))
	info.SampleRate = u32(binary.LittleEndian.Uint32(b[4:]))
	byteRate := binary.LittleEndian.Uint32(b[8:])
	bits := int(binary.LittleEndian.Uint16(b[14:]))
	pcm := info.Codec == "pcm" || info.Codec == "pcm_float" || info.Codec == "alaw" || info.Codec == "ulaw"
	if pcm {
		info.BitsPerSample = bits
	}
	info.Bitrate = int(uint64(byteRate) * 8 / 1000)
	if !haveData {
		return info, nil
	}
	if data.Size == 0 {
		// Streaming writers leave the size 0 (or 0xFFFFFFFF, clamped by
		// the walk); the audio runs to the end of the file.
		data.Size = rd.size - data.Offset
	}
	switch {
	case !pcm && factSamples > 0 && info.SampleRate > 0:
		info.DurationMS = msec(uint64(factSamples), uint64(info.SampleRate))
	case byteRate > 0:
		info.DurationMS = msec(uint64(data.Size), uint64(byteRate))
	}
	return info, nil
}
