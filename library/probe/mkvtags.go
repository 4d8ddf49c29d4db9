package probe

import "io"

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

// MKVTag is one Matroska SimpleTag with the target level of its Tag (50
// album, 30 track; 0 when the Tag states none, which means track).
type MKVTag struct {
	Target      int
	Name, Value string
}

// MKVAttachment is an attached file (cover art) and where its data is.
type MKVAttachment struct {
	Name, MIME   string
	Offset, Size int64
}

// maxMKVTags bounds the tags returned.
const maxMKVTags = 512

// MatroskaTags returns the tags and attachments of a Matroska or WebM
// file, following the SeekHead to Tags and Attachments written after the
// media data.
func MatroskaTags(r io.ReaderAt, size int64) ([]MKVTag, []MKVAttachment, error) {
	rd := newReader(r, size)
	defer rd.release()
	var segment ebmlElem
	found := false
	ebmlChildren(rd, 0, rd.size, func(e ebmlElem) bool {
		if e.id == mkvSegment {
			segment, found = e, true
			return false
		}
		return true
	})
	if !found {
		return nil, nil, rd.fail(ErrUnknownFormat)
	}
	var tags []MKVTag
	var atts []MKVAttachment
	var title string         // the segment's title: the track title when no tag says it
	done := map[int64]bool{} // element offsets read
	readElem := func(e ebmlElem) {
		if done[e.start] {
			return
		}
		done[e.start] = true
		switch e.id {
		case mkvTags:
			ebmlChildren(rd, e.start, e.end, func(t ebmlElem) bool {
				if t.id == mkvTag {
					tags = readMKVTag(rd, t, tags)
				}
				return len(tags) < maxMKVTags
			})
		case mkvAttachments:
			ebmlChildren(rd, e.start, e.end, func(f ebmlElem) bool {
				if f.id != mkvAttachedFile {
					return true
				}
				var a MKVAttachment
				ebmlChildren(rd, f.start, f.end, func(c ebmlElem) bool {
					switch c.id {
					case mkvFileName:
						a.Name = string(c.payload(rd))
					case mkvFileMIME:
						a.MIME = string(c.payload(rd))
					case mkvFileData:
						a.Offset, a.Size = c.start, c.end-c.start
					}
					return true
				})
				if a.Size > 0 {
					atts = append(atts, a)
				}
				return len(atts) < 16
			})
		}
	}
	// elemAt reads the header of the element at off, within the segment.
	elemAt := func(off int64) (ebmlElem, bool) {
		var out ebmlElem
		ok := false
		ebmlChildren(rd, off, segment.end, func(e ebmlElem) bool {
			out, ok = e, true
			return false
		})
		return out, ok
	}
	ebmlChildren(rd, segment.start, segment.end, func(e ebmlElem) bool {
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
				if (id == mkvTags || id == mkvAttachments) && pos < uint64(segment.end-segment.start) {
					if t, ok := elemAt(segment.start + int64(pos)); ok && t.id == id {
						readElem(t)
					}
				}
				return true
			})
		case mkvTags, mkvAttachments:
			readElem(e)
		case mkvInfo:
			ebmlChildren(rd, e.start, e.end, func(c ebmlElem) bool {
				if c.id == mkvTitle {
					title = string(c.payload(rd))
				}
				return true
			})
		case mkvCluster:
			return false // without a SeekHead entry, tags after the media are not looked for
		}
		return true
	})
	if title != "" {
		tags = append(tags, MKVTag{Name: "TITLE", Value: title})
	}
	return tags, atts, rd.err
}

// readMKVTag appends the SimpleTags of Tag t.
func readMKVTag(rd *reader, t ebmlElem, tags []MKVTag) []MKVTag {
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
			var name, value string
			ebmlChildren(rd, c.start, c.end, func(x ebmlElem) bool {
				switch x.id {
				case mkvTagName:
					name = string(x.payload(rd))
				case mkvTagString:
					value = string(rd.upTo(x.start, int(min(x.end-x.start, 4096))))
				}
				return true
			})
			if name != "" && value != "" && len(tags) < maxMKVTags {
				tags = append(tags, MKVTag{Target: target, Name: name, Value: value})
			}
		}
		return true
	})
	return tags
}
