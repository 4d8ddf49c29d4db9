package transcode

import "strings"

// Family is a group of clients that decode the same formats.
type Family uint8

const (
	// Apple is iTunes, Music.app and AppleCoreMedia (Music.app's player):
	// MP3, AAC and ALAC in MPEG-4, integer PCM in WAV or AIFF, nothing else.
	Apple Family = iota
	// Other is every other client: Rhythmbox and the like, which decode
	// through GStreamer, and are expected to play MP3, AAC, FLAC, Vorbis,
	// Opus and PCM natively.
	Other
	families
)

func (f Family) String() string { return [...]string{"apple", "other"}[f] }

// Mode is how the server may present files a client cannot play.
type Mode uint8

const (
	ModeWAV  Mode = iota // transcode them to WAV (ffmpeg is available)
	ModeHide             // no transcoding: Apple clients don't see them; others get the file
	ModeOff              // every client gets every file as it is
)

func (m Mode) String() string { return [...]string{"wav", "hide", "off"}[m] }

// Action is what a client gets for one file.
type Action uint8

const (
	Native Action = iota // the file as it is
	WAV                  // the file transcoded to WAV
	Hidden               // nothing: the track is not listed
)

func (a Action) String() string { return [...]string{"native", "wav", "hidden"}[a] }

// rule says which families play a codec natively when it is stored in a
// file with one of formats (extensions; empty matches any).
type rule struct {
	codec   string
	formats string // space-separated extensions
	native  [families]bool
}

// mp4 lists the MPEG-4 file extensions (.m4p is protected AAC: it passes
// through untouched, nobody could decode it for the client).
const mp4 = "m4a m4b m4p mp4"

// rules is the playability table, first match wins. A codec without a
// row (WMA, APE, WavPack, Musepack, TTA, TAK, AC-3, E-AC-3, DTS, DSD,
// Speex, MP2, ...) is played by nobody natively.
var rules = []rule{
	{"mp3", "mp3", [families]bool{Apple: true, Other: true}},
	{"mp3", "", [families]bool{Other: true}}, // MP3 in Matroska: GStreamer demuxes it
	{"aac", mp4, [families]bool{Apple: true, Other: true}},
	{"aac", "", [families]bool{Other: true}}, // ADTS, Matroska
	{"alac", mp4, [families]bool{Apple: true, Other: true}},
	{"pcm", "wav wave aif aiff aifc", [families]bool{Apple: true, Other: true}},
	{"pcm", "", [families]bool{Other: true}},
	{"pcm_float", "wav wave aif aiff aifc", [families]bool{Other: true}},
	{"alaw", "wav wave aif aiff aifc", [families]bool{Other: true}},
	{"ulaw", "wav wave aif aiff aifc", [families]bool{Other: true}},
	{"flac", "", [families]bool{Other: true}},
	{"vorbis", "", [families]bool{Other: true}},
	{"opus", "", [families]bool{Other: true}},
}

// Plays reports whether clients of family f decode a file of codec, stored
// with extension format, as it is. An empty codec (a track read by an
// older scanner) is guessed from the format.
func Plays(f Family, codec, format string) bool {
	codec = guessCodec(codec, format)
	for _, r := range rules {
		if r.codec == codec && (r.formats == "" || hasWord(r.formats, format)) {
			return r.native[f]
		}
	}
	return false
}

// Decide is the one answer to "what does a client of family f get for this
// file" under mode m. A file the client cannot play is transcoded when m
// allows and its duration is known (the WAV's size derives from it);
// otherwise Apple clients don't see it, and other clients get the file
// anyway (GStreamer may well decode it).
func Decide(f Family, m Mode, codec, format string, durationMS uint32) Action {
	if m == ModeOff || Plays(f, codec, format) {
		return Native
	}
	if m == ModeWAV && Frames(durationMS) > 0 {
		return WAV
	}
	if f == Apple {
		return Hidden
	}
	return Native
}

// guessCodec fills an unknown codec from the file extension.
func guessCodec(codec, format string) string {
	if codec != "" {
		return codec
	}
	switch format {
	case "mp3":
		return "mp3"
	case "m4a", "m4b", "m4p", "mp4":
		return "aac"
	case "ogg", "oga":
		return "vorbis"
	case "wav", "aif", "aiff", "aifc":
		return "pcm"
	}
	return format
}

func hasWord(list, w string) bool {
	for list != "" {
		var x string
		x, list, _ = strings.Cut(list, " ")
		if x == w {
			return true
		}
	}
	return false
}
