package probe

import (
	"encoding/binary"
	"fmt"
	"math"
	"strings"
)

// mp4Starts lists the box types an MP4/M4A/MOV file may begin with. Most
// start with ftyp, but moov-first, free/wide-first and mdat-first files
// exist (QuickTime, some streaming muxers).
var mp4Starts = []string{"ftyp", "moov", "free", "wide", "mdat", "skip", "pnot", "junk"}

func isMP4(head []byte) bool {
	if len(head) < 8 {
		return false
	}
	n := binary.BigEndian.Uint32(head)
	if n != 0 && n != 1 && n < 8 {
		return false
	}
	for _, t := range mp4Starts {
		if string(head[4:8]) == t {
			return true
		}
	}
	return false
}

// box is one MP4 box: its type and the extent of its payload.
type box struct {
	typ        string
	start, end int64 // payload, clamped to the parent
	fileEnd    int64 // payload end as declared, clamped only to the file
}

// maxBoxes bounds how many boxes one level of the walk visits.
const maxBoxes = 4096

// boxes calls fn for each box in [off, end) until fn returns false.
// Sizes are clamped to end; size 0 means "to the end", size 1 a 64-bit size.
func boxes(rd *reader, off, end int64, fn func(box) bool) {
	for range maxBoxes {
		if off+8 > end {
			return
		}
		h := rd.at(off, 16)
		if h == nil {
			h = rd.at(off, 8)
			if h == nil {
				return
			}
		}
		size := int64(binary.BigEndian.Uint32(h))
		hdr := int64(8)
		switch size {
		case 0:
			size = end - off
		case 1:
			if len(h) < 16 {
				return
			}
			u := binary.BigEndian.Uint64(h[8:])
			if u > uint64(end-off) {
				u = uint64(end - off)
			}
			size, hdr = int64(u), 16
		}
		if size < hdr {
			return // corrupt; a box cannot be smaller than its header
		}
		fileEnd := off + min(size, rd.size-off)
		size = min(size, end-off)
		if !fn(box{typ: boxType(h[4:8]), start: off + hdr, end: off + size, fileEnd: fileEnd}) {
			return
		}
		off += size
	}
}

// boxTypes interns the box types the walk meets in most files.
var boxTypes = func() map[string]string {
	m := map[string]string{}
	for _, t := range strings.Fields("ftyp moov mvhd trak tkhd mdia mdhd hdlr minf smhd dinf stbl stsd stts stsc stsz stco co64 udta meta ilst mdat free skip wide moof mvex trex traf tfhd tfdt trun esds alac dfLa dOps wave sinf edts elst iods sgpd sbgp chpl") {
		m[t] = t
	}
	for t := range mp4Codecs {
		m[t] = t
	}
	return m
}()

// boxType returns the box type b as a string, allocating only for types
// boxTypes does not know.
func boxType(b []byte) string {
	if t, ok := boxTypes[string(b)]; ok {
		return t
	}
	return string(b)
}

// find returns the first child of type typ in [off, end).
func find(rd *reader, off, end int64, typ string) (box, bool) {
	var found box
	ok := false
	boxes(rd, off, end, func(b box) bool {
		if b.typ == typ {
			found, ok = b, true
			return false
		}
		return true
	})
	return found, ok
}

// path follows a chain of child types from b.
func path(rd *reader, b box, types ...string) (box, bool) {
	for _, t := range types {
		var ok bool
		if b, ok = find(rd, b.start, b.end, t); !ok {
			return b, false
		}
	}
	return b, true
}

// mp4Track is what one trak tells us.
type mp4Track struct {
	id        uint32
	handler   string
	timescale uint32
	duration  uint64
	entry     string // stsd sample entry type
	codec     string
	rate      int
	channels  int
	bits      int
	bitrate   int // kbit/s from esds or alac, 0 if unknown
	protected bool
}

// mp4Codecs maps stsd sample entry types to codec names.
var mp4Codecs = map[string]string{
	"mp4a": "aac", "alac": "alac", "ac-3": "ac3", "ec-3": "eac3", "ac-4": "ac4",
	"fLaC": "flac", "Opus": "opus", ".mp3": "mp3", "samr": "amr", "sawb": "amr-wb",
	"lpcm": "pcm", "sowt": "pcm", "twos": "pcm", "in24": "pcm", "in32": "pcm", "raw ": "pcm",
	"NONE": "pcm", "fl32": "pcm_float", "fl64": "pcm_float", "alaw": "alaw", "ulaw": "ulaw",
	"ima4": "adpcm_ima", "dtsc": "dts", "dtsh": "dts", "dtsl": "dts", "mlpa": "truehd",
}

// esdsCodecs maps MPEG-4 objectTypeIndication values for mp4a entries.
var esdsCodecs = map[byte]string{
	0x40: "aac", 0x66: "aac", 0x67: "aac", 0x68: "aac",
	0x69: "mp3", 0x6b: "mp3", 0xa5: "ac3", 0xa6: "eac3", 0xa9: "dts", 0xdd: "vorbis",
}

func probeMP4(rd *reader) (Info, error) {
	var moov box
	var haveMoov bool
	var mdatBytes int64
	var moofs []box
	boxes(rd, 0, rd.size, func(b box) bool {
		switch b.typ {
		case "moof":
			moofs = append(moofs, b)
		case "moov":
			if !haveMoov {
				moov, haveMoov = b, true
			}
		case "mdat":
			mdatBytes += b.end - b.start
		}
		return true
	})
	info := Info{Container: "mp4"}
	if !haveMoov {
		return info, fmt.Errorf("mp4: %w: no moov box", ErrTruncated)
	}
	var tracks []mp4Track
	var mvScale uint32
	var mvDur uint64
	var mvex box
	var ilst box
	var haveIlst bool
	var ilstFrom string // udta (moov/udta/meta/ilst, preferred) or meta (moov/meta/ilst)
	boxes(rd, moov.start, moov.end, func(b box) bool {
		switch b.typ {
		case "mvhd":
			mvScale, mvDur = mediaHeader(rd, b)
		case "mvex":
			mvex = b
		case "trak":
			tracks = append(tracks, readTrak(rd, b))
		case "udta", "meta":
			if l, ok := ilstIn(rd, b); ok && (!haveIlst || b.typ == "udta" && ilstFrom == "meta") {
				ilst, haveIlst, ilstFrom = l, true, b.typ
			}
		}
		return len(tracks) < 64
	})
	if haveIlst {
		rd.block(Block{Kind: BlockIlst, Offset: ilst.start, Size: ilst.fileEnd - ilst.start})
	}
	t, ok := audioTrack(tracks)
	if !ok {
		return info, ErrNoAudio
	}
	info.Codec, info.SampleRate, info.Channels, info.BitsPerSample = t.codec, t.rate, t.channels, t.bits
	if mdatBytes == 0 && len(moofs) == 0 {
		// The samples live in an mdat box, which a file cut short after
		// its moov (TagLib's ilst-is-last.m4a) or damaged does not have.
		return info, fmt.Errorf("mp4: %w: no media data (mdat) box", ErrUndecodable)
	}
	info.Protected = t.protected
	switch {
	case t.timescale > 0 && t.duration > 0:
		info.DurationMS = msec(t.duration, uint64(t.timescale))
	case mvScale > 0:
		info.DurationMS = msec(mvDur, uint64(mvScale))
	}
	if mvex.end > mvex.start && t.timescale > 0 {
		// Fragmented: the samples in moof boxes come on top of moov's.
		if d := fragmentedDuration(rd, mvex, moofs, t); d > t.duration {
			info.DurationMS = msec(d, uint64(t.timescale))
		}
	}
	// With one track, all media data is its audio: a truer average than
	// esds or alac fields, which some encoders fill with a nominal or
	// maximum rate.
	info.Bitrate = t.bitrate
	if len(tracks) == 1 && mdatBytes > 0 {
		info.Bitrate = kbps(mdatBytes, info.DurationMS)
	}
	if info.Codec == "pcm" || info.Codec == "pcm_float" {
		info.Bitrate = info.SampleRate * info.Channels * info.BitsPerSample / 1000
	}
	return info, nil
}

// ilstIn finds the iTunes ilst box in a moov's udta/meta or meta. A child
// may overrun its parent (TagLib's 64bit.mp4): only the file bounds the
// search, as the tag reader always allowed.
func ilstIn(rd *reader, b box) (box, bool) {
	meta := b
	if b.typ == "udta" {
		var ok bool
		if meta, ok = find(rd, b.start, b.fileEnd, "meta"); !ok {
			return box{}, false
		}
	}
	// meta is a full box in MP4 (4 bytes of version and flags) but a plain
	// one in QuickTime files, where hdlr follows at once.
	start := meta.start + 4
	if h := rd.at(meta.start, 8); h != nil && string(h[4:8]) == "hdlr" {
		start = meta.start
	}
	return find(rd, start, meta.fileEnd, "ilst")
}

// audioTrack picks the first sound track, or failing that the first track
// whose sample entry is a known audio codec.
func audioTrack(tracks []mp4Track) (mp4Track, bool) {
	for _, t := range tracks {
		if t.handler == "soun" && t.entry != "" {
			return t, true
		}
	}
	for _, t := range tracks {
		if _, ok := mp4Codecs[t.entry]; ok {
			return t, true
		}
	}
	return mp4Track{}, false
}

// mediaHeader reads timescale and duration from an mvhd or mdhd box.
func mediaHeader(rd *reader, b box) (scale uint32, dur uint64) {
	p := rd.upTo(b.start, int(min(b.end-b.start, 32)))
	switch {
	case len(p) < 20, p[0] == 1 && len(p) < 32:
		return 0, 0
	case p[0] == 1:
		scale, dur = binary.BigEndian.Uint32(p[20:]), binary.BigEndian.Uint64(p[24:])
		if dur == math.MaxUint64 {
			dur = 0
		}
	default:
		scale, dur = binary.BigEndian.Uint32(p[12:]), uint64(binary.BigEndian.Uint32(p[16:]))
		if dur == math.MaxUint32 {
			dur = 0
		}
	}
	return scale, dur
}

func readTrak(rd *reader, trak box) mp4Track {
	var t mp4Track
	if b, ok := find(rd, trak.start, trak.end, "tkhd"); ok {
		if p := rd.at(b.start, 24); p != nil {
			if p[0] == 1 {
				t.id = binary.BigEndian.Uint32(p[20:])
			} else {
				t.id = binary.BigEndian.Uint32(p[12:])
			}
		}
	}
	mdia, ok := find(rd, trak.start, trak.end, "mdia")
	if !ok {
		return t
	}
	if b, ok := find(rd, mdia.start, mdia.end, "mdhd"); ok {
		t.timescale, t.duration = mediaHeader(rd, b)
	}
	if b, ok := find(rd, mdia.start, mdia.end, "hdlr"); ok {
		if p := rd.at(b.start, 12); p != nil {
			t.handler = string(p[8:12])
		}
	}
	stsd, ok := path(rd, mdia, "minf", "stbl", "stsd")
	if !ok {
		return t
	}
	// stsd: version/flags, entry count, then the first sample entry box.
	boxes(rd, stsd.start+8, stsd.end, func(e box) bool {
		t.entry = e.typ
		readSampleEntry(rd, e, &t)
		return false
	})
	return t
}

// readSampleEntry reads an audio sample entry and its codec-specific child
// boxes (esds, alac, dfLa, dOps).
func readSampleEntry(rd *reader, e box, t *mp4Track) {
	t.codec = mp4Codecs[e.typ]
	if t.codec == "" {
		t.codec = strings.ToLower(strings.TrimRight(strings.Map(printable, e.typ), " "))
	}
	p := rd.at(e.start, 28)
	if p == nil {
		return
	}
	version := binary.BigEndian.Uint16(p[8:])
	t.channels = int(binary.BigEndian.Uint16(p[16:]))
	t.bits = int(binary.BigEndian.Uint16(p[18:]))
	t.rate = int(binary.BigEndian.Uint32(p[24:]) >> 16)
	children := e.start + 28
	switch version {
	case 1:
		children += 16
	case 2:
		children += 36
		if q := rd.at(e.start+28, 36); q != nil {
			r := math.Float64frombits(binary.BigEndian.Uint64(q[4:]))
			if r > 0 && r < 1e7 {
				t.rate = int(r)
			}
			t.channels = u32(binary.BigEndian.Uint32(q[12:]))
			t.bits = u32(binary.BigEndian.Uint32(q[20:]))
		}
	}
	if t.rate == 0 {
		t.rate = int(t.timescale)
	}
	readCodecBoxes(rd, children, e.end, t, 0)
	switch t.codec {
	case "aac", "mp3", "ac3", "eac3", "opus", "vorbis", "amr", "amr-wb", "dts", "ac4":
		t.bits = 0 // the 16 in the sample entry is a placeholder for lossy codecs
	}
}

// readCodecBoxes reads the codec configuration boxes among a sample
// entry's children, descending into QuickTime "wave" and DRM "sinf" boxes.
func readCodecBoxes(rd *reader, off, end int64, t *mp4Track, depth int) {
	if depth > 2 {
		return
	}
	boxes(rd, off, end, func(c box) bool {
		switch c.typ {
		case "wave":
			readCodecBoxes(rd, c.start, c.end, t, depth+1)
		case "sinf":
			// Protected (iTunes .m4p "drms"/"enca"): frma names the real format.
			t.protected = true
			if f, ok := find(rd, c.start, c.end, "frma"); ok {
				if q := rd.at(f.start, 4); q != nil {
					if codec, ok := mp4Codecs[string(q)]; ok && (t.codec == "" || t.codec == "drms" || t.codec == "enca") {
						t.codec = codec
					}
				}
			}
		case "esds":
			readESDS(rd, c, t)
		case "alac":
			// Full box header, then the ALACSpecificConfig.
			if q := rd.at(c.start+4, 24); q != nil {
				t.bits = int(q[5])
				t.channels = int(q[9])
				if br := binary.BigEndian.Uint32(q[16:]); br > 0 {
					t.bitrate = int(br / 1000)
				}
				if r := binary.BigEndian.Uint32(q[20:]); r > 0 {
					t.rate = int(r)
				}
			}
		case "dfLa":
			// Full box header, then FLAC metadata blocks: STREAMINFO first.
			if q := rd.at(c.start+4, 4+34); q != nil && q[0]&0x7f == 0 {
				if si, ok := parseStreamInfo(q[4:]); ok {
					t.rate, t.channels, t.bits = si.rate, si.channels, si.bits
				}
			}
		case "dOps":
			if q := rd.at(c.start, 2); q != nil {
				t.channels = int(q[1])
			}
			t.rate = 48000
		}
		return true
	})
}

func printable(r rune) rune {
	if r < 0x20 || r > 0x7e {
		return -1
	}
	return r
}

// readESDS reads the decoder config descriptor: object type and bitrate.
func readESDS(rd *reader, c box, t *mp4Track) {
	n := int(min(c.end-c.start, 256))
	p := rd.at(c.start, n)
	if len(p) < 4 {
		return
	}
	p = p[4:] // version and flags
	for len(p) >= 2 {
		tag := p[0]
		p = p[1:]
		size := 0
		for i := 0; i < 4 && len(p) > 0; i++ {
			b := p[0]
			p = p[1:]
			size = size<<7 | int(b&0x7f)
			if b&0x80 == 0 {
				break
			}
		}
		switch tag {
		case 0x03: // ES_Descriptor: ES_ID, flags, optional fields
			if len(p) < 3 {
				return
			}
			flags := p[2]
			p = p[3:]
			if flags&0x80 != 0 && len(p) >= 2 {
				p = p[2:]
			}
			if flags&0x40 != 0 && len(p) >= 1 {
				p = p[min(1+int(p[0]), len(p)):]
			}
			if flags&0x20 != 0 && len(p) >= 2 {
				p = p[2:]
			}
		case 0x04: // DecoderConfigDescriptor
			if len(p) < 13 {
				return
			}
			if c, ok := esdsCodecs[p[0]]; ok {
				t.codec = c
			}
			if br := binary.BigEndian.Uint32(p[9:]); br > 0 {
				t.bitrate = int((br + 500) / 1000)
			}
			p = p[13:] // DecoderSpecificInfo follows
		case 0x05: // DecoderSpecificInfo: the AudioSpecificConfig for AAC
			if t.codec == "aac" {
				readASC(p[:min(size, len(p))], t)
			}
			return
		default:
			p = p[min(size, len(p)):]
		}
	}
}

// fragmentedDuration returns the track's length in media timescale units
// for a fragmented MP4: moov's samples plus those of every moof, or the
// last fragment's decode time plus its samples when tfdt is present.
func fragmentedDuration(rd *reader, mvex box, moofs []box, t mp4Track) uint64 {
	var defDur uint32
	boxes(rd, mvex.start, mvex.end, func(b box) bool {
		if p := rd.at(b.start, 16); b.typ == "trex" && p != nil && binary.BigEndian.Uint32(p[4:]) == t.id {
			defDur = binary.BigEndian.Uint32(p[12:])
		}
		return true
	})
	total := t.duration
	for i, m := range moofs {
		base, hasBase, d := trafDuration(rd, m, t.id, defDur)
		if hasBase && i == len(moofs)-1 {
			return max(total, base+d)
		}
		total += d
	}
	return total
}

// trafDuration sums the sample durations of track id in one moof. It also
// returns the tfdt base media decode time when present.
func trafDuration(rd *reader, moof box, id, defDur uint32) (base uint64, hasBase bool, dur uint64) {
	boxes(rd, moof.start, moof.end, func(traf box) bool {
		if traf.typ != "traf" {
			return true
		}
		mine := false
		def := defDur
		boxes(rd, traf.start, traf.end, func(b box) bool {
			switch b.typ {
			case "tfhd":
				p := rd.at(b.start, int(min(b.end-b.start, 32)))
				if len(p) < 8 || binary.BigEndian.Uint32(p[4:]) != id {
					return false
				}
				mine = true
				flags := binary.BigEndian.Uint32(p) & 0xffffff
				q := 8
				if flags&0x01 != 0 {
					q += 8
				}
				if flags&0x02 != 0 {
					q += 4
				}
				if flags&0x08 != 0 && len(p) >= q+4 {
					def = binary.BigEndian.Uint32(p[q:])
				}
			case "tfdt":
				if p := rd.upTo(b.start, int(min(b.end-b.start, 12))); mine && len(p) >= 8 {
					hasBase = true
					if p[0] == 1 && len(p) == 12 {
						base = binary.BigEndian.Uint64(p[4:])
					} else {
						base = uint64(binary.BigEndian.Uint32(p[4:]))
					}
				}
			case "trun":
				if mine {
					dur += trunDuration(rd, b, def)
				}
			}
			return true
		})
		return true
	})
	return base, hasBase, dur
}

// trunDuration sums one track run's sample durations.
func trunDuration(rd *reader, b box, def uint32) uint64 {
	p := rd.at(b.start, 8)
	if p == nil {
		return 0
	}
	flags := binary.BigEndian.Uint32(p) & 0xffffff
	n := int64(binary.BigEndian.Uint32(p[4:]))
	if flags&0x100 == 0 {
		return uint64(n) * uint64(def)
	}
	off := b.start + 8
	if flags&0x01 != 0 {
		off += 4
	}
	if flags&0x04 != 0 {
		off += 4
	}
	stride := int64(4)
	for _, f := range []uint32{0x200, 0x400, 0x800} {
		if flags&f != 0 {
			stride += 4
		}
	}
	n = min(n, (b.end-off)/stride) // never trust the count past the box
	var sum uint64
	for i := range n {
		q := rd.at(off+i*stride, 4)
		if q == nil {
			break
		}
		sum += uint64(binary.BigEndian.Uint32(q))
	}
	return sum
}

var aacRates = []int{96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350}

// readASC reads the channel configuration and sample rate from an AAC
// AudioSpecificConfig; the sample entry's fields are often placeholders.
// For HE-AAC (SBR, signalled explicitly or by the backward-compatible
// extension) the output rate is the extension rate.
func readASC(b []byte, t *mp4Track) {
	var v uint64
	for i := range min(len(b), 8) {
		v |= uint64(b[i]) << (56 - 8*i)
	}
	avail, pos := 8*min(len(b), 8), 0
	read := func(n int) int {
		if pos+n > avail {
			pos = avail + 1 // poison: every later read fails too
			return -1
		}
		x := int(v << pos >> (64 - n))
		pos += n
		return x
	}
	rate := func() int {
		i := read(4)
		if i == 15 {
			return read(24)
		}
		if i >= 0 && i < len(aacRates) {
			return aacRates[i]
		}
		return -1
	}
	aot := read(5)
	if aot == 31 {
		aot = 32 + read(6)
	}
	r := rate()
	ch := read(4)
	switch {
	case aot == 5 || aot == 29:
		if er := rate(); er > 0 {
			r = er
		}
	case aot == 2 && ch > 0:
		// GASpecificConfig, then perhaps the SBR sync extension.
		read(1) // frameLengthFlag
		if read(1) == 1 {
			read(14) // coreCoderDelay
		}
		read(1) // extensionFlag
		if read(11) == 0x2b7 && read(5) == 5 && read(1) == 1 {
			if er := rate(); er > 0 {
				r = er
			}
		}
	}
	if r > 0 {
		t.rate = r
	}
	switch {
	case ch >= 1 && ch <= 6:
		t.channels = ch
	case ch == 7:
		t.channels = 8
	}
}
