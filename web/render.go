package web

import (
	"html/template"
	"net/url"
	"strconv"

	"github.com/daapd/daapd/library"
)

// pageNames are the page templates; each is parsed with layout.html and
// parts.html.
var pageNames = []string{"status", "search", "tracks", "albums", "album", "artists", "artist",
	"playlists", "playlist", "problems", "signin", "message"}

var funcs = template.FuncMap{
	"num":     num,
	"clock":   clock,
	"dur":     roundDur,
	"ago":     ago,
	"relRoot": relRoot,
	"playKey": playKey,
	"pct": func(n, of int) string {
		if of <= 0 {
			return "0"
		}
		return strconv.FormatFloat(float64(n)*100/float64(of), 'f', 1, 64)
	},
	"sortURL": func(base, key string) string { return base + "?sort=" + url.QueryEscape(key) },
	"probURL": func(v *problemsView, sort, kind string) string {
		q := url.Values{}
		if sort != "" && sort != "kind" {
			q.Set("sort", sort)
		}
		if kind != "" {
			q.Set("kind", kind)
		}
		if v.Q != "" {
			q.Set("filter", v.Q)
		}
		if len(q) == 0 {
			return "/problems"
		}
		return "/problems?" + q.Encode()
	},
	"first": func(ids []uint32) uint32 {
		if len(ids) == 0 {
			return 0
		}
		return ids[0]
	},
	"trackArt": func(t *library.Track) uint32 {
		if t.Art().Source == library.ArtworkNone {
			return 0
		}
		return t.ID
	},
	"initial": func(s string) string {
		for _, r := range s {
			return string(r)
		}
		return "?"
	},
}

func parsePages() map[string]*template.Template {
	base := template.Must(template.New("").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/parts.html"))
	m := make(map[string]*template.Template, len(pageNames))
	for _, n := range pageNames {
		m[n] = template.Must(template.Must(base.Clone()).ParseFS(templateFS, "templates/"+n+".html"))
	}
	return m
}
