package transcode

import (
	"bytes"
	"encoding/binary"
	"testing"
)

func TestWAVFrames(t *testing.T) {
	cases := []struct {
		ms   uint32
		want int64
	}{
		{0, 0},
		{1, 44},       // 44.1 rounds down
		{10, 441},     // exact
		{2038, 89876}, // 89875.8 rounds up
		{1000, 44100}, //
		{310000, 13671000},
		{24347000, 1073702700}, // just under the 4 GiB RIFF limit
		{24348000, 0},          // over it
		{0xFFFFFFFF, 0},
	}
	for _, tc := range cases {
		got := Frames(tc.ms)
		if got != tc.want {
			t.Errorf("Frames(%d ms) = %d, want %d", tc.ms, got, tc.want)
		}
		if got > 0 && Size(got) != 44+4*got {
			t.Errorf("Size(%d) = %d", got, Size(got))
		}
	}
}

func TestWAVHeader(t *testing.T) {
	h := Header(44100)
	want := []byte("RIFF" + "\x34\xb1\x02\x00" + "WAVE" + "fmt " + "\x10\x00\x00\x00" + "\x01\x00" + "\x02\x00" +
		"\x44\xac\x00\x00" + "\x10\xb1\x02\x00" + "\x04\x00" + "\x10\x00" + "data" + "\x10\xb1\x02\x00")
	if !bytes.Equal(h, want) {
		t.Fatalf("header\n got % x\nwant % x", h, want)
	}
	if len(Header(0)) != HeaderLen {
		t.Fatal("header length")
	}
	// The largest header still describes its sizes exactly.
	n := int64(maxData / FrameBytes)
	h = Header(n)
	if riff := binary.LittleEndian.Uint32(h[4:]); int64(riff) != Size(n)-8 {
		t.Errorf("RIFF size %d, want %d", riff, Size(n)-8)
	}
}

func TestFFmpegArgs(t *testing.T) {
	cases := []struct {
		first, count int64
		ss, af       string
	}{
		{0, 100, "", "aresample=44100,atrim=start_sample=0:end_sample=100"},
		{1763, 1, "", "aresample=44100,atrim=start_sample=1763:end_sample=1764"},
		{1764, 10, "0.04", "aresample=44100,atrim=start_sample=0:end_sample=10"},
		{50000, 38200, "1.12", "aresample=44100,atrim=start_sample=608:end_sample=38808"},
		{44100 * 3600, 5, "3600.00", "aresample=44100,atrim=start_sample=0:end_sample=5"},
	}
	for _, tc := range cases {
		args := args("/m/a.flac", tc.first, tc.count)
		arg := func(name string) string {
			for i, a := range args {
				if a == name && i+1 < len(args) {
					return args[i+1]
				}
			}
			return ""
		}
		if arg("-ss") != tc.ss || arg("-af") != tc.af || arg("-i") != "file:/m/a.flac" {
			t.Errorf("first %d: %q", tc.first, args)
		}
		if args[len(args)-1] != "-" || arg("-f") != "s16le" || arg("-ar") != "44100" || arg("-ac") != "2" {
			t.Errorf("output args %q", args)
		}
	}
}
