package main

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// mp4Template is an MP4 file whose moov follows mdat, so rewriting moov's
// udta leaves every chunk offset valid.
type mp4Template struct {
	before []byte   // every top-level box before moov
	moov   [][]byte // moov's children except udta
	after  []byte   // top-level boxes after moov
}

// boxes splits b into boxes (header included).
func boxes(b []byte) ([][]byte, error) {
	var out [][]byte
	for len(b) > 0 {
		if len(b) < 8 {
			return nil, errors.New("mp4: truncated box header")
		}
		n := uint64(binary.BigEndian.Uint32(b))
		switch n {
		case 0:
			n = uint64(len(b))
		case 1:
			if len(b) < 16 {
				return nil, errors.New("mp4: truncated largesize")
			}
			n = binary.BigEndian.Uint64(b[8:])
		}
		if n < 8 || n > uint64(len(b)) {
			return nil, fmt.Errorf("mp4: box %q size %d out of range", b[4:8], n)
		}
		out = append(out, b[:n])
		b = b[n:]
	}
	return out, nil
}

func splitMP4(b []byte) (*mp4Template, error) {
	top, err := boxes(b)
	if err != nil {
		return nil, err
	}
	t := &mp4Template{}
	seenMdat, seenMoov := false, false
	for _, box := range top {
		switch string(box[4:8]) {
		case "mdat":
			seenMdat = true
		case "moov":
			if !seenMdat {
				return nil, errors.New("mp4: moov precedes mdat (encode the template without +faststart)")
			}
			seenMoov = true
			kids, err := boxes(box[8:])
			if err != nil {
				return nil, err
			}
			for _, k := range kids {
				if string(k[4:8]) != "udta" {
					t.moov = append(t.moov, k)
				}
			}
			continue
		}
		if seenMoov {
			t.after = append(t.after, box...)
		} else {
			t.before = append(t.before, box...)
		}
	}
	if !seenMoov {
		return nil, errors.New("mp4: no moov box")
	}
	return t, nil
}

func box(typ string, parts ...[]byte) []byte {
	n := 8
	for _, p := range parts {
		n += len(p)
	}
	b := binary.BigEndian.AppendUint32(make([]byte, 0, n), uint32(n))
	b = append(b, typ...)
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

// Data atom type indicators (iTunes well-known types).
const (
	mp4Implicit = 0
	mp4UTF8     = 1
	mp4JPEG     = 13
	mp4PNG      = 14
	mp4Int      = 21
)

func dataItem(name string, typ uint32, payload []byte) []byte {
	head := binary.BigEndian.AppendUint32(nil, typ)
	head = append(head, 0, 0, 0, 0) // locale
	return box(name, box("data", head, payload))
}

// ilst returns the iTunes metadata list for t.
func ilst(t *Tags) []byte {
	var items [][]byte
	text := func(name, s string) {
		if s != "" {
			items = append(items, dataItem(name, mp4UTF8, []byte(s)))
		}
	}
	pair := func(name string, n, total, pad int) {
		if n == 0 {
			return
		}
		b := []byte{0, 0, byte(n >> 8), byte(n), byte(total >> 8), byte(total)}
		items = append(items, dataItem(name, mp4Implicit, append(b, make([]byte, pad)...)))
	}
	text("\xa9nam", t.Title)
	text("\xa9ART", t.Artist)
	text("aART", t.AlbumArtist)
	text("\xa9alb", t.Album)
	text("\xa9gen", t.Genre)
	text("\xa9wrt", t.Composer)
	text("soar", t.SortArtist)
	text("\xa9day", itoa(t.Year))
	pair("trkn", t.Track, t.TrackTotal, 2)
	pair("disk", t.Disc, t.DiscTotal, 0)
	if t.Compilation {
		items = append(items, dataItem("cpil", mp4Int, []byte{1}))
	}
	if t.Cover != nil {
		typ := uint32(mp4JPEG)
		if t.CoverMIME == "image/png" {
			typ = mp4PNG
		}
		items = append(items, dataItem("covr", typ, t.Cover))
	}
	return box("ilst", items...)
}

// write returns the MP4 file with a fresh udta/meta/ilst in moov.
func (m *mp4Template) write(t *Tags) []byte {
	hdlr := box("hdlr", make([]byte, 8), []byte("mdirappl"), make([]byte, 9))
	meta := box("meta", []byte{0, 0, 0, 0}, hdlr, ilst(t), box("free", make([]byte, 128)))
	moov := box("moov", append(m.moov, box("udta", meta))...)
	out := make([]byte, 0, len(m.before)+len(moov)+len(m.after))
	out = append(out, m.before...)
	out = append(out, moov...)
	return append(out, m.after...)
}
