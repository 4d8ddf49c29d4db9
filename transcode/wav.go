// Package transcode turns any audio file ffmpeg can decode into a WAV
// stream of exactly known size, from any byte offset, and decides which
// clients get such a stream instead of the file itself (see Decide).
//
// The stream is 16-bit little-endian stereo PCM at 44.1 kHz behind our own
// 44-byte RIFF/WAVE header, sized from the track's duration: a WAV of n
// frames is always 44+4n bytes, so Content-Length is exact and a byte range
// maps to a sample-accurate seek. Every source is converted to that one
// shape: multichannel audio is downmixed to stereo (ffmpeg's standard
// matrix), high-resolution PCM and DSD are resampled to 44.1 kHz (DSD is
// decoded by ffmpeg to PCM first), so every client, Apple's included,
// plays the result.
package transcode

import "encoding/binary"

// The WAV stream's shape.
const (
	Rate       = 44100
	Channels   = 2
	FrameBytes = Channels * 2
	HeaderLen  = 44
	// maxData is the largest data chunk a RIFF header can describe (the
	// RIFF size, 36 + data, is 32 bits), in whole frames: about 6.7 hours.
	maxData = (0xFFFFFFFF - 36) / FrameBytes * FrameBytes
	// seekStep is the seek granularity in 44.1 kHz frames (40 ms): a whole
	// number of samples at every common input rate (8, 11.025, 16, 22.05,
	// 32, 44.1, 48, 88.2, 96, 176.4, 192 kHz and DSD's 352.8 kHz), so the
	// frames after a seek line up with those of a whole transcode.
	seekStep = 1764
)

// Frames is the number of frames in the WAV of a track lasting durationMS:
// its duration at 44.1 kHz, rounded to the nearest frame. It is 0 when the
// duration is unknown or too long for a WAV header; such tracks cannot be
// transcoded with an exact size.
func Frames(durationMS uint32) int64 {
	n := (int64(durationMS)*Rate + 500) / 1000
	if n*FrameBytes > maxData {
		return 0
	}
	return n
}

// Size is the byte size of a WAV of frames frames, header included.
func Size(frames int64) int64 { return HeaderLen + frames*FrameBytes }

// Bitrate is the WAV stream's bitrate in kbit/s.
const Bitrate = Rate * FrameBytes * 8 / 1000

// Header is the canonical 44-byte header of a PCM WAV file holding frames
// frames of 16-bit stereo at 44.1 kHz.
func Header(frames int64) []byte {
	data := uint32(frames * FrameBytes)
	h := make([]byte, 0, HeaderLen)
	h = append(h, "RIFF"...)
	h = binary.LittleEndian.AppendUint32(h, 36+data)
	h = append(h, "WAVEfmt "...)
	h = binary.LittleEndian.AppendUint32(h, 16) // fmt chunk size
	h = binary.LittleEndian.AppendUint16(h, 1)  // WAVE_FORMAT_PCM
	h = binary.LittleEndian.AppendUint16(h, Channels)
	h = binary.LittleEndian.AppendUint32(h, Rate)
	h = binary.LittleEndian.AppendUint32(h, Rate*FrameBytes) // bytes per second
	h = binary.LittleEndian.AppendUint16(h, FrameBytes)      // block align
	h = binary.LittleEndian.AppendUint16(h, 16)              // bits per sample
	h = append(h, "data"...)
	return binary.LittleEndian.AppendUint32(h, data)
}
