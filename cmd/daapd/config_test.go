package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func parseFlags(t *testing.T, args ...string) *flagValues {
	t.Helper()
	fs, fv := newFlagSet()
	if err := fs.Parse(args); err != nil {
		t.Fatalf("parse %v: %v", args, err)
	}
	return fv
}

func writeFile(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestConfigPrecedence(t *testing.T) {
	dir := t.TempDir()
	yml := writeFile(t, dir, "c.yaml", "music: [/yaml]\nlisten: ':1111'\nname: Yaml Name\nmdns: embedded\nlog_level: warn\nrescan_interval: 30m\n")
	base := map[string]string{"HOME": dir}
	tests := []struct {
		name  string
		env   map[string]string
		flags []string
		check func(t *testing.T, c Config)
	}{
		{"defaults", nil, []string{"--music", "/m"}, func(t *testing.T, c Config) {
			if c.Listen != ":3689" || c.MDNS != "auto" || c.LogLevel != "info" || !c.Watch || c.Transcode != "auto" {
				t.Errorf("defaults wrong: %+v", c)
			}
			if c.StateDir != filepath.Join(dir, ".local/state/daapd") {
				t.Errorf("state dir %q", c.StateDir)
			}
			if time.Duration(c.RescanInterval) != 15*time.Minute {
				t.Errorf("rescan interval %v", c.RescanInterval)
			}
		}},
		{"xdg state", map[string]string{"XDG_STATE_HOME": "/xdg"}, []string{"--music", "/m"}, func(t *testing.T, c Config) {
			if c.StateDir != "/xdg/daapd" {
				t.Errorf("state dir %q", c.StateDir)
			}
		}},
		{"yaml over defaults", nil, []string{"--config", yml}, func(t *testing.T, c Config) {
			if c.Listen != ":1111" || c.Name != "Yaml Name" || c.MDNS != "embedded" || c.Music[0] != "/yaml" || time.Duration(c.RescanInterval) != 30*time.Minute {
				t.Errorf("yaml not applied: %+v", c)
			}
		}},
		{"env over yaml", map[string]string{"DAAPD_CONFIG": yml, "DAAPD_LISTEN": ":2222", "DAAPD_MUSIC": "/a" + string(os.PathListSeparator) + "/b", "DAAPD_WATCH": "false"}, nil, func(t *testing.T, c Config) {
			if c.Listen != ":2222" || c.Name != "Yaml Name" || len(c.Music) != 2 || c.Music[1] != "/b" || c.Watch {
				t.Errorf("env not applied: %+v", c)
			}
		}},
		{"transcode from yaml, env, flag", map[string]string{"DAAPD_CONFIG": writeFile(t, dir, "t.yaml", "music: [/m]\ntranscode: hide\n")}, nil, func(t *testing.T, c Config) {
			if c.Transcode != "hide" {
				t.Errorf("yaml transcode %q", c.Transcode)
			}
		}},
		{"transcode env over yaml", map[string]string{"DAAPD_CONFIG": writeFile(t, dir, "t2.yaml", "music: [/m]\ntranscode: hide\n"), "DAAPD_TRANSCODE": "off"}, nil, func(t *testing.T, c Config) {
			if c.Transcode != "off" {
				t.Errorf("env transcode %q", c.Transcode)
			}
		}},
		{"transcode flag over env", map[string]string{"DAAPD_TRANSCODE": "off"}, []string{"--music", "/m", "--transcode", "hide"}, func(t *testing.T, c Config) {
			if c.Transcode != "hide" || !strings.Contains(c.logValue().String(), "transcode=hide") {
				t.Errorf("flag transcode %q (log %s)", c.Transcode, c.logValue())
			}
		}},
		{"flags over env", map[string]string{"DAAPD_CONFIG": yml, "DAAPD_LISTEN": ":2222", "DAAPD_MDNS": "avahi"}, []string{"--listen", "127.0.0.1:3333", "--mdns", "off", "--music", "/f1", "--music", "/f2", "--name", "Flag"}, func(t *testing.T, c Config) {
			if c.Listen != "127.0.0.1:3333" || c.MDNS != "off" || c.Name != "Flag" || strings.Join(c.Music, ",") != "/f1,/f2" {
				t.Errorf("flags not applied: %+v", c)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := map[string]string{}
			for k, v := range base {
				e[k] = v
			}
			for k, v := range tt.env {
				e[k] = v
			}
			c, err := loadConfig(parseFlags(t, tt.flags...), env(e))
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, c)
		})
	}
}

func TestConfigErrors(t *testing.T) {
	dir := t.TempDir()
	empty := writeFile(t, dir, "empty", "\n")
	tests := []struct {
		name  string
		yaml  string
		env   map[string]string
		flags []string
		want  []string // every one must appear in the error
	}{
		{"unknown key", "music: [/m]\nlisten_addr: ':1'\n", nil, nil, []string{`unknown key "listen_addr"`}},
		{"bad duration", "music: [/m]\nrescan_interval: soon\n", nil, nil, []string{"not a duration"}},
		{"all problems at once", "music: [/m]\nlisten: 'nonsense'\nmdns: bonjour\nlog_level: loud\nlog_format: xml\nscan_workers: -1\n", nil, nil,
			[]string{"listen:", "mdns:", "log_level:", "log_format:", "scan_workers:"}},
		{"bad transcode", "music: [/m]\ntranscode: flac\n", nil, nil, []string{`transcode: "flac" is not one of auto, off, hide`}},
		{"bad transcode env", "", map[string]string{"DAAPD_TRANSCODE": "yes"}, []string{"--music", "/m"}, []string{"transcode:"}},
		{"bad port", "", nil, []string{"--music", "/m", "--listen", ":99999"}, []string{"port"}},
		{"bad env bool", "", map[string]string{"DAAPD_IPV4_ONLY": "perhaps"}, []string{"--music", "/m"}, []string{"DAAPD_IPV4_ONLY"}},
		{"short rescan", "", nil, []string{"--music", "/m", "--rescan-interval", "5s"}, []string{"too short"}},
		{"empty password file", "", nil, []string{"--music", "/m", "--password-file", empty}, []string{"is empty"}},
		{"missing password file", "", nil, []string{"--music", "/m", "--password-file", filepath.Join(dir, "nope")}, []string{"password_file"}},
		{"missing config", "", map[string]string{"DAAPD_CONFIG": filepath.Join(dir, "nope.yaml")}, []string{"--music", "/m"}, []string{"config"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := map[string]string{"HOME": dir}
			for k, v := range tt.env {
				e[k] = v
			}
			flags := tt.flags
			if tt.yaml != "" {
				flags = append([]string{"--config", writeFile(t, dir, "c.yaml", tt.yaml)}, flags...)
			}
			_, err := loadConfig(parseFlags(t, flags...), env(e))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestPasswordFile(t *testing.T) {
	dir := t.TempDir()
	pw := writeFile(t, dir, "pw", "s3cret:with:colons\n")
	c, err := loadConfig(parseFlags(t, "--music", "/m", "--password-file", pw), env(map[string]string{"HOME": dir}))
	if err != nil {
		t.Fatal(err)
	}
	if c.password != "s3cret:with:colons" {
		t.Errorf("password %q", c.password)
	}
	if s := c.logValue().String(); strings.Contains(s, "s3cret") {
		t.Errorf("password leaked into log value: %s", s)
	}
}

// The example config must load and must document exactly the defaults.
func TestExampleConfig(t *testing.T) {
	dir := t.TempDir()
	e := env(map[string]string{"HOME": dir})
	c, err := loadConfig(parseFlags(t, "--config", "../../config.example.yaml"), e)
	if err != nil {
		t.Fatal(err)
	}
	d := defaultConfig(e)
	if c.Listen != d.Listen || c.MDNS != d.MDNS || c.LogLevel != d.LogLevel || c.LogFormat != d.LogFormat ||
		c.Watch != d.Watch || c.RescanInterval != d.RescanInterval || c.ScanWorkers != d.ScanWorkers || c.IPv4Only != d.IPv4Only ||
		c.Transcode != d.Transcode || c.RecentlyAddedDays != d.RecentlyAddedDays || len(c.SmartPlaylists) != 0 {
		t.Errorf("config.example.yaml differs from the defaults:\nexample  %+v\ndefaults %+v", c, d)
	}
}

// sourceValues are, for one key, a YAML value, an environment value and
// flag arguments, and what each must set the field to.
type sourceValues struct {
	yaml       string
	env        string
	flags      []string
	wy, we, wf any
}

// TestEveryKeyEverySource sets every key through YAML, then YAML and the
// environment, then all three with flags, and checks that the later
// source wins each time. A key added to options without a row here fails.
func TestEveryKeyEverySource(t *testing.T) {
	dir := t.TempDir()
	pwY, pwE, pwF := writeFile(t, dir, "pwy", "y\n"), writeFile(t, dir, "pwe", "e\n"), writeFile(t, dir, "pwf", "f\n")
	sep := string(os.PathListSeparator)
	rows := map[string]sourceValues{
		"music":               {"[/y1, /y2]", "/e1" + sep + "/e2", []string{"--music", "/f1", "--music", "/f2"}, []string{"/y1", "/y2"}, []string{"/e1", "/e2"}, []string{"/f1", "/f2"}},
		"listen":              {"':1111'", ":2222", []string{"--listen", "127.0.0.1:3333"}, ":1111", ":2222", "127.0.0.1:3333"},
		"name":                {"Yaml Share", "Env Share", []string{"--name", "Flag Share"}, "Yaml Share", "Env Share", "Flag Share"},
		"password_file":       {pwY, pwE, []string{"--password-file", pwF}, pwY, pwE, pwF},
		"mdns":                {"embedded", "avahi", []string{"--mdns", "off"}, "embedded", "avahi", "off"},
		"interfaces":          {"[y0, y1]", "e0, e1", []string{"--interface", "f0", "--interface", "f1"}, []string{"y0", "y1"}, []string{"e0", "e1"}, []string{"f0", "f1"}},
		"ipv4_only":           {"true", "false", []string{"--ipv4-only"}, true, false, true},
		"state_dir":           {"/y/state", "/e/state", []string{"--state-dir", "/f/state"}, "/y/state", "/e/state", "/f/state"},
		"watch":               {"false", "true", []string{"--watch=false"}, false, true, false},
		"rescan_interval":     {"30m", "45m", []string{"--rescan-interval", "2h"}, Duration(30 * time.Minute), Duration(45 * time.Minute), Duration(2 * time.Hour)},
		"scan_workers":        {"3", "4", []string{"--scan-workers", "5"}, 3, 4, 5},
		"transcode":           {"hide", "off", []string{"--transcode", "hide"}, "hide", "off", "hide"},
		"log_level":           {"warn", "error", []string{"--log-level", "debug"}, "warn", "error", "debug"},
		"recently_added_days": {"7", "0", []string{"--recently-added-days", "90"}, 7, 0, 90},
		"audiobook_folders": {"[/y/books]", "/e/b1" + sep + "/e/b2", []string{"--audiobook-folder", "/f/books"},
			[]string{"/y/books"}, []string{"/e/b1", "/e/b2"}, []string{"/f/books"}},
		"podcast_folders": {"/y/pods", "/e/pods", []string{"--podcast-folder", "/f/p1", "--podcast-folder", "/f/p2"},
			[]string{"/y/pods"}, []string{"/e/pods"}, []string{"/f/p1", "/f/p2"}},
		"smart_playlists": {`[{name: Jazz, query: 'genre is "Jazz" order by year desc'}]`,
			"Old=year < 1970\nLong=song_length > 600000 limit 10",
			[]string{"--smart-playlist", "Rock=genre includes \"rock\"", "--smart-playlist", "New=time_added after 2 weeks ago"},
			[]SmartPlaylist{{"Jazz", `genre is "Jazz" order by year desc`}},
			[]SmartPlaylist{{"Old", "year < 1970"}, {"Long", "song_length > 600000 limit 10"}},
			[]SmartPlaylist{{"Rock", `genre includes "rock"`}, {"New", "time_added after 2 weeks ago"}}},
		"log_format": {"json", "text", []string{"--log-format", "json"}, "json", "text", "json"},
	}
	for _, o := range options {
		r, ok := rows[o.name]
		if !ok {
			t.Errorf("key %s has no row in this test", o.name)
			continue
		}
		delete(rows, o.name)
		t.Run(o.name, func(t *testing.T) {
			yml := writeFile(t, dir, o.name+".yaml", "music: [/m]\n"+o.name+": "+r.yaml+"\n")
			for _, step := range []struct {
				name  string
				env   map[string]string
				flags []string
				want  any
			}{
				{"yaml", nil, nil, r.wy},
				{"env over yaml", map[string]string{o.env(): r.env}, nil, r.we},
				{"flag over env", map[string]string{o.env(): r.env}, r.flags, r.wf},
			} {
				e := map[string]string{"HOME": dir, "DAAPD_CONFIG": yml}
				for k, v := range step.env {
					e[k] = v
				}
				c, err := loadConfig(parseFlags(t, step.flags...), env(e))
				if err != nil {
					t.Fatalf("%s: %v", step.name, err)
				}
				got := reflect.ValueOf(o.field(&c)).Elem().Interface()
				if d := cmp.Diff(step.want, got); d != "" {
					t.Errorf("%s (-want +got):\n%s", step.name, d)
				}
			}
		})
	}
	for name := range rows {
		t.Errorf("row %s names no key", name)
	}
}

// config.example.yaml documents every key with its environment variable
// and flag.
func TestExampleDocumentsEveryKey(t *testing.T) {
	b, err := os.ReadFile("../../config.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ex := string(b)
	for _, o := range options {
		for _, want := range []string{o.name + ":", o.env(), "--" + o.flagName()} {
			if !strings.Contains(ex, want) {
				t.Errorf("config.example.yaml does not mention %s (key %s)", want, o.name)
			}
		}
	}
}

func TestConfigReportsEverything(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name    string
		yaml    string
		flags   []string
		want    []string
		notWant []string
	}{
		{"issue 8 reproduction", "music: [/m]\nrescan_interval: 15\nbogus: 1\nmdns: loud\n", nil,
			[]string{`line 2: rescan_interval: "15" is not a duration`, `line 3: unknown key "bogus"`, `mdns: "loud" is not one of`}, nil},
		{"syntax error names no missing music", "music: [/m\nlisten: :1\n", nil,
			[]string{"yaml:"}, []string{"no music folder"}},
		{"syntax error, bad flag value too", "music: [\n", []string{"--scan-workers", "many", "--watch=perhaps"},
			[]string{"yaml:", `--scan-workers "many": not a whole number`, `--watch "perhaps": not a boolean`}, []string{"no music folder", "scan_workers:"}},
		{"not a mapping", "- a\n- b\n", []string{"--music", "/m"}, []string{"expected keys and values"}, nil},
		{"wrong kinds", "music: {a: b}\nname: [x]\nipv4_only: maybe\nscan_workers: 1.5\n", nil,
			[]string{"music:", "name:", "ipv4_only:", "scan_workers:"}, nil},
		{"every smart playlist error", "music: [/m]\nrecently_added_days: -1\nsmart_playlists:\n" +
			"  - name: Good\n    query: year > 1990\n" +
			"  - name: Typo\n    query: yeer > 1990\n" +
			"  - name: Open\n    query: (genre is \"a\"\n" +
			"  - name: Good\n    query: year < 1\n" +
			"  - query: year < 1\n", nil,
			[]string{"recently_added_days: -1 is out of range",
				`smart_playlists: entry 2 ("Typo"): line 1, column 1: unknown field "yeer"`,
				`entry 3 ("Open"): line 1, column 14: expected ) or and/or, found the end`,
				`entry 4: "Good" is named twice`, "entry 5: name is empty"},
			[]string{"Good\")"}},
		{"smart playlist flag", "music: [/m]\n", []string{"--smart-playlist", "Flag=artist = 1"},
			[]string{`smart_playlists: entry 1 ("Flag"): line 1, column 8: expected is, includes`}, nil},
		{"smart playlist flag without =", "music: [/m]\n", []string{"--smart-playlist", "no equals sign"},
			[]string{`--smart-playlist "no equals sign": "no equals sign" is not NAME=QUERY`}, nil},
		{"smart playlists not a list", "music: [/m]\nsmart_playlists: {name: x}\n", nil,
			[]string{"smart_playlists:", "not a list of name/query entries"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			flags := append([]string{"--config", writeFile(t, dir, "c.yaml", tt.yaml)}, tt.flags...)
			_, err := loadConfig(parseFlags(t, flags...), env(map[string]string{"HOME": dir}))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not mention %q:\n%v", w, err)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(err.Error(), w) {
					t.Errorf("error mentions %q:\n%v", w, err)
				}
			}
		})
	}
}

// A password file must be a small regular file: /dev/zero, a FIFO (which
// would block the open) and a large file fail at once, in one line.
func TestPasswordFileRefused(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	big := writeFile(t, dir, "big", strings.Repeat("x", maxPasswordFile+1))
	for _, tc := range []struct{ path, want string }{
		{"/dev/zero", "/dev/zero is not a regular file"},
		{fifo, fifo + " is not a regular file"},
		{dir, dir + " is not a regular file"},
		{big, "is over 4096 bytes"},
	} {
		_, err := loadConfig(parseFlags(t, "--music", "/m", "--password-file", tc.path), env(map[string]string{"HOME": dir}))
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("password file %s: %v, want one line with %q", tc.path, err, tc.want)
		}
	}
}
