package library

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/daapd/daapd/library/probe"
	"github.com/daapd/daapd/library/tags"
	"golang.org/x/text/unicode/norm"
)

// audioExts are the file extensions the scanner reads, lower-case. The
// codec is identified from the stream, not from this list.
var audioExts = map[string]bool{
	"mp3": true, "mp2": true, "mpa": true, "m2a": true,
	"m4a": true, "m4b": true, "mp4": true, "3g2": true,
	"flac": true,
	"ogg":  true, "oga": true, "opus": true, "spx": true,
	"wav": true, "wave": true,
	"aif": true, "aiff": true, "aifc": true,
	"aac": true, "adts": true, "ac3": true, "eac3": true, "ec3": true, "dts": true,
	"wma": true, "asf": true, "ape": true, "wv": true, "mpc": true, "mp+": true, "mpp": true,
	"tta": true, "tak": true, "shn": true, "dsf": true, "dff": true,
	"mka": true, "webm": true, "weba": true,
	"mod": true, "xm": true, "it": true, "s3m": true, "ra": true,
}

// unsupportedAudioExts are audio formats daapd does not serve; finding them
// is worth one summary line, unlike a .jpg or a .txt.
var unsupportedAudioExts = map[string]bool{
	"m4p": true, "mid": true, "midi": true,
}

// playlistExts are the playlist formats the scanner reads.
var playlistExts = map[string]bool{"m3u": true, "m3u8": true, "pls": true, "smartpl": true}

// ext returns name's extension, lower-case, without the dot.
func ext(name string) string {
	i := strings.LastIndexByte(name, '.')
	if i <= 0 || i == len(name)-1 || len(name)-i > 8 { // ".smartpl" is the longest
		return ""
	}
	e := name[i+1:]
	for j := 0; j < len(e); j++ {
		if c := e[j]; 'A' <= c && c <= 'Z' {
			return strings.ToLower(e)
		}
	}
	return e
}

// errBadTags marks a file whose stream is fine but whose tags could not be
// read: it still becomes a track, titled after its file name.
var errBadTags = errors.New("unreadable tags")

// blockBufs recycles the tag block lists of readFacts.
var blockBufs = sync.Pool{New: func() any { b := make([]probe.Block, 0, 16); return &b }}

// readFacts is the default per-file reader: one walk of the container
// gives the stream's facts and where its tags are, then the tags are read
// from there.
func readFacts(r io.ReaderAt, size int64) (probe.Info, tags.Tags, error) {
	buf := blockBufs.Get().(*[]probe.Block)
	defer func() {
		clear(*buf)
		*buf = (*buf)[:0]
		blockBufs.Put(buf)
	}()
	info, blocks, err := probe.Read(r, size, *buf)
	*buf = blocks
	if err != nil {
		return info, tags.Tags{}, err
	}
	tg, err := tags.ReadBlocks(r, size, info.Container, blocks)
	switch {
	case err == nil, errors.Is(err, tags.ErrNoTags):
		return info, tg, nil
	default:
		return info, tags.Tags{}, fmt.Errorf("%w: %w", errBadTags, err)
	}
}

// nfc returns s in Unicode NFC, without allocating when it already is
// (norm's IsNormalString allocates even then).
func nfc(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return norm.NFC.String(s)
		}
	}
	return s
}

// clean trims a tag value and normalises it to NFC.
func clean(s string) string { return nfc(strings.TrimSpace(s)) }

// newTrack builds a track from what the reader found. name is the file's
// NFC base name, format its lower-case extension.
func newTrack(libID string, info probe.Info, tg tags.Tags, name, format string, dirArt *Artwork) *Track {
	t := &Track{
		Title:         clean(tg.Title),
		Artist:        clean(tg.Artist),
		AlbumArtist:   clean(tg.AlbumArtist),
		Album:         clean(tg.Album),
		Genre:         clean(tg.Genre),
		Year:          clampU16(tg.Year),
		TrackNumber:   clampU16(tg.Track),
		TrackCount:    clampU16(tg.TrackTotal),
		DiscNumber:    clampU16(tg.Disc),
		DiscCount:     clampU16(tg.DiscTotal),
		BPM:           clampU16(tg.BPM),
		Compilation:   tg.Compilation,
		DurationMS:    info.DurationMS,
		Bitrate:       clampU32(info.Bitrate),
		SampleRate:    clampU32(info.SampleRate),
		Channels:      clampU8(info.Channels),
		Codec:         info.Codec,
		Format:        format,
		BitsPerSample: clampU8(info.BitsPerSample),
		Artwork:       dirArt,
	}
	t.SetExtra(Extra{
		Composer:        clean(tg.Composer),
		Comment:         clean(tg.Comment),
		Grouping:        clean(tg.Grouping),
		SortTitle:       clean(tg.SortTitle),
		SortArtist:      clean(tg.SortArtist),
		SortAlbumArtist: clean(tg.SortAlbumArtist),
		SortAlbum:       clean(tg.SortAlbum),
		SortComposer:    clean(tg.SortComposer),
	})
	if t.Title == "" {
		t.Title = name
		if format != "" && len(name) > len(format)+1 {
			t.Title = name[:len(name)-len(format)-1]
		}
	}
	if tg.HasPicture {
		t.Artwork = embeddedArt
	}
	t.TagKind = tagKind(tg, format, t.Genre)
	t.MediaKind = t.TagKind
	setGroupIDs(libID, t)
	return t
}

// folderArtNames are the image names looked for in a track's folder, best
// first, compared case-insensitively.
var folderArtNames = []string{"cover", "folder", "front", "artwork"}

// folderArtExts are the image extensions of folder artwork, best first.
var folderArtExts = []string{"jpg", "jpeg", "png"}

// artRank ranks name as folder artwork: 0 is not artwork, higher is better.
func artRank(name string) int {
	e := ext(name)
	if e == "" {
		return 0
	}
	base := name[:max(0, len(name)-len(e)-1)]
	for i, n := range folderArtNames {
		if !strings.EqualFold(base, n) {
			continue
		}
		for j, x := range folderArtExts {
			if e == x {
				return (len(folderArtNames)-i)*len(folderArtExts) + len(folderArtExts) - j
			}
		}
	}
	return 0
}

// needsFallback reports whether the native readers left a file for
// ffprobe: a format they recognise only by name, bytes they do not
// recognise at all, a container without a stream they can describe, or a
// stream without a length.
func needsFallback(info probe.Info, err error) bool {
	switch {
	case err == nil:
		return info.DurationMS == 0
	case errors.Is(err, errBadTags):
		return info.DurationMS == 0
	}
	return errors.Is(err, probe.ErrUnknownFormat) || errors.Is(err, probe.ErrNoAudio) || errors.Is(err, probe.ErrTruncated)
}

// fallback describes the file at abs with ffprobe when the native readers
// could not (see needsFallback). Tags the native readers found win over
// ffprobe's. Without ffprobe, a format the native readers recognised only
// by name is skipped with ErrNeedsFFprobe.
func (sc *scan) fallback(abs string, size int64, mtime time.Time, info probe.Info, tg tags.Tags, err error) (probe.Info, tags.Tags, error) {
	if sc.ff == nil {
		if err != nil && errors.Is(err, probe.ErrUnknownFormat) {
			// Probe names a format it recognises ("shorten", "xm", "ape
			// after ID3v2 tag"); other details are not format names.
			if _, name, ok := strings.Cut(err.Error(), probe.ErrUnknownFormat.Error()+": "); ok {
				if name = strings.TrimSuffix(name, " after ID3v2 tag"); !strings.ContainsAny(name, " :\"") {
					return info, tg, fmt.Errorf("%s: %w", name, ErrNeedsFFprobe)
				}
			}
		}
		return info, tg, err
	}
	key := ffKey{abs, size, mtime.UnixNano()}
	ferr := sc.ffFails.get(key)
	var fi probe.Info
	var ftg tags.Tags
	if ferr == nil {
		fi, ftg, ferr = sc.ff.read(abs, size)
		if ferr != nil && !errors.Is(ferr, errTimeout) {
			sc.ffFails.put(key, ferr)
		}
	}
	if ferr != nil {
		if err == nil || errors.Is(err, errBadTags) {
			return info, tg, err // keep the native reader's track, length unknown
		}
		return info, tg, fmt.Errorf("%w; %w", err, ferr)
	}
	if info.Container != "" && info.Codec != "" && err == nil {
		fi.Codec, fi.Container = info.Codec, info.Container // the native reader knows the stream, ffprobe its length
	}
	merged := tg
	if merged == (tags.Tags{}) {
		merged = ftg
	}
	return fi, merged, nil
}

// ffKey identifies one version of a file.
type ffKey struct {
	abs   string
	size  int64
	mtime int64
}

// maxFFFailed bounds the remembered ffprobe failures.
const maxFFFailed = 4096

// get returns the error ffprobe gave for this version of the file in an
// earlier scan, so a file ffmpeg cannot decode costs its processes once
// per daemon, not once per rescan (skipped files are not in the cache).
func (f *ffFailures) get(k ffKey) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.m[k]
}

func (f *ffFailures) put(k ffKey, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.m == nil || len(f.m) >= maxFFFailed {
		f.m = make(map[ffKey]error)
	}
	f.m[k] = err
}

// ffFailures remembers ffprobe's failures by file version.
type ffFailures struct {
	mu sync.Mutex
	m  map[ffKey]error
}

// skipReason names the kind of err, a file's skip reason, for counts.
func skipReason(err error) string {
	var pe *fs.PathError
	switch {
	case errors.Is(err, ErrNeedsFFprobe):
		name, _, _ := strings.Cut(err.Error(), ":")
		return "needs ffprobe (" + name + ")"
	case errors.Is(err, errTimeout):
		return "timed out"
	case errors.Is(err, errEmpty):
		return "empty file"
	case errors.Is(err, errNoLength):
		return "no decodable audio"
	case errors.Is(err, probe.ErrUndecodable):
		return "undecodable"
	case errors.Is(err, probe.ErrNoAudio):
		return "no audio stream"
	case errors.Is(err, probe.ErrTruncated):
		return "truncated or corrupt"
	case errors.Is(err, probe.ErrUnknownFormat):
		return "unknown format"
	case errors.As(err, &pe):
		return "read error"
	}
	return "other"
}

// tagKind is the media kind a file's tags and extension give: MP4 stik 2
// or .m4b make an audiobook, stik 21 or a podcast flag (MP4 pcst, ID3 PCST)
// a podcast, and so do the genres Audiobook(s)/Hörbuch and Podcast(s).
func tagKind(tg tags.Tags, format, genre string) MediaKind {
	switch {
	case tg.Stik == 2:
		return MediaAudiobook
	case tg.Stik == 21, tg.Podcast:
		return MediaPodcast
	case format == "m4b":
		return MediaAudiobook
	}
	switch strings.ToLower(genre) {
	case "audiobook", "audiobooks", "audio book", "audio books", "hörbuch", "hörbücher":
		return MediaAudiobook
	case "podcast", "podcasts":
		return MediaPodcast
	}
	return MediaMusic
}
