package dmap

import (
	"bufio"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCodesTable(t *testing.T) {
	tags := map[string]bool{}
	names := map[string]bool{}
	for _, c := range Codes {
		if len(c.Tag) != 4 {
			t.Errorf("%q: tag is not 4 bytes", c.Tag)
		}
		for i := 0; i < len(c.Tag); i++ {
			if b := c.Tag[i]; b < 0x21 || b > 0x7e {
				t.Errorf("%q: tag byte %d is not printable ASCII", c.Tag, i)
			}
		}
		if tags[c.Tag] {
			t.Errorf("%q: duplicate tag", c.Tag)
		}
		if names[c.Name] {
			t.Errorf("%q: duplicate name %q", c.Tag, c.Name)
		}
		tags[c.Tag], names[c.Name] = true, true
		if c.Type < Byte || c.Type > Container {
			t.Errorf("%q: type %d out of 1-12", c.Tag, c.Type)
		}
		if !strings.Contains(c.Name, ".") || strings.ContainsAny(c.Name, " \t") {
			t.Errorf("%q: name %q is not a dotted name", c.Tag, c.Name)
		}
		if got, ok := Lookup(c.Tag); !ok || got != c {
			t.Errorf("Lookup(%q) = %v, %v", c.Tag, got, ok)
		}
		if got, ok := ByName(c.Name); !ok || got != c {
			t.Errorf("ByName(%q) = %v, %v", c.Name, got, ok)
		}
	}
	if _, ok := Lookup("zzzz"); ok {
		t.Error("Lookup(zzzz) found a code")
	}
}

// TestCodesWidths pins the widths clients depend on (daap.md, compat-check).
func TestCodesWidths(t *testing.T) {
	want := map[string]int{
		"mstt": 4, "miid": 4, "mper": 8, "mikd": 1, "mcti": 4, "mpco": 4, "mimc": 4, "mctc": 4,
		"mlid": 4, "musr": 4, "muty": 1, "mtco": 4, "mrco": 4, "msdc": 4, "mstm": 4, "msau": 1,
		"aeSV": 4, "ated": 2, "asgr": 2, "asai": 8, "asbr": 2, "astm": 4, "astn": 2, "astc": 2,
		"asdn": 2, "asdc": 2, "asyr": 2, "assr": 4, "assz": 4, "asco": 1, "aeMK": 1, "aeMk": 4,
		"ased": 2, "asac": 2, "aeHV": 1, "asda": 4, "asdm": 4, "asdk": 1, "abpl": 1, "aeSP": 1,
		"aePS": 1, "asrv": 1, "mcty": 2, "mcnm": 4, "mpro": 4, "apro": 4, "mshc": 2,
	}
	for tag, w := range want {
		c, ok := Lookup(tag)
		if !ok {
			t.Errorf("%s missing", tag)
			continue
		}
		if c.Type.Width() != w {
			t.Errorf("%s: width %d, want %d", tag, c.Type.Width(), w)
		}
	}
	for _, c := range Codes {
		if c.Type.Signed() && c.Tag != "asrv" && c.Tag != "msto" {
			t.Errorf("%s: signed type %s; only truly signed fields may be", c.Tag, c.Type)
		}
	}
}

// libdmapTable reads testdata/libdmapsharing-2.9.41.txt: "tag type" lines,
// the content-code table of Debian bookworm's libdmapsharing-3.0.so.2.
func libdmapTable(t *testing.T) map[string]Type {
	f, err := os.Open("testdata/libdmapsharing-2.9.41.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m := map[string]Type{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		tag, typ, ok := strings.Cut(line, " ")
		n, err := strconv.Atoi(typ)
		if !ok || err != nil {
			t.Fatalf("bad line %q", line)
		}
		m[tag] = Type(n)
	}
	return m
}

// libdmapWidth is libdmapsharing's width per type; 42 is its "pointer".
func libdmapWidth(t Type) int {
	if t == 42 {
		return 0
	}
	return t.Width()
}

func TestCodesClassic(t *testing.T) {
	lib := libdmapTable(t)
	for _, c := range Codes {
		lt, known := lib[c.Tag]
		same := known && libdmapWidth(lt) == c.Type.Width() && (lt == Container) == (c.Type == Container) &&
			(lt == String) == (c.Type == String)
		switch {
		case c.Classic && !known:
			t.Errorf("%s is Classic but not in libdmapsharing 2.9.41", c.Tag)
		case c.Classic && !same:
			t.Errorf("%s is Classic but libdmapsharing has type %d, we %d", c.Tag, lt, c.Type)
		case !c.Classic && same:
			t.Errorf("%s is in libdmapsharing 2.9.41 with the same width but not marked Classic", c.Tag)
		}
	}
}

// TestCodesClassicLive compares the committed list with the table of the
// installed library, read through ctypes as /work/shared/clients/compat-check.py does.
func TestCodesClassicLive(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not installed")
	}
	out, err := exec.Command(py, "-c", libdmapScript).Output()
	if err != nil {
		t.Skipf("libdmapsharing-3.0.so.2 not readable (install libdmapsharing-3.0-2): %v", err)
	}
	got := map[string]Type{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		tag, typ, _ := strings.Cut(line, " ")
		n, _ := strconv.Atoi(typ)
		got[tag] = Type(n)
	}
	if diff := cmp.Diff(libdmapTable(t), got); diff != "" {
		t.Errorf("testdata/libdmapsharing-2.9.41.txt differs from the installed library (-file +live):\n%s", diff)
	}
}

const libdmapScript = `
import ctypes, struct
class D(ctypes.Structure):
    _fields_ = [("code", ctypes.c_int), ("int_code", ctypes.c_int32), ("name", ctypes.c_char_p),
                ("string", ctypes.c_char_p), ("type", ctypes.c_int)]
lib = ctypes.CDLL("libdmapsharing-3.0.so.2")
lib.dmap_content_codes.restype = ctypes.POINTER(D)
n = ctypes.c_uint()
p = lib.dmap_content_codes(ctypes.byref(n))
for i in range(n.value):
    raw = struct.pack("<i", p[i].int_code)
    if raw != b"\0\0\0\0":
        print(raw.decode("latin-1"), p[i].type)
`
