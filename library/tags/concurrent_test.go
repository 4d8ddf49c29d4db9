package tags

import (
	"bytes"
	"fmt"
	"sync"
	"testing"
)

// TestConcurrentRead checks that concurrent reads agree with sequential
// ones: the recycled collectors, sources and buffered readers never leak
// one file's state into another's (run it with -race).
func TestConcurrentRead(t *testing.T) {
	cases := allCases()
	outcome := func(tc readCase) string {
		tg, err := Read(bytes.NewReader(tc.file), int64(len(tc.file)), tc.container)
		pic, mime, perr := Picture(bytes.NewReader(tc.file), int64(len(tc.file)), tc.container)
		return fmt.Sprintf("%+v %v %d %s %v", tg, err, len(pic), mime, perr)
	}
	want := make([]string, len(cases))
	for i, tc := range cases {
		want[i] = outcome(tc)
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for k := range 3 * len(cases) {
				i := (k*7 + g*13) % len(cases)
				if got := outcome(cases[i]); got != want[i] {
					t.Errorf("%s/%s: concurrent read gave\n%s\nsequential\n%s", cases[i].container, cases[i].name, got, want[i])
					return
				}
			}
		})
	}
	wg.Wait()
}
