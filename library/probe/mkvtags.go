package probe

import "strings"

// Matroska tag elements.
const (
	mkvSeekHead     = 0x114d9b74
	mkvSeek         = 0x4dbb
	mkvSeekID       = 0x53ab
	mkvSeekPosition = 0x53ac
	mkvTags         = 0x1254c367
	mkvTag          = 0x7373
	mkvTargets      = 0x63c0
	mkvTargetType   = 0x68ca
	mkvSimpleTag    = 0x67c8
	mkvTagName      = 0x45a3
	mkvTagString    = 0x4487
	mkvAttachments  = 0x1941a469
	mkvAttachedFile = 0x61a7
	mkvFileName     = 0x466e
	mkvFileMIME     = 0x4660
	mkvFileData     = 0x465c
	mkvTitle        = 0x7ba9
)

// maxMKVTags and maxMKVAttachments bound the Blocks one Matroska file
// reports (within maxTagBlocks).
const (
	maxMKVTags        = 200
	maxMKVAttachments = 16
)

// mkvTagWalk follows the Segment's tags while probeMKV walks its top
// level: Tags and Attachments met there or pointed at by the SeekHead
// (written after the media data), and the Info title. Each SimpleTag
// becomes a BlockMKVTag, each attached file a BlockAttachment; the title
// comes last, as a track-level TITLE that any tag saying so outranks.
type mkvTagWalk struct {
	rd      *reader
	segment ebmlElem
	done    map[int64]bool // element offsets read
	tags    int
	atts    int
	title   ebmlElem
}

// elem handles one top-level element of the segment.
func (w *mkvTagWalk) elem(e ebmlElem) {
	rd := w.rd
	switch e.id {
	case mkvSeekHead:
		ebmlChildren(rd, e.start, e.end, func(s ebmlElem) bool {
			if s.id != mkvSeek {
				return true
			}
			var id int64
			var pos uint64
			ebmlChildren(rd, s.start, s.end, func(c ebmlElem) bool {
				switch c.id {
				case mkvSeekID:
					id = int64(ebmlUint(c.payload(rd)))
				case mkvSeekPosition:
					pos = ebmlUint(c.payload(rd))
				}
				return true
			})
			if (id == mkvTags || id == mkvAttachments) && pos < uint64(w.segment.end-w.segment.start) {
				if t, ok := w.at(w.segment.start + int64(pos)); ok && t.id == id {
					w.read(t)
				}
			}
			return true
		})
	case mkvTags, mkvAttachments:
		w.read(e)
	case mkvInfo:
		ebmlChildren(rd, e.start, e.end, func(c ebmlElem) bool {
			if c.id == mkvTitle {
				w.title = c
			}
			return true
		})
	}
}

// finish reports the title, if any.
func (w *mkvTagWalk) finish() {
	if w.title.end > w.title.start {
		w.rd.block(Block{Kind: BlockMKVTag, ID: "TITLE", Offset: w.title.start, Size: min(w.title.end-w.title.start, 4096)})
	}
}

// at reads the header of the element at off, within the segment.
func (w *mkvTagWalk) at(off int64) (ebmlElem, bool) {
	var out ebmlElem
	ok := false
	ebmlChildren(w.rd, off, w.segment.end, func(e ebmlElem) bool {
		out, ok = e, true
		return false
	})
	return out, ok
}

// read reports the tags or attachments of e, once per element.
func (w *mkvTagWalk) read(e ebmlElem) {
	if w.done[e.start] {
		return
	}
	if w.done == nil {
		w.done = map[int64]bool{}
	}
	w.done[e.start] = true
	rd := w.rd
	switch e.id {
	case mkvTags:
		ebmlChildren(rd, e.start, e.end, func(t ebmlElem) bool {
			if t.id == mkvTag {
				w.readTag(t)
			}
			return w.tags < maxMKVTags
		})
	case mkvAttachments:
		ebmlChildren(rd, e.start, e.end, func(f ebmlElem) bool {
			if f.id != mkvAttachedFile {
				return true
			}
			var name, mime string
			var data ebmlElem
			ebmlChildren(rd, f.start, f.end, func(c ebmlElem) bool {
				switch c.id {
				case mkvFileName:
					name = string(c.payload(rd))
				case mkvFileMIME:
					mime = string(c.payload(rd))
				case mkvFileData:
					data = c
				}
				return true
			})
			if data.end > data.start {
				typ := 0
				if strings.HasPrefix(strings.ToLower(name), "cover") {
					typ = 3 // a front cover, as ID3 and FLAC number picture types
				}
				rd.block(Block{Kind: BlockAttachment, ID: mime, Type: typ, Offset: data.start, Size: data.end - data.start})
				w.atts++
			}
			return w.atts < maxMKVAttachments
		})
	}
}

// readTag reports the SimpleTags of Tag t.
func (w *mkvTagWalk) readTag(t ebmlElem) {
	rd := w.rd
	target := 0
	ebmlChildren(rd, t.start, t.end, func(c ebmlElem) bool {
		switch c.id {
		case mkvTargets:
			ebmlChildren(rd, c.start, c.end, func(x ebmlElem) bool {
				if x.id == mkvTargetType {
					target = int(min(ebmlUint(x.payload(rd)), 100))
				}
				return true
			})
		case mkvSimpleTag:
			var name string
			var value ebmlElem
			ebmlChildren(rd, c.start, c.end, func(x ebmlElem) bool {
				switch x.id {
				case mkvTagName:
					name = string(x.payload(rd))
				case mkvTagString:
					value = x
				}
				return true
			})
			if name != "" && value.end > value.start && w.tags < maxMKVTags {
				rd.block(Block{Kind: BlockMKVTag, ID: name, Type: target, Offset: value.start, Size: min(value.end-value.start, 4096)})
				w.tags++
			}
		}
		return true
	})
}
