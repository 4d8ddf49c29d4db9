package probe

import (
	"encoding/binary"
	"io"
)

// Chunk is the location of one top-level chunk of a WAV, AIFF, DSF or
// DSDIFF file, for tag readers: the ID3v2 tag of a WAV is the payload of its
// "id3 " (or "ID3 ") chunk, of an AIFF its "ID3 " chunk, and so on.
type Chunk struct {
	ID     string // four-character code as written, e.g. "fmt ", "data", "LIST", "id3 ", "ID3 ", "NAME"
	Offset int64  // payload start
	Size   int64  // payload length, clamped to the end of the file
}

// Chunks lists the top-level chunks of a WAV (RIFF, RF64, BW64), AIFF/AIFC,
// DSF or DSDIFF file. For DSF, whose tag sits at a metadata pointer rather
// than in a chunk, the tag is reported as an "ID3 " chunk. Other formats
// give ErrUnknownFormat. At most 4096 chunks are listed.
func Chunks(r io.ReaderAt, size int64) ([]Chunk, error) {
	rd := newReader(r, size)
	defer rd.release()
	head := rd.at(0, 12)
	if head == nil {
		return nil, rd.fail(ErrUnknownFormat)
	}
	var out []Chunk
	collect := func(c Chunk) bool { out = append(out, c); return true }
	switch string(head[:4]) {
	case "RIFF", "RF64", "BW64":
		if string(head[8:12]) != "WAVE" {
			return nil, ErrUnknownFormat
		}
		walkRIFF(rd, collect)
	case "FORM":
		if t := string(head[8:12]); t != "AIFF" && t != "AIFC" {
			return nil, ErrUnknownFormat
		}
		walkIFF(rd, 12, rd.size, binary.BigEndian, collect)
	case "FRM8":
		walkDFF(rd, 16, rd.size, collect)
	case "DSD ":
		b := rd.at(0, 28)
		if b == nil {
			return nil, rd.fail(ErrTruncated)
		}
		if p := int64(binary.LittleEndian.Uint64(b[20:])); p > 0 && p < size {
			out = append(out, Chunk{ID: "ID3 ", Offset: p, Size: size - p})
		}
	default:
		return nil, ErrUnknownFormat
	}
	return out, rd.err
}

// FLACBlocks lists the metadata blocks of a FLAC file (after any leading
// ID3v2 tag). Sizes are as declared; a block whose Size runs past the file
// end is the last one listed, and tag readers should treat it as corrupt.
func FLACBlocks(r io.ReaderAt, size int64) ([]FLACBlock, error) {
	rd := newReader(r, size)
	defer rd.release()
	start := skipID3v2(rd, 0)
	if string(rd.at(start, 4)) != "fLaC" {
		return nil, rd.fail(ErrUnknownFormat)
	}
	blocks, _, _ := flacBlocks(rd, start)
	return blocks, rd.err
}

// maxChunks bounds every chunk walk.
const maxChunks = 4096

// walkIFF walks chunks with 32-bit sizes in byte order bo, padded to even
// lengths, from off to end. Sizes past end are clamped.
func walkIFF(rd *reader, off, end int64, bo binary.ByteOrder, fn func(Chunk) bool) {
	for range maxChunks {
		h := rd.at(off, 8)
		if h == nil || off+8 > end {
			return
		}
		n := int64(bo.Uint32(h[4:]))
		n = min(n, end-off-8)
		if !fn(Chunk{ID: string(h[:4]), Offset: off + 8, Size: n}) {
			return
		}
		off += 8 + n + n&1
	}
}

// walkRIFF walks a WAV file's chunks, taking 64-bit sizes from an RF64/BW64
// ds64 chunk when the 32-bit field says 0xFFFFFFFF.
func walkRIFF(rd *reader, fn func(Chunk) bool) {
	var ds64 map[string]int64
	walkIFF(rd, 12, rd.size, binary.LittleEndian, func(c Chunk) bool {
		switch {
		case c.ID == "ds64":
			ds64 = readDS64(rd, c)
		case ds64 != nil:
			if n, ok := ds64[c.ID]; ok {
				raw := rd.at(c.Offset-4, 4)
				if raw != nil && binary.LittleEndian.Uint32(raw) == 0xffffffff {
					c.Size = min(n, rd.size-c.Offset)
					if !fn(c) {
						return false
					}
					// Continue the walk after the real (64-bit) chunk end.
					walkIFF(rd, c.Offset+c.Size+c.Size&1, rd.size, binary.LittleEndian, fn)
					return false
				}
			}
		}
		return fn(c)
	})
}

// readDS64 reads the 64-bit sizes of an RF64 ds64 chunk: the data chunk's,
// plus any listed in its table.
func readDS64(rd *reader, c Chunk) map[string]int64 {
	b := rd.at(c.Offset, int(min(c.Size, 28)))
	if len(b) < 24 {
		return nil
	}
	m := map[string]int64{"data": clampInt64(binary.LittleEndian.Uint64(b[8:]))}
	if len(b) >= 28 {
		n := int(min(binary.LittleEndian.Uint32(b[24:]), 64))
		t := rd.at(c.Offset+28, int(min(int64(n*12), c.Size-28)))
		for i := 0; i+12 <= len(t); i += 12 {
			m[string(t[i:i+4])] = clampInt64(binary.LittleEndian.Uint64(t[i+4:]))
		}
	}
	return m
}

func clampInt64(u uint64) int64 {
	return int64(min(u, 1<<62))
}

// walkDFF walks DSDIFF chunks: 64-bit big-endian sizes, even padding.
func walkDFF(rd *reader, off, end int64, fn func(Chunk) bool) {
	for range maxChunks {
		h := rd.at(off, 12)
		if h == nil || off+12 > end {
			return
		}
		n := clampInt64(binary.BigEndian.Uint64(h[4:]))
		n = min(n, end-off-12)
		if !fn(Chunk{ID: string(h[:4]), Offset: off + 12, Size: n}) {
			return
		}
		off += 12 + n + n&1
	}
}
