package library

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/daapd/daapd/library/probe"
	"github.com/daapd/daapd/library/tags"
)

// The ffprobe fallback describes files whose format has no native reader
// (TAK, AC-3, DTS, Shorten, tracker modules, RealAudio, ...): ffprobe gives
// the codec, rate, channels, bitrate and tags, and ffmpeg (when installed)
// decodes the stream once to measure its length, which both proves the
// file decodes and gives the length clients will hear (ffprobe's is the
// container's claim or an estimate: 3% off for some Musepack SV8 files, no
// length at all for Shorten). A file ffmpeg decodes to nothing is skipped. A track read this way is kept in the scan cache
// like any other, so a restart never asks again for an unchanged file.

// ErrNeedsFFprobe means a file's format has no native reader and ffprobe
// is not installed; the error names the format.
var ErrNeedsFFprobe = errors.New("no native reader for this format; install ffmpeg (ffprobe) to scan it")

// maxProbeOutput bounds what is read of ffprobe's JSON.
const maxProbeOutput = 1 << 20

// ffprober runs ffprobe (and ffmpeg) with bounded concurrency.
type ffprober struct {
	ffprobe, ffmpeg string
	sem             chan struct{}
	timeout         time.Duration
}

// newFFprober finds ffprobe and ffmpeg in PATH (or at the given names);
// nil when ffprobe is missing.
func newFFprober(ffprobe string, workers int, timeout time.Duration) *ffprober {
	if ffprobe == "" {
		ffprobe = "ffprobe"
	}
	p, err := exec.LookPath(ffprobe)
	if err != nil {
		return nil
	}
	fp := &ffprober{ffprobe: p, sem: make(chan struct{}, max(1, workers)), timeout: timeout}
	if m, err := exec.LookPath("ffmpeg"); err == nil {
		fp.ffmpeg = m
	}
	return fp
}

// probeJSON is the part of ffprobe's JSON output we read.
type probeJSON struct {
	Streams []struct {
		CodecName   string            `json:"codec_name"`
		SampleRate  string            `json:"sample_rate"`
		Channels    int               `json:"channels"`
		BitsPerRaw  string            `json:"bits_per_raw_sample"`
		BitsPerSamp int               `json:"bits_per_sample"`
		Duration    string            `json:"duration"`
		BitRate     string            `json:"bit_rate"`
		Tags        map[string]string `json:"tags"`
		Disposition struct {
			AttachedPic int `json:"attached_pic"`
		} `json:"disposition"`
		CodecType string `json:"codec_type"`
	} `json:"streams"`
	Format struct {
		FormatName string            `json:"format_name"`
		Duration   string            `json:"duration"`
		BitRate    string            `json:"bit_rate"`
		Tags       map[string]string `json:"tags"`
	} `json:"format"`
}

// read describes the file at path with ffprobe; container is what the
// native reader recognised ("" when nothing).
func (fp *ffprober) read(path string, size int64) (probe.Info, tags.Tags, error) {
	ctx, cancel := context.WithTimeout(context.Background(), fp.timeout)
	defer cancel()
	select {
	case fp.sem <- struct{}{}:
		defer func() { <-fp.sem }()
	case <-ctx.Done():
		return probe.Info{}, tags.Tags{}, fmt.Errorf("ffprobe: waiting: %w", errTimeout)
	}
	out, err := run(ctx, fp.ffprobe, "-v", "error", "-print_format", "json", "-show_format", "-show_streams", "file:"+path)
	if err != nil {
		return probe.Info{}, tags.Tags{}, err
	}
	var pj probeJSON
	if err := json.Unmarshal(out, &pj); err != nil {
		return probe.Info{}, tags.Tags{}, fmt.Errorf("ffprobe: %w", err)
	}
	info, tg, err := fromProbe(&pj, size)
	if err != nil {
		return info, tg, err
	}
	if fp.ffmpeg != "" {
		// Containers without a length, and truncated files whose
		// headers claim more than they hold, make ffprobe's duration
		// an estimate; the decoded length is what clients will hear.
		ms, err := fp.decodedLength(ctx, path)
		if err != nil {
			return info, tg, err
		}
		info.DurationMS = ms
		if info.Bitrate == 0 {
			info.Bitrate = int(size * 8 / int64(max(ms, 1)))
		}
	}
	if info.DurationMS == 0 {
		return info, tg, fmt.Errorf("%s: %w", info.Codec, errNoLength)
	}
	return info, tg, nil
}

var errNoLength = errors.New("ffmpeg decodes no audio")

// decodedLength decodes path's first audio stream and returns its length.
func (fp *ffprober) decodedLength(ctx context.Context, path string) (uint32, error) {
	out, err := run(ctx, fp.ffmpeg, "-nostdin", "-v", "error", "-i", "file:"+path, "-map", "0:a:0", "-vn", "-f", "null", "-progress", "pipe:1", "-")
	if err != nil {
		return 0, err
	}
	var us int64
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "out_time_us="); ok {
			if n, err := strconv.ParseInt(v, 10, 64); err == nil {
				us = n
			}
		}
	}
	if us <= 0 {
		return 0, errNoLength
	}
	return uint32(min((us+500)/1000, 1<<32-1)), nil
}

// run runs a command and returns its stdout (at most maxProbeOutput bytes),
// with the start of its stderr in the error when it fails.
func run(ctx context.Context, bin string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.WaitDelay = time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &limitWriter{w: &stdout, n: maxProbeOutput}
	cmd.Stderr = &limitWriter{w: &stderr, n: 512}
	err := cmd.Run()
	if ctx.Err() != nil {
		return nil, fmt.Errorf("%s: %w", bin, errTimeout)
	}
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if i := strings.IndexByte(msg, '\n'); i >= 0 {
			msg = msg[:i]
		}
		return nil, fmt.Errorf("%s: %w: %s", strings.TrimPrefix(bin[strings.LastIndexByte(bin, '/')+1:], "/"), err, msg)
	}
	return stdout.Bytes(), nil
}

// limitWriter keeps the first n bytes written and discards the rest.
type limitWriter struct {
	w interface{ Write([]byte) (int, error) }
	n int
}

func (l *limitWriter) Write(p []byte) (int, error) {
	if l.n > 0 {
		k := min(len(p), l.n)
		l.w.Write(p[:k])
		l.n -= k
	}
	return len(p), nil
}

// ffCodecs maps ffmpeg decoder names to our codec names where they differ.
var ffCodecs = map[string]string{
	"wmav1": "wma", "wmav2": "wma", "wmapro": "wmapro", "wmalossless": "wmalossless", "wmavoice": "wma",
	"musepack7": "musepack", "musepack8": "musepack",
	"dsd_lsbf": "dsd", "dsd_msbf": "dsd", "dsd_lsbf_planar": "dsd", "dsd_msbf_planar": "dsd",
	"mp3float": "mp3", "mp2float": "mp2", "aac_latm": "aac",
	"pcm_s16le": "pcm", "pcm_s16be": "pcm", "pcm_s24le": "pcm", "pcm_s24be": "pcm", "pcm_s32le": "pcm",
	"pcm_s32be": "pcm", "pcm_u8": "pcm", "pcm_s8": "pcm",
	"pcm_f32le": "pcm_float", "pcm_f32be": "pcm_float", "pcm_f64le": "pcm_float", "pcm_f64be": "pcm_float",
	"pcm_alaw": "alaw", "pcm_mulaw": "ulaw",
}

// ffContainers maps ffprobe's format names to our container names.
var ffContainers = map[string]string{
	"asf": "asf", "ape": "ape", "wv": "wavpack", "mpc": "musepack", "mpc8": "musepack", "tta": "tta",
	"tak": "tak", "ac3": "ac3", "eac3": "eac3", "dts": "dts", "dtshd": "dts", "shn": "shorten",
	"libopenmpt": "module", "mp3": "mp3", "aac": "aac", "iff": "dff", "dsf": "dsf", "ogg": "ogg",
	"matroska,webm": "matroska", "mov,mp4,m4a,3gp,3g2,mj2": "mp4", "wav": "wav", "aiff": "aiff",
}

// fromProbe turns ffprobe's answer into our facts and tags.
func fromProbe(pj *probeJSON, size int64) (probe.Info, tags.Tags, error) {
	info := probe.Info{Container: ffContainers[pj.Format.FormatName]}
	if info.Container == "" {
		info.Container = pj.Format.FormatName
	}
	var tg tags.Tags
	found := false
	for _, s := range pj.Streams {
		if s.Disposition.AttachedPic != 0 {
			tg.HasPicture = true
			continue
		}
		if s.CodecType != "audio" || found {
			continue
		}
		found = true
		info.Codec = s.CodecName
		if c, ok := ffCodecs[s.CodecName]; ok {
			info.Codec = c
		}
		info.SampleRate, _ = strconv.Atoi(s.SampleRate)
		info.Channels = s.Channels
		info.BitsPerSample, _ = strconv.Atoi(s.BitsPerRaw)
		if info.BitsPerSample == 0 {
			info.BitsPerSample = s.BitsPerSamp
		}
		info.DurationMS = seconds(s.Duration)
		if br, err := strconv.Atoi(s.BitRate); err == nil {
			info.Bitrate = br / 1000
		}
		fillTags(&tg, s.Tags)
	}
	if !found {
		return info, tg, probe.ErrNoAudio
	}
	if info.DurationMS == 0 {
		info.DurationMS = seconds(pj.Format.Duration)
	}
	if info.Bitrate == 0 {
		if br, err := strconv.Atoi(pj.Format.BitRate); err == nil {
			info.Bitrate = br / 1000
		} else if info.DurationMS > 0 {
			info.Bitrate = int(size * 8 / int64(info.DurationMS))
		}
	}
	fillTags(&tg, pj.Format.Tags)
	return info, tg, nil
}

// seconds parses ffprobe's "12.345678" as milliseconds, 0 for "N/A".
func seconds(s string) uint32 {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f <= 0 || f > (1<<32-1)/1000 {
		return 0
	}
	return uint32(f*1000 + 0.5)
}

// fillTags sets the empty fields of tg from ffmpeg's metadata, whose keys
// are ffmpeg's generic names (ffmpeg maps WM/AlbumArtist, APEv2 "Album
// Artist", Matroska ARTIST and so on to them) or the file's own.
func fillTags(tg *tags.Tags, m map[string]string) {
	for k, v := range m {
		v = strings.TrimSpace(v)
		if v == "" {
			continue
		}
		set := func(p *string) {
			if *p == "" {
				*p = v
			}
		}
		switch strings.ToLower(k) {
		case "title":
			set(&tg.Title)
		case "artist":
			set(&tg.Artist)
		case "album_artist", "albumartist", "album artist", "wm/albumartist":
			set(&tg.AlbumArtist)
		case "album":
			set(&tg.Album)
		case "composer":
			set(&tg.Composer)
		case "genre":
			set(&tg.Genre)
		case "comment", "description":
			set(&tg.Comment)
		case "grouping":
			set(&tg.Grouping)
		case "date", "year", "wm/year":
			if tg.Year == 0 && len(v) >= 4 {
				tg.Year, _ = strconv.Atoi(v[:4])
			}
		case "track", "tracknumber", "wm/tracknumber":
			if tg.Track == 0 {
				tg.Track, tg.TrackTotal = numberPair(v, tg.TrackTotal)
			}
		case "disc", "discnumber", "wm/partofset":
			if tg.Disc == 0 {
				tg.Disc, tg.DiscTotal = numberPair(v, tg.DiscTotal)
			}
		case "tracktotal", "totaltracks":
			if tg.TrackTotal == 0 {
				tg.TrackTotal, _ = strconv.Atoi(v)
			}
		case "disctotal", "totaldiscs":
			if tg.DiscTotal == 0 {
				tg.DiscTotal, _ = strconv.Atoi(v)
			}
		case "compilation", "itunescompilation":
			tg.Compilation = tg.Compilation || v == "1" || strings.EqualFold(v, "true")
		}
	}
}

// numberPair parses "3" or "3/12"; total is kept when the value has none.
func numberPair(v string, total int) (int, int) {
	a, b, ok := strings.Cut(v, "/")
	n, _ := strconv.Atoi(strings.TrimSpace(a))
	if ok {
		if t, err := strconv.Atoi(strings.TrimSpace(b)); err == nil {
			total = t
		}
	}
	return n, total
}
