package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/term"

	"github.com/daapd/daapd/library"
)

// scanTrack is one line of `daapd scan --json`: what clients will see.
type scanTrack struct {
	Path         string `json:"path"` // relative to DIR
	Title        string `json:"title"`
	Artist       string `json:"artist"`
	AlbumArtist  string `json:"album_artist"`
	Album        string `json:"album"`
	Genre        string `json:"genre"`
	Year         int    `json:"year"`
	Track        int    `json:"track"`
	Disc         int    `json:"disc"`
	DurationMS   uint32 `json:"duration_ms"`
	Codec        string `json:"codec"`
	Bitrate      int    `json:"bitrate"`
	SampleRate   int    `json:"sample_rate"`
	ItemID       uint32 `json:"item_id"`
	PersistentID uint64 `json:"persistent_id"`
	Artwork      string `json:"artwork"`    // "embedded", the folder image's path, or "none"
	MediaKind    string `json:"media_kind"` // music, audiobook or podcast
}

const scanUsage = `usage: daapd scan [--json] [--playlists] [--config FILE] [--state-dir DIR] [--workers N] [-v] MUSIC_DIR
       daapd playlists [--json] [--config FILE] [options] MUSIC_DIR   (daapd scan --playlists)

Scans MUSIC_DIR as the server would, without serving it, and prints a
summary (and a warning for each file it skips) on stderr. With --json it
prints one JSON object per track on stdout. With --playlists it prints every
playlist instead (files, .smartpl files and the built-in ones) with its
track count, warnings and errors, and exits 1 if a playlist file is broken;
with --config it includes the config file's smart_playlists.
Nothing is written anywhere.
`

// runScan implements `daapd scan` and returns the exit status: 0 when the
// scan completed (even with skipped files), 1 when it could not, 2 for
// usage errors.
func runScan(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet("daapd scan", flag.ContinueOnError)
	flags.SetOutput(stderr)
	flags.Usage = func() { fmt.Fprint(stderr, scanUsage); flags.PrintDefaults() }
	asJSON := flags.Bool("json", false, "print one JSON object per track on stdout")
	stateDir := flags.String("state-dir", defaultStateDir(os.Getenv), "state directory whose library id the server uses (only read)")
	workers := flags.Int("workers", 0, "files read in parallel (default: number of CPUs)")
	verbose := flags.Bool("v", false, "log debug details, such as each ignored file")
	listPlaylists := flags.Bool("playlists", false, "print every playlist with its track count and warnings instead of the tracks")
	recentDays := flags.Int("recently-added-days", defaultRecentlyAddedDays, "days a track stays in Recently Added; 0 leaves the playlist out")
	var audiobookDirs, podcastDirs folderList
	flags.Var(&audiobookDirs, "audiobook-folder", "folder whose tracks are audiobooks (repeatable)")
	flags.Var(&podcastDirs, "podcast-folder", "folder whose tracks are podcasts (repeatable)")
	configPath := flags.String("config", "", "take smart_playlists, recently_added_days and the audiobook and podcast folders from this config file (flags win)")
	var dirs []string
	for {
		if err := flags.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return 0
			}
			return 2
		}
		if flags.NArg() == 0 {
			break
		}
		dirs = append(dirs, flags.Arg(0)) // flags may follow the folder
		args = flags.Args()[1:]
	}
	if len(dirs) != 1 {
		fmt.Fprint(stderr, scanUsage)
		return 2
	}
	dir := dirs[0]
	if fi, err := os.Stat(dir); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			fmt.Fprintf(stderr, "daapd scan: %s: no such folder\n", dir)
		} else {
			fmt.Fprintf(stderr, "daapd scan: %v\n", err)
		}
		return 1
	} else if !fi.IsDir() {
		fmt.Fprintf(stderr, "daapd scan: %s: not a folder\n", dir)
		return 1
	}

	smart := library.SmartConfig{RecentlyAddedDays: max(*recentDays, 0)}
	if *configPath != "" {
		// The server's rules, DAAPD_* variables included; the folder
		// scanned stands for the music folders.
		getenv := func(k string) string {
			if k == "DAAPD_MUSIC" {
				return dir
			}
			return os.Getenv(k)
		}
		cfg, err := loadConfig(&flagValues{config: configPath}, getenv)
		if err == nil {
			smart.Playlists, err = cfg.smartPlaylists()
		}
		if err != nil {
			fmt.Fprintf(stderr, "daapd scan: %v\n", err)
			return 2
		}
		given := map[string]bool{}
		flags.Visit(func(f *flag.Flag) { given[f.Name] = true })
		if !given["recently-added-days"] {
			smart.RecentlyAddedDays = cfg.RecentlyAddedDays
		}
		if !given["audiobook-folder"] {
			audiobookDirs = cfg.AudiobookFolders
		}
		if !given["podcast-folder"] {
			podcastDirs = cfg.PodcastFolders
		}
	}

	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	logOut := stderr
	if f, ok := stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		logOut = clearLine{stderr} // log lines replace the live progress line
	}
	log := slog.New(slog.NewTextHandler(logOut, &slog.HandlerOptions{Level: level}))
	libID, err := library.ReadLibraryID(*stateDir)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			fmt.Fprintf(stderr, "daapd scan: %v\n", err)
			return 1
		}
		libID = "0000000000000000"
		log.Info("no library id in the state directory: item and persistent ids differ from the server's", "state_dir", *stateDir)
	}
	sc := &library.Scanner{Roots: []string{dir}, LibraryID: libID, Workers: *workers, Log: log, Progress: stderr,
		AudiobookFolders: absAll(audiobookDirs), PodcastFolders: absAll(podcastDirs)}
	res, err := sc.Scan(ctx, nil)
	if err != nil {
		fmt.Fprintf(stderr, "daapd scan: %v\n", err)
		return 1
	}
	pls := library.EvalPlaylists(libID, res.Tracks, res.Playlists, smart, time.Now())
	if *listPlaylists {
		if err := printPlaylists(stdout, pls, res.PlaylistErrors, dir, *asJSON); err != nil {
			fmt.Fprintf(stderr, "daapd scan: %v\n", err)
			return 1
		}
		if len(res.PlaylistErrors) > 0 {
			return 1
		}
	} else if *asJSON {
		bw := bufio.NewWriter(stdout)
		enc := json.NewEncoder(bw)
		enc.SetEscapeHTML(false)
		for _, t := range res.Tracks {
			enc.Encode(jsonTrack(t))
		}
		if err := bw.Flush(); err != nil {
			fmt.Fprintf(stderr, "daapd scan: %v\n", err)
			return 1
		}
	}
	if !*listPlaylists {
		for _, p := range pls {
			log.Info("playlist", "name", p.Name, "path", p.Path, "tracks", len(p.Items), "smart", p.Smart)
		}
	}
	if err := res.Err(); err != nil {
		fmt.Fprintf(stderr, "daapd scan: %v\n", err)
		return 1
	}
	return 0
}

func jsonTrack(t *library.Track) scanTrack {
	art := "none"
	switch t.Art().Source {
	case library.ArtworkEmbedded:
		art = "embedded"
	case library.ArtworkFile:
		art = filepath.ToSlash(t.Art().Path)
	}
	return scanTrack{
		Path: t.Path, Title: t.Title, Artist: t.Artist, AlbumArtist: t.AlbumArtist, Album: t.Album,
		Genre: t.Genre, Year: int(t.Year), Track: int(t.TrackNumber), Disc: int(t.DiscNumber),
		DurationMS: t.DurationMS, Codec: t.Codec, Bitrate: int(t.Bitrate), SampleRate: int(t.SampleRate),
		ItemID: t.ID, PersistentID: t.PersistentID, Artwork: art, MediaKind: t.Kind().String(),
	}
}

// clearLine erases the terminal's current line before each write.
type clearLine struct{ w io.Writer }

func (c clearLine) Write(p []byte) (int, error) {
	if _, err := io.WriteString(c.w, "\r\033[K"); err != nil {
		return 0, err
	}
	return c.w.Write(p)
}
