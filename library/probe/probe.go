// Package probe reads audio facts (codec, duration, bitrate, sample rate)
// from file headers without decoding audio.
//
// The container is identified from the bytes, never from the file name:
// MP3 (and MPEG layers I/II), MP4/M4A/MOV (also fragmented), FLAC, Ogg
// (Vorbis, Opus, FLAC, Speex), WAV/RF64/BW64, AIFF/AIFC, DSF, DSDIFF, raw
// AAC (ADTS), raw AC-3/E-AC-3, Matroska/WebM, ASF (WMA), Monkey's Audio,
// WavPack, Musepack SV7/SV8 and TTA. Every length read from a file is treated as
// untrusted: a truncated or lying file gives an error or a best-effort Info,
// never a panic or a large allocation. Reads go through two 64 KiB
// read-ahead windows, so a typical file costs one to three ReadAt calls;
// only a VBR MP3 without a Xing/VBRI header and raw AAC and AC-3 streams
// are scanned frame by frame (in 1 MiB reads, extrapolated past 64 MiB).
//
// Read also reports where the walk of an MP4, FLAC, Ogg, WAV, AIFF, DSF,
// DSDIFF, ASF or Matroska file passed its tags (as Blocks), so a tag reader
// never walks the container a second time.
package probe

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"sync"
)

// Info describes an audio file's stream, read from its headers.
type Info struct {
	Container     string // mp3, mp4, flac, ogg, wav, aiff, dsf, dff, aac (raw ADTS), matroska, webm
	Codec         string // mp3, mp2, mp1, aac, alac, flac, vorbis, opus, speex, pcm, pcm_float, ac3, eac3, alaw, ulaw, dsd, ...
	DurationMS    uint32 // 0 when unknown
	Bitrate       int    // kbit/s, 0 when unknown
	SampleRate    int    // Hz (the 1-bit rate for DSD)
	Channels      int
	BitsPerSample int  // 0 for lossy codecs
	Protected     bool // DRM-encrypted (iTunes .m4p); no client can play it from us
}

// ErrUnknownFormat means the bytes are not a container Probe understands.
// Errors for recognised but unsupported formats (APE, WavPack, Musepack,
// TTA, WMA, tracker modules...) wrap it and name the format.
var ErrUnknownFormat = errors.New("unknown audio format")

// ErrNoAudio means the container holds no audio stream Probe can describe
// (a video-only MP4, an Ogg file with only Theora).
var ErrNoAudio = errors.New("no audio stream")

// ErrTruncated means the container was recognised but a header it needs
// is missing, cut short by the end of the file, or corrupt.
var ErrTruncated = errors.New("truncated header")

// ErrUndecodable means the headers show that no decoder will play the
// file: a format version decoders do not support, a sample rate or
// channel layout the format cannot carry, header pages that fail their
// checksum, or no audio data where the headers say it starts. Unlike
// ErrTruncated it is final: asking ffprobe would not help. The Info
// returned with it names the Container and Codec.
var ErrUndecodable = errors.New("undecodable")

// Probe identifies the container and codec of the size bytes in r and reads
// the stream's facts from its headers.
//
// Errors: ErrUnknownFormat (possibly naming a recognised but unsupported
// format), ErrNoAudio, a parse error for a truncated or corrupt header, or
// the first read error of r other than io.EOF. With ErrNoAudio and
// ErrTruncated the returned Info still names the Container. A size larger
// than the data behind r is trimmed to what can be read.
func Probe(r io.ReaderAt, size int64) (Info, error) {
	info, _, err := Read(r, size, nil)
	return info, err
}

// Block is a block of tags that Read's walk of the container passed: the
// tag reader reads it where it lies, without walking the container again.
type Block struct {
	Kind   BlockKind
	ID     string // BlockInfo, BlockText: the chunk's four-character code; BlockASF: the object's kind; BlockMKVTag: the tag name; BlockAttachment: the MIME type
	Type   int    // BlockFLAC: the metadata block type (4 VORBIS_COMMENT, 6 PICTURE, ...); BlockMKVTag: the target level; BlockAttachment: 3 for a front cover
	Serial uint32 // BlockOgg: the logical stream
	Codec  string // BlockOgg: vorbis, opus, flac or speex
	Offset int64  // payload start (BlockOgg: the stream's first page)
	Size   int64  // payload length; BlockFLAC: as declared, possibly past the end of the file
}

// BlockKind says what a Block holds.
type BlockKind uint8

const (
	BlockID3v2      BlockKind = iota + 1 // an ID3v2 tag: before a FLAC stream, or the ID3 chunk of WAV, AIFF, DSF, DSDIFF
	BlockFLAC                            // a FLAC metadata block other than STREAMINFO that tags may care about
	BlockIlst                            // the body of an MP4 moov/udta/meta/ilst (or moov/meta/ilst) box
	BlockInfo                            // one item of a RIFF LIST/INFO chunk (INAM, IART, ...)
	BlockText                            // an AIFF text chunk (NAME, AUTH, ANNO)
	BlockOgg                             // the header packets of the Ogg stream Read described
	BlockASF                             // an ASF object with tags; ID is ASFContentDescription, ASFExtendedContent or ASFMetadata
	BlockMKVTag                          // a Matroska SimpleTag's TagString (at most 4 KiB): ID is its TagName, Type its target level (50 album, 30 or 0 track)
	BlockAttachment                      // a Matroska attached file: ID is its MIME type, Type 3 when its name says front cover
)

// maxTagBlocks bounds the Blocks one file reports.
const maxTagBlocks = 256

// Read is Probe that also appends to dst the tag Blocks its walk passed,
// in file order, and returns the extended slice. The Blocks are returned
// with ErrNoAudio and ErrTruncated too, as far as the walk got.
func Read(r io.ReaderAt, size int64, dst []Block) (Info, []Block, error) {
	rd := newReader(r, size)
	rd.blocks = dst
	defer rd.release()
	info, err := probe(rd)
	blocks := rd.blocks
	if rd.err != nil {
		return Info{}, blocks, fmt.Errorf("read: %w", rd.err)
	}
	return info, blocks, err
}

// block records a tag block, up to maxTagBlocks.
func (rd *reader) block(b Block) {
	if len(rd.blocks) < maxTagBlocks {
		rd.blocks = append(rd.blocks, b)
	}
}

func probe(rd *reader) (Info, error) {
	head := rd.upTo(0, 64)
	if len(head) < 4 {
		return Info{}, ErrUnknownFormat
	}
	if m, ok := match(head); ok {
		if m.probe == nil {
			return Info{}, fmt.Errorf("%w: %s", ErrUnknownFormat, m.name)
		}
		return m.probe(rd)
	}
	if isMP4(head) {
		return probeMP4(rd)
	}
	if bytes.HasPrefix(head, []byte("ID3")) {
		// An ID3v2 tag may precede MP3 frames, a FLAC stream, or other
		// formats (APE, TTA); look at what follows the tag(s).
		start := skipID3v2(rd, 0)
		next := rd.upTo(start, 64)
		if string(next[:min(4, len(next))]) == "fLaC" {
			rd.block(Block{Kind: BlockID3v2, Offset: 0, Size: start})
			return probeFLAC(rd, start)
		}
		if m, ok := match(next); ok {
			switch m.name {
			case "ape":
				return probeAPE(rd, start)
			case "tta":
				return probeTTA(rd, start)
			case "musepack":
				return probeMPC(rd, start)
			case "wavpack":
				return probeWavPack(rd, start)
			}
			return Info{}, fmt.Errorf("%w: %s after ID3v2 tag", ErrUnknownFormat, m.name)
		}
		if isADTS(rd, start) {
			return probeADTS(rd, start)
		}
		if isAC3(rd, start) {
			return probeAC3(rd, start)
		}
		return probeMP3(rd, start, true)
	}
	if isADTS(rd, 0) {
		return probeADTS(rd, 0)
	}
	if isAC3(rd, 0) {
		return probeAC3(rd, 0)
	}
	return probeMP3(rd, 0, false)
}

// match finds the magic that b starts with.
func match(b []byte) (magic, bool) {
	for _, m := range magics {
		if len(b) >= m.off+len(m.magic) && bytes.Equal(b[m.off:m.off+len(m.magic)], m.magic) {
			return m, true
		}
	}
	return magic{}, false
}

// magic identifies a container by fixed bytes at a fixed offset. A nil
// probe marks a format we recognise only to reject it with a clear error.
type magic struct {
	off   int
	magic []byte
	name  string
	probe func(*reader) (Info, error)
}

var magics = []magic{
	{0, []byte("fLaC"), "flac", func(rd *reader) (Info, error) { return probeFLAC(rd, 0) }},
	{0, []byte("OggS"), "ogg", probeOgg},
	{0, []byte("RIFF"), "wav", probeWAV},
	{0, []byte("RF64"), "wav", probeWAV},
	{0, []byte("BW64"), "wav", probeWAV},
	{0, []byte("FORM"), "aiff", probeAIFF},
	{0, []byte("DSD "), "dsf", probeDSF},
	{0, []byte("FRM8"), "dff", probeDFF},
	{0, []byte("MAC "), "ape", func(rd *reader) (Info, error) { return probeAPE(rd, 0) }},
	{0, []byte("wvpk"), "wavpack", func(rd *reader) (Info, error) { return probeWavPack(rd, 0) }},
	{0, []byte("MPCK"), "musepack", func(rd *reader) (Info, error) { return probeMPC(rd, 0) }},
	{0, []byte("MP+"), "musepack", func(rd *reader) (Info, error) { return probeMPC(rd, 0) }},
	{0, []byte("TTA1"), "tta", func(rd *reader) (Info, error) { return probeTTA(rd, 0) }},
	{0, []byte("ajkg"), "shorten", nil},
	{0, []byte("\x1aE\xdf\xa3"), "matroska", probeMKV},
	{0, []byte("\x30\x26\xb2\x75\x8e\x66\xcf\x11"), "asf", probeASF},
	{0, []byte("Extended Module:"), "xm", nil},
	{0, []byte("IMPM"), "it", nil},
	{44, []byte("SCRM"), "s3m", nil},
	{0, []byte("#!AMR"), "amr", nil},
	{0, []byte("MThd"), "midi", nil},
}

// reader serves small header reads from read-ahead windows over an
// io.ReaderAt, and counts the underlying calls. It keeps the two most
// recent windows, so alternating between a file's head and its tail (MP3
// tags, Ogg and FLAC tails, moov after mdat) does not re-read either.
type reader struct {
	r      io.ReaderAt
	size   int64
	win    [2]span // win[0] is the most recently filled
	calls  int     // ReadAt calls made
	bytes  int64   // bytes requested from r
	err    error   // first non-EOF read error
	lent   []*[]byte
	blocks []Block // tag blocks passed (see Read)
}

// windows recycles read-ahead buffers between probes: allocating 64 KiB per
// file costs more than reading it from the page cache.
var windows = sync.Pool{New: func() any { b := make([]byte, window); return &b }}

// alloc returns an n-byte buffer, pooled when it fits a window. Nothing
// derived from the reader may keep referring to it after release.
func (rd *reader) alloc(n int) []byte {
	if n > window {
		return make([]byte, n)
	}
	p := windows.Get().(*[]byte)
	rd.lent = append(rd.lent, p)
	return (*p)[:n]
}

// readers recycles readers (their lent lists) between probes.
var readers = sync.Pool{New: func() any { return new(reader) }}

// release returns the pooled buffers and the reader itself; the reader
// must not be used after.
func (rd *reader) release() {
	for _, p := range rd.lent {
		windows.Put(p)
	}
	clear(rd.lent)
	*rd = reader{lent: rd.lent[:0]} // blocks belong to the caller
	readers.Put(rd)
}

// span is bytes [off, off+len(b)) of the file.
type span struct {
	off int64
	b   []byte
}

func (s span) covers(off int64, n int) bool {
	return off >= s.off && off+int64(n) <= s.off+int64(len(s.b))
}

// window is the read-ahead size: big enough for nearly every header set
// (ID3v2 without art, MP4 moov of a short track, Ogg BOS pages) in one call.
const window = 64 << 10

// maxRead caps a single request; parsers never need more at once.
const maxRead = 1 << 20

func newReader(r io.ReaderAt, size int64) *reader {
	if size < 0 {
		size = 0
	}
	rd := readers.Get().(*reader)
	rd.r, rd.size = r, size
	return rd
}

// upTo returns up to n bytes at off, fewer only at the end of the file or
// on a read error. The slice stays valid after later calls.
func (rd *reader) upTo(off int64, n int) []byte {
	if off < 0 || off >= rd.size || n <= 0 {
		return nil
	}
	n = min(n, maxRead)
	if rem := rd.size - off; int64(n) > rem {
		n = int(rem)
	}
	for _, s := range rd.win {
		if s.covers(off, n) {
			return s.b[off-s.off : off-s.off+int64(n)]
		}
	}
	if rd.err != nil {
		return nil
	}
	ln := max(n, window)
	if rem := rd.size - off; int64(ln) > rem {
		ln = int(rem)
	}
	buf := rd.alloc(ln)
	rd.calls++
	rd.bytes += int64(ln)
	got, err := rd.r.ReadAt(buf, off)
	switch {
	case err == nil:
	case err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF):
		if got < ln {
			rd.size = off + int64(got) // the file is shorter than claimed
		}
	default:
		rd.err = err
		got = 0
	}
	rd.win[1], rd.win[0] = rd.win[0], span{off, buf[:got]}
	return buf[:min(got, n)]
}

// has reports whether [off, off+n) is already buffered.
func (rd *reader) has(off int64, n int) bool {
	return rd.win[0].covers(off, n) || rd.win[1].covers(off, n)
}

// at returns exactly n bytes at off, or nil if the file is too short.
func (rd *reader) at(off int64, n int) []byte {
	b := rd.upTo(off, n)
	if len(b) != n {
		return nil
	}
	return b
}

// tail reads up to n bytes ending at the end of the file in one call and
// returns them with their offset.
func (rd *reader) tail(n int) ([]byte, int64) {
	off := max(rd.size-int64(n), 0)
	return rd.upTo(off, n), off
}

// msec converts a count of units at rate per second to milliseconds,
// saturating at the uint32 limit (49 days).
func msec(units uint64, rate uint64) uint32 {
	if rate == 0 {
		return 0
	}
	const lim = 1<<32 - 1
	// units*1000 could overflow; divide first when it is large.
	var ms uint64
	if units < (1<<64-1)/1000 {
		ms = units * 1000 / rate
	} else {
		ms = units / rate * 1000
	}
	if ms > lim {
		return lim
	}
	return uint32(ms)
}

// kbps returns the average bitrate of n bytes played over ms milliseconds.
func kbps(n int64, ms uint32) int {
	if ms == 0 || n <= 0 {
		return 0
	}
	return int(uint64(n) * 8 / uint64(ms))
}

// u32 converts a 32-bit header field to int, capped at MaxInt32 so that a
// damaged field reads the same on 32-bit builds (where int(v) of a value
// past 2^31 turns negative) as on 64-bit ones.
func u32(v uint32) int { return int(min(v, math.MaxInt32)) }
