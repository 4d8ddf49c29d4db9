package announce

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var updateGolden = flag.Bool("update", false, "rewrite testdata/*.golden")

// golden compares got with testdata/<test name>.golden (rewritten with -update).
func golden(t *testing.T, got string) {
	t.Helper()
	path := filepath.Join("testdata", t.Name()+".golden")
	if *updateGolden {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", path, diff)
	}
}

func TestTXT(t *testing.T) {
	for _, tc := range []struct {
		name string
		svc  Service
	}{
		{"open", Service{Name: "Lab DAAP", Port: 3689, DatabaseID: "0123456789ABCDEF"}},
		{"password", Service{Name: "Lab DAAP", Port: 3689, DatabaseID: "0123456789abcdef", Password: true}},
		{"long-name", Service{Name: strings.Repeat("ö", 40), Port: 3689, DatabaseID: "FEDCBA9876543210"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := strings.Join(txtStrings(TXT(tc.svc)), "\n") + "\n"
			golden(t, got)
			for _, b := range avahiTXT(TXT(tc.svc)) {
				if len(b) > 255 {
					t.Errorf("TXT string %q longer than 255 bytes", b)
				}
			}
		})
	}
}

func TestTXTStringsOrder(t *testing.T) {
	got := txtStrings(map[string]string{"b": "2", "txtvers": "1", "a": "1"})
	want := []string{"txtvers=1", "a=1", "b=2"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}
}
