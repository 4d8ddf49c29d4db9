// Package tags reads track metadata, with github.com/dhowden/tag as the
// reference for ID3, guarding against its known bugs, and fills the formats
// it does not cover.
//
// Containers are walked once, by library/probe, which reports where their
// tags lie (probe.Block); this package reads each tag region there with a
// bounded reader of its own: the MP4 ilst, FLAC VORBIS_COMMENT and PICTURE
// blocks, Ogg (Vorbis, Opus, FLAC, Speex) comment packets, WAV INFO and
// AIFF text chunks, ID3v2 tags (in MP3s, before FLAC, in WAV/AIFF/DSF/DFF
// chunks), ASF attributes, Matroska tags and attachments. ID3v2 and APEv2
// tags (Monkey's Audio, WavPack, Musepack, TTA, raw AAC/AC-3, and MP3s
// that carry one) are found here, at the file's head and tail. ID3v1 tags
// are read by dhowden/tag. ID3v2 text, TXXX and COMM frames were once decoded by
// handing each to dhowden/tag as a one-frame tag; that cost ~30 µs of CPU
// and ~60 allocations per MP3, over half the scan's own work, so they are
// decoded here by a small decoder that FuzzID3Text keeps in exact agreement
// with dhowden/tag's (its quirks included: the description of a UTF-16
// TXXX or COMM ends at the first pair of NUL bytes, aligned or not). Audio data is never read, every length read from
// the file is checked against the bytes that remain, and a panic anywhere
// becomes an error for that file.
//
// Values are normalised the same way for every format: valid UTF-8 in NFC,
// trimmed of NULs and spaces. Repeated values (ID3v2.4 NUL-separated lists,
// repeated Vorbis keys, several MP4 data atoms) are joined with ", " for the
// artist, album artist and composer; every other field keeps the first value.
// Composer never falls back to the artist.
package tags

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode"

	"github.com/daapd/daapd/library/probe"
	"golang.org/x/text/unicode/norm"
)

// Tags is the metadata of one file, normalised.
type Tags struct {
	Title, Artist, AlbumArtist, Album, Composer, Genre, Comment, Grouping string
	SortTitle, SortArtist, SortAlbumArtist, SortAlbum, SortComposer       string

	Year              int
	Track, TrackTotal int
	Disc, DiscTotal   int
	BPM               int
	Compilation       bool
	// Stik is the MP4 media type (stik): 1 music, 2 audiobook, 21
	// podcast; 0 when absent.
	Stik int
	// Podcast says the file is marked as a podcast episode (MP4 pcst,
	// ID3 PCST).
	Podcast     bool
	HasPicture  bool   // an embedded picture exists
	PictureMIME string // its type, when known
}

// ErrNoTags means the file carries no tags we can read (not an error for
// the scanner: the track falls back to its file name).
var ErrNoTags = errors.New("no tags")

// ErrNoPicture means the file has no embedded picture. It wraps ErrNoTags,
// so errors.Is(err, ErrNoTags) holds for both.
var ErrNoPicture = fmt.Errorf("no picture: %w", ErrNoTags)

// MaxPicture is the largest embedded picture Picture returns.
const MaxPicture = 16 << 20

// Read reads the tags of the size bytes in r. container is probe.Info's
// Container ("mp3", "mp4", "flac", "ogg", "wav", "aiff", "ape", "wavpack",
// "musepack", "tta", "aac", "ac3", "eac3", "asf", "dsf", "dff", "matroska",
// "webm"); when it is empty or unknown the container is sniffed from the
// first bytes. For the containers probe walks (MP4, FLAC, Ogg, WAV, AIFF,
// DSF, DSDIFF, ASF, Matroska) Read asks probe where the tags are; a scanner that has
// already probed the file calls ReadBlocks instead.
//
// A file whose tag region is damaged part way still yields the fields read
// before the damage, with a nil error.
func Read(r io.ReaderAt, size int64, container string) (t Tags, err error) {
	return read(r, size, container, nil, false)
}

// ReadBlocks is Read for a file whose container probe.Read has walked:
// blocks are the tag blocks it reported, and the container is not walked
// again.
func ReadBlocks(r io.ReaderAt, size int64, container string, blocks []probe.Block) (Tags, error) {
	return read(r, size, container, blocks, true)
}

func read(r io.ReaderAt, size int64, container string, blocks []probe.Block, walked bool) (Tags, error) {
	c := collectors.Get().(*collector)
	defer c.release()
	if err := run(r, size, container, blocks, walked, c); err != nil && (c.empty() || errors.As(err, new(panicError))) {
		return Tags{}, err
	}
	if c.empty() {
		return Tags{}, ErrNoTags
	}
	return c.tags(), nil
}

// Picture returns the embedded cover image and its MIME type: the first
// front cover, or else the first picture. Pictures larger than MaxPicture
// are refused.
func Picture(r io.ReaderAt, size int64, container string) ([]byte, string, error) {
	c := newCollector(true)
	err := run(r, size, container, nil, false, c)
	if errors.As(err, new(panicError)) {
		return nil, "", err
	}
	if c.pic.data != nil {
		return c.pic.data, c.pic.mime, nil
	}
	if c.picErr != nil {
		return nil, "", c.picErr
	}
	if err != nil && c.empty() {
		return nil, "", err
	}
	return nil, "", ErrNoPicture
}

// readers maps a container name to its tag reader.
var readers = map[string]func(*source, *collector) error{
	"mp3":  readMP3,
	"mp4":  readMP4,
	"flac": readFLAC,
	"ogg":  readOgg,
	"wav":  readWAV,
	"aiff": readAIFF,

	"ape":      readAPEFile,
	"wavpack":  readAPEFile,
	"musepack": readAPEFile,
	"tta":      readAPEFile,
	"asf":      readASF,
	"dsf":      readDSD,
	"dff":      readDSD,
	"aac":      readAPEFile,
	"ac3":      readAPEFile,
	"eac3":     readAPEFile,
	"matroska": readMatroska,
	"webm":     readMatroska,
}

// walked lists the containers whose tag blocks probe's walk locates.
var walked = map[string]bool{"mp4": true, "flac": true, "ogg": true, "wav": true, "aiff": true, "dsf": true, "dff": true, "asf": true, "matroska": true, "webm": true}

// run reads the tags of one file into c, turning any panic into an error.
// Unless the caller has walked the container (haveBlocks), probe walks it
// here for the readers that need its blocks.
func run(r io.ReaderAt, size int64, container string, blocks []probe.Block, haveBlocks bool, c *collector) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = panicError{container, p}
		}
	}()
	if size <= 0 {
		return ErrNoTags
	}
	s := newSource(r, size)
	defer s.release()
	if _, known := readers[container]; !known {
		name := sniff(s)
		if name == "" {
			return fmt.Errorf("tags: unknown container %q", container)
		}
		container = name
	}
	if !haveBlocks && walked[container] {
		// Only these: probing an MP3 may scan its frames.
		_, blocks, _ = probe.Read(r, size, nil)
	}
	s.blocks = blocks
	if err := readers[container](s, c); err != nil {
		if errors.Is(err, ErrNoTags) {
			return ErrNoTags
		}
		return fmt.Errorf("tags: %s: %w", container, err)
	}
	return nil
}

// panicError is a panic recovered while reading one file: a bug here,
// reported as that file's error.
type panicError struct {
	container string
	value     any
}

func (e panicError) Error() string {
	return fmt.Sprintf("tags: panic reading %s: %v", e.container, e.value)
}

// sniff names the container from the first bytes of s, or returns "".
func sniff(s *source) string {
	b, _ := s.peek(0, 12)
	switch {
	case len(b) < 12:
		return ""
	case string(b[:4]) == "fLaC":
		return "flac"
	case string(b[:4]) == "OggS":
		return "ogg"
	case string(b[4:8]) == "ftyp" || string(b[4:8]) == "moov":
		return "mp4"
	case (string(b[:4]) == "RIFF" || string(b[:4]) == "RF64" || string(b[:4]) == "BW64") && string(b[8:12]) == "WAVE":
		return "wav"
	case string(b[:4]) == "FORM" && (string(b[8:12]) == "AIFF" || string(b[8:12]) == "AIFC"):
		return "aiff"
	case string(b[:3]) == "ID3":
		// FLAC files may start with an ID3v2 tag too.
		end := 10 + int64(syncsafe(b[6:10]))
		if b[5]&0x10 != 0 {
			end += 10
		}
		if m, _ := s.peek(end, 4); string(m) == "fLaC" {
			return "flac"
		}
		return "mp3"
	case b[0] == 0xFF && b[1]&0xE0 == 0xE0: // an MPEG frame: maybe ID3v1 at the end
		return "mp3"
	case string(b[:4]) == "MAC " || string(b[:4]) == "wvpk" || string(b[:4]) == "TTA1" ||
		string(b[:4]) == "MPCK" || string(b[:3]) == "MP+" || (b[0] == 0x0B && b[1] == 0x77):
		return "ape" // APEv2 (and ID3) tags, whatever the codec
	case string(b[:8]) == "\x30\x26\xb2\x75\x8e\x66\xcf\x11":
		return "asf"
	case string(b[:4]) == "\x1aE\xdf\xa3":
		return "matroska"
	case string(b[:4]) == "DSD " || string(b[:4]) == "FRM8":
		return "dsf"
	}
	return ""
}

// Canonical field keys shared by every format's key table.
const (
	kTitle           = "title"
	kArtist          = "artist"
	kAlbumArtist     = "albumartist"
	kAlbum           = "album"
	kComposer        = "composer"
	kGenre           = "genre"
	kComment         = "comment"
	kGrouping        = "grouping"
	kSortTitle       = "sorttitle"
	kSortArtist      = "sortartist"
	kSortAlbumArtist = "sortalbumartist"
	kSortAlbum       = "sortalbum"
	kSortComposer    = "sortcomposer"
	kYear            = "year"
	kTrack           = "track" // "3" or "3/25"
	kTrackTotal      = "tracktotal"
	kDisc            = "disc" // "1" or "1/2"
	kDiscTotal       = "disctotal"
	kBPM             = "bpm"
	kCompilation     = "compilation"
	kStik            = "stik"
	kPodcast         = "podcast"
)

// textFields lists the string fields: the key they come from, where they
// go, and whether repeated values are joined (true) or the first is kept.
var textFields = []struct {
	key  string
	dst  func(*Tags) *string
	join bool
}{
	{kTitle, func(t *Tags) *string { return &t.Title }, false},
	{kArtist, func(t *Tags) *string { return &t.Artist }, true},
	{kAlbumArtist, func(t *Tags) *string { return &t.AlbumArtist }, true},
	{kAlbum, func(t *Tags) *string { return &t.Album }, false},
	{kComposer, func(t *Tags) *string { return &t.Composer }, true},
	{kGenre, func(t *Tags) *string { return &t.Genre }, false},
	{kComment, func(t *Tags) *string { return &t.Comment }, false},
	{kGrouping, func(t *Tags) *string { return &t.Grouping }, false},
	{kSortTitle, func(t *Tags) *string { return &t.SortTitle }, false},
	{kSortArtist, func(t *Tags) *string { return &t.SortArtist }, true},
	{kSortAlbumArtist, func(t *Tags) *string { return &t.SortAlbumArtist }, true},
	{kSortAlbum, func(t *Tags) *string { return &t.SortAlbum }, false},
	{kSortComposer, func(t *Tags) *string { return &t.SortComposer }, true},
}

// picture is one embedded picture found while reading.
type picture struct {
	front bool
	mime  string
	data  []byte // only when the collector wants picture bytes
}

// collector gathers the values read from one file under canonical keys.
type collector struct {
	vals        []keyVal   // in the order read
	buf         [16]keyVal // vals' first backing array
	wantPicture bool

	hasPic bool
	pic    picture // the preferred picture so far
	picErr error   // why the preferred picture could not be loaded
}

// keyVal is one value read, under its canonical key.
type keyVal struct{ key, val string }

func newCollector(wantPicture bool) *collector {
	c := &collector{wantPicture: wantPicture}
	c.vals = c.buf[:0]
	return c
}

// collectors recycles Read's collectors.
var collectors = sync.Pool{New: func() any { return newCollector(false) }}

// release clears c and recycles it; c must not be used afterwards.
func (c *collector) release() {
	*c = collector{}
	c.vals = c.buf[:0]
	collectors.Put(c)
}

// add records values under key, normalised; empty values are dropped.
func (c *collector) add(key string, vals ...string) {
	for _, v := range vals {
		if v = clean(v); v != "" {
			c.vals = append(c.vals, keyVal{key, v})
		}
	}
}

// fill records vals under key unless key already has a value; it merges a
// lower-priority tag (ID3v1, RIFF INFO) under a better one.
func (c *collector) fill(key string, vals ...string) {
	if c.first(key) == "" {
		c.add(key, vals...)
	}
}

// first returns the first value under key, or "".
func (c *collector) first(key string) string {
	for _, kv := range c.vals {
		if kv.key == key {
			return kv.val
		}
	}
	return ""
}

// offerPicture records a picture: the first front cover wins, else the
// first picture. load is called only when the bytes are wanted and the
// picture is preferred; it must bound its allocation by MaxPicture.
func (c *collector) offerPicture(front bool, mime string, load func() ([]byte, error)) {
	if c.hasPic && (c.pic.front || !front) {
		return
	}
	p := picture{front: front, mime: normMIME(mime)}
	if c.wantPicture && load != nil {
		data, err := load()
		if err != nil || len(data) == 0 {
			if err == nil {
				err = ErrNoPicture
			}
			if !c.hasPic {
				c.picErr = err
			}
			return
		}
		p.data = data
		if m := sniffImage(data); m != "" {
			p.mime = m
		}
	}
	c.hasPic, c.pic, c.picErr = true, p, nil
}

func (c *collector) empty() bool { return len(c.vals) == 0 && !c.hasPic }

// textIndex maps a text field's key to its place in textFields.
var textIndex = func() map[string]int {
	m := make(map[string]int, len(textFields))
	for i, f := range textFields {
		m[f.key] = i
	}
	return m
}()

// tags turns the collected values into Tags in one pass over them.
func (c *collector) tags() Tags {
	var t Tags
	var year, track, trackTotal, disc, discTotal, bpm, compilation, stik string
	firstOf := func(dst *string, v string) {
		if *dst == "" {
			*dst = v
		}
	}
	for i, kv := range c.vals {
		if fi, ok := textIndex[kv.key]; ok {
			f := &textFields[fi]
			dst := f.dst(&t)
			switch {
			case *dst == "":
				*dst = kv.val
			case f.join && !slices.ContainsFunc(c.vals[:i], func(p keyVal) bool { return p == kv }):
				*dst += ", " + kv.val
			}
			continue
		}
		switch kv.key {
		case kYear:
			firstOf(&year, kv.val)
		case kTrack:
			firstOf(&track, kv.val)
		case kTrackTotal:
			firstOf(&trackTotal, kv.val)
		case kDisc:
			firstOf(&disc, kv.val)
		case kDiscTotal:
			firstOf(&discTotal, kv.val)
		case kBPM:
			firstOf(&bpm, kv.val)
		case kCompilation:
			firstOf(&compilation, kv.val)
		case kStik:
			firstOf(&stik, kv.val)
		case kPodcast:
			t.Podcast = t.Podcast || parseBool(kv.val)
		}
	}
	t.Year = parseYear(year)
	t.Track, t.TrackTotal = parsePair(track)
	if n := leadingInt(trackTotal); n > 0 {
		t.TrackTotal = n
	}
	t.Disc, t.DiscTotal = parsePair(disc)
	if n := leadingInt(discTotal); n > 0 {
		t.DiscTotal = n
	}
	t.BPM = parseBPM(bpm)
	t.Compilation = parseBool(compilation)
	t.Stik = leadingInt(stik)
	t.HasPicture = c.hasPic
	t.PictureMIME = c.pic.mime
	return t
}

// clean makes s valid UTF-8 in NFC, trimmed of NULs and spaces.
func clean(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.TrimFunc(s, func(r rune) bool { return r == 0 || unicode.IsSpace(r) })
	if strings.IndexByte(s, 0) >= 0 {
		s = strings.ReplaceAll(s, "\x00", "")
	}
	return norm.NFC.String(s)
}

// parseYear returns the first run of four digits in s ("2019-05-03",
// "05/03/2019", "2019"), or 0.
func parseYear(s string) int {
	run := 0
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			run++
			if run == 4 {
				n, _ := strconv.Atoi(s[i-3 : i+1])
				return n
			}
			continue
		}
		run = 0
	}
	return 0
}

// parsePair parses "3", "3/25", " 03 / 25 " or "3 of 25".
func parsePair(s string) (n, total int) {
	n = leadingInt(s)
	if i := strings.IndexAny(s, "/"); i >= 0 {
		total = leadingInt(s[i+1:])
	} else if i := strings.Index(strings.ToLower(s), " of "); i >= 0 {
		total = leadingInt(s[i+4:])
	}
	return n, total
}

// leadingInt parses the decimal number at the start of s (after spaces),
// or returns 0. It saturates instead of overflowing.
func leadingInt(s string) int {
	s = strings.TrimLeft(s, " \t+")
	n := 0
	for i := 0; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		if n > 1e8 {
			return n
		}
		n = n*10 + int(s[i]-'0')
	}
	return n
}

// parseBPM parses "128", "128.4" (rounded) or "0128".
func parseBPM(s string) int {
	if s == "" {
		return 0
	}
	if f, err := strconv.ParseFloat(strings.TrimSpace(s), 64); err == nil && f > 0 && f < 1e6 {
		return int(f + 0.5)
	}
	return leadingInt(s)
}

// parseBool reads compilation flags: "1", "true", "yes" (any case).
func parseBool(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "1", "true", "yes", "y", "on":
		return true
	}
	return leadingInt(s) > 0
}

// normMIME fixes the MIME types taggers write: "jpg", "image/jpg", "PNG".
func normMIME(m string) string {
	m = strings.ToLower(clean(m))
	switch m {
	case "jpg", "jpeg", "image/jpg", "image/pjpeg":
		return "image/jpeg"
	case "png":
		return "image/png"
	case "gif":
		return "image/gif"
	case "bmp", "image/x-ms-bmp":
		return "image/bmp"
	case "webp":
		return "image/webp"
	}
	if m != "" && !strings.Contains(m, "/") {
		return "image/" + m
	}
	return m
}

// sniffImage names the image type from its first bytes, or returns "".
func sniffImage(b []byte) string {
	switch {
	case len(b) >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF:
		return "image/jpeg"
	case len(b) >= 8 && string(b[:8]) == "\x89PNG\r\n\x1a\n":
		return "image/png"
	case len(b) >= 4 && string(b[:4]) == "GIF8":
		return "image/gif"
	case len(b) >= 12 && string(b[:4]) == "RIFF" && string(b[8:12]) == "WEBP":
		return "image/webp"
	case len(b) >= 2 && string(b[:2]) == "BM":
		return "image/bmp"
	}
	return ""
}

// genreName maps an ID3v1 genre index to its name, or returns "".
func genreName(i int) string {
	if i >= 0 && i < len(genres) {
		return genres[i]
	}
	return ""
}
