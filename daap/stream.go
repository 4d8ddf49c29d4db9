package daap

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/daapd/daapd/library"
	"github.com/daapd/daapd/library/tags"
)

// audioTypes maps a file extension to the Content-Type of its stream.
var audioTypes = map[string]string{
	"mp3":  "audio/mpeg",
	"m4a":  "audio/mp4",
	"m4b":  "audio/mp4",
	"m4p":  "audio/mp4",
	"mp4":  "audio/mp4",
	"aac":  "audio/aac",
	"alac": "audio/mp4",
	"flac": "audio/flac",
	"ogg":  "audio/ogg",
	"oga":  "audio/ogg",
	"opus": "audio/ogg",
	"wav":  "audio/wav",
	"aif":  "audio/aiff",
	"aiff": "audio/aiff",
	"aifc": "audio/aiff",
	"wma":  "audio/x-ms-wma",
	"dsf":  "audio/x-dsf",
	"dff":  "audio/x-dff",
}

// trackParam looks up the {item} route parameter in the current snapshot.
func (s *Server) trackParam(r *http.Request) (*library.Track, error) {
	v := chi.URLParam(r, "item")
	id, err := parseID32(v)
	if err != nil {
		return nil, badRequest("item id %q", v)
	}
	t, ok := s.cfg.Catalog.Snapshot().Track(id)
	if !ok {
		return nil, errNotFound
	}
	return t, nil
}

// stream serves a track's file with Range support (206, 416,
// Accept-Ranges), or its WAV transcode to iTunes and Music.app when they
// cannot play the file (see transcodes). Otherwise the extension in the
// URL is ignored: clients build it from asfm, or put "Unknown" there.
func (s *Server) stream(w http.ResponseWriter, r *http.Request) {
	t, err := s.trackParam(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if s.transcodes(r, t) {
		s.streamWAV(w, r, t)
		return
	}
	f, err := os.Open(t.AbsPath())
	if err != nil {
		s.fail(w, r, openError(t, err))
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		s.fail(w, r, errNotFound)
		return
	}
	h := w.Header()
	h.Set("DAAP-Server", s.serverHeader())
	h.Set("Accept-Ranges", "bytes")
	ct := audioTypes[songFormat(t)]
	if ct == "" {
		ct = "application/octet-stream"
	}
	h.Set("Content-Type", ct)
	http.ServeContent(w, r, path.Base(t.Path), fi.ModTime(), f)
}

// openError maps a failure to open t's file to a reply: 503 while its
// music folder is unavailable (the track is kept, marked Missing), 404 for a
// file that is gone, anything else a logged 500.
func openError(t *library.Track, err error) error {
	switch {
	case t.Missing:
		return errUnavailable
	case errors.Is(err, fs.ErrNotExist):
		return errNotFound
	}
	return err
}

// itemArtwork serves a track's cover: the original bytes of its folder
// image or embedded picture (mw/mh are accepted and ignored), 204 when it
// has none.
func (s *Server) itemArtwork(w http.ResponseWriter, r *http.Request) {
	t, err := s.trackParam(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := artSize(r); err != nil {
		s.fail(w, r, err)
		return
	}
	s.serveArt(w, r, t)
}

// groupArtwork serves an album's (or artist's) cover. The id is the
// group's mper or its 32-bit miid.
func (s *Server) groupArtwork(w http.ResponseWriter, r *http.Request) {
	v := chi.URLParam(r, "id")
	id, err := parseID64(v)
	if err != nil {
		s.fail(w, r, badRequest("group id %q", v))
		return
	}
	if err := artSize(r); err != nil {
		s.fail(w, r, err)
		return
	}
	snap := s.cfg.Catalog.Snapshot()
	var from uint32
	found := false
	if a, ok := findAlbum(snap, id); ok {
		from, found = a.ArtworkFrom, true
	} else if ar, ok := findArtist(snap, id); ok {
		found = true
		for _, tid := range ar.Tracks {
			if t, ok := snap.Track(tid); ok && t.Artwork.Source != library.ArtworkNone {
				from = tid
				break
			}
		}
	}
	if !found {
		s.fail(w, r, errNotFound)
		return
	}
	t, ok := snap.Track(from)
	if !ok {
		s.noArt(w)
		return
	}
	s.serveArt(w, r, t)
}

func findAlbum(snap *library.Snapshot, id uint64) (*library.Album, bool) {
	if a, ok := snap.Album(id); ok {
		return a, true
	}
	for _, a := range snap.Albums {
		if id <= 0xFFFFFFFF && uint64(uint32(a.ID)) == id {
			return a, true
		}
	}
	return nil, false
}

func findArtist(snap *library.Snapshot, id uint64) (*library.Artist, bool) {
	if a, ok := snap.Artist(id); ok {
		return a, true
	}
	for _, a := range snap.Artists {
		if id <= 0xFFFFFFFF && uint64(uint32(a.ID)) == id {
			return a, true
		}
	}
	return nil, false
}

// artSize validates the optional mw/mh parameters.
func artSize(r *http.Request) error {
	for _, k := range []string{"mw", "mh"} {
		if v := r.URL.Query().Get(k); v != "" {
			if n, err := strconv.ParseUint(v, 10, 16); err != nil || n == 0 {
				return badRequest("%s %q: want a size in pixels", k, v)
			}
		}
	}
	return nil
}

func (s *Server) noArt(w http.ResponseWriter) {
	w.Header().Set("DAAP-Server", s.serverHeader())
	w.WriteHeader(http.StatusNoContent)
}

// serveArt writes t's artwork. Lookups are cached per album (a folder
// image or an album's embedded picture is read once) and bounded in
// concurrency; a file whose picture is broken answers 204.
func (s *Server) serveArt(w http.ResponseWriter, r *http.Request, t *library.Track) {
	if t.Artwork.Source == library.ArtworkNone {
		s.noArt(w)
		return
	}
	rev := s.cfg.Catalog.Revision()
	e, err := s.art.get(artKey(t, rev), rev, func() ([]byte, string, error) {
		select {
		case s.artSem <- struct{}{}:
			defer func() { <-s.artSem }()
		case <-r.Context().Done():
			return nil, "", r.Context().Err()
		}
		data, mimeType, err := loadArt(t)
		if err != nil {
			s.log.Debug("artwork unavailable", "path", t.Path, "err", err)
			return nil, "", nil // cached as "none"
		}
		return data, mimeType, nil
	})
	if err != nil || len(e.data) == 0 {
		s.noArt(w)
		return
	}
	h := w.Header()
	h.Set("DAAP-Server", s.serverHeader())
	h.Set("Content-Type", e.mime)
	h.Set("Content-Length", strconv.Itoa(len(e.data)))
	h.Set("Cache-Control", "max-age=3600")
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(e.data)
	}
}

// artKey is the artwork cache key: the folder image's path, or the album
// for embedded pictures (one file read per album, however many tracks
// Music.app asks for), or the file for tracks without an album. Keys carry
// the catalog revision, so a rescan that changed files drops stale images.
func artKey(t *library.Track, rev uint32) string {
	switch {
	case t.Artwork.Source == library.ArtworkFile:
		return fmt.Sprintf("%d|file|%s|%s", rev, t.Root, t.Artwork.Path)
	case t.Album != "":
		return fmt.Sprintf("%d|album|%d", rev, t.AlbumID)
	default:
		return fmt.Sprintf("%d|track|%s|%s", rev, t.Root, t.Path)
	}
}

// maxArtFile bounds folder images read into memory.
const maxArtFile = 16 << 20

// loadArt reads t's cover image and its MIME type.
func loadArt(t *library.Track) ([]byte, string, error) {
	switch t.Artwork.Source {
	case library.ArtworkFile:
		p := filepath.Join(t.Root, filepath.FromSlash(t.Artwork.Path))
		f, err := os.Open(p)
		if err != nil {
			return nil, "", err
		}
		defer f.Close()
		data, err := io.ReadAll(io.LimitReader(f, maxArtFile+1))
		if err != nil {
			return nil, "", err
		}
		if len(data) > maxArtFile {
			return nil, "", fmt.Errorf("%s: over %d bytes", p, maxArtFile)
		}
		return data, imageType(data, t.Artwork.MIME, p), nil
	case library.ArtworkEmbedded:
		f, err := os.Open(t.AbsPath())
		if err != nil {
			return nil, "", err
		}
		defer f.Close()
		fi, err := f.Stat()
		if err != nil {
			return nil, "", err
		}
		data, mimeType, err := tags.Picture(f, fi.Size(), "")
		if err != nil {
			return nil, "", err
		}
		return data, imageType(data, mimeType, ""), nil
	}
	return nil, "", errors.New("no artwork")
}

// imageType prefers the bytes' own signature over declared types.
func imageType(data []byte, declared, name string) string {
	switch {
	case len(data) >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF:
		return "image/jpeg"
	case len(data) >= 8 && string(data[:8]) == "\x89PNG\r\n\x1a\n":
		return "image/png"
	case strings.HasPrefix(declared, "image/"):
		return declared
	}
	if t := mime.TypeByExtension(filepath.Ext(name)); strings.HasPrefix(t, "image/") {
		return t
	}
	return http.DetectContentType(data)
}
