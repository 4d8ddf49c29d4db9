package tags

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// fuzzContainers are the container names FuzzRead picks from.
var fuzzContainers = []string{"mp3", "mp4", "flac", "ogg", "wav", "aiff", "",
	"ape", "wavpack", "musepack", "tta", "aac", "ac3", "eac3", "asf", "dsf", "dff", "matroska", "webm"}

// FuzzRead feeds arbitrary bytes to Read and Picture under every
// container name: they must not panic (a recovered panic is reported as a
// failure here), and what they return must be normalised and bounded.
func FuzzRead(f *testing.F) {
	index := map[string]uint8{}
	for i, c := range fuzzContainers {
		index[c] = uint8(i)
	}
	for _, tc := range allCases() {
		f.Add(index[tc.container], tc.file)
	}
	// Small real files, when the corpus is around.
	dir := filepath.Join("..", "..", "..", "shared", "corpus", "taglib")
	if entries, err := os.ReadDir(dir); err == nil {
		for _, e := range entries {
			if info, err := e.Info(); err == nil && info.Size() <= 16<<10 {
				if b, err := os.ReadFile(filepath.Join(dir, e.Name())); err == nil {
					f.Add(index[containerOf(e.Name())], b)
				}
			}
		}
	}
	// The fixtures in the formats added later (ASF, APEv2, Matroska, ...).
	fx := filepath.Join("..", "..", "music-fixtures", "Mu Collective", "Every Format")
	if entries, err := os.ReadDir(fx); err == nil {
		for _, e := range entries {
			if b, err := os.ReadFile(filepath.Join(fx, e.Name())); err == nil && len(b) <= 32<<10 {
				f.Add(uint8(len(fuzzContainers)-1), b) // sniffed by content
				f.Add(uint8(6), b)
			}
		}
	}
	f.Fuzz(func(t *testing.T, kind uint8, file []byte) {
		container := fuzzContainers[int(kind)%len(fuzzContainers)]
		tg, err := Read(bytes.NewReader(file), int64(len(file)), container)
		if err != nil && strings.Contains(err.Error(), "panic") {
			t.Fatalf("Read: %v", err)
		}
		v := reflect.ValueOf(tg)
		for i := range v.NumField() {
			if s, ok := v.Field(i).Interface().(string); ok {
				if !utf8.ValidString(s) || !norm.NFC.IsNormalString(s) || s != strings.TrimSpace(s) || strings.ContainsRune(s, 0) {
					t.Errorf("%s = %q is not normalised", v.Type().Field(i).Name, s)
				}
			}
		}
		img, _, err := Picture(bytes.NewReader(file), int64(len(file)), container)
		if err != nil && strings.Contains(err.Error(), "panic") {
			t.Fatalf("Picture: %v", err)
		}
		if len(img) > MaxPicture {
			t.Errorf("Picture returned %d bytes", len(img))
		}
	})
}
