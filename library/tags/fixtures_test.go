package tags

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	fixtures "github.com/daapd/daapd/music-fixtures"
)

// TestFixtures reads every track in music-fixtures/ and compares its tags
// with what generate.sh wrote (expected.json).
func TestFixtures(t *testing.T) {
	exp, err := fixtures.Load()
	if err != nil {
		t.Skipf("music fixtures not available: %v", err)
	}
	for _, tr := range exp.Tracks {
		t.Run(tr.Path, func(t *testing.T) {
			f, err := os.Open(filepath.Join(fixtures.Dir(), filepath.FromSlash(tr.Path)))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			st, err := f.Stat()
			if err != nil {
				t.Fatal(err)
			}
			got, err := Read(f, st.Size(), tr.Container)
			if tr.Tags == "none" {
				if !errors.Is(err, ErrNoTags) {
					t.Errorf("untagged file: Read = %+v, %v; want ErrNoTags", got, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			want := Tags{
				Title: tr.Title, Artist: tr.Artist, AlbumArtist: tr.AlbumArtist, Album: tr.Album,
				Genre: tr.Genre, Year: tr.Year, Track: tr.Track, TrackTotal: tr.TrackTotal,
				Disc: tr.Disc, DiscTotal: tr.DiscTotal, Compilation: tr.Compilation,
				Composer: tr.Composer, Comment: tr.Comment, SortArtist: tr.SortArtist,
				SortAlbumArtist: tr.SortAlbumArtist, SortAlbum: tr.SortAlbum,
				HasPicture: tr.Artwork == "embedded", PictureMIME: tr.ArtworkMIME,
				Stik: tr.Stik, Podcast: tr.Podcast,
			}
			if tr.Tags == "wav-info" {
				// RIFF INFO has no album-artist field; expected.json lists
				// the album artist the track belongs under anyway.
				want.AlbumArtist = ""
			}
			if tr.Artwork != "embedded" {
				want.PictureMIME = ""
			}
			// Fields expected.json does not describe are compared as read.
			want.Grouping, want.SortTitle, want.SortComposer, want.BPM = got.Grouping, got.SortTitle, got.SortComposer, got.BPM
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("Read (-want +got):\n%s", d)
			}
			img, mime, err := Picture(f, st.Size(), tr.Container)
			switch {
			case tr.Artwork == "embedded" && (err != nil || len(img) == 0 || mime != tr.ArtworkMIME):
				t.Errorf("Picture = %d bytes, %q, %v; want %s", len(img), mime, err, tr.ArtworkMIME)
			case tr.Artwork != "embedded" && !errors.Is(err, ErrNoPicture):
				t.Errorf("Picture = %d bytes, %v; want ErrNoPicture", len(img), err)
			}
		})
	}
}
