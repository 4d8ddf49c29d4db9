package probe

import "encoding/binary"

// chunk is one chunk of a WAV, AIFF or DSDIFF file, as the walks meet it.
type chunk struct {
	ID     string // four-character code as written, e.g. "fmt ", "data", "LIST", "id3 ", "ID3 ", "NAME"
	Offset int64  // payload start
	Size   int64  // payload length, clamped to the end of the file
}

// maxChunks bounds every chunk walk.
const maxChunks = 4096

// walkIFF walks chunks with 32-bit sizes in byte order bo, padded to even
// lengths, from off to end. Sizes past end are clamped.
func walkIFF(rd *reader, off, end int64, bo binary.ByteOrder, fn func(chunk) bool) {
	for range maxChunks {
		h := rd.at(off, 8)
		if h == nil || off+8 > end {
			return
		}
		n := int64(bo.Uint32(h[4:]))
		n = min(n, end-off-8)
		if !fn(chunk{ID: string(h[:4]), Offset: off + 8, Size: n}) {
			return
		}
		off += 8 + n + n&1
	}
}

// walkRIFF walks a WAV file's chunks, taking 64-bit sizes from an RF64/BW64
// ds64 chunk when the 32-bit field says 0xFFFFFFFF.
func walkRIFF(rd *reader, fn func(chunk) bool) {
	var ds64 map[string]int64
	walkIFF(rd, 12, rd.size, binary.LittleEndian, func(c chunk) bool {
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
func readDS64(rd *reader, c chunk) map[string]int64 {
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
func walkDFF(rd *reader, off, end int64, fn func(chunk) bool) {
	for range maxChunks {
		h := rd.at(off, 12)
		if h == nil || off+12 > end {
			return
		}
		n := clampInt64(binary.BigEndian.Uint64(h[4:]))
		n = min(n, end-off-12)
		if !fn(chunk{ID: string(h[:4]), Offset: off + 12, Size: n}) {
			return
		}
		off += 12 + n + n&1
	}
}
