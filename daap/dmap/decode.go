package dmap

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// MaxDepth is how deeply Decode follows nested containers.
const MaxDepth = 32

// Element is one decoded element. A container (by the table's type) has
// Children and a nil Value; every other element, including unknown tags,
// has its raw payload in Value.
type Element struct {
	Tag      string
	Value    []byte
	Children []Element
}

// ErrMalformed is wrapped by every Decode error.
var ErrMalformed = errors.New("dmap: malformed")

// Decode parses a sequence of elements. It checks every length against the
// bytes left and stops at MaxDepth. Containers are recognised by their type
// in Codes; unknown tags are opaque leaves. An mlit directly inside a browse
// listing (abar, abal, abgn, abcp) holds a string and is a leaf.
func Decode(data []byte) ([]Element, error) {
	return decode(data, "", 0, 0)
}

func decode(data []byte, parent string, depth, base int) ([]Element, error) {
	if depth > MaxDepth {
		return nil, fmt.Errorf("%w: nested deeper than %d at offset %d", ErrMalformed, MaxDepth, base)
	}
	var out []Element
	for off := 0; off < len(data); {
		if len(data)-off < 8 {
			return nil, fmt.Errorf("%w: %d trailing bytes at offset %d", ErrMalformed, len(data)-off, base+off)
		}
		var tag string
		if c, ok := byTag[string(data[off:off+4])]; ok {
			tag = c.Tag // no allocation
		} else {
			tag = string(data[off : off+4])
		}
		n := binary.BigEndian.Uint32(data[off+4:])
		off += 8
		if uint64(n) > uint64(len(data)-off) {
			return nil, fmt.Errorf("%w: %q at offset %d claims %d bytes, %d left", ErrMalformed, tag, base+off-8, n, len(data)-off)
		}
		payload := data[off : off+int(n)]
		e := Element{Tag: tag}
		if isContainer(tag, parent) {
			kids, err := decode(payload, tag, depth+1, base+off)
			if err != nil {
				return nil, err
			}
			if kids == nil {
				kids = []Element{}
			}
			e.Children = kids
		} else {
			e.Value = payload
		}
		out = append(out, e)
		off += int(n)
	}
	return out, nil
}

func isContainer(tag, parent string) bool {
	if tag == "mlit" && isBrowseListing(parent) {
		return false
	}
	c, ok := Lookup(tag)
	return ok && c.Type == Container
}

func isBrowseListing(tag string) bool {
	switch tag {
	case "abar", "abal", "abgn", "abcp":
		return true
	}
	return false
}

// Encode writes elements back to bytes: containers from their Children,
// everything else from Value. Encode(Decode(b)) == b for valid input.
func Encode(elems []Element) []byte {
	var b Builder
	encode(&b, elems)
	return b.Bytes()
}

func encode(b *Builder, elems []Element) {
	for _, e := range elems {
		if e.Children != nil {
			b.Container(e.Tag, func(b *Builder) { encode(b, e.Children) })
		} else {
			b.Raw(e.Tag, e.Value)
		}
	}
}

// Child returns the first child with the given tag.
func (e Element) Child(tag string) (Element, bool) {
	for _, c := range e.Children {
		if c.Tag == tag {
			return c, true
		}
	}
	return Element{}, false
}

// Uint returns Value as a big-endian unsigned integer (up to 8 bytes).
func (e Element) Uint() uint64 {
	var v uint64
	for i, c := range e.Value {
		if i == 8 {
			break
		}
		v = v<<8 | uint64(c)
	}
	return v
}

// Dump renders elements one per line as "tag  name  value", children
// indented by two spaces. Integers print in decimal (signed for even
// types), strings quoted, dates in RFC 3339 UTC, versions as major.minor.patch.
// A payload whose size does not match its type, and unknown tags, print as
// hex. This text is the golden-file format.
func Dump(data []byte) (string, error) {
	elems, err := Decode(data)
	if err != nil {
		return "", err
	}
	var sb strings.Builder
	dump(&sb, elems, "", "")
	return sb.String(), nil
}

func dump(sb *strings.Builder, elems []Element, indent, parent string) {
	for _, e := range elems {
		c, known := Lookup(e.Tag)
		name := c.Name
		if !known {
			name = "?"
		}
		tag := e.Tag
		if !printable([]byte(tag)) {
			tag = strconv.QuoteToASCII(tag)
		}
		sb.WriteString(indent + tag + "  " + name)
		switch {
		case e.Children != nil:
			sb.WriteString("\n")
			dump(sb, e.Children, indent+"  ", e.Tag)
			continue
		case e.Tag == "mlit" && isBrowseListing(parent):
			sb.WriteString("  " + strconv.Quote(string(e.Value)))
		default:
			sb.WriteString("  " + formatValue(c, known, e.Value))
		}
		sb.WriteString("\n")
	}
}

func formatValue(c Code, known bool, v []byte) string {
	hex := fmt.Sprintf("0x%x (%d bytes)", v, len(v))
	if !known {
		return hex
	}
	if w := c.Type.Width(); w != 0 && len(v) != w {
		return hex + ", want " + strconv.Itoa(w)
	}
	u := Element{Value: v}.Uint()
	switch t := c.Type; {
	case c.Tag == "mcnm" && printable(v):
		return strconv.Quote(string(v))
	case t.Signed():
		shift := 64 - 8*len(v)
		return strconv.FormatInt(int64(u<<shift)>>shift, 10)
	case t.Integer():
		return strconv.FormatUint(u, 10)
	case t == String:
		return strconv.Quote(string(v))
	case t == Date:
		return time.Unix(int64(u), 0).UTC().Format(time.RFC3339)
	case t == Version:
		return fmt.Sprintf("%d.%d.%d", u>>16, v[2], v[3])
	}
	return hex
}

func printable(v []byte) bool {
	for _, c := range v {
		if c < 0x20 || c > 0x7e {
			return false
		}
	}
	return true
}
