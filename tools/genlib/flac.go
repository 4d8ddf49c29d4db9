package main

import (
	"encoding/binary"
	"errors"
	"fmt"
)

const (
	flacStreamInfo    = 0
	flacPadding       = 1
	flacVorbisComment = 4
	flacPictureBlock  = 6
)

// flacSplit returns a FLAC file's STREAMINFO and other metadata blocks worth
// keeping (with headers), and the audio frames after the metadata.
func flacSplit(b []byte) (keep [][]byte, audio []byte, err error) {
	if len(b) < 8 || string(b[:4]) != "fLaC" {
		return nil, nil, errors.New("flac: no fLaC marker")
	}
	p := 4
	for {
		if p+4 > len(b) {
			return nil, nil, errors.New("flac: truncated metadata")
		}
		last, typ := b[p]&0x80 != 0, b[p]&0x7f
		n := int(b[p+1])<<16 | int(b[p+2])<<8 | int(b[p+3])
		if p+4+n > len(b) {
			return nil, nil, fmt.Errorf("flac: block %d overruns the file", typ)
		}
		switch typ {
		case flacPadding, flacVorbisComment, flacPictureBlock:
		default:
			keep = append(keep, b[p:p+4+n])
		}
		p += 4 + n
		if last {
			break
		}
	}
	if len(keep) == 0 || keep[0][0]&0x7f != flacStreamInfo {
		return nil, nil, errors.New("flac: STREAMINFO is not first")
	}
	return keep, b[p:], nil
}

// writeFLAC assembles a FLAC file: the kept blocks, a VORBIS_COMMENT, a
// PICTURE when there is a cover, PADDING, then the audio frames.
func writeFLAC(keep [][]byte, audio []byte, t *Tags, padding int) []byte {
	out := []byte("fLaC")
	block := func(typ byte, body []byte, last bool) {
		if last {
			typ |= 0x80
		}
		var h [4]byte
		binary.BigEndian.PutUint32(h[:], uint32(len(body)))
		h[0] = typ
		out = append(out, h[:]...)
		out = append(out, body...)
	}
	for _, k := range keep {
		block(k[0]&0x7f, k[4:], false)
	}
	block(flacVorbisComment, vorbisComments(t, vendor, false), false)
	if t.Cover != nil {
		block(flacPictureBlock, flacPicture(t), false)
	}
	block(flacPadding, make([]byte, padding), true)
	return append(out, audio...)
}
