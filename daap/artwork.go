package daap

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	imgjpeg "image/jpeg"
	"image/png"
	"io"
	"io/fs"
	"math"
	"mime"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"
	"golang.org/x/image/draw"

	"github.com/daapd/daapd/internal/regfile"
	"github.com/daapd/daapd/library"
	"github.com/daapd/daapd/library/tags"
)

// Artwork scaling limits.
const (
	// maxArtSide is the largest mw/mh honoured; larger values are ignored.
	maxArtSide = 4096
	// maxArtPixels refuses to decode bigger images (decode bombs): they are
	// served as they are.
	maxArtPixels = 50_000_000
	// scaleWorkers bounds concurrent rescaling (decode, scale, encode).
	scaleWorkers = 2
	// jpegQuality is the quality of scaled JPEGs.
	jpegQuality = 85
)

// itemArtwork serves a track's cover: its folder image or embedded
// picture, scaled down to fit mw×mh when asked (see serveArt), 204 when it
// has none.
func (s *Server) itemArtwork(w http.ResponseWriter, r *http.Request) {
	t, err := s.trackParam(r)
	if err != nil {
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
	snap := s.cfg.Catalog.Snapshot()
	var from uint32
	found := false
	if a, ok := findAlbum(snap, id); ok {
		from, found = a.ArtworkFrom, true
	} else if ar, ok := findArtist(snap, id); ok {
		found = true
		for _, tid := range ar.Tracks {
			if t, ok := snap.Track(tid); ok && t.Art().Source != library.ArtworkNone {
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

// artSize returns the mw and mh parameters, 0 for a missing one. A
// malformed value (not a number, 0, over maxArtSide) counts as missing,
// as in OwnTone: the client still gets a picture, the original when
// neither bound is usable, rather than an error it would not show.
func artSize(r *http.Request) (w, h int) {
	q := r.URL.Query()
	side := func(k string) int {
		n, err := strconv.Atoi(q.Get(k))
		if err != nil || n <= 0 || n > maxArtSide {
			return 0
		}
		return n
	}
	return side("mw"), side("mh")
}

func (s *Server) noArt(w http.ResponseWriter) {
	w.Header().Set("DAAP-Server", s.serverHeader())
	w.WriteHeader(http.StatusNoContent)
}

// serveArt writes t's artwork. Lookups are cached per album (a folder
// image or an album's embedded picture is read once) and bounded in
// concurrency; a file whose picture is broken answers 204. Without mw/mh
// the original bytes are served as they are. With them, a bigger JPEG or
// PNG is scaled to fit inside mw×mh, keeping its aspect ratio, and cached
// per (album, mw, mh); an image that is small enough, not JPEG or PNG,
// undecodable or over maxArtPixels is served as it is.
func (s *Server) serveArt(w http.ResponseWriter, r *http.Request, t *library.Track) {
	if t.Art().Source == library.ArtworkNone {
		s.noArt(w)
		return
	}
	rev := s.cfg.Catalog.Revision()
	key := artKey(t, rev)
	e, err := s.art.get(r.Context(), key, rev, nil, func(ctx context.Context) ([]byte, string, error) {
		if err := acquire(ctx, s.artSem); err != nil {
			return nil, "", err
		}
		defer func() { <-s.artSem }()
		data, mimeType, err := s.loadArt(t)
		if err != nil {
			s.artError(t, err)
			return nil, "", nil // cached as "none"
		}
		return data, mimeType, nil
	})
	if err != nil {
		s.noArt(w)
		return
	}
	defer s.art.release(e)
	if len(e.data) == 0 {
		s.noArt(w)
		return
	}
	data, mimeType := e.data, e.mime
	if mw, mh := artSize(r); mw > 0 || mh > 0 {
		orig := e
		se, err := s.art.get(r.Context(), fmt.Sprintf("%s|%dx%d", key, mw, mh), rev, nil, func(ctx context.Context) ([]byte, string, error) {
			if err := acquire(ctx, s.scaleSem); err != nil {
				return nil, "", err
			}
			defer func() { <-s.scaleSem }()
			out, outType, err := scaleImage(orig.data, mw, mh)
			if err != nil {
				s.log.Debug("artwork not scaled", "path", t.Path, "mw", mw, "mh", mh, "err", err)
				return nil, "", nil // cached: serve the original
			}
			if out != nil && s.onScale != nil {
				s.onScale()
			}
			return out, outType, nil
		})
		switch {
		case err == nil:
			defer s.art.release(se)
			if len(se.data) > 0 {
				data, mimeType = se.data, se.mime
			}
		case r.Context().Err() == nil:
			s.log.Debug("artwork not scaled", "path", t.Path, "mw", mw, "mh", mh, "err", err)
		}
	}
	h := w.Header()
	h.Set("DAAP-Server", s.serverHeader())
	h.Set("Content-Type", mimeType)
	h.Set("Content-Length", strconv.Itoa(len(data)))
	h.Set("Cache-Control", "max-age=3600")
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(data)
	}
}

// acquire takes a slot of sem, or gives up when ctx ends. An ended ctx
// never gets a slot, even when one is free.
func acquire(ctx context.Context, sem chan struct{}) error {
	select {
	case sem <- struct{}{}:
		if err := ctx.Err(); err != nil { // both were ready: select picked at random
			<-sem
			return err
		}
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// artKey is the artwork cache key: the folder image's path, or the album
// for embedded pictures (one file read per album, however many tracks
// Music.app asks for), or the file for tracks without an album. Keys carry
// the catalog revision, so a rescan that changed files drops stale images.
func artKey(t *library.Track, rev uint32) string {
	switch {
	case t.Art().Source == library.ArtworkFile:
		return fmt.Sprintf("%d|file|%s|%s", rev, t.Root, t.Art().Path)
	case t.Album != "":
		return fmt.Sprintf("%d|album|%d", rev, t.AlbumID)
	default:
		return fmt.Sprintf("%d|track|%s|%s", rev, t.Root, t.Path)
	}
}

// maxArtFile bounds folder images read into memory.
const maxArtFile = 16 << 20

// artError logs why t's artwork could not be read: once at Warn when its
// owner must fix the file (a FIFO or device in its place, no permission),
// otherwise at Debug (a broken picture is common and harmless).
func (s *Server) artError(t *library.Track, err error) {
	p := t.AbsPath()
	if t.Art().Source == library.ArtworkFile {
		p = filepath.Join(t.Root, filepath.FromSlash(t.Art().Path))
	}
	switch {
	case errors.Is(err, regfile.ErrNotRegular):
		s.logFileOnce(p, "artwork: not a regular file (a FIFO, device or directory?)", err)
	case errors.Is(err, fs.ErrPermission):
		s.logFileOnce(p, "artwork: permission denied", err)
	default:
		s.log.Debug("artwork unavailable", "path", t.Path, "err", err)
	}
}

// loadArt reads t's cover image and its MIME type. Files are opened by
// s.open (openRegular): a FIFO swapped in never hangs the request.
func (s *Server) loadArt(t *library.Track) ([]byte, string, error) {
	switch t.Art().Source {
	case library.ArtworkFile:
		p := filepath.Join(t.Root, filepath.FromSlash(t.Art().Path))
		f, _, err := s.open(p)
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
		return data, imageType(data, "", p), nil
	case library.ArtworkEmbedded:
		f, fi, err := s.open(t.AbsPath())
		if err != nil {
			return nil, "", err
		}
		defer f.Close()
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

// fitSize returns the size of a w×h image scaled down, keeping its aspect
// ratio, to fit inside maxW×maxH (0 = unbounded), and whether that is
// smaller than w×h.
func fitSize(w, h, maxW, maxH int) (int, int, bool) {
	f := 1.0
	if maxW > 0 {
		f = min(f, float64(maxW)/float64(w))
	}
	if maxH > 0 {
		f = min(f, float64(maxH)/float64(h))
	}
	if f >= 1 {
		return w, h, false
	}
	dw := max(1, int(math.Round(float64(w)*f)))
	dh := max(1, int(math.Round(float64(h)*f)))
	if maxW > 0 {
		dw = min(dw, maxW)
	}
	if maxH > 0 {
		dh = min(dh, maxH)
	}
	return dw, dh, true
}

// scaleImage scales a JPEG or PNG down to fit inside maxW×maxH (0 =
// unbounded) with ApproxBiLinear. The result is a JPEG (quality 85), or a
// PNG when the source is a PNG with transparent pixels; a JPEG's EXIF
// orientation is applied, as the output has no EXIF. It returns nil
// data when the image already fits, and an error for other formats,
// undecodable images and images over maxArtPixels, which are checked
// from their header before anything is decoded.
func scaleImage(data []byte, maxW, maxH int) ([]byte, string, error) {
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, "", err
	}
	if format != "jpeg" && format != "png" {
		return nil, "", fmt.Errorf("cannot scale %s images", format)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || int64(cfg.Width)*int64(cfg.Height) > maxArtPixels {
		return nil, "", fmt.Errorf("%d×%d image: over %d pixels", cfg.Width, cfg.Height, maxArtPixels)
	}
	orient := 1
	if format == "jpeg" {
		orient = exifOrientation(data)
	}
	// Fit the image as shown (turned by its EXIF orientation), scale it as
	// stored, then turn it: the output carries no EXIF.
	w, h := cfg.Width, cfg.Height
	if orient >= 5 {
		w, h = h, w
	}
	dw, dh, ok := fitSize(w, h, maxW, maxH)
	if !ok {
		return nil, "", nil
	}
	if orient >= 5 {
		dw, dh = dh, dw
	}
	var src image.Image
	if format == "jpeg" {
		src, err = imgjpeg.Decode(bytes.NewReader(data))
	} else {
		src, err = png.Decode(bytes.NewReader(data))
	}
	if err != nil {
		return nil, "", err
	}
	dst := image.NewRGBA(image.Rect(0, 0, dw, dh))
	draw.ApproxBiLinear.Scale(dst, dst.Bounds(), src, src.Bounds(), draw.Src, nil)
	dst = orientImage(dst, orient)
	var out bytes.Buffer
	if format == "png" && !opaque(src) {
		err = png.Encode(&out, dst)
		return out.Bytes(), "image/png", err
	}
	err = imgjpeg.Encode(&out, dst, &imgjpeg.Options{Quality: jpegQuality})
	return out.Bytes(), "image/jpeg", err
}

// opaque reports whether every pixel of m is opaque.
func opaque(m image.Image) bool {
	if o, ok := m.(interface{ Opaque() bool }); ok {
		return o.Opaque()
	}
	return false
}

// exifOrientation returns the EXIF orientation (1–8) of a JPEG, 1 when it
// has none or it is malformed.
func exifOrientation(data []byte) int {
	for i := 2; i+4 <= len(data) && data[i] == 0xFF; {
		marker := data[i+1]
		switch {
		case marker == 0xFF: // fill byte
			i++
			continue
		case marker == 0x01 || marker >= 0xD0 && marker <= 0xD8: // no length
			i += 2
			continue
		case marker == 0xDA || marker == 0xD9: // image data: no more headers
			return 1
		}
		n := int(binary.BigEndian.Uint16(data[i+2:]))
		if n < 2 || i+2+n > len(data) {
			return 1
		}
		if seg := data[i+4 : i+2+n]; marker == 0xE1 && bytes.HasPrefix(seg, []byte("Exif\x00\x00")) {
			return tiffOrientation(seg[6:])
		}
		i += 2 + n
	}
	return 1
}

// tiffOrientation reads the Orientation tag (0x0112) of a TIFF header's
// first IFD.
func tiffOrientation(t []byte) int {
	if len(t) < 8 {
		return 1
	}
	var bo binary.ByteOrder
	switch string(t[:2]) {
	case "II":
		bo = binary.LittleEndian
	case "MM":
		bo = binary.BigEndian
	default:
		return 1
	}
	off := int64(bo.Uint32(t[4:]))
	if off+2 > int64(len(t)) {
		return 1
	}
	n := int64(bo.Uint16(t[off:]))
	for e := off + 2; e < off+2+12*n && e+12 <= int64(len(t)); e += 12 {
		if bo.Uint16(t[e:]) == 0x0112 && bo.Uint16(t[e+2:]) == 3 { // SHORT
			if o := int(bo.Uint16(t[e+8:])); o >= 1 && o <= 8 {
				return o
			}
			return 1
		}
	}
	return 1
}

// orientImage turns or flips m as EXIF orientation o asks (1 = as is).
func orientImage(m *image.RGBA, o int) *image.RGBA {
	if o <= 1 || o > 8 {
		return m
	}
	w, h := m.Rect.Dx(), m.Rect.Dy()
	ow, oh := w, h
	if o >= 5 {
		ow, oh = h, w
	}
	out := image.NewRGBA(image.Rect(0, 0, ow, oh))
	for y := range h {
		for x := range w {
			var nx, ny int
			switch o {
			case 2: // mirrored
				nx, ny = w-1-x, y
			case 3: // turned 180°
				nx, ny = w-1-x, h-1-y
			case 4: // flipped
				nx, ny = x, h-1-y
			case 5: // transposed
				nx, ny = y, x
			case 6: // to be turned 90° clockwise
				nx, ny = h-1-y, x
			case 7: // transversed
				nx, ny = h-1-y, w-1-x
			case 8: // to be turned 90° counter-clockwise
				nx, ny = y, w-1-x
			}
			copy(out.Pix[out.PixOffset(nx, ny):][:4], m.Pix[m.PixOffset(x, y):][:4])
		}
	}
	return out
}
