package library

import "strings"

// interner makes tracks share their repeated values: the strings of an
// album (artist, album, genre, codec, ...), equal Extras and equal
// Artworks. One lives for a scan or a cache load; it holds a value per
// distinct string, so it is bounded by the library it reads.
type interner struct {
	strs   map[string]string
	extras map[Extra]*Extra
	arts   map[Artwork]*Artwork
}

func newInterner() *interner {
	return &interner{strs: map[string]string{}, extras: map[Extra]*Extra{}, arts: map[Artwork]*Artwork{}}
}

func (in *interner) s(p *string) {
	if *p == "" {
		return
	}
	if v, ok := in.strs[*p]; ok {
		*p = v
		return
	}
	in.strs[*p] = *p
}

// track interns t's values in place. Call it before t is published.
func (in *interner) track(t *Track) {
	shareTitle(t)
	for _, p := range []*string{&t.Root, &t.Artist, &t.AlbumArtist, &t.Album, &t.Genre, &t.Codec, &t.Format} {
		in.s(p)
	}
	if x := t.Extra; x != nil {
		if v, ok := in.extras[*x]; ok {
			t.Extra = v
		} else {
			c := *x
			for _, p := range []*string{&c.Composer, &c.Comment, &c.Grouping,
				&c.SortArtist, &c.SortAlbumArtist, &c.SortAlbum, &c.SortComposer} {
				in.s(p)
			}
			in.extras[c] = &c
			t.Extra = &c
		}
	}
	if a := t.Artwork; a != nil {
		if a.Source == ArtworkEmbedded && a.Path == "" {
			t.Artwork = embeddedArt
		} else if v, ok := in.arts[*a]; ok {
			t.Artwork = v
		} else {
			c := *a
			in.s(&c.Path)
			in.arts[c] = &c
			t.Artwork = &c
		}
	}
}

// shareTitle makes a title spelled out in the file name (as most are) use
// the path's bytes instead of a string of its own.
func shareTitle(t *Track) {
	if i := strings.LastIndex(t.Path, t.Title); i >= 0 && t.Title != "" {
		t.Title = t.Path[i : i+len(t.Title)]
	}
}
