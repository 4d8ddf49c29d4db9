package tags

import (
	"bytes"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// ffmpegWant is what every testdata/ffmpeg.* file carries (generate.sh).
var ffmpegWant = Tags{
	Title: "Title", Artist: "Artist", AlbumArtist: "AlbumArtist", Album: "Album", Composer: "Composer",
	Genre: "Rock", Comment: "Comment", Grouping: "Grouping", SortTitle: "SortTitle", SortArtist: "SortArtist",
	SortAlbumArtist: "SortAlbumArtist", SortAlbum: "SortAlbum", SortComposer: "SortComposer",
	Year: 2019, Track: 3, TrackTotal: 25, Disc: 1, DiscTotal: 2, Compilation: true,
}

// TestTestdata reads the files ffmpeg 5.1 and mutagen 1.46 wrote
// (testdata/generate.sh): each is a case dhowden/tag reads wrongly.
func TestTestdata(t *testing.T) {
	// without returns ffmpegWant minus what a container cannot hold or
	// ffmpeg does not write there.
	without := func(f func(*Tags)) Tags { t := ffmpegWant; f(&t); return t }
	tests := []struct {
		file, container string
		want            Tags
	}{
		{"ffmpeg.mp3", "mp3", ffmpegWant},
		{"ffmpeg.aiff", "aiff", ffmpegWant},
		{"ffmpeg.flac", "flac", ffmpegWant},
		{"ffmpeg.ogg", "ogg", ffmpegWant},
		{"ffmpeg.opus", "ogg", ffmpegWant},
		// ffmpeg's mov muxer writes no sort atoms.
		{"ffmpeg.m4a", "mp4", without(func(t *Tags) {
			t.SortTitle, t.SortArtist, t.SortAlbumArtist, t.SortAlbum, t.SortComposer = "", "", "", "", ""
		})},
		// RIFF INFO holds title, artist, album, genre, date, comment, track.
		{"ffmpeg.wav", "wav", Tags{Title: "Title", Artist: "Artist", Album: "Album", Genre: "Rock",
			Comment: "Comment", Year: 2019, Track: 3, TrackTotal: 25}},
		{"mutagen.mp3", "mp3", Tags{Title: "Multi", Artist: "Artist A, Artist B", Genre: "Rock", Year: 2019,
			Comment: "Real comment", BPM: 128, Grouping: "Group", SortAlbumArtist: "Sorted AA", SortComposer: "Sorted C",
			HasPicture: true, PictureMIME: "image/jpeg"}},
		{"mutagen.m4a", "mp4", Tags{Title: "Big Numbers", Artist: "Artist A, Artist B", Track: 300, TrackTotal: 400,
			Disc: 257, DiscTotal: 300, BPM: 128, Compilation: true, SortArtist: "Sorted A", SortAlbum: "Sorted Album",
			SortTitle: "Sorted Title", SortAlbumArtist: "Sorted AA", SortComposer: "Sorted C", HasPicture: true, PictureMIME: "image/png"}},
		{"mutagen.opus", "ogg", Tags{Title: "Opus Pic", Artist: "Artist A, Artist B", AlbumArtist: "Band",
			Track: 7, TrackTotal: 9, HasPicture: true, PictureMIME: "image/jpeg"}},
		{"mutagen.flac", "flac", Tags{Title: "Flac Multi", Artist: "Artist A, Artist B", AlbumArtist: "Band",
			Year: 2019, Track: 4, TrackTotal: 12, Disc: 2, DiscTotal: 3, HasPicture: true, PictureMIME: "image/jpeg"}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("testdata", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			f, err := os.Open(filepath.Join("testdata", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			got, err := Read(f, int64(len(b)), tc.container)
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("Read (-want +got):\n%s", d)
			}
			if tc.want.HasPicture {
				img, mime, err := Picture(f, int64(len(b)), tc.container)
				if err != nil || mime != tc.want.PictureMIME || sniffImage(img) != mime {
					t.Errorf("Picture = %d bytes, %q, %v", len(img), mime, err)
				}
			}
		})
	}
}

// TestConcurrentReads reads the testdata files from several goroutines at
// once; run with -race it checks the shared read-ahead pool.
func TestConcurrentReads(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.*"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Tags{}
	for _, name := range files {
		b, _ := os.ReadFile(name)
		want[name], _ = Read(bytes.NewReader(b), int64(len(b)), "")
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 20 {
				for _, name := range files {
					b, _ := os.ReadFile(name)
					if got, _ := Read(bytes.NewReader(b), int64(len(b)), ""); got != want[name] {
						t.Errorf("%s: concurrent Read = %+v, want %+v", name, got, want[name])
					}
				}
			}
		})
	}
	wg.Wait()
}
