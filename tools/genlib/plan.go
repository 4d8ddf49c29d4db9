package main

import (
	"fmt"
	"math/rand/v2"
	"path"
	"strings"
)

// Track is one generated file, as recorded in the manifest.
type Track struct {
	Path    string `json:"path"` // relative to the library root, slash-separated
	Format  string `json:"format"`
	Codec   string `json:"codec"`
	Seconds int    `json:"seconds"`
	Artwork string `json:"artwork"` // "embedded", "file" or "none"
	Tags

	cover int // index into Plan.covers, -1 for none
}

// Playlist is one generated .m3u file.
type Playlist struct {
	Path    string   `json:"path"`
	Entries []string `json:"entries"` // track paths, in order
}

// Plan is the whole library, decided before anything is written.
type Plan struct {
	Seed         uint64         `json:"seed"`
	Count        int            `json:"count"`
	Albums       int            `json:"albums"`
	Artists      int            `json:"artists"`
	Compilations int            `json:"compilations"`
	FormatCounts map[string]int `json:"format_counts"`
	FolderCovers []string       `json:"folder_covers"`
	Playlists    []Playlist     `json:"playlists"`
	Tracks       []Track        `json:"tracks"`

	folderCover map[string]int // folder cover path -> cover index
}

var (
	syllables = strings.Fields("ka lo mi ra ven dor sil tha nu bel gor ith ska mon ree zan pol ux ter wyn jo fa quil os")
	words     = strings.Fields("Blue Night River Glass Signal Echo Paper Golden Static Winter Harbor Velvet " +
		"Engine Silent Neon Garden Orbit Ashes Mirror Thunder Lantern Canyon Fever Hollow Satellite Honey " +
		"Wire Summer Crown Dust Atlas Ember Falling Island Motion Copper Salt Meridian Quiet Paradise")
	unicodeWords = strings.Fields("Øresund café Über niño Straße Ålesund façade 東京 Москва Ελλάδα Łódź " +
		"Ærø naïve Sigur_Rós Björk 夜の音 서울 Ñandú")
	genres = strings.Fields("Rock Pop Jazz Classical Electronic Hip-Hop Folk Metal Blues Country " +
		"Reggae Soul Ambient Punk World Soundtrack")
	composers = []string{"J. S. Bach", "Clara Schumann", "Erik Satie", "Hildegard von Bingen",
		"Arvo Pärt", "Dvořák", "Lili Boulanger", "Toru Takemitsu"}
)

// name makes a title-like name of about n words, sometimes with a
// non-ASCII word (~6%).
func name(r *rand.Rand, n int) string {
	w := make([]string, n)
	for i := range w {
		if r.IntN(2) == 0 {
			w[i] = words[r.IntN(len(words))]
		} else {
			s := syllables[r.IntN(len(syllables))] + syllables[r.IntN(len(syllables))]
			if r.IntN(3) == 0 {
				s += syllables[r.IntN(len(syllables))]
			}
			w[i] = strings.ToUpper(s[:1]) + s[1:]
		}
	}
	if r.IntN(100) < 6 {
		w = append(w, strings.ReplaceAll(unicodeWords[r.IntN(len(unicodeWords))], "_", " "))
	}
	return strings.Join(w, " ")
}

var pathUnsafe = strings.NewReplacer("/", "-", "\\", "-", "\x00", "")

// safeName makes s usable as one path element.
func safeName(s string) string {
	s = pathUnsafe.Replace(strings.TrimSpace(s))
	if s == "" || s[0] == '.' {
		s = "_" + s
	}
	return s
}

// NewPlan decides every file of an n-track library from seed.
func NewPlan(n int, seed uint64) *Plan {
	r := rand.New(rand.NewPCG(seed, 0x6461617064))
	p := &Plan{Seed: seed, Count: n, FormatCounts: map[string]int{}, folderCover: map[string]int{}}
	p.Tracks = make([]Track, 0, n)

	artists := make([]string, 0, max(3, n/120))
	seen := map[string]bool{"Various Artists": true}
	for len(artists) < cap(artists) {
		a := name(r, 1+r.IntN(3))
		if r.IntN(100) < 8 {
			a = "The " + a
		}
		if !seen[a] {
			seen[a] = true
			artists = append(artists, a)
		}
	}
	p.Artists = len(artists)

	totalWeight := 0
	for _, f := range Formats {
		totalWeight += f.Weight
	}
	dirs := map[string]bool{}
	for len(p.Tracks) < n {
		p.Albums++
		comp := r.IntN(100) < 3
		albumArtist := "Various Artists"
		if !comp {
			albumArtist = artists[r.IntN(len(artists))]
		} else {
			p.Compilations++
		}
		album := name(r, 1+r.IntN(3))
		if r.IntN(10) == 0 {
			album += " (Deluxe Edition)"
		}
		dir := path.Join(safeName(albumArtist), safeName(album))
		if comp {
			dir = path.Join("Compilations", safeName(album))
		}
		for k := 2; dirs[dir]; k++ {
			dir = path.Join(path.Dir(dir), fmt.Sprintf("%s (%d)", safeName(album), k))
		}
		dirs[dir] = true

		w := r.IntN(totalWeight)
		f := Formats[0]
		for _, f = range Formats {
			if w < f.Weight {
				break
			}
			w -= f.Weight
		}
		year := 1960 + r.IntN(66)
		genre := genres[r.IntN(len(genres))]
		ntr := min(8+r.IntN(7), n-len(p.Tracks))
		discs := 1
		if ntr >= 12 && r.IntN(100) < 15 {
			discs = 2
		}
		perDisc := (ntr + discs - 1) / discs

		artwork, coverIdx := "none", -1
		switch a := r.IntN(100); {
		case a < 10:
			artwork, coverIdx = "embedded", p.Albums%numCovers
		case a < 20:
			artwork = "file"
			cp := path.Join(dir, "cover.jpg")
			p.folderCover[cp] = p.Albums % numJPEGCovers
			p.FolderCovers = append(p.FolderCovers, cp)
		}

		for i := range ntr {
			disc, trk := i/perDisc+1, i%perDisc+1
			total := perDisc
			if disc == discs {
				total = ntr - perDisc*(discs-1)
			}
			t := Track{Format: f.Key, Codec: f.Codec, Seconds: Seconds[r.IntN(len(Seconds))],
				Artwork: artwork, cover: coverIdx}
			t.Title = name(r, 1+r.IntN(3))
			t.Artist = albumArtist
			if comp {
				t.Artist = artists[r.IntN(len(artists))]
			}
			t.AlbumArtist, t.Album, t.Genre, t.Year = albumArtist, album, genre, year
			t.Track, t.TrackTotal, t.Disc, t.DiscTotal = trk, total, disc, discs
			t.Compilation = comp
			if rest, ok := strings.CutPrefix(t.Artist, "The "); ok {
				t.SortArtist = rest + ", The"
			}
			if genre == "Classical" || r.IntN(100) < 10 {
				t.Composer = composers[r.IntN(len(composers))]
			}
			file := fmt.Sprintf("%02d %s%s", trk, safeName(t.Title), f.Ext)
			if discs > 1 {
				file = fmt.Sprintf("%d-%s", disc, file)
			}
			t.Path = path.Join(dir, file)
			p.Tracks = append(p.Tracks, t)
			p.FormatCounts[f.Key]++
		}
	}

	for i := range 5 {
		pl := Playlist{Path: fmt.Sprintf("Playlists/Mix %d.m3u", i+1)}
		for _, j := range r.Perm(len(p.Tracks))[:min(50, len(p.Tracks))] {
			pl.Entries = append(pl.Entries, p.Tracks[j].Path)
		}
		p.Playlists = append(p.Playlists, pl)
	}
	return p
}
