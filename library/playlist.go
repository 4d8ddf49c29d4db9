package library

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"net/url"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/daapd/daapd/internal/regfile"
	"github.com/daapd/daapd/library/smartpl"
)

// maxPlaylistSize caps how much of a playlist file is read: 100,000 entries
// of 80 bytes.
const maxPlaylistSize = 8 << 20

// parsePlaylist decodes an .m3u, .m3u8 or .pls file (format is the
// lower-case extension) into its name (from #PLAYLIST:, else "") and its
// entries in order. .m3u8 is UTF-8; .m3u and .pls are UTF-8 when valid,
// else Latin-1; a UTF-16 byte order mark is honoured.
func parsePlaylist(data []byte, format string) (name string, entries []string) {
	text := decodeText(data, format == "m3u8")
	if format == "pls" {
		return "", parsePLS(text)
	}
	for line := range strings.Lines(text) {
		line = strings.TrimSpace(line)
		switch {
		case line == "":
		case strings.HasPrefix(line, "#"):
			if n, ok := strings.CutPrefix(line, "#PLAYLIST:"); ok {
				name = strings.TrimSpace(n)
			}
		default:
			entries = append(entries, line)
		}
	}
	return name, entries
}

// parsePLS returns the FileN entries of a .pls file, ordered by N.
func parsePLS(text string) []string {
	type entry struct {
		n    int
		file string
	}
	var es []entry
	for line := range strings.Lines(text) {
		k, v, ok := strings.Cut(strings.TrimSpace(line), "=")
		if !ok || len(k) < 5 || !strings.EqualFold(k[:4], "file") {
			continue
		}
		n, err := strconv.Atoi(strings.TrimSpace(k[4:]))
		if v = strings.TrimSpace(v); err != nil || v == "" {
			continue
		}
		es = append(es, entry{n, v})
	}
	slices.SortStableFunc(es, func(a, b entry) int { return cmp.Compare(a.n, b.n) })
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.file
	}
	return out
}

// decodeText turns playlist bytes into a string: BOMs removed, UTF-16
// decoded, invalid UTF-8 read as Latin-1 unless utf8Only.
func decodeText(b []byte, utf8Only bool) string {
	switch {
	case bytes.HasPrefix(b, []byte{0xef, 0xbb, 0xbf}):
		return string(b[3:])
	case bytes.HasPrefix(b, []byte{0xff, 0xfe}), bytes.HasPrefix(b, []byte{0xfe, 0xff}):
		be := b[0] == 0xfe
		b = b[2:]
		u := make([]uint16, len(b)/2)
		for i := range u {
			if be {
				u[i] = uint16(b[2*i])<<8 | uint16(b[2*i+1])
			} else {
				u[i] = uint16(b[2*i+1])<<8 | uint16(b[2*i])
			}
		}
		return string(utf16.Decode(u))
	case utf8Only || utf8.Valid(b):
		return string(b)
	}
	r := make([]rune, len(b))
	for i, c := range b {
		r[i] = rune(c)
	}
	return string(r)
}

// trackIndex finds track ids by root and NFC path, falling back to a
// case-insensitive match (playlists made on Windows or macOS). The tracks
// are in catalog order, so an exact lookup is a binary search and making
// the index costs nothing: re-reading a playlist after a new album arrives
// in a million-track library does not index the library again.
type trackIndex struct {
	roots  []rootState
	folded map[prevKey]uint32 // built on first miss
	tracks []*Track           // catalog order
}

func newTrackIndex(roots []rootState, tracks []*Track) *trackIndex {
	return &trackIndex{roots: roots, tracks: tracks}
}

func (x *trackIndex) lookup(ri int, rel string) (uint32, bool) {
	rel = nfc(rel)
	root := x.roots[ri].abs
	if i, ok := slices.BinarySearchFunc(x.tracks, prevKey{path: rel}, func(t *Track, k prevKey) int {
		if t.Root != root {
			return strings.Compare(t.Root, root)
		}
		return strings.Compare(t.Path, k.path)
	}); ok {
		return x.tracks[i].ID, true
	}
	if x.folded == nil {
		x.folded = make(map[prevKey]uint32, len(x.tracks))
		for _, t := range x.tracks {
			for ri, r := range x.roots {
				if r.abs != t.Root {
					continue
				}
				k := prevKey{ri, strings.ToLower(t.Path)}
				if _, dup := x.folded[k]; !dup {
					x.folded[k] = t.ID
				}
			}
		}
	}
	id, ok := x.folded[prevKey{ri, strings.ToLower(rel)}]
	return id, ok
}

// resolve finds the track an entry of playlist pl names. Entries may be
// relative to the playlist's folder, absolute (under any root), file://
// URLs, or use Windows separators; an absolute path from another machine
// matches by its longest suffix that exists under the playlist's root.
func (x *trackIndex) resolve(pl playlistFile, entry string) (uint32, bool) {
	if len(entry) > 5 && strings.EqualFold(entry[:5], "file:") {
		u, err := url.Parse(entry)
		if err != nil || (u.Host != "" && u.Host != "localhost") {
			return 0, false
		}
		entry = u.Path
		if len(entry) > 2 && entry[0] == '/' && entry[2] == ':' { // file:///C:/…
			entry = entry[1:]
		}
	} else if strings.Contains(entry, "://") {
		return 0, false // a stream URL, not a file
	}
	entry = strings.ReplaceAll(entry, `\`, "/")
	drive := len(entry) > 2 && entry[1] == ':' && entry[2] == '/'
	rootAbs := filepath.ToSlash(x.roots[pl.root].abs)
	var abs string
	switch {
	case drive, strings.HasPrefix(entry, "//"): // C:/… or a UNC path
		return x.bySuffix(pl.root, entry)
	case strings.HasPrefix(entry, "/"):
		abs = path.Clean(entry)
	default:
		abs = path.Join(rootAbs, path.Dir(pl.rel), entry)
	}
	for ri, r := range x.roots {
		ra := filepath.ToSlash(r.abs)
		if rel, ok := strings.CutPrefix(abs, strings.TrimSuffix(ra, "/")+"/"); ok {
			if id, ok := x.lookup(ri, rel); ok {
				return id, true
			}
		}
	}
	if strings.HasPrefix(entry, "/") {
		return x.bySuffix(pl.root, entry)
	}
	return 0, false
}

// bySuffix matches a foreign absolute path by its longest suffix that is a
// track under root ri: C:/Users/me/Music/A/B/01.mp3 finds A/B/01.mp3.
func (x *trackIndex) bySuffix(ri int, p string) (uint32, bool) {
	for {
		i := strings.IndexByte(p, '/')
		if i < 0 {
			return 0, false
		}
		p = p[i+1:]
		if p == "" {
			return 0, false
		}
		if id, ok := x.lookup(ri, p); ok {
			return id, true
		}
	}
}

// readPlaylists reads the playlist files the walk found and resolves their
// entries to the ids of tracks. Missing entries are skipped and logged once
// per playlist; the same track may appear several times.
func (sc *scan) readPlaylists(tracks []*Track, rootTags map[string]string) []*Playlist {
	var files []playlistFile
	for _, r := range sc.roots {
		files = append(files, r.playlists...)
	}
	if len(files) == 0 {
		return nil
	}
	idx := newTrackIndex(sc.roots, tracks)
	pls := make([]*Playlist, 0, len(files))
	for _, f := range files {
		data, err := readSmall(f.abs, maxPlaylistSize)
		if err != nil {
			sc.log.Warn("skipping playlist", "path", f.abs, "reason", err)
			sc.mu.Lock()
			sc.addSkip(f.abs, SkipPlaylist, "cannot read the playlist: "+err.Error())
			sc.mu.Unlock()
			sc.playlistErrs = append(sc.playlistErrs, fmt.Errorf("%s: %w", f.abs, err))
			continue
		}
		format := ext(f.rel)
		if format == "smartpl" {
			if p := sc.readSmart(f, data); p != nil {
				pls = append(pls, p)
			}
			continue
		}
		name, entries := parsePlaylist(data, format)
		if name == "" {
			base := path.Base(f.rel)
			name = base[:len(base)-len(format)-1]
		}
		p := &Playlist{Name: nfc(name), Root: sc.roots[f.root].abs, Path: f.rel, Items: make([]uint32, 0, len(entries))}
		missing, first := 0, ""
		for _, e := range entries {
			id, ok := idx.resolve(f, e)
			if !ok {
				if missing++; first == "" {
					first = e
				}
				continue
			}
			p.Items = append(p.Items, id)
		}
		if missing > 0 {
			sc.log.Warn("playlist entries not found", "playlist", f.abs, "missing", missing, "of", len(entries), "first", first)
			sc.mu.Lock()
			sc.addSkip(f.abs, SkipPlaylist, fmt.Sprintf("%d of %d entries point to no track (first: %s)", missing, len(entries), first))
			sc.mu.Unlock()
			p.Warnings = append(p.Warnings, fmt.Sprintf("%d of %d entries not found, the first: %s", missing, len(entries), first))
		}
		pls = append(pls, p)
	}
	assignPlaylistIDs(sc.LibraryID, rootTags, pls)
	return pls
}

// readSmall reads a whole regular file of at most limit bytes, read-only; a
// FIFO or device is refused without blocking.
func readSmall(name string, limit int64) ([]byte, error) {
	return regfile.ReadFile(name, limit)
}

// maxWarned bounds the smart playlist files whose warnings are remembered.
const maxWarned = 4096

// readSmart parses a .smartpl file into a smart playlist, its items left
// for EvalPlaylists. A syntax error is logged with the file, line and
// column, and the playlist is skipped; warnings (fields daapd does not
// track) are logged once per file and content, not on every rescan.
func (sc *scan) readSmart(f playlistFile, data []byte) *Playlist {
	def, err := smartpl.Parse(decodeText(data, false))
	if err != nil {
		var se *smartpl.SyntaxError
		if errors.As(err, &se) {
			se.File = f.abs
		}
		if sc.warned == nil || sc.warned[f.abs] != "\x00"+string(data) {
			sc.log.Warn("skipping smart playlist", "err", err)
			sc.remember(f.abs, "\x00"+string(data))
		}
		sc.playlistErrs = append(sc.playlistErrs, err)
		return nil
	}
	p := &Playlist{Name: nfc(def.Name), Root: sc.roots[f.root].abs, Path: f.rel, Smart: true,
		Query: def.String(), Warnings: def.Warnings}
	if len(def.Warnings) > 0 && (sc.warned == nil || sc.warned[f.abs] != p.Query) {
		for _, w := range def.Warnings {
			sc.log.Warn("smart playlist: "+w, "playlist", f.abs)
		}
		sc.remember(f.abs, p.Query)
	}
	return p
}

func (sc *scan) remember(path, text string) {
	if sc.warned == nil {
		return
	}
	if len(sc.warned) >= maxWarned {
		clear(sc.warned)
	}
	sc.warned[path] = text
}
