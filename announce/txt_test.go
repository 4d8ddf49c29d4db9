package announce

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/daapd/daapd/internal/testkit"
)

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
			testkit.Golden(t, testkit.GoldenName(t), []byte(got))
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
