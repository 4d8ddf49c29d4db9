package transcode

import "testing"

func TestPlays(t *testing.T) {
	cases := []struct {
		codec, format string
		apple, other  bool
	}{
		{"mp3", "mp3", true, true},
		{"aac", "m4a", true, true},
		{"alac", "m4a", true, true},
		{"aac", "mp4", true, true},
		{"aac", "m4p", true, true},
		{"pcm", "wav", true, true},
		{"pcm", "aiff", true, true},
		{"pcm", "aifc", true, true},
		{"", "mp3", true, true},
		{"", "m4a", true, true},
		{"flac", "flac", false, true},
		{"flac", "m4a", false, true},
		{"vorbis", "ogg", false, true},
		{"opus", "ogg", false, true},
		{"opus", "opus", false, true},
		{"opus", "webm", false, true},
		{"vorbis", "mka", false, true},
		{"aac", "aac", false, true}, // ADTS: AAC outside MPEG-4
		{"alaw", "aifc", false, true},
		{"ulaw", "aifc", false, true},
		{"pcm_float", "wav", false, true},
		{"mp3", "mka", false, true},
		{"dsd", "dsf", false, false},
		{"dsd", "dff", false, false},
		{"dsd", "wv", false, false},
		{"wma", "wma", false, false},
		{"wmapro", "wma", false, false},
		{"wmalossless", "wma", false, false},
		{"ape", "ape", false, false},
		{"wavpack", "wv", false, false},
		{"musepack", "mpc", false, false},
		{"tta", "tta", false, false},
		{"tak", "tak", false, false},
		{"ac3", "ac3", false, false},
		{"eac3", "m4a", false, false},
		{"dts", "dts", false, false},
		{"mp2", "mp2", false, false},
		{"speex", "spx", false, false},
		{"alac", "mka", false, false},
		{"", "wma", false, false},
		{"", "flac", false, true},
	}
	for _, tc := range cases {
		if got := Plays(Apple, tc.codec, tc.format); got != tc.apple {
			t.Errorf("Plays(apple, %s in %s) = %v", tc.codec, tc.format, got)
		}
		if got := Plays(Other, tc.codec, tc.format); got != tc.other {
			t.Errorf("Plays(other, %s in %s) = %v", tc.codec, tc.format, got)
		}
	}
}

func TestDecide(t *testing.T) {
	cases := []struct {
		f             Family
		m             Mode
		codec, format string
		ms            uint32
		want          Action
	}{
		{Apple, ModeWAV, "mp3", "mp3", 1000, Native},
		{Apple, ModeWAV, "flac", "flac", 1000, WAV},
		{Apple, ModeWAV, "flac", "flac", 0, Hidden}, // no length: no WAV size
		{Apple, ModeWAV, "wma", "wma", 1000, WAV},
		{Apple, ModeHide, "flac", "flac", 1000, Hidden},
		{Apple, ModeOff, "flac", "flac", 1000, Native},
		{Apple, ModeOff, "wma", "wma", 0, Native},
		{Other, ModeWAV, "flac", "flac", 1000, Native},
		{Other, ModeWAV, "wma", "wma", 1000, WAV},
		{Other, ModeWAV, "dsd", "dsf", 1000, WAV},
		{Other, ModeWAV, "ape", "ape", 0, Native}, // can't size it: let GStreamer try
		{Other, ModeHide, "ape", "ape", 1000, Native},
		{Other, ModeOff, "ape", "ape", 1000, Native},
	}
	for _, tc := range cases {
		if got := Decide(tc.f, tc.m, tc.codec, tc.format, tc.ms); got != tc.want {
			t.Errorf("Decide(%s, %s, %s in %s, %d ms) = %s, want %s", tc.f, tc.m, tc.codec, tc.format, tc.ms, got, tc.want)
		}
	}
}
