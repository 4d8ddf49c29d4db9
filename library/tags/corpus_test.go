package tags

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// corpusDir returns the TagLib test-file corpus, or skips the test.
func corpusDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("DAAPD_CORPUS")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "shared", "corpus", "taglib")
	}
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("corpus not available (%v); set DAAPD_CORPUS", err)
	}
	return dir
}

// containerOf guesses probe's container name from a file extension.
func containerOf(name string) string {
	switch filepath.Ext(name) {
	case ".mp3", ".id3":
		return "mp3"
	case ".m4a", ".mp4", ".m4v", ".3g2", ".aac":
		return "mp4"
	case ".flac":
		return "flac"
	case ".ogg", ".oga", ".opus", ".spx":
		return "ogg"
	case ".wav":
		return "wav"
	case ".aif", ".aiff", ".aifc":
		return "aiff"
	}
	return ""
}

// readFile runs Read and Picture on one file with a deadline.
func readFile(t *testing.T, path, container string) (Tags, error) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	type result struct {
		tags Tags
		err  error
	}
	done := make(chan result, 1)
	go func() {
		tg, err := Read(f, st.Size(), container)
		Picture(f, st.Size(), container)
		done <- result{tg, err}
	}()
	select {
	case r := <-done:
		return r.tags, r.err
	case <-time.After(20 * time.Second): // a hang, not a timing assertion
		t.Fatalf("%s: Read did not return", path)
	}
	return Tags{}, nil
}

func TestCorpus(t *testing.T) {
	dir := corpusDir(t)
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		for _, container := range []string{containerOf(e.Name()), ""} {
			tg, err := readFile(t, filepath.Join(dir, e.Name()), container)
			if testing.Verbose() && container != "" {
				t.Logf("%-40s %-5s err=%v %+v", e.Name(), container, err, tg)
			}
		}
	}
}
