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
	"path"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/daapd/daapd/internal/testkit"

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
	for _, n := range []int{0, 1, 7, trackSlab + 1, trackBlock*2 + 3} {
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
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("round trip (-want +got):\n%s", diff)
			}
			entries, _ := os.ReadDir(filepath.Dir(name))
			if len(entries) != 1 {
				t.Errorf("temporary files left behind: %v", entries)
			}
		})
	}
}

// TestCacheGolden pins the format: the golden catalog encodes to exactly
// testdata/cache/v2.golden (go test ./library -run CacheGolden -update
// rewrites it; a change there needs cacheFormat bumped), and loads back.
func TestCacheGolden(t *testing.T) {
	golden := filepath.Join("testdata", "cache", fmt.Sprintf("v%d.golden", cacheFormat))
	var b bytes.Buffer
	if err := writeCache(&b, goldenCatalog()); err != nil {
		t.Fatal(err)
	}
	testkit.Golden(t, golden, b.Bytes())
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	d, err := loadCache(golden, testLibID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(goldenCatalog(), d); diff != "" {
		t.Errorf("golden file (-want +got):\n%s", diff)
	}
	// The title spelled out in the path shares the path's bytes.
	if tr := d.Tracks[1]; unsafe.StringData(tr.Title) != unsafe.StringData(tr.Path[len(tr.Path)-len("re:member.flac"):]) {
		t.Errorf("title %q does not share its path's bytes", tr.Title)
	}
	// Repeated strings are stored once.
	if n := bytes.Count(want, []byte("Ólafur Arnalds/re:member/cover.jpg")); n != 1 {
		t.Errorf("artwork path stored %d times", n)
	}
}

// TestCacheStoredPersistentIDs loads a cache written when persistent ids
// were stored (testdata/cache/v2-persistent-id.golden, from goldenCatalog):
// the retired field is skipped, not taken for a stale cache, and the ids
// are derived from the item ids.
func TestCacheStoredPersistentIDs(t *testing.T) {
	d, err := loadCache(filepath.Join("testdata", "cache", "v2-persistent-id.golden"), testLibID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(goldenCatalog(), d); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestCacheGob loads a cache written by the last gob-writing daapd
// (testdata/cache/gob-v1.golden, made from goldenCatalog): it migrates, and
// one of another scanner version gives its first-seen dates.
func TestCacheGob(t *testing.T) {
	golden := filepath.Join("testdata", "cache", "gob-v1.golden")
	d, err := loadCache(golden, testLibID)
	if err != nil {
		t.Fatal(err)
	}
	want := goldenCatalog()
	want.Legacy = true
	want.Tracks[0].Year = 1<<16 - 1 // written as -1 when the year was an int
	if diff := cmp.Diff(want, d); diff != "" {
		t.Errorf("gob cache (-want +got):\n%s", diff)
	}
	if _, err := loadCache(golden, "fedcba9876543210"); !errors.Is(err, ErrCacheForeign) {
		t.Errorf("another library's gob cache: %v", err)
	}

	stale := rawGob(t, gobHeader{Schema: gobSchema, Layout: gobLayout ^ 1, Scanner: ScannerVersion, LibraryID: testLibID,
		Roots: []string{"/music"}, Tracks: 1, Saved: time.Now()},
		gobChunk{Tracks: []gobTrack{{ID: 1000, PersistentID: 1, Path: "a.mp3", Added: time.Unix(1e9, 0).UTC()}}})
	name := filepath.Join(t.TempDir(), cacheFile)
	os.WriteFile(name, stale, 0o644)
	if _, err := loadCache(name, testLibID); !errors.Is(err, ErrCacheStale) {
		t.Fatalf("gob cache of another layout: %v", err)
	}
	seen, err := salvageFirstSeen(name, testLibID)
	if err != nil || seen[firstSeenKey("/music", "a.mp3")] != StampOf(time.Unix(1e9, 0)) {
		t.Errorf("salvaged %v, %v", seen, err)
	}

	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"truncated", stale[:len(stale)-1]},
		{"huge gob message", func() []byte {
			var b bytes.Buffer
			b.WriteString(gobMagic)
			gob.NewEncoder(&b).Encode(&gobHeader{Schema: gobSchema, Layout: gobLayout, Scanner: ScannerVersion,
				LibraryID: testLibID, Roots: []string{"/music"}, Tracks: 1})
			b.Write([]byte{0xFC, 0x3F, 0xFF, 0xFF, 0x00, 1, 2, 3})
			return gobFooter(b.Bytes())
		}()},
		{"duplicate id", rawGob(t, gobHeader{Schema: gobSchema, Layout: gobLayout, Scanner: ScannerVersion,
			LibraryID: testLibID, Roots: []string{"/music"}, Tracks: 2},
			gobChunk{Tracks: []gobTrack{{ID: 1000, PersistentID: 1, Path: "a.mp3"}, {ID: 1000, PersistentID: 2, Path: "b.mp3"}}})},
	} {
		os.WriteFile(name, tc.data, 0o644)
		if _, err := loadCache(name, testLibID); !errors.Is(err, ErrCacheCorrupt) {
			t.Errorf("%s: %v, want ErrCacheCorrupt", tc.name, err)
		}
	}
}

// rawGob builds a gob cache by hand.
func rawGob(t *testing.T, hd gobHeader, chunks ...gobChunk) []byte {
	t.Helper()
	var b bytes.Buffer
	b.WriteString(gobMagic)
	enc := gob.NewEncoder(&b)
	if err := enc.Encode(&hd); err != nil {
		t.Fatal(err)
	}
	for i := range chunks {
		if err := enc.Encode(&chunks[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := enc.Encode(&gobPlaylists{}); err != nil {
		t.Fatal(err)
	}
	return gobFooter(b.Bytes())
}

func gobFooter(body []byte) []byte {
	var foot [gobFooterLen]byte
	binary.BigEndian.PutUint64(foot[:8], uint64(len(body)))
	binary.BigEndian.PutUint32(foot[8:], crc32.Checksum(body, crcTable))
	return append(body, foot[:]...)
}

// refoot makes b's footer match its bytes again (size and CRC), so damage
// reaches the decoder.
func refoot(b []byte) []byte {
	b = bytes.Clone(b)
	if len(b) < cacheFooterLen {
		return b
	}
	binary.LittleEndian.PutUint64(b[len(b)-12:], uint64(len(b)))
	binary.LittleEndian.PutUint32(b[len(b)-4:], crc32.Checksum(b[:len(b)-4], crcTable))
	return b
}

func encoded(t testing.TB, d *cacheData, fields []trackField, scanner int) []byte {
	var b bytes.Buffer
	if err := encodeCache(&b, d, fields, scanner); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestCacheRejects(t *testing.T) {
	valid := encoded(t, &cacheData{LibraryID: testLibID, Tracks: testTracks(20), Playlists: testPlaylists()}, trackFields, ScannerVersion)
	flip := func(i int) []byte {
		b := bytes.Clone(valid)
		b[i] ^= 0x40
		return b
	}
	one := func(path string, id uint32) *Track {
		return &Track{ID: id, PersistentID: uint64(id), Root: "/music", Path: path, Title: "t"}
	}
	with := func(ts ...*Track) []byte {
		return encoded(t, &cacheData{LibraryID: testLibID, Tracks: ts}, trackFields, ScannerVersion)
	}
	version := bytes.Clone(valid)
	binary.LittleEndian.PutUint32(version[len(cacheMagic):], cacheFormat+1)

	tests := []struct {
		name string
		data []byte
		want error
	}{
		{"empty file", nil, ErrCacheCorrupt},
		{"garbage", bytes.Repeat([]byte("x"), 100), ErrCacheCorrupt},
		{"wrong magic", append([]byte("DAAPD cache\x00"), valid[len(cacheMagic):]...), ErrCacheCorrupt},
		{"truncated to magic", valid[:cacheHeadLen], ErrCacheCorrupt},
		{"truncated by one byte", valid[:len(valid)-1], ErrCacheCorrupt},
		{"truncated in the middle", valid[:len(valid)/2], ErrCacheCorrupt},
		{"footer lost", valid[:len(valid)-cacheFooterLen], ErrCacheCorrupt},
		{"byte flipped in header", flip(cacheHeadLen + 3), ErrCacheCorrupt},
		{"byte flipped in tracks", flip(len(valid) / 2), ErrCacheCorrupt},
		{"byte flipped in footer", flip(len(valid) - 1), ErrCacheCorrupt},
		{"appended bytes", append(bytes.Clone(valid), 0), ErrCacheCorrupt},
		{"newer format", refoot(version), ErrCacheStale},
		{"older scanner", encoded(t, &cacheData{LibraryID: testLibID, Tracks: testTracks(2)}, trackFields, ScannerVersion-1), ErrCacheStale},
		{"other track fields", encoded(t, &cacheData{LibraryID: testLibID, Tracks: testTracks(2)}, trackFields[:len(trackFields)-1], ScannerVersion), ErrCacheStale},
		{"field of an unknown kind", func() []byte {
			b := encoded(t, &cacheData{LibraryID: testLibID, Tracks: testTracks(2)},
				append(slices.Clone(trackFields), intField("future", func(t *Track) *uint16 { return &t.BPM })), ScannerVersion)
			b[bytes.Index(b, []byte("future"))+len("future")] = 9
			return refoot(b)
		}(), ErrCacheStale},
		{"another library", encoded(t, &cacheData{LibraryID: "fedcba9876543210", Tracks: testTracks(2)}, trackFields, ScannerVersion), ErrCacheForeign},
		{"duplicate id", with(one("a.mp3", 1000), one("b.mp3", 1000)), ErrCacheCorrupt},
		{"out of order", with(one("b.mp3", 1000), one("a.mp3", 1001)), ErrCacheCorrupt},
		{"same path twice", with(one("a.mp3", 1000), one("a.mp3", 1001)), ErrCacheCorrupt},
		{"absolute path", with(one("/etc/passwd", 1000)), ErrCacheCorrupt},
		{"escaping path", with(one("../x.mp3", 1000)), ErrCacheCorrupt},
		{"small id", with(one("a.mp3", 7)), ErrCacheCorrupt},
		{"no root", with(&Track{ID: 1000, PersistentID: 1, Path: "a.mp3"}), ErrCacheCorrupt},
		{"playlist path", encoded(t, &cacheData{LibraryID: testLibID, Playlists: []*Playlist{{ID: 5000, Root: "/music", Path: "../p.m3u"}}}, trackFields, ScannerVersion), ErrCacheCorrupt},
		{"playlists offset inside the magic", func() []byte {
			b := bytes.Clone(valid)
			binary.LittleEndian.PutUint64(b[len(b)-cacheFooterLen:], 3)
			return refoot(b)
		}(), ErrCacheCorrupt},
		{"sections out of order", func() []byte {
			b := bytes.Clone(valid)
			f := b[len(b)-cacheFooterLen:]
			binary.LittleEndian.PutUint64(f, binary.LittleEndian.Uint64(f[8:])+1)
			return refoot(b)
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

	// The hand-built cases load when nothing is wrong, so the cases above
	// fail for the reason they name.
	if d, err := readCache(with(one("a.mp3", 1000), one("b.mp3", 1001)), testLibID); err != nil || len(d.Tracks) != 2 || d.Tracks[1].Root != "/music" {
		t.Fatalf("hand-built cache: %v %+v", err, d)
	}

	// Every single-byte change that keeps the checksum right is caught by
	// the decoder or yields a valid catalog, never a panic.
	small := encoded(t, &cacheData{LibraryID: testLibID, Tracks: testTracks(3), Playlists: testPlaylists()}, trackFields, ScannerVersion)
	for i := range len(small) - cacheFooterLen {
		for _, x := range []byte{0x01, 0x80, 0xff} {
			b := bytes.Clone(small)
			b[i] ^= x
			if d, err := readCache(refoot(b), testLibID); (d == nil) == (err == nil) {
				t.Fatalf("byte %d ^ %#x: data %v, error %v", i, x, d != nil, err)
			}
		}
	}
}

// A cache from another scanner version or field table is stale, but
// salvage still finds the first-seen dates in it by field name.
func TestCacheSalvage(t *testing.T) {
	d := &cacheData{LibraryID: testLibID, Tracks: testTracks(5)}
	fields := slices.Concat(trackFields[:3], []trackField{intField("retired", func(t *Track) *uint16 { return &t.Year })}, trackFields[3:])
	fields = slices.DeleteFunc(fields, func(f trackField) bool { return f.name == "genre" })
	for _, b := range [][]byte{
		encoded(t, d, trackFields, ScannerVersion+1),
		encoded(t, d, fields, ScannerVersion),
	} {
		name := filepath.Join(t.TempDir(), cacheFile)
		os.WriteFile(name, b, 0o644)
		if _, err := loadCache(name, testLibID); !errors.Is(err, ErrCacheStale) {
			t.Fatalf("got %v, want ErrCacheStale", err)
		}
		seen, err := salvageFirstSeen(name, testLibID)
		if err != nil || len(seen) != 5 {
			t.Fatalf("salvaged %d dates: %v", len(seen), err)
		}
		for _, tr := range d.Tracks {
			if got := seen[firstSeenKey(tr.Root, tr.Path)]; got != tr.Added {
				t.Errorf("%s: salvaged %v, want %v", tr.Path, got, tr.Added)
			}
		}
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

// FuzzCacheLoad feeds the loader arbitrary bytes, and the same bytes with
// a footer that matches them (binary and gob), so the fuzzer gets past the
// checksum to the decoders: never a panic, and data exactly when no error.
func FuzzCacheLoad(f *testing.F) {
	var b bytes.Buffer
	writeCache(&b, &cacheData{LibraryID: testLibID, Tracks: testTracks(3), Playlists: testPlaylists()})
	f.Add(b.Bytes())
	f.Add(b.Bytes()[:b.Len()/2])
	f.Add([]byte(cacheMagic))
	for _, name := range []string{"v2.golden", "gob-v1.golden"} {
		g, err := os.ReadFile(filepath.Join("testdata", "cache", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(g)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, b := range [][]byte{data, refoot(data), gobFooter(bytes.Clone(data[:max(0, len(data)-gobFooterLen)]))} {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			d, err := readCache(b, testLibID)
			runtime.ReadMemStats(&after)
			if (d == nil) == (err == nil) {
				t.Fatalf("data %v with error %v", d != nil, err)
			}
			// A load allocates in proportion to the file, whatever it claims.
			if n := after.TotalAlloc - before.TotalAlloc; n > 1<<20+128*uint64(len(b)) {
				t.Fatalf("%d bytes allocated for a file of %d", n, len(b))
			}
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

// BenchmarkCacheLoad loads caches of synthetic catalogs (benchTracks):
// wall and process CPU time per track, allocations per load, bytes on disk per track, and the heap
// the loaded catalog holds.
func BenchmarkCacheLoad(b *testing.B) {
	for _, n := range []int{10_000, 100_000, 1_000_000} {
		b.Run(fmt.Sprintf("%dk", n/1000), func(b *testing.B) {
			name := filepath.Join(b.TempDir(), cacheFile)
			ts := benchTracks(n)
			if err := saveCache(name, &cacheData{LibraryID: testLibID, Tracks: ts}); err != nil {
				b.Fatal(err)
			}
			fi, _ := os.Stat(name)
			ts = nil
			var heap, allocs uint64
			var cpu time.Duration
			for b.Loop() {
				b.StopTimer()
				var before, after runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&before)
				cpu0 := testkit.CPUTime()
				b.StartTimer()
				d, err := loadCache(name, testLibID)
				if err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				cpu += testkit.CPUTime() - cpu0
				runtime.ReadMemStats(&after)
				allocs = after.Mallocs - before.Mallocs
				runtime.GC()
				runtime.ReadMemStats(&after)
				heap = after.HeapAlloc - before.HeapAlloc
				runtime.KeepAlive(d)
				b.StartTimer()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/track")
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N)/float64(n), "cpu-ns/track")
			b.ReportMetric(float64(allocs), "allocs/load")
			b.ReportMetric(float64(fi.Size())/float64(n), "disk-B/track")
			b.ReportMetric(float64(heap)/float64(n), "live-B/track")
		})
	}
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

func TestValidRel(t *testing.T) {
	for _, p := range []string{"", ".", "..", "/", "a", "a/b", "a//b", "/a", "a/", "./a", "a/.", "a/./b", "../a", "a/..", "a/../b",
		"...", "a/...", ".a", "a/.b", "..a", "a..", "a/b/c.mp3", "é/ø"} {
		want := p != "" && p != "." && p != ".." && !strings.HasPrefix(p, "/") && !strings.HasPrefix(p, "../") && path.Clean(p) == p
		if got := validRel(p); got != want {
			t.Errorf("validRel(%q) = %v, want %v", p, got, want)
		}
	}
}

// Zero times (a track never seen "added") stay zero through the cache.
func TestCacheZeroTime(t *testing.T) {
	d := goldenCatalog()
	var b bytes.Buffer
	if err := writeCache(&b, d); err != nil {
		t.Fatal(err)
	}
	got, err := readCache(b.Bytes(), testLibID)
	if err != nil {
		t.Fatal(err)
	}
	if tr := got.Tracks[0]; tr.Added != 0 {
		t.Errorf("zero time loaded as %#v", tr.Added)
	}
}
