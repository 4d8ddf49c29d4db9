// Package probe reads audio facts (codec, duration, bitrate, sample rate)
// from file headers without decoding audio.
package probe

import (
	"errors"
	"io"
)

// Info describes an audio file's stream, read from its headers.
type Info struct {
	Container     string // mp3, mp4, flac, ogg, wav, aiff
	Codec         string // mp3, aac, alac, flac, vorbis, opus, pcm, ...
	DurationMS    uint32 // 0 when unknown
	Bitrate       int    // kbit/s
	SampleRate    int    // Hz
	Channels      int
	BitsPerSample int
}

// ErrUnknownFormat means the bytes are not a container Probe understands.
var ErrUnknownFormat = errors.New("unknown audio format")

// Probe identifies the container and codec of the size bytes in r and reads
// the stream's facts from its headers.
func Probe(r io.ReaderAt, size int64) (Info, error) {
	return Info{}, ErrUnknownFormat // TODO: per-format readers
}
