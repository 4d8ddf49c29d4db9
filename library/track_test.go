package library

import (
	"bytes"
	"encoding/gob"
	"math"
	"strconv"
	"testing"
	"time"
	"unsafe"
)

// TestTrackSize guards the catalog's memory: a million tracks are a
// million of these. 248 bytes fit Go's 256-byte size class; one more
// field of 16 bytes costs 32 per track (the 288 class).
func TestTrackSize(t *testing.T) {
	want := uintptr(256)
	if unsafe.Sizeof(uintptr(0)) == 4 {
		want = 176 // 164 bytes on 32-bit machines
	}
	if got := unsafe.Sizeof(Track{}); got > want {
		t.Errorf("Track is %d bytes, want at most %d: move rarely set fields into Extra", got, want)
	}
}

func TestStamp(t *testing.T) {
	tm := time.Date(2024, 5, 1, 10, 11, 12, 13, time.FixedZone("x", 3600))
	tests := []struct {
		name string
		in   time.Time
		want time.Time
	}{
		{"zero", time.Time{}, time.Time{}},
		{"nanoseconds, converted to UTC", tm, tm.UTC()},
		{"before 1678 clamps", time.Date(1, 2, 3, 0, 0, 0, 0, time.UTC), time.Unix(0, math.MinInt64+1).UTC()},
		{"after 2262 clamps", time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), time.Unix(0, math.MaxInt64).UTC()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := StampOf(tt.in)
			if got := s.Time(); !got.Equal(tt.want) || got.Location() != time.UTC && !got.IsZero() {
				t.Errorf("StampOf(%v).Time() = %v, want %v", tt.in, got, tt.want)
			}
			var buf bytes.Buffer
			if err := gob.NewEncoder(&buf).Encode(struct{ T Stamp }{s}); err != nil {
				t.Fatal(err)
			}
			var old struct{ T time.Time } // what caches held before Stamp
			if err := gob.NewDecoder(bytes.NewReader(buf.Bytes())).Decode(&old); err != nil || !old.T.Equal(tt.want) {
				t.Errorf("gob as time.Time: %v, %v", old.T, err)
			}
			var back struct{ T Stamp }
			if err := gob.NewDecoder(&buf).Decode(&back); err != nil || back.T != s {
				t.Errorf("gob round trip: %d, %v; want %d", back.T, err, s)
			}
		})
	}
}

func TestClamp(t *testing.T) {
	if clampU16(-1) != 0 || clampU16(70000) != math.MaxUint16 || clampU16(2024) != 2024 {
		t.Error("clampU16")
	}
	big := uint32(math.MaxUint32) // math.MaxInt on 64-bit machines
	if strconv.IntSize == 32 {
		big = math.MaxInt32
	}
	if clampU32(-5) != 0 || clampU32(math.MaxInt) != big || clampU32(320) != 320 {
		t.Error("clampU32")
	}
	if clampU8(300) != math.MaxUint8 || clampU8(2) != 2 {
		t.Error("clampU8")
	}
}

func TestInternShares(t *testing.T) {
	in := newInterner()
	mk := func() *Track {
		tr := &Track{Path: "A/B/01 Song.mp3", Title: "Song", Artist: string([]byte("Artist")),
			Artwork: &Artwork{Source: ArtworkFile, Path: string([]byte("A/B/cover.jpg"))}}
		tr.SetExtra(Extra{SortArtist: string([]byte("Artist, The"))})
		in.track(tr)
		return tr
	}
	a, b := mk(), mk()
	if a.Extra != b.Extra || a.Artwork != b.Artwork || unsafe.StringData(a.Artist) != unsafe.StringData(b.Artist) {
		t.Error("equal values of two tracks are not shared")
	}
	if unsafe.StringData(a.Title) != unsafe.StringData(a.Path[len("A/B/01 "):]) {
		t.Error("title does not share the path's bytes")
	}
	e := &Track{Artwork: &Artwork{Source: ArtworkEmbedded}}
	in.track(e)
	if e.Artwork != embeddedArt {
		t.Error("embedded artwork not shared")
	}
	var none Track
	none.SetExtra(Extra{})
	if none.Extra != nil || none.Composer() != "" || none.Art().Source != ArtworkNone {
		t.Error("empty Extra or Artwork not nil-safe")
	}
}
