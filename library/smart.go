package library

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/daapd/daapd/library/smartpl"
)

// SmartConfig says which smart playlists a library publishes besides the
// .smartpl files in its folders.
type SmartConfig struct {
	Playlists         []*smartpl.Playlist // configured (smart_playlists), in order
	RecentlyAddedDays int                 // 0: no "Recently Added"
}

// Names of the built-in playlists.
const (
	RecentlyAddedName = "Recently Added"
	AudiobooksName    = "Audiobooks"
	PodcastsName      = "Podcasts"
)

// builtin is a playlist daapd makes itself.
type builtin struct {
	key       string // identity, stable across renames of the name
	name      string
	query     string
	special   Special
	ifPresent bool // left out when empty
}

func (c SmartConfig) builtins() []builtin {
	var bs []builtin
	if c.RecentlyAddedDays > 0 {
		bs = append(bs, builtin{key: "recently-added", name: RecentlyAddedName,
			query: fmt.Sprintf("time_added after %d days ago order by time_added desc", c.RecentlyAddedDays)})
	}
	return append(bs,
		builtin{key: "audiobooks", name: AudiobooksName, query: "media_kind is audiobook", special: SpecialAudiobooks, ifPresent: true},
		builtin{key: "podcasts", name: PodcastsName, query: "media_kind is podcast", special: SpecialPodcasts, ifPresent: true})
}

// EvalPlaylists returns the playlists to publish with tracks (in catalog
// order): the built-ins (Recently Added, then Audiobooks and Podcasts when
// they have tracks), the configured smart playlists, then pls, whose smart
// playlists are evaluated again. Playlists of pls without a root (built-in
// or configured ones from an earlier call) are dropped first, so the result
// may be passed in again. Relative dates count from now.
func EvalPlaylists(libID string, tracks []*Track, pls []*Playlist, cfg SmartConfig, now time.Time) []*Playlist {
	item := func(i int) smartpl.Item { return (*smartTrack)(tracks[i]) }
	eval := func(def *smartpl.Playlist, seed uint64) []uint32 {
		idx := def.Select(now, seed, len(tracks), item)
		ids := make([]uint32, len(idx))
		for i, x := range idx {
			ids[i] = tracks[x].ID
		}
		return ids
	}
	var out []*Playlist
	add := func(key, name string, def *smartpl.Playlist, special Special, ifPresent bool) {
		h := keyHash(libID, "smart\xff"+key, "", 0)
		p := &Playlist{ID: itemID(h), PersistentID: persistentID(h), Name: name, Smart: true, Special: special,
			Query: def.Query(), Warnings: def.Warnings}
		p.Items = eval(def, p.PersistentID)
		if len(p.Items) > 0 || !ifPresent {
			out = append(out, p)
		}
	}
	for _, b := range cfg.builtins() {
		def, err := smartpl.ParseQuery(b.name, b.query)
		if err != nil {
			panic("library: built-in playlist: " + err.Error())
		}
		add(b.key, b.name, def, b.special, b.ifPresent)
	}
	for _, def := range cfg.Playlists {
		add("config\xff"+def.Name, def.Name, def, 0, false)
	}
	for _, p := range pls {
		if p.Root == "" {
			continue
		}
		if p.Smart {
			// Parsing again costs microseconds and keeps Playlist plain data.
			def, err := smartpl.Parse(p.Query)
			if err != nil {
				continue // cannot happen: Query is what Parse produced
			}
			c := *p
			c.Items = eval(def, p.PersistentID)
			p = &c
		}
		out = append(out, p)
	}
	return out
}

// smartTrack answers a smart playlist's questions about a Track.
type smartTrack Track

func (t *smartTrack) Text(f smartpl.Field) string {
	switch f {
	case smartpl.Artist:
		return t.Artist
	case smartpl.AlbumArtist:
		return t.AlbumArtist
	case smartpl.Album:
		return t.Album
	case smartpl.Title:
		return t.Title
	case smartpl.Genre:
		return t.Genre
	case smartpl.Composer:
		return (*Track)(t).Composer()
	case smartpl.Comment:
		return (*Track)(t).Comment()
	case smartpl.Path:
		return filepath.ToSlash(filepath.Join(t.Root, t.Path))
	case smartpl.Type:
		return t.Format
	case smartpl.CodecType:
		return t.Codec
	case smartpl.Grouping:
		return (*Track)(t).Grouping()
	}
	return ""
}

func (t *smartTrack) Int(f smartpl.Field) int64 {
	switch f {
	case smartpl.Year:
		return int64(t.Year)
	case smartpl.Track:
		return int64(t.TrackNumber)
	case smartpl.Disc:
		return int64(t.DiscNumber)
	case smartpl.Compilation:
		if t.Compilation {
			return 1
		}
	case smartpl.Bitrate:
		return int64(t.Bitrate)
	case smartpl.SampleRate:
		return int64(t.SampleRate)
	case smartpl.BitsPerSample:
		return int64(t.BitsPerSample)
	case smartpl.SongLength:
		return int64(t.DurationMS)
	case smartpl.FileSize:
		return t.Size
	case smartpl.MediaKind:
		return int64((*Track)(t).Kind())
	}
	return 0
}

func (t *smartTrack) Time(f smartpl.Field) time.Time {
	switch f {
	case smartpl.TimeAdded:
		return t.Added.Time()
	case smartpl.TimeModified:
		return t.ModTime.Time()
	}
	return time.Time{}
}
