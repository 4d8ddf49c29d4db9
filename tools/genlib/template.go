package main

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
)

// vendor is the encoder string written into Vorbis comments.
const vendor = "daapd genlib"

// coverSize is the width and height of generated cover images.
const coverSize = 96

// Format is one audio format of the generated library.
type Format struct {
	Key    string   // mp3, flac, aac, alac, vorbis, opus
	Ext    string   // file extension with the dot
	Codec  string   // codec name daapd reports
	Weight int      // share of albums, in percent
	Args   []string // ffmpeg codec and muxer arguments
}

// Formats is the library's mix, by share of albums.
var Formats = []Format{
	{"mp3", ".mp3", "mp3", 55, []string{"-c:a", "libmp3lame", "-b:a", "32k", "-ar", "44100", "-id3v2_version", "0", "-write_id3v1", "0"}},
	{"flac", ".flac", "flac", 20, []string{"-c:a", "flac", "-ar", "22050"}},
	{"aac", ".m4a", "aac", 15, []string{"-c:a", "aac", "-b:a", "32k", "-ar", "44100", "-f", "ipod"}},
	{"alac", ".m4a", "alac", 4, []string{"-c:a", "alac", "-ar", "22050", "-f", "ipod"}},
	{"vorbis", ".ogg", "vorbis", 4, []string{"-c:a", "libvorbis", "-q:a", "0", "-ar", "22050", "-f", "ogg"}},
	{"opus", ".opus", "opus", 2, []string{"-c:a", "libopus", "-b:a", "16k", "-f", "ogg"}},
}

// Seconds are the template lengths; each track uses one of them.
var Seconds = []int{1, 2}

// template is one encoded tone, split so new tags can go around its audio.
type template struct {
	format Format
	raw    []byte // mp3: the bare frames
	flac   struct {
		keep  [][]byte
		audio []byte
	}
	ogg *oggTemplate
	mp4 *mp4Template
}

// encodeTemplates runs ffmpeg once per format and length, in dir, unless
// dir already holds that template from an earlier run.
func encodeTemplates(ctx context.Context, dir string) (map[string]*template, error) {
	out := map[string]*template{}
	for i, f := range Formats {
		for j, secs := range Seconds {
			path := filepath.Join(dir, fmt.Sprintf("%s-%d%s", f.Key, secs, f.Ext))
			b, err := os.ReadFile(path)
			if err == nil {
				t, err := newTemplate(f, b)
				if err != nil {
					return nil, fmt.Errorf("cached template %s: %w", path, err)
				}
				out[templateKey(f.Key, secs)] = t
				continue
			}
			if _, err := exec.LookPath("ffmpeg"); err != nil {
				return nil, fmt.Errorf("ffmpeg is needed to encode the templates (apt-get install ffmpeg): %w", err)
			}
			args := []string{"-hide_banner", "-loglevel", "error", "-nostdin", "-y",
				"-f", "lavfi", "-i", fmt.Sprintf("sine=frequency=%d:duration=%d:sample_rate=48000", 220+110*i+55*j, secs),
				"-ac", "1", "-map_metadata", "-1", "-fflags", "+bitexact", "-flags:a", "+bitexact"}
			args = append(append(args, f.Args...), path)
			var stderr bytes.Buffer
			tmp := path + ".tmp" + f.Ext
			cmd := exec.CommandContext(ctx, "ffmpeg", append(args[:len(args)-1], tmp)...)
			cmd.Stderr = &stderr
			if err := cmd.Run(); err != nil {
				return nil, fmt.Errorf("ffmpeg %s: %w: %s", f.Key, err, stderr.Bytes())
			}
			if err := os.Rename(tmp, path); err != nil {
				return nil, err
			}
			b, err = os.ReadFile(path)
			if err != nil {
				return nil, err
			}
			t, err := newTemplate(f, b)
			if err != nil {
				return nil, fmt.Errorf("template %s: %w", filepath.Base(path), err)
			}
			out[templateKey(f.Key, secs)] = t
		}
	}
	return out, nil
}

func templateKey(format string, secs int) string { return fmt.Sprintf("%s-%d", format, secs) }

func newTemplate(f Format, b []byte) (*template, error) {
	t := &template{format: f}
	var err error
	switch f.Key {
	case "mp3":
		if bytes.HasPrefix(b, []byte("ID3")) || len(b) < 4 || b[0] != 0xff {
			return nil, fmt.Errorf("mp3: expected bare frames")
		}
		t.raw = b
	case "flac":
		t.flac.keep, t.flac.audio, err = flacSplit(b)
	case "aac", "alac":
		t.mp4, err = splitMP4(b)
	case "vorbis", "opus":
		t.ogg, err = splitOgg(b)
	default:
		err = fmt.Errorf("unknown format %q", f.Key)
	}
	return t, err
}

// write returns a whole file: the template's audio with tags t.
func (tp *template) write(t *Tags) []byte {
	switch tp.format.Key {
	case "mp3":
		tag := id3v24(t, 256)
		return append(tag, tp.raw...)
	case "flac":
		return writeFLAC(tp.flac.keep, tp.flac.audio, t, 256)
	case "aac", "alac":
		return tp.mp4.write(t)
	default:
		return tp.ogg.write(t)
	}
}

// cover draws a coverSize square: a background colour, a centred square and
// a diagonal stripe, so covers differ visibly.
func cover(n int, mime string) []byte {
	bg := color.RGBA{uint8(40 + n*67%200), uint8(60 + n*101%180), uint8(80 + n*29%160), 255}
	fg := color.RGBA{255 - bg.R, 255 - bg.G, 255 - bg.B, 255}
	img := image.NewRGBA(image.Rect(0, 0, coverSize, coverSize))
	for y := range coverSize {
		for x := range coverSize {
			c := bg
			if (x > coverSize/4 && x < coverSize*3/4 && y > coverSize/4 && y < coverSize*3/4) || (x+y+n*7)%coverSize < 6 {
				c = fg
			}
			img.Set(x, y, c)
		}
	}
	var b bytes.Buffer
	var err error
	if mime == "image/png" {
		err = png.Encode(&b, img)
	} else {
		err = jpeg.Encode(&b, img, &jpeg.Options{Quality: 75})
	}
	if err != nil {
		panic(err) // writing to a bytes.Buffer does not fail
	}
	return b.Bytes()
}
