package dmap

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/daapd/daapd/internal/testkit"
)

// replies are realistic DAAP replies, built with a strict Builder. Their
// bytes are pinned in testdata/<name>.dmap and their dumps in
// testdata/<name>.golden.
var replies = []struct {
	name  string
	build func(b *Builder)
}{
	{"server-info", func(b *Builder) {
		b.Container("msrv", func(b *Builder) {
			b.Int("mstt", 200)
			b.Version("mpro", 2, 0, 10)
			b.String("minm", "Música")
			b.Version("apro", 3, 0, 12)
			b.Int("aeSV", 3<<16|12)
			b.Int("ated", 7)
			b.Int("asgr", 3)
			for _, tag := range []string{"aeMQ", "aeTr", "aeSL", "aeSR"} {
				b.Int(tag, 1)
			}
			b.Int("msed", 0)
			b.Int("mslr", 1)
			b.Int("mstm", 1800)
			b.Int("msal", 1)
			b.Int("msau", 2)
			for _, tag := range []string{"msup", "mspi", "msex", "msbr", "msqy", "msix"} {
				b.Int(tag, 1)
			}
			b.Int("msdc", 1)
		})
	}},
	{"login", func(b *Builder) {
		b.Container("mlog", func(b *Builder) {
			b.Int("mstt", 200)
			b.Int("mlid", 0xdeadbeef)
		})
	}},
	{"update", func(b *Builder) {
		b.Container("mupd", func(b *Builder) {
			b.Int("mstt", 200)
			b.Int("musr", 2)
		})
	}},
	{"content-codes", func(b *Builder) {
		b.Container("mccr", func(b *Builder) {
			b.Int("mstt", 200)
			for _, tag := range []string{"mstt", "minm", "mper", "asrv", "asda", "apro", "mlit"} {
				c, _ := Lookup(tag)
				b.Container("mdcl", func(b *Builder) {
					b.Raw("mcnm", []byte(c.Tag))
					b.String("mcna", c.Name)
					b.Int("mcty", int64(c.Type))
				})
			}
		})
	}},
	{"databases", func(b *Builder) {
		b.Container("avdb", func(b *Builder) {
			b.Int("mstt", 200)
			b.Int("muty", 0)
			b.Int("mtco", 1)
			b.Int("mrco", 1)
			b.Container("mlcl", func(b *Builder) {
				b.Container("mlit", func(b *Builder) {
					b.Int("miid", 1)
					b.Int("mper", 1)
					b.Int("mdbk", 1)
					b.Int("aeCs", 1)
					b.String("minm", "Library")
					b.Int("mimc", 2)
					b.Int("mctc", 1)
					b.Int("meds", 3)
				})
			})
		})
	}},
	{"items", func(b *Builder) {
		b.Container("adbs", func(b *Builder) {
			b.Int("mstt", 200)
			b.Int("muty", 1)
			b.Int("mtco", 2)
			b.Int("mrco", 2)
			b.Container("mlcl", func(b *Builder) {
				for i, title := range []string{"Song One", "Zweites Lied"} {
					b.Container("mlit", func(b *Builder) {
						b.Int("mikd", 2)
						b.Int("miid", int64(101+i))
						b.String("minm", title)
						b.Int("mper", -0x123456789abcdef)
						b.String("asal", "Album")
						b.String("asar", "Artist")
						b.String("asaa", "Artist")
						b.Int("asai", 0x7fedcba987654321)
						b.String("asgn", "Rock")
						b.Int("astm", 215000)
						b.Int("astn", int64(i+1))
						b.Int("astc", 2)
						b.Int("asdn", 1)
						b.Int("asdc", 1)
						b.Int("asyr", 1999)
						b.String("asfm", "mp3")
						b.String("asdt", "MPEG audio file")
						b.Int("assz", 3456789)
						b.Int("asbr", 320)
						b.Int("assr", 44100)
						b.Int("asco", 0)
						b.Date("asda", time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC))
						b.Date("asdm", time.Date(2023, 12, 31, 23, 59, 59, 0, time.UTC))
						b.Int("asdk", 0)
						b.Int("aeMK", 1)
						b.Int("aeMk", 1)
						b.Int("ased", 1)
						b.Int("asac", 1)
						b.Int("aeHV", 0)
						b.Int("asrv", -12)
						b.String("assa", "Artist, The")
					})
				}
			})
			b.Container("mudl", func(b *Builder) { b.Int("miid", 99) })
		})
	}},
	{"containers", func(b *Builder) {
		b.Container("aply", func(b *Builder) {
			b.Int("mstt", 200)
			b.Int("muty", 0)
			b.Int("mtco", 2)
			b.Int("mrco", 2)
			b.Container("mlcl", func(b *Builder) {
				b.Container("mlit", func(b *Builder) {
					b.Int("miid", 1)
					b.String("minm", "Library")
					b.Int("mper", 1)
					b.Int("mimc", 2)
					b.Int("mpco", 0)
					b.Int("abpl", 1)
				})
				b.Container("mlit", func(b *Builder) {
					b.Int("miid", 2)
					b.String("minm", "Music")
					b.Int("mper", 2)
					b.Int("aeSP", 1)
					b.Int("aePS", 6)
					b.Int("mimc", 2)
					b.Int("mpco", 0)
				})
			})
		})
	}},
	{"container-items", func(b *Builder) {
		b.Container("apso", func(b *Builder) {
			b.Int("mstt", 200)
			b.Int("muty", 0)
			b.Int("mtco", 2)
			b.Int("mrco", 2)
			b.Container("mlcl", func(b *Builder) {
				for i := range 2 {
					b.Container("mlit", func(b *Builder) {
						b.Int("mikd", 2)
						b.Int("miid", 101)
						b.Int("mcti", int64(1+i))
						b.Int("mpco", 2)
					})
				}
			})
		})
	}},
	{"browse", func(b *Builder) {
		b.Container("abro", func(b *Builder) {
			b.Int("mstt", 200)
			b.Int("mtco", 2)
			b.Int("mrco", 2)
			b.Container("abar", func(b *Builder) {
				b.Raw("mlit", []byte("Artist"))
				b.Raw("mlit", []byte("Ärzte, Die"))
			})
		})
	}},
	{"groups", func(b *Builder) {
		b.Container("agal", func(b *Builder) {
			b.Int("mstt", 200)
			b.Int("muty", 0)
			b.Int("mtco", 1)
			b.Int("mrco", 1)
			b.Container("mlcl", func(b *Builder) {
				b.Container("mlit", func(b *Builder) {
					b.String("minm", "Album")
					b.Int("mper", 0x7fedcba987654321)
					b.String("asaa", "Artist")
					b.Int("mimc", 2)
					b.Int("miid", 5)
				})
			})
			b.Container("mshl", func(b *Builder) {
				b.Container("mlit", func(b *Builder) {
					b.Int("mshc", 'A')
					b.Int("mshi", 0)
					b.Int("mshn", 1)
				})
			})
		})
	}},
	{"error", func(b *Builder) {
		b.Container("mupd", func(b *Builder) {
			b.Int("mstt", 500)
			b.String("msts", "Invalid revision-number")
		})
	}},
}

// TestGolden pins exact bytes and dumps. go test ./daap/dmap -update rewrites them.
func TestGolden(t *testing.T) {
	for _, r := range replies {
		t.Run(r.name, func(t *testing.T) {
			b := Builder{Strict: true}
			r.build(&b)
			dump, err := Dump(b.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			raw := filepath.Join("testdata", r.name+".dmap")
			golden := filepath.Join("testdata", r.name+".golden")
			testkit.Golden(t, raw, b.Bytes())
			testkit.Golden(t, golden, []byte(dump))
			wantRaw, err := os.ReadFile(raw)
			if err != nil {
				t.Fatal(err)
			}
			elems, err := Decode(wantRaw)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(Encode(elems), wantRaw) {
				t.Error("Encode(Decode(b)) != b")
			}
		})
	}
}

func TestDecode(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []Element
	}{
		{"empty", "", nil},
		{"leaf", hdr("miid", 4) + "\x00\x00\x00\x05", []Element{{Tag: "miid", Value: []byte{0, 0, 0, 5}}}},
		{"empty container", hdr("mlcl", 0), []Element{{Tag: "mlcl", Children: []Element{}}}},
		{"unknown tag is opaque", hdr("zzzz", 8) + hdr("miid", 0),
			[]Element{{Tag: "zzzz", Value: []byte(hdr("miid", 0))}}},
		{"browse mlit is a string", hdr("abgn", 12) + hdr("mlit", 4) + "Rock",
			[]Element{{Tag: "abgn", Children: []Element{{Tag: "mlit", Value: []byte("Rock")}}}}},
		{"composer browse too", hdr("abcp", 9) + hdr("mlit", 1) + "B",
			[]Element{{Tag: "abcp", Children: []Element{{Tag: "mlit", Value: []byte("B")}}}}},
		{"mlit elsewhere is a container", hdr("mlcl", 17) + hdr("mlit", 9) + hdr("mikd", 1) + "\x02",
			[]Element{{Tag: "mlcl", Children: []Element{{Tag: "mlit", Children: []Element{
				{Tag: "mikd", Value: []byte{2}}}}}}}},
		{"siblings", hdr("mstt", 0) + hdr("minm", 1) + "x",
			[]Element{{Tag: "mstt", Value: []byte{}}, {Tag: "minm", Value: []byte("x")}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Decode([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got, cmp.Comparer(func(a, b []byte) bool { return bytes.Equal(a, b) })); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if !bytes.Equal(Encode(got), []byte(tt.in)) {
				t.Errorf("Encode = %q, want %q", Encode(got), tt.in)
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	deep := ""
	for range MaxDepth + 1 {
		deep = hdr("mlcl", len(deep)) + deep
	}
	tests := []struct {
		name, in, want string
	}{
		{"short header", "mlc", "3 trailing bytes at offset 0"},
		{"length past end", hdr("minm", 5) + "abc", `"minm" at offset 0 claims 5 bytes, 3 left`},
		{"huge length", "minm\xff\xff\xff\xff", "claims 4294967295 bytes, 0 left"},
		{"inside container", hdr("mlcl", 9) + hdr("minm", 2) + "a", `"minm" at offset 8 claims 2 bytes, 1 left`},
		{"trailing in container", hdr("mlcl", 3) + "abc", "3 trailing bytes at offset 8"},
		{"too deep", deep, "nested deeper than 32"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode([]byte(tt.in))
			if err == nil || !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want ErrMalformed containing %q", err, tt.want)
			}
			if _, err := Dump([]byte(tt.in)); err == nil {
				t.Error("Dump: no error")
			}
		})
	}
	// Exactly MaxDepth nested containers decode.
	ok := ""
	for range MaxDepth {
		ok = hdr("mlcl", len(ok)) + ok
	}
	if _, err := Decode([]byte(ok)); err != nil {
		t.Errorf("depth %d: %v", MaxDepth, err)
	}
}

func TestDumpValues(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"wrong width", hdr("miid", 2) + "\x00\x05", "miid  dmap.itemid  0x0005 (2 bytes), want 4\n"},
		{"unknown", hdr("zzzz", 2) + "hi", "zzzz  ?  0x6869 (2 bytes)\n"},
		{"binary tag", "\x00\x01zz" + hdr("", 0)[0:4], `"\x00\x01zz"  ?  0x (0 bytes)` + "\n"},
		{"signed long", hdr("msto", 4) + "\xff\xff\xf1\xf0", "msto  dmap.utcoffset  -3600\n"},
		{"mcnm non-printable", hdr("mcnm", 4) + "\x00\x00\x00\x01", "mcnm  dmap.contentcodesnumber  1\n"},
		{"long", hdr("mper", 8) + strings.Repeat("\xff", 8), "mper  dmap.persistentid  18446744073709551615\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Dump([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestElementHelpers(t *testing.T) {
	b := Builder{Strict: true}
	b.Container("mlog", func(b *Builder) {
		b.Int("mstt", 200)
		b.Int("mlid", 42)
	})
	elems, err := Decode(b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	id, ok := elems[0].Child("mlid")
	if !ok || id.Uint() != 42 {
		t.Errorf("Child(mlid) = %v, %v", id, ok)
	}
	if _, ok := elems[0].Child("musr"); ok {
		t.Error("Child(musr) found")
	}
}

func FuzzDecode(f *testing.F) {
	for _, r := range replies {
		b := Builder{Strict: true}
		r.build(&b)
		f.Add(b.Bytes())
	}
	f.Add([]byte(hdr("abar", 9) + hdr("mlit", 1) + "x"))
	f.Add([]byte("minm\xff\xff\xff\xff"))
	f.Fuzz(func(t *testing.T, data []byte) {
		elems, err := Decode(data)
		if _, derr := Dump(data); (derr == nil) != (err == nil) {
			t.Fatalf("Decode err %v, Dump err %v", err, derr)
		}
		if err != nil {
			return
		}
		if out := Encode(elems); !bytes.Equal(out, data) {
			t.Fatalf("re-encoded %q, want %q", out, data)
		}
	})
}
