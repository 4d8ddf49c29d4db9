package probe

import (
	"encoding/binary"
	"fmt"
)

// probeDSF reads a Sony DSD Stream File: a "DSD " header chunk, then a
// "fmt " chunk with the sample count and the 1-bit sampling frequency.
func probeDSF(rd *reader) (Info, error) {
	info := Info{Container: "dsf", Codec: "dsd"}
	b := rd.at(0, 80)
	if b == nil || string(b[28:32]) != "fmt " {
		return info, fmt.Errorf("dsf: %w", ErrTruncated)
	}
	info.Channels = u32(binary.LittleEndian.Uint32(b[52:]))
	info.SampleRate = u32(binary.LittleEndian.Uint32(b[56:]))
	info.BitsPerSample = 1
	if p := int64(binary.LittleEndian.Uint64(b[20:])); p > 0 && p < rd.size {
		rd.block(Block{Kind: BlockID3v2, Offset: p, Size: rd.size - p}) // the metadata pointer
	}
	samples := binary.LittleEndian.Uint64(b[64:])
	info.DurationMS = msec(samples, uint64(info.SampleRate))
	info.Bitrate = info.SampleRate * info.Channels / 1000
	return info, nil
}

// probeDFF reads a DSDIFF file: a FRM8 form of type "DSD " whose PROP
// chunk holds the rate ("FS  "), channels ("CHNL") and compression
// ("CMPR"), followed by the "DSD " (raw) or "DST " (compressed) sound data.
func probeDFF(rd *reader) (Info, error) {
	info := Info{Container: "dff", Codec: "dsd", BitsPerSample: 1}
	if h := rd.at(0, 16); h == nil || string(h[12:16]) != "DSD " {
		return info, fmt.Errorf("%w: FRM8 form is not DSD", ErrUnknownFormat)
	}
	var dataBytes int64
	var dstFrames, dstRate int
	walkDFF(rd, 16, rd.size, func(c chunk) bool {
		switch c.ID {
		case "PROP":
			if t := rd.at(c.Offset, 4); string(t) != "SND " {
				return true
			}
			walkDFF(rd, c.Offset+4, c.Offset+c.Size, func(p chunk) bool {
				b := rd.at(p.Offset, int(min(p.Size, 4)))
				switch {
				case p.ID == "FS  " && len(b) == 4:
					info.SampleRate = u32(binary.BigEndian.Uint32(b))
				case p.ID == "CHNL" && len(b) >= 2:
					info.Channels = int(binary.BigEndian.Uint16(b))
				case p.ID == "CMPR" && len(b) == 4 && string(b) == "DST ":
					info.Codec = "dst"
				}
				return true
			})
		case "DSD ":
			if dataBytes == 0 {
				dataBytes = c.Size
			}
		case "ID3 ", "id3 ": // after the sound data, as foobar2000 and TagLib write it
			rd.block(Block{Kind: BlockID3v2, Offset: c.Offset, Size: c.Size})
		case "DST ":
			walkDFF(rd, c.Offset, c.Offset+c.Size, func(p chunk) bool {
				if b := rd.at(p.Offset, 6); p.ID == "FRTE" && b != nil {
					dstFrames, dstRate = u32(binary.BigEndian.Uint32(b)), int(binary.BigEndian.Uint16(b[4:]))
				}
				return false // FRTE comes first
			})
		}
		return true
	})
	if info.SampleRate == 0 {
		return info, fmt.Errorf("dff: %w: no sample rate", ErrTruncated)
	}
	switch {
	case dataBytes > 0 && info.Channels > 0:
		info.DurationMS = msec(uint64(dataBytes)*8/uint64(info.Channels), uint64(info.SampleRate))
	case dstFrames > 0 && dstRate > 0:
		info.DurationMS = msec(uint64(dstFrames), uint64(dstRate))
	}
	info.Bitrate = info.SampleRate * info.Channels / 1000
	return info, nil
}
