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
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/daapd/daapd/daap"
)

// Config is daapd's effective configuration. Sources, later ones winning:
// defaults < YAML file < DAAPD_* environment < command-line flags.
type Config struct {
	Music          []string `yaml:"music"`
	Listen         string   `yaml:"listen"`
	Name           string   `yaml:"name"`
	PasswordFile   string   `yaml:"password_file"`
	MDNS           string   `yaml:"mdns"`
	Interfaces     []string `yaml:"interfaces"`
	IPv4Only       bool     `yaml:"ipv4_only"`
	StateDir       string   `yaml:"state_dir"`
	LogLevel       string   `yaml:"log_level"`
	LogFormat      string   `yaml:"log_format"`
	Watch          bool     `yaml:"watch"`
	RescanInterval Duration `yaml:"rescan_interval"`
	ScanWorkers    int      `yaml:"scan_workers"`
	Transcode      string   `yaml:"transcode"`

	password string // read from PasswordFile; never logged
}

// Duration is a time.Duration written as "15m", "1h30m" or "0" in YAML.
type Duration time.Duration

func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %q is not a duration (use e.g. 15m, 1h, 0)", n.Line, n.Value)
	}
	*d = Duration(v)
	return nil
}

func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

var mdnsModes = []string{"auto", "embedded", "avahi", "off"}

// defaultConfig returns the built-in defaults. getenv supplies HOME and
// XDG_STATE_HOME so tests stay hermetic.
func defaultConfig(getenv func(string) string) Config {
	name, _ := os.Hostname()
	if i := strings.IndexByte(name, '.'); i > 0 {
		name = name[:i]
	}
	if name == "" {
		name = "daapd"
	}
	return Config{
		Listen:         ":3689",
		Name:           name + " Music",
		MDNS:           "auto",
		StateDir:       defaultStateDir(getenv),
		LogLevel:       "info",
		LogFormat:      "text",
		Watch:          true,
		RescanInterval: Duration(15 * time.Minute),
		Transcode:      daap.TranscodeAuto,
	}
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

// stringList is a repeatable flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// flagValues holds what was given on the command line; nil fields were not.
type flagValues struct {
	config, listen, name, passwordFile, mdns, stateDir, logLevel, logFormat *string
	transcode                                                               *string
	ipv4Only, watch                                                         *bool
	rescanInterval                                                          *time.Duration
	scanWorkers                                                             *int
	music, interfaces                                                       stringList
	version                                                                 bool
}

func newFlagSet(stderr io.Writer) (*flag.FlagSet, *flagValues) {
	fs := flag.NewFlagSet("daapd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fv := &flagValues{}
	str := func(p **string, name, usage string) {
		fs.Func(name, usage, func(v string) error { *p = &v; return nil })
	}
	str(&fv.config, "config", "YAML config file (default: $DAAPD_CONFIG)")
	fs.Var(&fv.music, "music", "music folder to share (repeatable; default ./music-fixtures when present)")
	str(&fv.listen, "listen", "HTTP listen address (default :3689)")
	str(&fv.name, "name", "share name shown to clients (default: \"<hostname> Music\")")
	str(&fv.passwordFile, "password-file", "file holding the share password (default: no password)")
	str(&fv.mdns, "mdns", "announce backend: auto, embedded, avahi or off (default auto)")
	fs.Var(&fv.interfaces, "interface", "network interface to announce on (repeatable; default: all usable)")
	fs.BoolFunc("ipv4-only", "advertise IPv4 addresses only", func(v string) error {
		b, err := strconv.ParseBool(v)
		fv.ipv4Only = &b
		return err
	})
	fs.BoolFunc("watch", "watch the music folders for changes (default true; --watch=false to disable)", func(v string) error {
		b, err := strconv.ParseBool(v)
		fv.watch = &b
		return err
	})
	fs.Func("rescan-interval", "periodic full rescan, e.g. 15m; 0 disables", func(v string) error {
		d, err := time.ParseDuration(v)
		fv.rescanInterval = &d
		return err
	})
	fs.Func("scan-workers", "parallel scanner workers (default: number of CPUs)", func(v string) error {
		n, err := strconv.Atoi(v)
		fv.scanWorkers = &n
		return err
	})
	str(&fv.transcode, "transcode", "formats iTunes/Music.app cannot play (FLAC, Ogg, Opus): auto (WAV via ffmpeg when installed, else hide), off or hide (default auto)")
	str(&fv.stateDir, "state-dir", "state directory (default $XDG_STATE_HOME/daapd or ~/.local/state/daapd)")
	str(&fv.logLevel, "log-level", "debug, info, warn or error (default info)")
	str(&fv.logFormat, "log-format", "text or json (default text)")
	fs.BoolVar(&fv.version, "version", false, "print the version and exit")
	return fs, fv
}

// loadConfig builds the effective configuration from defaults, the YAML
// file, the environment and the parsed flags, and validates it. All
// problems are reported at once.
func loadConfig(fv *flagValues, getenv func(string) string) (Config, error) {
	cfg := defaultConfig(getenv)
	var errs []error

	path := getenv("DAAPD_CONFIG")
	if fv.config != nil {
		path = *fv.config
	}
	if path != "" {
		if err := readYAML(path, &cfg); err != nil {
			errs = append(errs, err)
		}
	}

	// Environment.
	envStr := func(key string, dst *string) {
		if v := getenv(key); v != "" {
			*dst = v
		}
	}
	envStr("DAAPD_LISTEN", &cfg.Listen)
	envStr("DAAPD_NAME", &cfg.Name)
	envStr("DAAPD_PASSWORD_FILE", &cfg.PasswordFile)
	envStr("DAAPD_MDNS", &cfg.MDNS)
	envStr("DAAPD_STATE_DIR", &cfg.StateDir)
	envStr("DAAPD_LOG_LEVEL", &cfg.LogLevel)
	envStr("DAAPD_LOG_FORMAT", &cfg.LogFormat)
	envStr("DAAPD_TRANSCODE", &cfg.Transcode)
	if v := getenv("DAAPD_MUSIC"); v != "" {
		cfg.Music = filepath.SplitList(v)
	}
	if v := getenv("DAAPD_INTERFACES"); v != "" {
		cfg.Interfaces = splitComma(v)
	}
	envBool := func(key string, dst *bool) {
		if v := getenv(key); v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s=%q: not a boolean", key, v))
				return
			}
			*dst = b
		}
	}
	envBool("DAAPD_IPV4_ONLY", &cfg.IPv4Only)
	envBool("DAAPD_WATCH", &cfg.Watch)
	if v := getenv("DAAPD_RESCAN_INTERVAL"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("DAAPD_RESCAN_INTERVAL=%q: not a duration", v))
		}
		cfg.RescanInterval = Duration(d)
	}
	if v := getenv("DAAPD_SCAN_WORKERS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("DAAPD_SCAN_WORKERS=%q: not a number", v))
		}
		cfg.ScanWorkers = n
	}

	// Flags.
	set := func(p *string, dst *string) {
		if p != nil {
			*dst = *p
		}
	}
	set(fv.listen, &cfg.Listen)
	set(fv.name, &cfg.Name)
	set(fv.passwordFile, &cfg.PasswordFile)
	set(fv.mdns, &cfg.MDNS)
	set(fv.stateDir, &cfg.StateDir)
	set(fv.logLevel, &cfg.LogLevel)
	set(fv.logFormat, &cfg.LogFormat)
	set(fv.transcode, &cfg.Transcode)
	if len(fv.music) > 0 {
		cfg.Music = fv.music
	}
	if len(fv.interfaces) > 0 {
		cfg.Interfaces = fv.interfaces
	}
	if fv.ipv4Only != nil {
		cfg.IPv4Only = *fv.ipv4Only
	}
	if fv.watch != nil {
		cfg.Watch = *fv.watch
	}
	if fv.rescanInterval != nil {
		cfg.RescanInterval = Duration(*fv.rescanInterval)
	}
	if fv.scanWorkers != nil {
		cfg.ScanWorkers = *fv.scanWorkers
	}

	if len(cfg.Music) == 0 {
		if fi, err := os.Stat("music-fixtures"); err == nil && fi.IsDir() {
			cfg.Music = []string{"music-fixtures"}
		}
	}
	errs = append(errs, cfg.validate()...)
	if cfg.PasswordFile != "" {
		b, err := os.ReadFile(cfg.PasswordFile)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("password_file: %w", err))
		case len(bytes.TrimSpace(b)) == 0:
			errs = append(errs, fmt.Errorf("password_file %s is empty", cfg.PasswordFile))
		default:
			cfg.password = strings.TrimRight(string(b), "\r\n")
		}
	}
	return cfg, errors.Join(errs...)
}

func readYAML(path string, cfg *Config) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	defer f.Close()
	dec := yaml.NewDecoder(f)
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("config %s: %w", path, err)
	}
	return nil
}

// validate lists every problem with cfg.
func (c *Config) validate() []error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if len(c.Music) == 0 {
		bad("music: no music folder given (use --music DIR, DAAPD_MUSIC or music: in the config)")
	}
	for _, m := range c.Music {
		if m == "" {
			bad("music: empty folder name")
		}
	}
	if host, port, err := net.SplitHostPort(c.Listen); err != nil {
		bad("listen: %q is not host:port (e.g. :3689 or 127.0.0.1:3689)", c.Listen)
	} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		bad("listen: port %q is not a number from 0 to 65535", port)
	} else if host != "" && net.ParseIP(strings.Trim(host, "[]")) == nil && host != "localhost" {
		bad("listen: host %q is not an IP address", host)
	}
	if strings.TrimSpace(c.Name) == "" {
		bad("name: must not be empty")
	}
	if !slices.Contains(mdnsModes, c.MDNS) {
		bad("mdns: %q is not one of %s", c.MDNS, strings.Join(mdnsModes, ", "))
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(c.LogLevel)); err != nil {
		bad("log_level: %q is not one of debug, info, warn, error", c.LogLevel)
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		bad("log_format: %q is not text or json", c.LogFormat)
	}
	if c.StateDir == "" {
		bad("state_dir: must not be empty")
	}
	if c.RescanInterval < 0 {
		bad("rescan_interval: must not be negative (0 disables)")
	} else if c.RescanInterval > 0 && time.Duration(c.RescanInterval) < time.Minute {
		bad("rescan_interval: %v is too short (at least 1m, or 0 to disable)", time.Duration(c.RescanInterval))
	}
	if !slices.Contains(daap.TranscodeModes, c.Transcode) {
		bad("transcode: %q is not one of %s", c.Transcode, strings.Join(daap.TranscodeModes, ", "))
	}
	if c.ScanWorkers < 0 || c.ScanWorkers > 256 {
		bad("scan_workers: %d is out of range (0 = number of CPUs, up to 256)", c.ScanWorkers)
	}
	return errs
}

// logValue is the configuration as logged at startup (password redacted).
func (c *Config) logValue() slog.Value {
	pw := "none"
	if c.password != "" {
		pw = "set (redacted)"
	}
	return slog.GroupValue(
		slog.Any("music", c.Music),
		slog.String("listen", c.Listen),
		slog.String("name", c.Name),
		slog.String("password", pw),
		slog.String("mdns", c.MDNS),
		slog.Any("interfaces", c.Interfaces),
		slog.Bool("ipv4_only", c.IPv4Only),
		slog.String("state_dir", c.StateDir),
		slog.Bool("watch", c.Watch),
		slog.Duration("rescan_interval", time.Duration(c.RescanInterval)),
		slog.Int("scan_workers", c.ScanWorkers),
		slog.String("transcode", c.Transcode),
		slog.String("log_level", c.LogLevel),
		slog.String("log_format", c.LogFormat),
	)
}

func splitComma(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
