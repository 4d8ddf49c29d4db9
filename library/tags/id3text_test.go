package tags

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"

	"github.com/dhowden/tag"
	"github.com/google/go-cmp/cmp"
)

// The decoders below are the ones decodeText and decodeDescribed replaced:
// they hand each value to dhowden/tag as a one-frame tag. They stay as the
// reference the fast decoders must agree with.

// dhowdenDecodeText decodes a text frame's payload (encoding byte, then values
// separated by NUL) into its values, through dhowden/tag. Odd-length
// UTF-16 loses its last byte instead of failing the frame.
func dhowdenDecodeText(b []byte) []string {
	enc, data := b[0], b[1:]
	wide := enc == 1 || enc == 2
	if wide && len(data)%2 == 1 {
		data = data[:len(data)-1]
	}
	var vals []string
	var bom []byte
	for len(data) > 0 && len(vals) < maxValues {
		n := skipTerminated(enc, data)
		piece := data
		if n < 0 {
			data = nil
		} else {
			piece, data = data[:n-1-boolInt(wide)], data[n:]
		}
		if enc == 1 && len(piece) >= 2 {
			if piece[0] == 0xFF && piece[1] == 0xFE || piece[0] == 0xFE && piece[1] == 0xFF {
				bom = piece[:2:2]
			} else if bom != nil {
				// Later values of a v2.4 list may omit the BOM.
				piece = append(append([]byte(nil), bom...), piece...)
			}
		}
		if len(piece) == 0 {
			continue
		}
		frame := append([]byte{enc}, piece...)
		if s, ok := dhowdenFrame("TIT2", frame).(string); ok {
			vals = append(vals, s)
		}
	}
	return vals
}

// dhowdenDecodeDescribed decodes a TXXX or COMM payload into its description and
// values, through dhowden/tag.
func dhowdenDecodeDescribed(id string, b []byte) (string, []string) {
	start := 1 // encoding, then language for COMM
	if id == "COMM" {
		start = 4
	}
	if len(b) < start {
		return "", nil
	}
	if enc := b[0]; (enc == 1 || enc == 2) && (len(b)-start)%2 == 1 {
		b = b[:len(b)-1] // odd-length UTF-16 loses its last byte
	}
	cm, ok := dhowdenFrame(id, b).(*tag.Comm)
	if !ok {
		return "", nil
	}
	return cm.Description, strings.Split(cm.Text, "\x00")
}

// dhowdenFrame decodes one frame by handing dhowden/tag a minimal ID3v2.3
// tag holding just that frame, so one bad frame cannot fail the others.
// It returns the frame's Raw() value, or nil.
func dhowdenFrame(id string, payload []byte) (v any) {
	defer func() {
		if recover() != nil {
			v = nil
		}
	}()
	size := 10 + len(payload)
	b := make([]byte, 0, 10+size)
	b = append(b, 'I', 'D', '3', 3, 0, 0,
		byte(size>>21&0x7F), byte(size>>14&0x7F), byte(size>>7&0x7F), byte(size&0x7F))
	b = append(b, id...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(payload)))
	b = append(b, 0, 0)
	b = append(b, payload...)
	m, err := tag.ReadID3v2Tags(bytes.NewReader(b))
	if err != nil {
		return nil
	}
	return m.Raw()[id]
}

// id3TextCases are frame payloads covering each encoding, BOM handling,
// lists, terminators and malformed input.
var id3TextCases = []struct {
	name string
	b    []byte
}{
	{"latin1", []byte("\x00Caf\xe9")},
	{"latin1 list", []byte("\x00A\x00B\x00")},
	{"utf8", []byte("\x03Caf\xc3\xa9\x00\xe2\x82\xac")},
	{"utf8 invalid", []byte("\x03\xff\xfe")},
	{"utf16 le bom", []byte("\x01\xff\xfeA\x00\xe9\x00")},
	{"utf16 be bom", []byte("\x01\xfe\xff\x00A\x00\xe9")},
	{"utf16 no bom", []byte("\x01A\x00B\x00")},
	{"utf16 list bom once", []byte("\x01\xff\xfeA\x00\x00\x00B\x00")},
	{"utf16 list be bom once", []byte("\x01\xfe\xff\x00A\x00\x00\x00B")},
	{"utf16 bom only", []byte("\x01\xff\xfe")},
	{"utf16 odd", []byte("\x01\xff\xfeA\x00B")},
	{"utf16be", []byte("\x02\x00A\x00\x00\x00B")},
	{"utf16be bom kept", []byte("\x02\xfe\xff\x00A")},
	{"surrogate pair", []byte("\x01\xff\xfe\x3d\xd8\x00\xde")},
	{"lone surrogate", []byte("\x01\xff\xfe\x3d\xd8A\x00")},
	{"lone low surrogate", []byte("\x02\xdc\x00\x00A")},
	{"unknown encoding", []byte("\x07Caf\xe9")},
	{"empty", []byte("\x00")},
	{"nuls", []byte("\x01\x00\x00\x00\x00")},
	{"txxx", []byte("\x00ALBUM ARTIST\x00Someone")},
	{"txxx no text", []byte("\x00DESC")},
	{"txxx utf16", []byte("\x01\xff\xfeD\x00\x00\x00\xff\xfeV\x00")},
	{"txxx utf16be misaligned", []byte("\x02\x00d\x00\x00\x00v")},
	{"txxx triple nul", []byte("\x01d\x00\x00\x00\x00v\x00")},
	{"comm", []byte("\x00engiTunNORM\x00 0000")},
	{"comm list", []byte("\x03eng\x00one\x00two")},
	{"comm short", []byte("\x00en")},
	{"comm utf16 odd", []byte("\x01eng\xff\xfe\x00\x00\xff\xfeA\x00B")},
}

// TestID3TextAgreesWithDhowden checks the fast decoders against
// dhowden/tag on the table cases.
func TestID3TextAgreesWithDhowden(t *testing.T) {
	for _, tc := range id3TextCases {
		t.Run(tc.name, func(t *testing.T) { checkID3Text(t, tc.b) })
	}
}

// FuzzID3Text checks the fast decoders against dhowden/tag on arbitrary
// payloads.
func FuzzID3Text(f *testing.F) {
	for _, tc := range id3TextCases {
		f.Add(tc.b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) == 0 || len(b) > 4096 {
			return
		}
		checkID3Text(t, b)
	})
}

func checkID3Text(t *testing.T, b []byte) {
	t.Helper()
	if diff := cmp.Diff(dhowdenDecodeText(b), decodeText(b, nil)); diff != "" {
		t.Errorf("decodeText(%q) (-dhowden +ours):\n%s", b, diff)
	}
	for _, id := range []string{"TXXX", "COMM"} {
		wd, wv := dhowdenDecodeDescribed(id, b)
		gd, gv := decodeDescribed(id, b)
		if wd != gd || !cmp.Equal(wv, gv) {
			t.Errorf("decodeDescribed(%s, %q) = %q, %q; dhowden/tag: %q, %q", id, b, gd, gv, wd, wv)
		}
	}
}
