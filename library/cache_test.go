package library

import (
	"bytes"
	"encoding/binary"
	"encoding/gob"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const testLibID = "0123456789abcdef"

// fillAll sets every field of the struct v points to (recursively) to a
// non-zero value derived from seed, so a round trip covers fields added
// after this test was written.
func fillAll(v reflect.Value, seed int) {
	switch v.Kind() {
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			v.Set(reflect.ValueOf(time.Date(2020, 1, 1+seed%28, 10, 11, 12, 13000, time.UTC)))
			return
		}
		for i := range v.NumField() {
			fillAll(v.Field(i), seed+i)
		}
	case reflect.String:
		v.SetString(fmt.Sprintf("s%d", seed))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(int64(seed + 1))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(uint64(seed + 1))
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fillAll(v.Elem(), seed)
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 2, 2)
		fillAll(s.Index(0), seed)
		fillAll(s.Index(1), seed+1)
		v.Set(s)
	}
}

// testTracks returns n tracks over two roots in catalog order, every field
// set, with ids assigned.
func testTracks(n int) []*Track {
	var ts []*Track
	for i := range n {
		t := &Track{}
		fillAll(reflect.ValueOf(t).Elem(), i)
		t.Root = "/music/a"
		if i >= n/2 {
			t.Root = "/music/b"
		}
		t.Path = fmt.Sprintf("Artist %d/Album %d/%03d track.mp3", i%7, i%3, i)
		t.Artwork = &Artwork{Source: ArtworkFile, Path: fmt.Sprintf("Artist %d/Album %d/cover.jpg", i%7, i%3)}
		t.Size = int64(1000 + i)
		t.ID, t.PersistentID = 0, 0
		ts = append(ts, t)
	}
	sortTracks(ts)
	assignIDs(testLibID, map[string]string{"/music/a": "", "/music/b": "/music/b"}, ts)
	return ts
}

func testPlaylists() []*Playlist {
	return []*Playlist{
		{ID: 5000, PersistentID: 77, Name: "Mix", Root: "/music/a", Path: "Playlists/mix.m3u", Items: []uint32{1001, 1002, 1001}},
		{ID: 5001, PersistentID: 78, Name: "Empty", Root: "/music/b", Path: "empty.pls"},
	}
}

func TestCacheRoundTrip(t *testing.T) {
	for _, n := range []int{0, 1, 7, cacheChunkLen, cacheChunkLen*2 + 3} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			name := filepath.Join(t.TempDir(), cacheFile)
			want := &cacheData{LibraryID: testLibID, Tracks: testTracks(n), Playlists: testPlaylists(),
				Saved: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)}
			if err := saveCache(name, want); err != nil {
				t.Fatal(err)
			}
			got, err := loadCache(name, testLibID)
			if err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				want.Tracks = []*Track{}
			}
			if diff := cmp.Diff(want, got, cmp.AllowUnexported(cacheData{})); diff != "" {
				t.Errorf("round trip (-want +got):\n%s", diff)
			}
			entries, _ := os.ReadDir(filepath.Dir(name))
			if len(entries) != 1 {
				t.Errorf("temporary files left behind: %v", entries)
			}
		})
	}
}

// rawCache builds cache bytes by hand, so tests can write what saveCache
// never would: old versions, foreign ids, lying counts, bad records.
func rawCache(t *testing.T, hd cacheHeader, chunks []cacheChunk, pls cachePlaylists) []byte {
	t.Helper()
	var b bytes.Buffer
	b.WriteString(cacheMagic)
	enc := gob.NewEncoder(&b)
	for _, v := range []any{&hd} {
		if err := enc.Encode(v); err != nil {
			t.Fatal(err)
		}
	}
	for i := range chunks {
		if err := enc.Encode(&chunks[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := enc.Encode(&pls); err != nil {
		t.Fatal(err)
	}
	return withFooter(b.Bytes())
}

func withFooter(body []byte) []byte {
	var foot [cacheFooterLen]byte
	binary.BigEndian.PutUint64(foot[:8], uint64(len(body)))
	binary.BigEndian.PutUint32(foot[8:], crc32.Checksum(body, crcTable))
	return append(body, foot[:]...)
}

func goodHeader(n int) cacheHeader {
	return cacheHeader{Schema: cacheSchema, Layout: layoutFingerprint, Scanner: ScannerVersion,
		LibraryID: testLibID, Roots: []string{"/music"}, Tracks: n}
}

func oneTrack(path string, id uint32) Track {
	return Track{ID: id, PersistentID: uint64(id), Path: path, Title: "t"}
}

func TestCacheRejects(t *testing.T) {
	valid := func() []byte {
		var b bytes.Buffer
		if err := writeCache(&b, &cacheData{LibraryID: testLibID, Tracks: testTracks(20), Playlists: testPlaylists()}); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}()
	flip := func(i int) []byte {
		b := bytes.Clone(valid)
		b[i] ^= 0x40
		return b
	}
	chunk := func(ts ...Track) []cacheChunk { return []cacheChunk{{Root: 0, Tracks: ts}} }
	old := goodHeader(1)
	old.Schema = cacheSchema - 1
	oldScanner := goodHeader(1)
	oldScanner.Scanner = ScannerVersion - 1
	layout := goodHeader(1)
	layout.Layout++
	foreign := goodHeader(1)
	foreign.LibraryID = "fedcba9876543210"
	huge := goodHeader(maxCacheTracks + 1)
	badRoot := goodHeader(1)
	badRoot.Roots = []string{""}

	tests := []struct {
		name string
		data []byte
		want error
	}{
		{"empty file", nil, ErrCacheCorrupt},
		{"garbage", bytes.Repeat([]byte("x"), 100), ErrCacheCorrupt},
		{"wrong magic", append([]byte("DAAPD SCANCACHE\n"), valid[16:]...), ErrCacheCorrupt},
		{"truncated to magic", valid[:len(cacheMagic)], ErrCacheCorrupt},
		{"truncated by one byte", valid[:len(valid)-1], ErrCacheCorrupt},
		{"truncated in the middle", valid[:len(valid)/2], ErrCacheCorrupt},
		{"footer lost", valid[:len(valid)-cacheFooterLen], ErrCacheCorrupt},
		{"byte flipped in header", flip(len(cacheMagic) + 10), ErrCacheCorrupt},
		{"byte flipped in tracks", flip(len(valid) / 2), ErrCacheCorrupt},
		{"byte flipped in footer", flip(len(valid) - 1), ErrCacheCorrupt},
		{"appended bytes", append(bytes.Clone(valid), 0), ErrCacheCorrupt},
		{"body is not gob", withFooter([]byte(cacheMagic + "not gob at all, not at all")), ErrCacheCorrupt},
		{"older schema", rawCache(t, old, chunk(oneTrack("a.mp3", 1000)), cachePlaylists{}), ErrCacheStale},
		{"older scanner", rawCache(t, oldScanner, chunk(oneTrack("a.mp3", 1000)), cachePlaylists{}), ErrCacheStale},
		{"other track layout", rawCache(t, layout, chunk(oneTrack("a.mp3", 1000)), cachePlaylists{}), ErrCacheStale},
		{"another library", rawCache(t, foreign, chunk(oneTrack("a.mp3", 1000)), cachePlaylists{}), ErrCacheForeign},
		{"absurd count", rawCache(t, huge, nil, cachePlaylists{}), ErrCacheCorrupt},
		{"empty root", rawCache(t, badRoot, chunk(oneTrack("a.mp3", 1000)), cachePlaylists{}), ErrCacheCorrupt},
		{"fewer tracks than counted", rawCache(t, goodHeader(2), chunk(oneTrack("a.mp3", 1000)), cachePlaylists{}), ErrCacheCorrupt},
		{"more tracks than counted", rawCache(t, goodHeader(1), chunk(oneTrack("a.mp3", 1000), oneTrack("b.mp3", 1001)), cachePlaylists{}), ErrCacheCorrupt},
		{"root index out of range", rawCache(t, goodHeader(1), []cacheChunk{{Root: 1, Tracks: []Track{oneTrack("a.mp3", 1000)}}}, cachePlaylists{}), ErrCacheCorrupt},
		{"duplicate id", rawCache(t, goodHeader(2), chunk(oneTrack("a.mp3", 1000), oneTrack("b.mp3", 1000)), cachePlaylists{}), ErrCacheCorrupt},
		{"out of order", rawCache(t, goodHeader(2), chunk(oneTrack("b.mp3", 1000), oneTrack("a.mp3", 1001)), cachePlaylists{}), ErrCacheCorrupt},
		{"absolute path", rawCache(t, goodHeader(1), chunk(oneTrack("/etc/passwd", 1000)), cachePlaylists{}), ErrCacheCorrupt},
		{"escaping path", rawCache(t, goodHeader(1), chunk(oneTrack("../x.mp3", 1000)), cachePlaylists{}), ErrCacheCorrupt},
		{"small id", rawCache(t, goodHeader(1), chunk(oneTrack("a.mp3", 7)), cachePlaylists{}), ErrCacheCorrupt},
		{"huge gob message", func() []byte {
			var b bytes.Buffer
			b.WriteString(cacheMagic)
			hd := goodHeader(1)
			gob.NewEncoder(&b).Encode(&hd)
			b.Write([]byte{0xFC, 0x3F, 0xFF, 0xFF, 0x00, 1, 2, 3})
			return withFooter(b.Bytes())
		}(), ErrCacheCorrupt},
		{"playlist count", rawCache(t, goodHeader(0), nil, cachePlaylists{Playlists: []cachePlaylist{{P: Playlist{Path: "p.m3u"}}}}), ErrCacheCorrupt},
		{"playlist path", func() []byte {
			h := goodHeader(0)
			h.Playlists = 1
			return rawCache(t, h, nil, cachePlaylists{Playlists: []cachePlaylist{{P: Playlist{Path: "../p.m3u"}}}})
		}(), ErrCacheCorrupt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := filepath.Join(t.TempDir(), cacheFile)
			if err := os.WriteFile(name, tt.data, 0o644); err != nil {
				t.Fatal(err)
			}
			d, err := loadCache(name, testLibID)
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			if d != nil {
				t.Errorf("a rejected cache returned data")
			}
			if !strings.Contains(err.Error(), name) {
				t.Errorf("error %q does not name the file", err)
			}
		})
	}

	// The hand-built format itself loads, so the cases above fail for
	// the reason they name.
	name := filepath.Join(t.TempDir(), cacheFile)
	os.WriteFile(name, rawCache(t, goodHeader(2), chunk(oneTrack("a.mp3", 1000), oneTrack("b.mp3", 1001)), cachePlaylists{}), 0o644)
	if d, err := loadCache(name, testLibID); err != nil || len(d.Tracks) != 2 || d.Tracks[1].Root != "/music" {
		t.Fatalf("hand-built cache: %v %+v", err, d)
	}
}

func TestCacheMissing(t *testing.T) {
	_, err := loadCache(filepath.Join(t.TempDir(), "nope"), testLibID)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("got %v", err)
	}
}

func TestCacheSaveFailureKeepsOld(t *testing.T) {
	if os.Getuid() == 0 {
		t.Skip("root ignores directory permissions")
	}
	dir := t.TempDir()
	name := filepath.Join(dir, cacheFile)
	if err := saveCache(name, &cacheData{LibraryID: testLibID, Tracks: testTracks(3)}); err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o555)
	defer os.Chmod(dir, 0o755)
	if err := saveCache(name, &cacheData{LibraryID: testLibID}); err == nil {
		t.Fatal("save into a read-only folder succeeded")
	}
	if d, err := loadCache(name, testLibID); err != nil || len(d.Tracks) != 3 {
		t.Fatalf("old cache damaged: %v", err)
	}
}

func TestCacheSaveOverwritesAtomically(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, cacheFile)
	for _, n := range []int{100, 3, 0} {
		if err := saveCache(name, &cacheData{LibraryID: testLibID, Tracks: testTracks(n)}); err != nil {
			t.Fatal(err)
		}
		d, err := loadCache(name, testLibID)
		if err != nil || len(d.Tracks) != n {
			t.Fatalf("after saving %d tracks: %v", n, err)
		}
	}
	if err := saveCache(filepath.Join(dir, "missing-dir", cacheFile), &cacheData{}); err == nil {
		t.Error("save into a missing folder succeeded")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("left behind: %v", entries)
	}
}

func TestCacheSaver(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, cacheFile)
	saved := make(chan error, 10)
	s := newCacheSaver(name, time.Millisecond, slog.New(slog.DiscardHandler))
	s.saved = func(err error) { saved <- err }

	// Flush with nothing pending writes nothing.
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(name); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("flush of nothing wrote a file: %v", err)
	}

	// The timer writes the latest content.
	s.Schedule(&cacheData{LibraryID: testLibID, Tracks: testTracks(4)})
	if err := <-saved; err != nil {
		t.Fatal(err)
	}
	if d, err := loadCache(name, testLibID); err != nil || len(d.Tracks) != 4 {
		t.Fatalf("timer save: %v", err)
	}

	// Several schedules before a flush cost one write, of the last one.
	s.delay = time.Hour
	for n := range 5 {
		s.Schedule(&cacheData{LibraryID: testLibID, Tracks: testTracks(n)})
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := <-saved; err != nil {
		t.Fatal(err)
	}
	if d, err := loadCache(name, testLibID); err != nil || len(d.Tracks) != 4 {
		t.Fatalf("flush: %v, %d tracks", err, len(d.Tracks))
	}
	select {
	case <-saved:
		t.Fatal("a second write happened")
	default:
	}
}

func FuzzReadCache(f *testing.F) {
	var b bytes.Buffer
	writeCache(&b, &cacheData{LibraryID: testLibID, Tracks: testTracks(3), Playlists: testPlaylists()})
	f.Add(b.Bytes())
	f.Add(b.Bytes()[:b.Len()/2])
	f.Add([]byte(cacheMagic))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := readCache(bytes.NewReader(data), int64(len(data)), testLibID)
		if (d == nil) == (err == nil) {
			t.Fatalf("data %v with error %v", d != nil, err)
		}
		// Skip the checksum so the fuzzer reaches the decoder and the
		// validation too.
		data = withFooter(bytes.Clone(data))
		d, err = readCache(bytes.NewReader(data), int64(len(data)), testLibID)
		if (d == nil) == (err == nil) {
			t.Fatalf("data %v with error %v", d != nil, err)
		}
	})
}

// benchTracks makes n realistic tracks: 10 per album, 5 albums per artist.
func benchTracks(n int) []*Track {
	ts := make([]*Track, n)
	mod := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	for i := range ts {
		ar, al := i/50, i/10
		ts[i] = &Track{
			Root: "/srv/music", Path: fmt.Sprintf("Artist %04d/Album %05d/%02d - Some Song Title %d.flac", ar, al, i%10+1, i),
			Title: fmt.Sprintf("Some Song Title %d", i), Artist: fmt.Sprintf("Artist %04d", ar),
			AlbumArtist: fmt.Sprintf("Artist %04d", ar), Album: fmt.Sprintf("Album %05d", al),
			Genre: "Rock", Year: uint16(1990 + i%30), TrackNumber: uint16(i%10 + 1), TrackCount: 10, DiscNumber: 1, DiscCount: 1,
			DurationMS: uint32(180000 + i%60000), Bitrate: 900, SampleRate: 44100, Channels: 2,
			Codec: "flac", Format: "flac", Size: int64(20_000_000 + i), ModTime: StampOf(mod.Add(time.Duration(i) * time.Second)),
			Added:   StampOf(mod),
			Artwork: &Artwork{Source: ArtworkFile, Path: fmt.Sprintf("Artist %04d/Album %05d/cover.jpg", ar, al)},
		}
		setGroupIDs(testLibID, ts[i])
	}
	sortTracks(ts)
	assignIDs(testLibID, map[string]string{"/srv/music": ""}, ts)
	return ts
}

// BenchmarkCacheLoad100k measures loading a 100,000-track cache: time,
// bytes on disk per track, and the heap the loaded catalog holds.
func BenchmarkCacheLoad100k(b *testing.B) {
	name := filepath.Join(b.TempDir(), cacheFile)
	ts := benchTracks(100_000)
	if err := saveCache(name, &cacheData{LibraryID: testLibID, Tracks: ts}); err != nil {
		b.Fatal(err)
	}
	fi, _ := os.Stat(name)
	ts = nil
	var heap, alloc uint64
	for b.Loop() {
		b.StopTimer()
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		b.StartTimer()
		d, err := loadCache(name, testLibID)
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		runtime.ReadMemStats(&after)
		alloc = after.TotalAlloc - before.TotalAlloc
		runtime.GC()
		runtime.ReadMemStats(&after)
		heap = after.HeapAlloc - before.HeapAlloc
		runtime.KeepAlive(d)
		b.StartTimer()
	}
	b.ReportMetric(float64(fi.Size())/100_000, "disk-B/track")
	b.ReportMetric(float64(heap)/(1<<20), "live-MiB")
	b.ReportMetric(float64(alloc)/(1<<20), "alloc-MiB")
}

func BenchmarkCacheSave100k(b *testing.B) {
	name := filepath.Join(b.TempDir(), cacheFile)
	d := &cacheData{LibraryID: testLibID, Tracks: benchTracks(100_000)}
	for b.Loop() {
		if err := saveCache(name, d); err != nil {
			b.Fatal(err)
		}
	}
}

// A write that fails part way (a full disk, say) leaves the previous cache
// intact and no temporary file behind. Unlike TestCacheSaveFailureKeepsOld
// this runs as root too.
func TestCacheWriteFailureKeepsOld(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, cacheFile)
	if err := saveCache(name, &cacheData{LibraryID: testLibID, Tracks: testTracks(3)}); err != nil {
		t.Fatal(err)
	}
	full := errors.New("no space left on device")
	err := writeFileAtomic(name, func(w io.Writer) error {
		w.Write([]byte("half a cache"))
		return full
	})
	if !errors.Is(err, full) {
		t.Fatalf("write error not returned: %v", err)
	}
	if d, err := loadCache(name, testLibID); err != nil || len(d.Tracks) != 3 {
		t.Fatalf("old cache damaged: %v", err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("temporary files left behind: %v", ents)
	}
}
