package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/daapd/daapd/daap"
	"github.com/daapd/daapd/internal/regfile"
	"github.com/daapd/daapd/library/smartpl"
)

// Config is daapd's effective configuration. Sources, later ones winning:
// defaults < YAML file < DAAPD_* environment < command-line flags. Every
// key is described once, in options.
type Config struct {
	Music          []string
	Listen         string
	Name           string
	PasswordFile   string
	MDNS           string
	Interfaces     []string
	IPv4Only       bool
	StateDir       string
	LogLevel       string
	LogFormat      string
	Watch          bool
	RescanInterval Duration
	ScanWorkers    int
	Transcode      string

	RecentlyAddedDays int
	AudiobookFolders  []string
	PodcastFolders    []string
	SmartPlaylists    []SmartPlaylist

	password string // read from PasswordFile; never logged
}

// SmartPlaylist is a smart_playlists entry: a name and a query in OwnTone's
// .smartpl language (expression, then optional order by and limit).
type SmartPlaylist struct {
	Name  string `yaml:"name"`
	Query string `yaml:"query"`
}

// smartPlaylists parses the smart_playlists entries, reporting every bad
// one.
func (c *Config) smartPlaylists() ([]*smartpl.Playlist, error) {
	var defs []*smartpl.Playlist
	var errs []error
	seen := map[string]bool{}
	for i, e := range c.SmartPlaylists {
		switch {
		case strings.TrimSpace(e.Name) == "":
			errs = append(errs, fmt.Errorf("entry %d: name is empty", i+1))
			continue
		case seen[e.Name]:
			errs = append(errs, fmt.Errorf("entry %d: %q is named twice", i+1, e.Name))
			continue
		}
		seen[e.Name] = true
		def, err := smartpl.ParseQuery(e.Name, e.Query)
		if err != nil {
			errs = append(errs, fmt.Errorf("entry %d (%q): %w", i+1, e.Name, err))
			continue
		}
		defs = append(defs, def)
	}
	return defs, errors.Join(errs...)
}

// Duration is a time.Duration written as "15m", "1h30m" or "0".
type Duration time.Duration

// maxPasswordFile bounds the password file: a password is one short line,
// so anything larger is a mistake (or /dev/zero) and is refused unread.
const maxPasswordFile = 4 << 10

var mdnsModes = []string{"auto", "embedded", "avahi", "off"}

// option is one configuration key. name is its YAML key; its environment
// variable is DAAPD_<NAME> and its flag --<name> with '-' for '_', unless
// flag says otherwise. field points into a Config and decides how values
// are parsed: *string, *bool, *int, *Duration or *[]string.
type option struct {
	name  string
	flag  string                                  // flag name, when not derived from name
	arg   string                                  // placeholder for the flag's value in --help
	usage string                                  // one line for --help
	def   string                                  // default, parsed like a flag value ("" = zero value)
	dyn   func(getenv func(string) string) string // computed default, instead of def
	sep   string                                  // lists: separator in the environment ("" = the OS path list separator)
	field func(c *Config) any
	check func(c *Config) error // nil: any parsable value is fine
}

// options lists every configuration key, in the order --help and the
// startup log show them. config.example.yaml documents each one.
var options = []*option{
	{name: "music", arg: "DIR", usage: "music folder to share (repeatable; default ./music-fixtures when present)",
		field: func(c *Config) any { return &c.Music }, check: checkMusic},
	{name: "listen", arg: "ADDR", usage: "HTTP listen address", def: ":3689",
		field: func(c *Config) any { return &c.Listen }, check: checkListen},
	{name: "name", arg: "NAME", usage: `share name shown to clients (default "<hostname> Music")`, dyn: defaultName,
		field: func(c *Config) any { return &c.Name }, check: func(c *Config) error {
			if strings.TrimSpace(c.Name) == "" {
				return errors.New("must not be empty")
			}
			return nil
		}},
	{name: "password_file", arg: "FILE", usage: fmt.Sprintf("file holding the share password (a regular file, at most %d KiB; default no password)", maxPasswordFile>>10),
		field: func(c *Config) any { return &c.PasswordFile }},
	{name: "mdns", arg: "MODE", usage: "announce backend: " + strings.Join(mdnsModes, ", "), def: "auto",
		field: func(c *Config) any { return &c.MDNS }, check: func(c *Config) error { return oneOf(c.MDNS, mdnsModes) }},
	{name: "interfaces", flag: "interface", arg: "IFACE", sep: ",", usage: "network interface to announce on (repeatable; default all usable)",
		field: func(c *Config) any { return &c.Interfaces }},
	{name: "ipv4_only", usage: "advertise IPv4 addresses only", def: "false",
		field: func(c *Config) any { return &c.IPv4Only }},
	{name: "state_dir", arg: "DIR", usage: "library id and scan cache (default $XDG_STATE_HOME/daapd or ~/.local/state/daapd)", dyn: defaultStateDir,
		field: func(c *Config) any { return &c.StateDir }, check: func(c *Config) error {
			if c.StateDir == "" {
				return errors.New("must not be empty")
			}
			return nil
		}},
	{name: "watch", usage: "watch the music folders for changes (--watch=false to disable)", def: "true",
		field: func(c *Config) any { return &c.Watch }},
	{name: "rescan_interval", arg: "DURATION", usage: "periodic full rescan, e.g. 15m; 0 disables", def: "15m",
		field: func(c *Config) any { return &c.RescanInterval }, check: func(c *Config) error {
			d := time.Duration(c.RescanInterval)
			if d < 0 {
				return errors.New("must not be negative (0 disables)")
			}
			if d > 0 && d < time.Minute {
				return fmt.Errorf("%v is too short (at least 1m, or 0 to disable)", d)
			}
			return nil
		}},
	{name: "scan_workers", arg: "N", usage: "parallel scanner workers (0 = number of CPUs)", def: "0",
		field: func(c *Config) any { return &c.ScanWorkers }, check: func(c *Config) error {
			if c.ScanWorkers < 0 || c.ScanWorkers > 256 {
				return fmt.Errorf("%d is out of range (0 = number of CPUs, up to 256)", c.ScanWorkers)
			}
			return nil
		}},
	{name: "transcode", arg: "MODE", usage: "formats iTunes/Music.app cannot play (FLAC, Ogg, Opus): auto (WAV via ffmpeg when installed, else hide), off or hide",
		def: daap.TranscodeAuto, field: func(c *Config) any { return &c.Transcode },
		check: func(c *Config) error { return oneOf(c.Transcode, daap.TranscodeModes) }},
	{name: "recently_added_days", arg: "N", usage: "days a track stays in the built-in Recently Added playlist (0 = no such playlist)", def: "30",
		field: func(c *Config) any { return &c.RecentlyAddedDays }, check: func(c *Config) error {
			if c.RecentlyAddedDays < 0 || c.RecentlyAddedDays > 36500 {
				return fmt.Errorf("%d is out of range (0 turns Recently Added off, up to 36500)", c.RecentlyAddedDays)
			}
			return nil
		}},
	{name: "audiobook_folders", flag: "audiobook-folder", arg: "DIR", usage: "folder whose tracks are audiobooks, whatever their tags say (repeatable)",
		field: func(c *Config) any { return &c.AudiobookFolders }, check: func(c *Config) error { return noEmpty(c.AudiobookFolders) }},
	{name: "podcast_folders", flag: "podcast-folder", arg: "DIR", usage: "folder whose tracks are podcasts, whatever their tags say (repeatable)",
		field: func(c *Config) any { return &c.PodcastFolders }, check: func(c *Config) error { return noEmpty(c.PodcastFolders) }},
	{name: "smart_playlists", flag: "smart-playlist", arg: "NAME=QUERY", sep: "\n",
		usage: "smart playlist in OwnTone's .smartpl language, e.g. 'Jazz=genre is \"Jazz\" order by year' (repeatable; one per line in the environment)",
		field: func(c *Config) any { return &c.SmartPlaylists }, check: func(c *Config) error {
			_, err := c.smartPlaylists()
			return err
		}},
	{name: "log_level", arg: "LEVEL", usage: "debug, info, warn or error", def: "info",
		field: func(c *Config) any { return &c.LogLevel }, check: func(c *Config) error {
			var lvl slog.Level
			if lvl.UnmarshalText([]byte(c.LogLevel)) != nil {
				return fmt.Errorf("%q is not one of debug, info, warn, error", c.LogLevel)
			}
			return nil
		}},
	{name: "log_format", arg: "FORMAT", usage: "text or json", def: "text",
		field: func(c *Config) any { return &c.LogFormat }, check: func(c *Config) error { return oneOf(c.LogFormat, []string{"text", "json"}) }},
}

func (o *option) env() string { return "DAAPD_" + strings.ToUpper(o.name) }

func (o *option) flagName() string {
	if o.flag != "" {
		return o.flag
	}
	return strings.ReplaceAll(o.name, "_", "-")
}

func (o *option) isBool(c *Config) bool { _, ok := o.field(c).(*bool); return ok }

// setText parses one textual value (default, environment or flag) into the
// option's field. Lists split on sep, or take v whole when appending.
func (o *option) setText(c *Config, v string, appendOne bool) error {
	switch p := o.field(c).(type) {
	case *string:
		*p = v
	case *[]string:
		switch {
		case appendOne:
			*p = append(*p, v)
		case o.sep == "":
			*p = filepath.SplitList(v)
		default:
			*p = nil
			for _, s := range strings.Split(v, o.sep) {
				if s = strings.TrimSpace(s); s != "" {
					*p = append(*p, s)
				}
			}
		}
	case *bool:
		b, err := strconv.ParseBool(v)
		if err != nil {
			return errors.New("not a boolean (true or false)")
		}
		*p = b
	case *int:
		n, err := strconv.Atoi(v)
		if err != nil {
			return errors.New("not a whole number")
		}
		*p = n
	case *[]SmartPlaylist:
		var vs []string
		switch {
		case appendOne:
			vs = []string{v}
		default:
			*p = nil
			vs = strings.Split(v, o.sep)
		}
		for _, e := range vs {
			if strings.TrimSpace(e) == "" {
				continue
			}
			name, query, ok := strings.Cut(e, "=")
			if !ok {
				return fmt.Errorf("%q is not NAME=QUERY", e)
			}
			*p = append(*p, SmartPlaylist{Name: strings.TrimSpace(name), Query: query})
		}
	case *Duration:
		d, err := time.ParseDuration(v)
		if err != nil {
			return errors.New("not a duration (use e.g. 15m, 1h, 0)")
		}
		*p = Duration(d)
	default:
		panic("option " + o.name + ": unsupported field type")
	}
	return nil
}

// setYAML decodes one YAML value into the option's field. A single string
// is accepted where a list is expected; null leaves the field alone.
func (o *option) setYAML(c *Config, n *yaml.Node) error {
	if n.Tag == "!!null" {
		return nil
	}
	switch p := o.field(c).(type) {
	case *[]SmartPlaylist:
		return decodeSmart(n, p)
	case *[]string:
		if n.Kind == yaml.ScalarNode {
			*p = []string{n.Value}
			return nil
		}
		var l []string
		if n.Decode(&l) != nil {
			return errors.New("not a list of strings")
		}
		*p = l
		return nil
	case *string:
		if n.Kind != yaml.ScalarNode {
			return errors.New("not a string")
		}
		*p = n.Value
		return nil
	case *bool:
		if n.Kind != yaml.ScalarNode || n.Decode(p) != nil {
			return errors.New("not a boolean (true or false)")
		}
		return nil
	}
	if n.Kind != yaml.ScalarNode {
		return errors.New("not a single value")
	}
	return o.setText(c, n.Value, false)
}

// decodeSmart decodes smart_playlists: a list of name/query mappings.
func decodeSmart(n *yaml.Node, p *[]SmartPlaylist) error {
	if n.Kind != yaml.SequenceNode {
		return errors.New("not a list of name/query entries")
	}
	var out []SmartPlaylist
	for _, it := range n.Content {
		if it.Kind != yaml.MappingNode {
			return fmt.Errorf("not valid (line %d: an entry needs name: and query:)", it.Line)
		}
		var e SmartPlaylist
		for i := 0; i+1 < len(it.Content); i += 2 {
			k, v := it.Content[i], it.Content[i+1]
			if v.Kind != yaml.ScalarNode {
				return fmt.Errorf("not valid (line %d: %s is not a string)", v.Line, k.Value)
			}
			switch k.Value {
			case "name":
				e.Name = strings.TrimSpace(v.Value)
			case "query":
				e.Query = v.Value
			default:
				return fmt.Errorf("not valid (line %d: unknown key %q; an entry has name and query)", k.Line, k.Value)
			}
		}
		out = append(out, e)
	}
	*p = out
	return nil
}

func noEmpty(dirs []string) error {
	if slices.Contains(dirs, "") {
		return errors.New("empty folder name")
	}
	return nil
}

func defaultName(func(string) string) string {
	name, _ := os.Hostname()
	if i := strings.IndexByte(name, '.'); i > 0 {
		name = name[:i]
	}
	if name == "" {
		name = "daapd"
	}
	return name + " Music"
}

func defaultStateDir(getenv func(string) string) string {
	if d := getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "daapd")
	}
	if h := getenv("HOME"); h != "" {
		return filepath.Join(h, ".local", "state", "daapd")
	}
	return filepath.Join(os.TempDir(), "daapd-state")
}

// defaultConfig returns the built-in defaults. getenv supplies HOME and
// XDG_STATE_HOME so tests stay hermetic.
func defaultConfig(getenv func(string) string) Config {
	var c Config
	for _, o := range options {
		def := o.def
		if o.dyn != nil {
			def = o.dyn(getenv)
		}
		if def == "" {
			continue
		}
		if err := o.setText(&c, def, false); err != nil {
			panic("default of " + o.name + ": " + err.Error())
		}
	}
	return c
}

// flagValue is one option given on the command line.
type flagValue struct {
	opt *option
	val string
}

// flagValues holds what was given on the command line, in order. Values
// are parsed by loadConfig, so that bad ones are listed with every other
// problem.
type flagValues struct {
	config  *string
	set     []flagValue
	version bool
}

func newFlagSet() (*flag.FlagSet, *flagValues) {
	fs := flag.NewFlagSet("daapd", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // run reports errors itself, in one line
	fs.Usage = func() {}
	fv := &flagValues{}
	fs.Func("config", "YAML config file (default $DAAPD_CONFIG)", func(v string) error { fv.config = &v; return nil })
	var c Config
	for _, o := range options {
		record := func(v string) error { fv.set = append(fv.set, flagValue{o, v}); return nil }
		if o.isBool(&c) {
			fs.BoolFunc(o.flagName(), o.usage, record)
		} else {
			fs.Func(o.flagName(), o.usage, record)
		}
	}
	fs.BoolVar(&fv.version, "version", false, "print the version and exit")
	return fs, fv
}

// loadConfig builds the effective configuration from defaults, the YAML
// file, the environment and the parsed flags, and validates it. Every
// problem is reported, at once.
func loadConfig(fv *flagValues, getenv func(string) string) (Config, error) {
	cfg := defaultConfig(getenv)
	var errs []error
	bad := map[*option]bool{} // a value failed to parse: its check would only repeat that

	path := getenv("DAAPD_CONFIG")
	if fv.config != nil {
		path = *fv.config
	}
	yamlBroken := false
	if path != "" {
		yerrs, broken := readYAML(path, &cfg, bad)
		errs = append(errs, yerrs...)
		yamlBroken = broken
	}
	for _, o := range options {
		if v := getenv(o.env()); v != "" {
			if err := o.setText(&cfg, v, false); err != nil {
				errs = append(errs, fmt.Errorf("%s=%q: %w", o.env(), v, err))
				bad[o] = true
			}
		}
	}
	given := map[*option]bool{}
	for _, f := range fv.set {
		_, list := f.opt.field(&cfg).(*[]string)
		if _, smart := f.opt.field(&cfg).(*[]SmartPlaylist); smart {
			list = true
		}
		if list && !given[f.opt] {
			f.opt.setText(&cfg, "", false) // flags replace lists from other sources
		}
		given[f.opt] = true
		if err := f.opt.setText(&cfg, f.val, list); err != nil {
			errs = append(errs, fmt.Errorf("--%s %q: %w", f.opt.flagName(), f.val, err))
			bad[f.opt] = true
		}
	}

	if len(cfg.Music) == 0 {
		if fi, err := os.Stat("music-fixtures"); err == nil && fi.IsDir() {
			cfg.Music = []string{"music-fixtures"}
		}
	}
	for _, o := range options {
		if o.check == nil || bad[o] || (o.name == "music" && yamlBroken && len(cfg.Music) == 0) {
			continue // an unreadable config file may well name the music
		}
		if err := o.check(&cfg); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", o.name, err))
		}
	}
	if cfg.PasswordFile != "" {
		pw, err := readPassword(cfg.PasswordFile)
		if err != nil {
			errs = append(errs, fmt.Errorf("password_file: %w", err))
		}
		cfg.password = pw
	}
	return cfg, errors.Join(errs...)
}

// readPassword reads the share password: the first line of a regular file
// of at most maxPasswordFile bytes. A FIFO or device is refused without
// blocking.
func readPassword(name string) (string, error) {
	b, err := regfile.ReadFile(name, maxPasswordFile)
	switch {
	case errors.Is(err, regfile.ErrNotRegular):
		return "", fmt.Errorf("%s is not a regular file", name)
	case errors.Is(err, regfile.ErrTooLarge):
		return "", fmt.Errorf("%s is over %d bytes; it must hold just the password", name, maxPasswordFile)
	case err != nil:
		return "", err
	case len(bytes.TrimSpace(b)) == 0:
		return "", fmt.Errorf("%s is empty", name)
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}

// readYAML applies the config file at path to cfg, key by key, and returns
// every problem: unknown keys, values of the wrong kind. broken reports
// that the file could not be read or parsed at all.
func readYAML(path string, cfg *Config, bad map[*option]bool) (errs []error, broken bool) {
	b, err := regfile.ReadFile(path, 1<<20)
	if err != nil {
		return []error{fmt.Errorf("config: %w", err)}, true
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return []error{fmt.Errorf("config %s: %w", path, err)}, true
	}
	if len(doc.Content) == 0 { // empty file
		return nil, false
	}
	m := doc.Content[0]
	if m.Kind != yaml.MappingNode {
		return []error{fmt.Errorf("config %s: line %d: expected keys and values (key: value)", path, m.Line)}, true
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		o := lookup(k.Value)
		if o == nil {
			errs = append(errs, fmt.Errorf("config %s: line %d: unknown key %q (known keys: %s)", path, k.Line, k.Value, knownKeys()))
			continue
		}
		if err := o.setYAML(cfg, v); err != nil {
			errs = append(errs, fmt.Errorf("config %s: line %d: %s: %q is %w", path, v.Line, o.name, v.Value, err))
			bad[o] = true
		}
	}
	return errs, false
}

func lookup(name string) *option {
	for _, o := range options {
		if o.name == name {
			return o
		}
	}
	return nil
}

func knownKeys() string {
	names := make([]string, len(options))
	for i, o := range options {
		names[i] = o.name
	}
	return strings.Join(names, ", ")
}

func oneOf(v string, allowed []string) error {
	if !slices.Contains(allowed, v) {
		return fmt.Errorf("%q is not one of %s", v, strings.Join(allowed, ", "))
	}
	return nil
}

func checkMusic(c *Config) error {
	if len(c.Music) == 0 {
		return errors.New("no music folder given (use --music DIR, DAAPD_MUSIC or music: in the config)")
	}
	if slices.Contains(c.Music, "") {
		return errors.New("empty folder name")
	}
	return nil
}

func checkListen(c *Config) error {
	host, port, err := net.SplitHostPort(c.Listen)
	if err != nil {
		return fmt.Errorf("%q is not host:port (e.g. :3689 or 127.0.0.1:3689)", c.Listen)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("port %q is not a number from 0 to 65535", port)
	}
	if host != "" && net.ParseIP(strings.Trim(host, "[]")) == nil && host != "localhost" {
		return fmt.Errorf("host %q is not an IP address", host)
	}
	return nil
}

// logValue is the configuration as logged at startup (password redacted).
func (c *Config) logValue() slog.Value {
	pw := "none"
	if c.password != "" {
		pw = "set (redacted)"
	}
	attrs := []slog.Attr{slog.String("password", pw)}
	for _, o := range options {
		var v any = reflect.ValueOf(o.field(c)).Elem().Interface()
		if d, ok := v.(Duration); ok {
			v = time.Duration(d)
		}
		attrs = append(attrs, slog.Any(o.name, v))
	}
	return slog.GroupValue(attrs...)
}

const helpHead = `Usage: daapd [flags]
       daapd scan [--json] [--state-dir DIR] [--workers N] [-v] MUSIC_DIR
       daapd playlists [--json] MUSIC_DIR
       daapd healthcheck [flags]

daapd shares music folders with iTunes, Music.app, Rhythmbox and other DAAP
clients on the local network, and announces them over Bonjour/mDNS.

Commands:
  (none)        run the server
  scan          scan a folder as the server would and report what clients
                will see, without serving it (daapd scan --help)
  playlists     list the playlists a folder holds, with their track counts,
                warnings and errors (daapd scan --playlists)
  healthcheck   ask a running daapd for /healthz (exit 0 when healthy); takes
                the server's flags, environment and config file to find it

Configuration, later sources winning:
  built-in defaults < YAML file (--config or $DAAPD_CONFIG) <
  DAAPD_* environment variables < flags
Every problem in the configuration is reported at once. config.example.yaml
documents each key.

Flags (environment variable, YAML key):
`

// printHelp writes --help: the commands, the precedence and every option.
func printHelp(w io.Writer) {
	io.WriteString(w, helpHead)
	row := func(flagText, usage, where string) {
		fmt.Fprintf(w, "  %-26s %s\n", flagText, usage)
		if where != "" {
			fmt.Fprintf(w, "  %-26s %s\n", "", where)
		}
	}
	row("--config FILE", "YAML config file", "$DAAPD_CONFIG")
	for _, o := range options {
		f := "--" + o.flagName()
		if o.arg != "" {
			f += " " + o.arg
		}
		usage := o.usage
		if o.def != "" && o.def != "false" {
			usage += " (default " + o.def + ")"
		}
		row(f, usage, "$"+o.env()+", "+o.name+":")
	}
	row("--version", "print the version and exit", "")
	row("--help", "print this help and exit", "")
}
