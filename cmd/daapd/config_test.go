package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func parseFlags(t *testing.T, args ...string) *flagValues {
	t.Helper()
	fs, fv := newFlagSet(io.Discard)
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
		{"unknown key", "music: [/m]\nlisten_addr: ':1'\n", nil, nil, []string{"listen_addr", "not found"}},
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
		c.Transcode != d.Transcode {
		t.Errorf("config.example.yaml differs from the defaults:\nexample  %+v\ndefaults %+v", c, d)
	}
}
