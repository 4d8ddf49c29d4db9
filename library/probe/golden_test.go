package probe

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/daapd/daapd/internal/testkit"
)

// goldenFile pins everything Probe reports for each corpus file, errors
// included, so that any change in behaviour shows up in review. Rewrite it
// with go test -run TestCorpusGolden -update.
const goldenFile = "testdata/corpus.golden"

func TestCorpusGolden(t *testing.T) {
	roots := sources(t)
	if _, ok := roots["corpus"]; !ok {
		t.Skip("corpus not present (../../../shared/corpus/taglib or $DAAPD_CORPUS)")
	}
	var b strings.Builder
	for _, p := range audioFiles(map[string]string{"corpus": roots["corpus"]}) {
		path, _ := resolve(roots, p)
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		info, err := Probe(bytes.NewReader(data), int64(len(data)))
		fmt.Fprintf(&b, "%s\t", strings.TrimPrefix(p, "corpus/"))
		if err != nil {
			fmt.Fprintf(&b, "error: %v", err)
			if info.Container != "" {
				fmt.Fprintf(&b, " (container %s)", info.Container)
			}
		} else {
			fmt.Fprintf(&b, "%s/%s %dms %dkbps %dHz %dch %dbit", info.Container, info.Codec, info.DurationMS, info.Bitrate, info.SampleRate, info.Channels, info.BitsPerSample)
			if info.Protected {
				b.WriteString(" protected")
			}
		}
		b.WriteByte('\n')
	}
	got := b.String()
	testkit.Golden(t, goldenFile, []byte(got))
}
