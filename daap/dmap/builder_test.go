package dmap

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func hdr(tag string, n int) string {
	return tag + string([]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)})
}

func TestBuilderEncoding(t *testing.T) {
	tests := []struct {
		name  string
		build func(b *Builder)
		want  string
	}{
		{"byte", func(b *Builder) { b.Int("mikd", 2) }, hdr("mikd", 1) + "\x02"},
		{"byte max", func(b *Builder) { b.Int("msau", 255) }, hdr("msau", 1) + "\xff"},
		{"signed byte", func(b *Builder) { b.Int("asrv", -1) }, hdr("asrv", 1) + "\xff"},
		{"short", func(b *Builder) { b.Int("asyr", 2024) }, hdr("asyr", 2) + "\x07\xe8"},
		{"int", func(b *Builder) { b.Int("mstt", 200) }, hdr("mstt", 4) + "\x00\x00\x00\xc8"},
		{"int max", func(b *Builder) { b.Int("miid", 1<<32-1) }, hdr("miid", 4) + "\xff\xff\xff\xff"},
		{"long", func(b *Builder) { b.Int("mper", 0x0102030405060708) }, hdr("mper", 8) + "\x01\x02\x03\x04\x05\x06\x07\x08"},
		{"long above MaxInt64", func(b *Builder) { b.Int("asai", -1) }, hdr("asai", 8) + strings.Repeat("\xff", 8)},
		{"string", func(b *Builder) { b.String("minm", "Café") }, hdr("minm", 5) + "Café"},
		{"empty string", func(b *Builder) { b.String("asal", "") }, hdr("asal", 0)},
		{"invalid UTF-8", func(b *Builder) { b.String("asar", "a\xffb") }, hdr("asar", 5) + "a\uFFFDb"},
		{"date", func(b *Builder) { b.Date("asda", time.Unix(0x5f5e1000, 0)) }, hdr("asda", 4) + "\x5f\x5e\x10\x00"},
		{"zero date", func(b *Builder) { b.Date("asdm", time.Time{}) }, hdr("asdm", 4) + "\x00\x00\x00\x00"},
		{"date before 1970", func(b *Builder) { b.Date("asdm", time.Unix(-5, 0)) }, hdr("asdm", 4) + "\x00\x00\x00\x00"},
		{"date after 2106", func(b *Builder) { b.Date("asdm", time.Unix(1<<33, 0)) }, hdr("asdm", 4) + "\xff\xff\xff\xff"},
		{"version", func(b *Builder) { b.Version("apro", 3, 0, 12) }, hdr("apro", 4) + "\x00\x03\x00\x0c"},
		{"raw", func(b *Builder) { b.Raw("mcnm", []byte("minm")) }, hdr("mcnm", 4) + "minm"},
		{"empty container", func(b *Builder) { b.Container("mlcl", func(*Builder) {}) }, hdr("mlcl", 0)},
		{"nested containers", func(b *Builder) {
			b.Container("mlog", func(b *Builder) {
				b.Int("mstt", 200)
				b.Container("mlcl", func(b *Builder) { b.Int("mikd", 2) })
			})
		}, hdr("mlog", 12+17) + hdr("mstt", 4) + "\x00\x00\x00\xc8" + hdr("mlcl", 9) + hdr("mikd", 1) + "\x02"},
		{"append encoded", func(b *Builder) {
			b.Container("mlcl", func(b *Builder) { b.AppendEncoded([]byte(hdr("mikd", 1) + "\x02")) })
		}, hdr("mlcl", 9) + hdr("mikd", 1) + "\x02"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := Builder{Strict: true}
			tt.build(&b)
			if diff := cmp.Diff([]byte(tt.want), b.Bytes()); diff != "" {
				t.Errorf("bytes (-want +got):\n%s", diff)
			}
			if b.Len() != len(tt.want) {
				t.Errorf("Len = %d, want %d", b.Len(), len(tt.want))
			}
			b.Reset()
			if b.Len() != 0 {
				t.Errorf("Len after Reset = %d", b.Len())
			}
		})
	}
}

func TestBuilderStrictPanics(t *testing.T) {
	tests := []struct {
		name  string
		build func(b *Builder)
		want  string
	}{
		{"unknown tag", func(b *Builder) { b.Int("xxxx", 1) }, `unknown tag "xxxx"`},
		{"unknown string tag", func(b *Builder) { b.String("xxxx", "") }, `unknown tag "xxxx"`},
		{"unknown raw tag", func(b *Builder) { b.Raw("xxxx", nil) }, `unknown tag "xxxx"`},
		{"int on string", func(b *Builder) { b.Int("minm", 1) }, "Int on minm, a string"},
		{"int on date", func(b *Builder) { b.Int("asda", 1) }, "Int on asda, a date"},
		{"string on int", func(b *Builder) { b.String("miid", "1") }, "String on miid, a int"},
		{"container on int", func(b *Builder) { b.Container("miid", func(*Builder) {}) }, "Container on miid"},
		{"date on int", func(b *Builder) { b.Date("miid", time.Now()) }, "Date on miid"},
		{"version on int", func(b *Builder) { b.Version("mstt", 1, 0, 0) }, "Version on mstt"},
		{"byte overflow", func(b *Builder) { b.Int("mikd", 256) }, "256 does not fit mikd"},
		{"negative unsigned", func(b *Builder) { b.Int("miid", -1) }, "-1 does not fit miid"},
		{"short overflow", func(b *Builder) { b.Int("asyr", 65536) }, "does not fit asyr"},
		{"signed byte overflow", func(b *Builder) { b.Int("asrv", 128) }, "does not fit asrv"},
		{"raw wrong width", func(b *Builder) { b.Raw("mcnm", []byte("abc")) }, "Raw mcnm with 3 bytes, want 4"},
		{"short tag", func(b *Builder) { b.Strict = false; b.Raw("abc", nil) }, "not 4 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				r := recover()
				if r == nil || !strings.Contains(fmt.Sprint(r), tt.want) {
					t.Errorf("panic %v, want one containing %q", r, tt.want)
				}
			}()
			tt.build(&Builder{Strict: true})
		})
	}
}

func TestBuilderLenient(t *testing.T) {
	var b Builder
	b.Int("xxxx", 7)      // unknown: 4 bytes
	b.Int("mikd", 0x1ff)  // truncated to the width
	b.String("miid", "s") // type mismatch is written as asked
	want := hdr("xxxx", 4) + "\x00\x00\x00\x07" + hdr("mikd", 1) + "\xff" + hdr("miid", 1) + "s"
	if !bytes.Equal(b.Bytes(), []byte(want)) {
		t.Errorf("got %q, want %q", b.Bytes(), want)
	}
}

func TestTypeMethods(t *testing.T) {
	for typ := Byte; typ <= Container; typ++ {
		if typ.String() == "" || strings.HasPrefix(typ.String(), "type(") {
			t.Errorf("%d has no name", typ)
		}
	}
	if Type(13).String() != "type(13)" || Type(13).Width() != 0 {
		t.Error("Type(13)")
	}
	if !SignedInt.Signed() || Int.Signed() || String.Integer() {
		t.Error("Signed/Integer")
	}
}
