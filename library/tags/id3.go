package tags

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/dhowden/tag"
)

// Limits on what an ID3v2 tag may make us allocate.
const (
	maxID3Tag  = 64 << 20 // a whole unsynchronised tag held in memory
	maxID3Text = 1 << 20  // one text frame
	maxValues  = 64       // values kept from one multi-value frame
)

// id3Text maps the text frames we read to canonical keys. Frames whose key
// starts with "+" are fallbacks, used only when the main frame is absent.
var id3Text = map[string]string{
	"TIT2": kTitle,
	"TPE1": kArtist,
	"TPE2": kAlbumArtist,
	"TALB": kAlbum,
	"TCOM": kComposer,
	"TCON": kGenre,
	"GRP1": kGrouping,
	"TIT1": "+" + kGrouping, // iTunes ≥ 12.5 writes grouping to GRP1, "work" to TIT1
	"TSOT": kSortTitle,
	"TSOP": kSortArtist,
	"TSO2": kSortAlbumArtist,
	"TSOA": kSortAlbum,
	"TSOC": kSortComposer,
	"TDRC": kYear,
	"TYER": kYear,
	"TDRL": "+" + kYear,
	"TDOR": "+" + kYear,
	"TORY": "+" + kYear,
	"TRCK": kTrack,
	"TPOS": kDisc,
	"TBPM": kBPM,
	"TCMP": kCompilation,
}

// id3TXXX maps TXXX descriptions (upper case) to fallback keys: what
// foobar2000, ffmpeg and Picard write where no standard frame exists.
var id3TXXX = map[string]string{
	"COMPILATION":       kCompilation, // ffmpeg
	"TCMP":              kCompilation, // ffmpeg
	"ITUNESCOMPILATION": kCompilation,
	"ALBUM ARTIST":      kAlbumArtist,
	"ALBUMARTIST":       kAlbumArtist,
	"ALBUM_ARTIST":      kAlbumArtist,
	"ALBUMARTISTSORT":   kSortAlbumArtist,
	"ALBUM_ARTIST_SORT": kSortAlbumArtist,
	"ARTISTSORT":        kSortArtist,
	"ALBUMSORT":         kSortAlbum,
	"TITLESORT":         kSortTitle,
	"COMPOSERSORT":      kSortComposer,
	"GROUPING":          kGrouping,
	"BPM":               kBPM,
	"TRACKTOTAL":        kTrackTotal,
	"TOTALTRACKS":       kTrackTotal,
	"DISCTOTAL":         kDiscTotal,
	"TOTALDISCS":        kDiscTotal,
	"DATE":              kYear,
	"YEAR":              kYear,
	// ffmpeg writes these for its "comment" and "*-sort" metadata keys.
	"COMMENT":           kComment,
	"ARTIST-SORT":       kSortArtist,
	"ALBUM-SORT":        kSortAlbum,
	"TITLE-SORT":        kSortTitle,
	"ALBUM_ARTIST-SORT": kSortAlbumArtist,
	"COMPOSER-SORT":     kSortComposer,
}

// id3v22 maps the ID3v2.2 frame names we read to their v2.3 names.
var id3v22 = map[string]string{
	"TT2": "TIT2", "TP1": "TPE1", "TP2": "TPE2", "TAL": "TALB", "TCM": "TCOM",
	"TCO": "TCON", "TT1": "TIT1", "GP1": "GRP1", "TYE": "TYER", "TOR": "TORY",
	"TRK": "TRCK", "TPA": "TPOS", "TBP": "TBPM", "TCP": "TCMP", "TST": "TSOT",
	"TSP": "TSOP", "TS2": "TSO2", "TSA": "TSOA", "TSC": "TSOC", "TXX": "TXXX",
	"COM": "COMM", "PIC": "PIC",
}

// readMP3 reads the ID3v2 tag at the start of the file, then fills gaps
// from an ID3v1 tag at its end.
func readMP3(s *source, c *collector) error {
	_, err := readID3v2(s, 0, s.size, c)
	if ok, _ := readAPEv2(s, c, true); ok && errors.Is(err, ErrNoTags) {
		err = nil
	}
	readID3v1(s, c)
	if errors.Is(err, ErrNoTags) && !c.empty() {
		err = nil
	}
	return err
}

// id3Tag is the frame area of one ID3v2 tag.
type id3Tag struct {
	s       *source
	version byte
	unsync  bool   // the whole tag is unsynchronised
	mem     []byte // the frame area, when it had to be loaded to resynchronise
	base    int64  // file offset of the frame area
	n       int64  // its length
}

// bytes returns up to n bytes of the frame area at off: a copy if keep is
// set, else a view valid until the next read.
func (t *id3Tag) bytes(off int64, n int, keep bool) ([]byte, error) {
	if rest := t.n - off; int64(n) > rest {
		n = int(max(rest, 0))
	}
	if t.mem != nil {
		return t.mem[off : off+int64(n)], nil
	}
	if keep || n == 0 {
		return t.s.read(t.base+off, n)
	}
	b, err := t.s.peek(t.base+off, n)
	if err != nil {
		return nil, err
	}
	return b, nil
}

// peek is bytes for headers: no copy, valid until the next call.
func (t *id3Tag) peek(off int64, n int) []byte {
	if off < 0 || off+int64(n) > t.n {
		return nil
	}
	if t.mem != nil {
		return t.mem[off : off+int64(n)]
	}
	b, _ := t.s.peek(t.base+off, n)
	if len(b) < n {
		return nil
	}
	return b
}

// readID3v2 reads the ID3v2 tag at off, which must end by limit, and
// returns its total length.
func readID3v2(s *source, off, limit int64, c *collector) (int64, error) {
	h, _ := s.peek(off, 10)
	if len(h) < 10 || string(h[:3]) != "ID3" {
		return 0, ErrNoTags
	}
	version, flags := h[3], h[5]
	if version < 2 || version > 4 || h[4] == 0xFF {
		return 0, fmt.Errorf("id3v2: unsupported version 2.%d", version)
	}
	if h[6]|h[7]|h[8]|h[9] >= 0x80 {
		return 0, errors.New("id3v2: tag size is not sync-safe")
	}
	size := int64(syncsafe(h[6:10]))
	total := 10 + size
	if flags&0x10 != 0 && version == 4 {
		total += 10 // footer
	}
	t := &id3Tag{s: s, version: version, unsync: flags&0x80 != 0, base: off + 10, n: size}
	if t.base+t.n > limit {
		t.n = max(limit-t.base, 0) // truncated: read the frames that are there
	}
	if version == 2 && flags&0x40 != 0 {
		return total, errors.New("id3v2.2: compressed tag")
	}
	if t.unsync && version < 4 {
		// In v2.2 and v2.3 frame sizes count resynchronised bytes.
		if t.n > maxID3Tag {
			return total, fmt.Errorf("id3v2: unsynchronised tag of %d bytes", t.n)
		}
		raw, err := s.read(t.base, int(t.n))
		if err != nil && len(raw) == 0 {
			return total, err
		}
		t.mem = resync(raw)
		t.n = int64(len(t.mem))
	}
	pos := int64(0)
	if flags&0x40 != 0 && version > 2 {
		b := t.peek(0, 4)
		if b == nil {
			return total, errors.New("id3v2: truncated extended header")
		}
		if version == 3 {
			pos = 4 + int64(binary.BigEndian.Uint32(b))
		} else {
			pos = int64(syncsafe(b))
		}
		if pos > t.n {
			return total, errors.New("id3v2: extended header longer than tag")
		}
	}
	var fills [][2]string
	for {
		f, next, ok := t.frame(pos)
		if !ok {
			break
		}
		pos = next
		fills = append(fills, t.handle(f, c)...)
	}
	for _, kv := range fills {
		c.fill(kv[0], kv[1])
	}
	return total, nil
}

// id3Frame is one frame header, its payload still in the file.
type id3Frame struct {
	id    string // v2.3/v2.4 name, v2.2 names mapped
	off   int64  // payload offset in the frame area
	size  int64  // payload length as stored
	flags uint16 // v2.3/v2.4 flags
}

// frame reads the frame header at pos. ok is false at padding, at the end
// of the tag, or at bytes that are not a frame header.
func (t *id3Tag) frame(pos int64) (f id3Frame, next int64, ok bool) {
	hl, idLen := int64(10), 4
	if t.version == 2 {
		hl, idLen = 6, 3
	}
	h := t.peek(pos, int(hl))
	if h == nil || !validFrameID(h[:idLen]) {
		return f, 0, false
	}
	switch t.version {
	case 2:
		f.id = id3v22[string(h[:3])]
		f.size = int64(h[3])<<16 | int64(h[4])<<8 | int64(h[5])
	case 3:
		f.id = frameID(h[:4])
		f.size = int64(binary.BigEndian.Uint32(h[4:8]))
		f.flags = binary.BigEndian.Uint16(h[8:10])
	case 4:
		f.id = frameID(h[:4])
		f.flags = binary.BigEndian.Uint16(h[8:10])
		f.size = t.v24Size(pos, h[4:8])
	}
	f.off = pos + hl
	if f.size > t.n-f.off {
		f.size = t.n - f.off // the last frame overruns the tag: keep what is there
	}
	return f, f.off + f.size, true
}

// v24Size reads a v2.4 frame size. iTunes wrote plain 32-bit sizes into
// v2.4 tags; use the plain size when the sync-safe one lands on garbage
// and the plain one on a frame or the end.
func (t *id3Tag) v24Size(pos int64, b []byte) int64 {
	plain := int64(binary.BigEndian.Uint32(b))
	if b[0]|b[1]|b[2]|b[3] >= 0x80 {
		return plain
	}
	ss := int64(syncsafe(b))
	if ss == plain || t.frameAt(pos+10+ss) || !t.frameAt(pos+10+plain) {
		return ss
	}
	return plain
}

// frameAt reports whether a frame, padding or the tag's end is at pos.
func (t *id3Tag) frameAt(pos int64) bool {
	if pos == t.n {
		return true
	}
	h := t.peek(pos, 4)
	return h != nil && (h[0] == 0 || validFrameID(h))
}

// frameIDs interns the names of the frames handle reads; frameInitials
// holds their first letters, which rule most other frames out cheaply.
var frameIDs, frameInitials = func() (map[string]string, [256]bool) {
	m := map[string]string{"TXXX": "TXXX", "COMM": "COMM", "APIC": "APIC", "PCST": "PCST"}
	for id := range id3Text {
		m[id] = id
	}
	var initials [256]bool
	for id := range m {
		initials[id[0]] = true
	}
	return m, initials
}()

// frameID returns the v2.3/v2.4 frame name b, without allocating for the
// frames we read; the others are only compared, so "" stands for them.
func frameID(b []byte) string {
	if !frameInitials[b[0]] {
		return ""
	}
	return frameIDs[string(b)]
}

func validFrameID(id []byte) bool {
	for _, b := range id {
		if (b < 'A' || b > 'Z') && (b < '0' || b > '9') {
			return false
		}
	}
	return len(id) > 0
}

// handle decodes the frames we use and returns fallback values to apply
// once the whole tag is read.
func (t *id3Tag) handle(f id3Frame, c *collector) (fills [][2]string) {
	if f.id == "" { // a frame we do not read
		return nil
	}
	if f.id == "PCST" { // iTunes' podcast marker: its presence is what counts
		c.add(kPodcast, "1")
		return nil
	}
	key, text := id3Text[f.id]
	if !text && f.id != "TXXX" && f.id != "COMM" && f.id != "APIC" && f.id != "PIC" {
		return nil
	}
	if f.size == 0 { // an empty frame: skip it, keep reading (dhowden/tag stops)
		return nil
	}
	if f.id == "APIC" || f.id == "PIC" {
		t.picture(f, c)
		return nil
	}
	b, err := t.payload(f, maxID3Text, false)
	if err != nil || len(b) == 0 {
		return nil
	}
	switch f.id {
	case "TXXX":
		desc, vals := decodeDescribed(f.id, b)
		if k, ok := id3TXXX[strings.ToUpper(clean(desc))]; ok {
			for _, v := range vals {
				fills = append(fills, [2]string{k, v})
			}
		}
	case "COMM":
		desc, vals := decodeDescribed(f.id, b)
		if !strings.HasPrefix(clean(desc), "iTun") { // iTunNORM, iTunSMPB, …
			c.add(kComment, vals...)
		}
	default:
		var buf [4]string
		vals := decodeText(b, buf[:0])
		if key == kGenre {
			for i, v := range vals {
				vals[i] = expandGenre(v)
			}
		}
		if k, ok := strings.CutPrefix(key, "+"); ok {
			for _, v := range vals {
				fills = append(fills, [2]string{k, v})
			}
			return fills
		}
		c.add(key, vals...)
	}
	return fills
}

// payload returns at most limit bytes of the frame's data with the frame's
// flags undone (grouping byte, data length, unsynchronisation, zlib). Unless
// keep is set, the bytes may be a view valid until the next read.
func (t *id3Tag) payload(f id3Frame, limit int, keep bool) ([]byte, error) {
	var compressed, encrypted, unsync bool
	skip := 0
	switch t.version {
	case 3:
		compressed, encrypted = f.flags&0x80 != 0, f.flags&0x40 != 0
		if compressed {
			skip += 4 // decompressed size
		}
		if encrypted {
			skip++
		}
		if f.flags&0x20 != 0 {
			skip++ // group id
		}
	case 4:
		compressed, encrypted = f.flags&0x08 != 0, f.flags&0x04 != 0
		unsync = f.flags&0x02 != 0 || t.unsync
		if f.flags&0x40 != 0 {
			skip++
		}
		if encrypted {
			skip++
		}
		if f.flags&0x01 != 0 {
			skip += 4 // data length indicator
		}
	}
	if encrypted {
		return nil, errors.New("encrypted frame")
	}
	n := f.size - int64(skip)
	if n <= 0 {
		return nil, nil
	}
	if compressed && !unsync && t.mem == nil {
		// Inflate straight from the file: only what limit asks is read.
		br := newBufReader(t.s.section(t.base+f.off+int64(skip), n), 4<<10)
		defer putBufReader(br)
		zr, err := zlib.NewReader(br)
		if err != nil {
			return nil, err
		}
		b, err := io.ReadAll(io.LimitReader(zr, int64(limit)))
		if err != nil && len(b) == 0 {
			return nil, err
		}
		return b, nil
	}
	read := n
	if !compressed {
		// Unsynchronisation at most doubles the bytes.
		read = min(n, int64(limit)*(1+int64(boolInt(unsync))))
	} else if n > maxID3Tag {
		return nil, errors.New("compressed frame too large")
	}
	b, err := t.bytes(f.off+int64(skip), int(read), keep && !compressed)
	if err != nil {
		return nil, err
	}
	if unsync {
		b = resync(b)
	}
	if compressed {
		zr, err := zlib.NewReader(bytes.NewReader(b))
		if err != nil {
			return nil, err
		}
		b, err = io.ReadAll(io.LimitReader(zr, int64(limit)))
		if err != nil && len(b) == 0 {
			return nil, err
		}
	}
	if len(b) > limit {
		b = b[:limit]
	}
	return b, nil
}

// picture records an APIC (or v2.2 PIC) frame, reading only its header
// unless the bytes are wanted.
func (t *id3Tag) picture(f id3Frame, c *collector) {
	head, err := t.payload(f, 2048, false)
	if err != nil || len(head) < 4 {
		return
	}
	enc := head[0]
	var mime string
	var rest []byte
	if f.id == "PIC" { // enc, 3-byte format, type, description
		mime, rest = string(head[1:4]), head[4:]
	} else {
		i := bytes.IndexByte(head[1:], 0)
		if i < 0 {
			return
		}
		mime, rest = string(head[1:1+i]), head[2+i:]
	}
	if len(rest) < 1 || mime == "-->" { // a link, not a picture
		return
	}
	typ := rest[0]
	rest = rest[1:]
	desc := skipTerminated(enc, rest)
	if desc < 0 {
		return
	}
	dataOff := len(head) - len(rest) + desc
	if m := sniffImage(rest[desc:]); m != "" {
		mime = m
	}
	c.offerPicture(typ == 3, mime, func() ([]byte, error) {
		b, err := t.payload(f, MaxPicture+dataOff+1, true)
		if err != nil {
			return nil, err
		}
		if len(b)-dataOff > MaxPicture {
			return nil, fmt.Errorf("picture larger than %d bytes", MaxPicture)
		}
		return b[dataOff:], nil
	})
}

// skipTerminated returns the length of the NUL-terminated string at the
// start of b in encoding enc, terminator included, or -1.
func skipTerminated(enc byte, b []byte) int {
	if enc == 1 || enc == 2 {
		for i := 0; i+1 < len(b); i += 2 {
			if b[i] == 0 && b[i+1] == 0 {
				return i + 2
			}
		}
		return -1
	}
	if i := bytes.IndexByte(b, 0); i >= 0 {
		return i + 1
	}
	return -1
}

// expandGenre turns ID3 genre references into names: "17", "(17)",
// "(17)Rock" (the text wins), "(RX)", "(CR)".
func expandGenre(g string) string {
	g = strings.TrimSpace(g)
	switch {
	case g == "RX" || g == "(RX)":
		return "Remix"
	case g == "CR" || g == "(CR)":
		return "Cover"
	case g != "" && strings.Trim(g, "0123456789") == "":
		return genreName(leadingInt(g)) // "" for 255, "unknown"
	case strings.HasPrefix(g, "(") && !strings.HasPrefix(g, "(("):
		end := strings.IndexByte(g, ')')
		if end < 0 {
			return g
		}
		if rest := strings.TrimSpace(g[end+1:]); rest != "" && !strings.HasPrefix(rest, "(") {
			return rest
		}
		return expandGenre(g[1:end])
	case strings.HasPrefix(g, "(("):
		return g[1:]
	}
	return g
}

// readID3v1 fills gaps from an ID3v1 tag in the last 128 bytes.
func readID3v1(s *source, c *collector) {
	if s.size < 128 {
		return
	}
	b, _ := s.peek(s.size-128, 128)
	if len(b) < 128 || string(b[:3]) != "TAG" {
		return
	}
	m, err := safeID3v1(bytes.NewReader(b))
	if err != nil {
		return
	}
	raw := m.Raw()
	str := func(k string) string { v, _ := raw[k].(string); return legacyText(v) }
	c.fill(kTitle, str("title"))
	c.fill(kArtist, str("artist"))
	c.fill(kAlbum, str("album"))
	c.fill(kYear, str("year"))
	c.fill(kComment, str("comment"))
	c.fill(kGenre, str("genre"))
	if n, _ := raw["track"].(int); n > 0 {
		c.fill(kTrack, fmt.Sprint(n))
	}
}

func safeID3v1(r io.ReadSeeker) (m tag.Metadata, err error) {
	defer func() {
		if p := recover(); p != nil {
			m, err = nil, fmt.Errorf("id3v1: %v", p)
		}
	}()
	return tag.ReadID3v1Tags(r)
}

// legacyText decodes text of unknown encoding: UTF-8 when it is valid,
// else ISO-8859-1.
func legacyText(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	r := make([]rune, len(s))
	for i := 0; i < len(s); i++ {
		r[i] = rune(s[i])
	}
	return string(r)
}

// resync undoes ID3 unsynchronisation: FF 00 becomes FF.
func resync(b []byte) []byte {
	if !bytes.Contains(b, []byte{0xFF, 0}) {
		return b
	}
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		out = append(out, b[i])
		if b[i] == 0xFF && i+1 < len(b) && b[i+1] == 0 {
			i++
		}
	}
	return out
}

func syncsafe(b []byte) uint32 {
	return uint32(b[0]&0x7F)<<21 | uint32(b[1]&0x7F)<<14 | uint32(b[2]&0x7F)<<7 | uint32(b[3]&0x7F)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
