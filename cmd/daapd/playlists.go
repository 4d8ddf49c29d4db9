package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/daapd/daapd/library"
)

// defaultRecentlyAddedDays is how long a track stays in Recently Added.
const defaultRecentlyAddedDays = 30

// jsonPlaylist is one line of `daapd playlists --json`.
type jsonPlaylist struct {
	Name     string   `json:"name"`
	Path     string   `json:"path,omitempty"` // relative to the music folder; none for built-in ones
	Smart    bool     `json:"smart"`
	Query    string   `json:"query,omitempty"`
	Tracks   int      `json:"tracks"`
	Warnings []string `json:"warnings,omitempty"`
	Error    string   `json:"error,omitempty"` // a file that could not be read or parsed
}

// printPlaylists writes every playlist with its track count and warnings,
// then the playlist files that failed, as text or JSON lines.
func printPlaylists(w io.Writer, pls []*library.Playlist, errs []error, dir string, asJSON bool) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	for _, p := range pls {
		if asJSON {
			enc.Encode(jsonPlaylist{Name: p.Name, Path: p.Path, Smart: p.Smart, Query: p.Query, Tracks: len(p.Items), Warnings: p.Warnings})
			continue
		}
		kind := "playlist " + p.Path
		switch {
		case p.Smart && p.Root == "":
			kind = "smart playlist"
		case p.Smart:
			kind = "smart playlist " + p.Path
		}
		unit := "tracks"
		if len(p.Items) == 1 {
			unit = "track"
		}
		fmt.Fprintf(bw, "%s: %d %s (%s)\n", p.Name, len(p.Items), unit, kind)
		if p.Smart && p.Root == "" && p.Query != "" {
			fmt.Fprintf(bw, "  query: %s\n", p.Query)
		}
		for _, warn := range p.Warnings {
			fmt.Fprintf(bw, "  warning: %s\n", warn)
		}
	}
	for _, err := range errs {
		if asJSON {
			enc.Encode(jsonPlaylist{Error: err.Error()})
			continue
		}
		fmt.Fprintf(bw, "error: %v\n", err)
	}
	if len(pls)+len(errs) == 0 && !asJSON {
		fmt.Fprintf(bw, "no playlists in %s\n", dir)
	}
	return bw.Flush()
}

// absAll makes folders absolute; one that cannot be is kept as given.
func absAll(dirs []string) []string {
	out := make([]string, len(dirs))
	for i, d := range dirs {
		if a, err := filepath.Abs(d); err == nil {
			d = a
		}
		out[i] = d
	}
	return out
}

// folderList is a repeatable folder flag.
type folderList []string

func (f *folderList) String() string     { return strings.Join(*f, ",") }
func (f *folderList) Set(v string) error { *f = append(*f, v); return nil }
