package probe

import (
	"encoding/binary"
	"fmt"
)

// streamInfo is the FLAC STREAMINFO block.
type streamInfo struct {
	minBlock, maxBlock int
	rate, channels     int
	bits               int
	total              uint64 // samples per channel, 0 if unknown
}

// parseStreamInfo decodes the 34-byte STREAMINFO body.
func parseStreamInfo(b []byte) (streamInfo, bool) {
	if len(b) < 34 {
		return streamInfo{}, false
	}
	si := streamInfo{
		minBlock: int(binary.BigEndian.Uint16(b)),
		maxBlock: int(binary.BigEndian.Uint16(b[2:])),
		rate:     int(b[10])<<12 | int(b[11])<<4 | int(b[12])>>4,
		channels: int(b[12]>>1&7) + 1,
		bits:     int(b[12]&1)<<4 | int(b[13]>>4) + 1,
		total:    uint64(b[13]&0xf)<<32 | uint64(binary.BigEndian.Uint32(b[14:])),
	}
	return si, si.rate > 0
}

// maxBlocks bounds the metadata block walk.
const maxBlocks = 1024

// metaBlock is where a FLAC metadata block lies.
type metaBlock struct {
	Type   int   // 0 STREAMINFO, 3 SEEKTABLE, 4 VORBIS_COMMENT, 6 PICTURE, ...
	Offset int64 // body start
	Size   int64 // body length as declared (may run past the file end)
}

// flacBlocks walks the metadata blocks after the "fLaC" marker at start and
// returns them and the offset where audio frames begin. It stops at the
// last-block flag, at a block that runs past the file end, or after
// maxBlocks.
func flacBlocks(rd *reader, start int64) ([]metaBlock, int64, bool) {
	off := start + 4
	var blocks []metaBlock
	for range maxBlocks {
		h := rd.at(off, 4)
		if h == nil {
			return blocks, off, false
		}
		n := int64(h[1])<<16 | int64(h[2])<<8 | int64(h[3])
		blocks = append(blocks, metaBlock{Type: int(h[0] & 0x7f), Offset: off + 4, Size: n})
		off += 4 + n
		if off > rd.size {
			return blocks, rd.size, false
		}
		if h[0]&0x80 != 0 {
			return blocks, off, true
		}
	}
	return blocks, off, false
}

func probeFLAC(rd *reader, start int64) (Info, error) {
	info := Info{Container: "flac", Codec: "flac"}
	blocks, audio, _ := flacBlocks(rd, start)
	for _, b := range blocks {
		// The tag reader wants comments and pictures, and must see a
		// block that runs past the end (or of the invalid type 127) to
		// call the tags corrupt from there on.
		if b.Type == 4 || b.Type == 6 || b.Type == 127 || b.Offset+b.Size > rd.size {
			rd.block(Block{Kind: BlockFLAC, Type: b.Type, Offset: b.Offset, Size: b.Size})
		}
	}
	if len(blocks) == 0 || blocks[0].Type != 0 || blocks[0].Size < 34 {
		return info, fmt.Errorf("flac: %w: no STREAMINFO", ErrTruncated)
	}
	si, ok := parseStreamInfo(rd.at(blocks[0].Offset, 34))
	if !ok {
		return info, fmt.Errorf("flac: %w: bad STREAMINFO", ErrTruncated)
	}
	info.SampleRate, info.Channels, info.BitsPerSample = si.rate, si.channels, si.bits
	total := si.total
	if total == 0 {
		total = lastFLACSample(rd, audio, si)
	}
	info.DurationMS = msec(total, uint64(si.rate))
	// An ID3v1 tag is not worth a read for a 128-byte bitrate correction.
	end := rd.size
	if rd.has(end-128, 3) && string(rd.at(end-128, 3)) == "TAG" && end-128 >= audio {
		end -= 128
	}
	info.Bitrate = kbps(end-audio, info.DurationMS)
	return info, nil
}

// lastFLACSample finds the last frame header in the file's tail (STREAMINFO
// left the total unknown, as streamed encoders do) and returns the sample
// count it implies, or 0.
func lastFLACSample(rd *reader, audio int64, si streamInfo) uint64 {
	b, base := rd.tail(window)
	for i := len(b) - 6; i >= 0; i-- {
		if base+int64(i) < audio {
			break
		}
		if b[i] != 0xff || b[i+1]&0xfe != 0xf8 {
			continue
		}
		first, block, ok := flacFrameHeader(b[i:], si)
		if ok {
			return first + uint64(block)
		}
	}
	return 0
}

// flacFrameHeader decodes a frame header (checked by its CRC-8) and returns
// the frame's first sample number and its block size.
func flacFrameHeader(b []byte, si streamInfo) (first uint64, block int, ok bool) {
	if len(b) < 6 {
		return 0, 0, false
	}
	variable := b[1]&1 == 1
	bsCode, srCode := b[2]>>4, b[2]&0xf
	if bsCode == 0 || srCode == 15 || b[3]>>4 > 10 || b[3]&1 != 0 || (b[3]>>1)&7 == 3 || (b[3]>>1)&7 == 7 {
		return 0, 0, false
	}
	// UTF-8-style coded frame or sample number.
	p := 4
	c := b[p]
	var n uint64
	var extra int
	switch {
	case c < 0x80:
		n = uint64(c)
	case c&0xe0 == 0xc0:
		n, extra = uint64(c&0x1f), 1
	case c&0xf0 == 0xe0:
		n, extra = uint64(c&0x0f), 2
	case c&0xf8 == 0xf0:
		n, extra = uint64(c&0x07), 3
	case c&0xfc == 0xf8:
		n, extra = uint64(c&0x03), 4
	case c&0xfe == 0xfc:
		n, extra = uint64(c&0x01), 5
	case c == 0xfe:
		n, extra = 0, 6
	default:
		return 0, 0, false
	}
	p++
	if len(b) < p+extra+5 {
		return 0, 0, false
	}
	for range extra {
		if b[p]&0xc0 != 0x80 {
			return 0, 0, false
		}
		n = n<<6 | uint64(b[p]&0x3f)
		p++
	}
	switch {
	case bsCode == 1:
		block = 192
	case bsCode <= 5:
		block = 576 << (bsCode - 2)
	case bsCode == 6:
		block = int(b[p]) + 1
		p++
	case bsCode == 7:
		block = int(binary.BigEndian.Uint16(b[p:])) + 1
		p += 2
	default:
		block = 256 << (bsCode - 8)
	}
	switch srCode {
	case 12:
		p++
	case 13, 14:
		p += 2
	}
	if crc8(b[:p]) != b[p] {
		return 0, 0, false
	}
	if variable {
		return n, block, true
	}
	bs := si.maxBlock
	if bs == 0 {
		bs = block
	}
	return n * uint64(bs), block, true
}

// crc8 is the FLAC frame header CRC (polynomial x^8+x^2+x+1).
func crc8(b []byte) byte {
	var c byte
	for _, x := range b {
		c ^= x
		for range 8 {
			if c&0x80 != 0 {
				c = c<<1 ^ 0x07
			} else {
				c <<= 1
			}
		}
	}
	return c
}
