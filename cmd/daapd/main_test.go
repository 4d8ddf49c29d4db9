package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/daapd/daapd/daap"
	"github.com/daapd/daapd/internal/testkit"
)

type health struct {
	Status   string `json:"status"`
	Scanning bool   `json:"scanning"`
	Tracks   int    `json:"tracks"`
	Revision uint32 `json:"revision"`
	Announce string `json:"announce"`
}

// startDaemon runs the real daemon on 127.0.0.1:0 with announcing off and
// returns its base URL and a stop function that reports run's error.
func startDaemon(t *testing.T, extra ...string) (string, *testkit.SyncBuffer, func() error) {
	t.Helper()
	state := t.TempDir()
	args := append([]string{"--music", "../../music-fixtures", "--listen", "127.0.0.1:0", "--mdns", "off",
		"--state-dir", state, "--name", "Test Share", "--log-level", "debug"}, extra...)
	ctx, cancel := context.WithCancel(context.Background())
	logs := &testkit.SyncBuffer{}
	addr := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, args, env(map[string]string{"HOME": state}), logs, &hooks{ready: func(a net.Addr) { addr <- a }})
	}()
	select {
	case a := <-addr:
		return "http://" + a.String(), logs, func() error {
			cancel()
			select {
			case err := <-done:
				return err
			case <-time.After(20 * time.Second):
				t.Fatalf("daemon did not stop; log:\n%s", logs)
				return nil
			}
		}
	case err := <-done:
		cancel()
		t.Fatalf("run failed: %v\n%s", err, logs)
	case <-time.After(20 * time.Second):
		cancel()
		t.Fatalf("daemon did not start; log:\n%s", logs)
	}
	return "", nil, nil
}

func getHealth(t *testing.T, base string) health {
	t.Helper()
	resp, err := http.Get(base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var h health
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
		t.Fatal(err)
	}
	return h
}

// waitScanned polls /healthz until the first scan has finished.
func waitScanned(t *testing.T, base string) health {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		h := getHealth(t, base)
		if !h.Scanning && h.Tracks > 0 {
			return h
		}
		if time.Now().After(deadline) {
			t.Fatalf("scan did not finish: %+v", h)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestRunServesFixtures(t *testing.T) {
	base, logs, stop := startDaemon(t)

	// /server-info answers at once, before the scan is done.
	resp, err := http.Get(base + "/server-info")
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/x-dmap-tagged" {
		t.Fatalf("server-info: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if !strings.HasPrefix(resp.Header.Get("DAAP-Server"), "daapd/") {
		t.Errorf("DAAP-Server header %q", resp.Header.Get("DAAP-Server"))
	}

	h := waitScanned(t, base)
	if h.Status != "ok" || h.Revision < 2 || h.Announce != "off" {
		t.Errorf("healthz %+v", h)
	}
	audio := countAudio(t, "../../music-fixtures")
	if h.Tracks != audio {
		t.Errorf("healthz reports %d tracks, music-fixtures has %d audio files", h.Tracks, audio)
	}

	// A client parked on /update is released by shutdown.
	parked := make(chan int, 1)
	go func() {
		r, err := http.Get(base + "/update?revision-number=" + itoa(h.Revision) + "&delta=0")
		if err != nil {
			parked <- -1
			return
		}
		io.Copy(io.Discard, r.Body)
		r.Body.Close()
		parked <- r.StatusCode
	}()
	time.Sleep(200 * time.Millisecond) // let it park; not a timing assertion

	if err := stop(); err != nil {
		t.Fatalf("run: %v\n%s", err, logs)
	}
	select {
	case code := <-parked:
		// Answering with the client's own revision (or an empty 200) is
		// forbidden: shutdown releases it with 503.
		if code != http.StatusServiceUnavailable {
			t.Errorf("parked /update answered %d at shutdown, want 503", code)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("parked /update was not released at shutdown")
	}
	for _, want := range []string{"daapd starting", "serving DAAP", "not announcing", "shutting down", "stopped"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs)
		}
	}
}

func TestRunPortTaken(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	state := t.TempDir()
	err = run(context.Background(), []string{"--music", "../../music-fixtures", "--listen", ln.Addr().String(), "--mdns", "off", "--state-dir", state},
		env(map[string]string{"HOME": state}), io.Discard, nil)
	if err == nil || !strings.Contains(err.Error(), "cannot listen") {
		t.Fatalf("want a clear listen error, got %v", err)
	}
}

func TestRunBadConfig(t *testing.T) {
	err := run(context.Background(), []string{"--music", "/m", "--mdns", "loud", "--log-level", "chatty"}, env(nil), io.Discard, nil)
	if err == nil || !strings.Contains(err.Error(), "mdns") || !strings.Contains(err.Error(), "log_level") {
		t.Fatalf("want both problems reported, got %v", err)
	}
}

func TestRescanEndpoint(t *testing.T) {
	base, _, stop := startDaemon(t)
	defer stop()
	waitScanned(t, base)
	resp, err := http.Post(base+"/rescan", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Errorf("POST /rescan from loopback: %d", resp.StatusCode)
	}
}

func countAudio(t *testing.T, root string) int {
	t.Helper()
	n := 0
	exts := map[string]bool{".mp3": true, ".m4a": true, ".m4b": true, ".flac": true, ".ogg": true, ".opus": true, ".wav": true, ".aif": true, ".aiff": true,
		".wma": true, ".wv": true, ".tta": true, ".ac3": true, ".eac3": true, ".aac": true, ".mp2": true, ".spx": true, ".mka": true, ".webm": true}
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if strings.HasPrefix(d.Name(), ".") && p != root {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.IsDir() && exts[strings.ToLower(filepath.Ext(p))] {
			n++
		}
		return nil
	})
	return n
}

func itoa(n uint32) string { return strconv.FormatUint(uint64(n), 10) }

func TestRescanAllowed(t *testing.T) {
	basic := func(cred string) string { return "Basic " + base64.StdEncoding.EncodeToString([]byte(cred)) }
	for _, tc := range []struct {
		remote, password, auth string
		want                   bool
	}{
		{"127.0.0.1:5000", "", "", true},
		{"[::1]:5000", "secret", "", true},
		{"192.0.2.7:5000", "", "", false},
		{"192.0.2.7:5000", "", basic("u:"), false},
		{"192.0.2.7:5000", "secret", "", false},
		{"192.0.2.7:5000", "secret", basic("u:wrong"), false},
		{"192.0.2.7:5000", "secret", basic("u:secret"), true},
		// Music.app's user name contains colons: split at the last one.
		{"192.0.2.7:5000", "secret", basic("iTunes_Music/1.4.5 (Macintosh; OS X 14.5) a:b:secret"), true},
	} {
		dsrv := daap.New(daap.Config{Password: tc.password})
		r := httptest.NewRequest("POST", "/rescan", nil)
		r.RemoteAddr = tc.remote
		if tc.auth != "" {
			r.Header.Set("Authorization", tc.auth)
		}
		if got := rescanAllowed(r, dsrv, tc.password); got != tc.want {
			t.Errorf("rescanAllowed(%s, password %q, %q) = %v, want %v", tc.remote, tc.password, tc.auth, got, tc.want)
		}
	}
}

func TestHealthcheckCommand(t *testing.T) {
	base, _, stop := startDaemon(t)
	defer stop()
	addr := strings.TrimPrefix(base, "http://")
	var out bytes.Buffer
	if code := runHealthcheck([]string{"--listen", addr}, env(nil), &out); code != 0 {
		t.Fatalf("healthcheck against a running daapd: exit %d: %s", code, out.String())
	}
	if !strings.Contains(out.String(), `"status":"ok"`) {
		t.Errorf("healthcheck output %q", out.String())
	}
	cfgFile := writeFile(t, t.TempDir(), "c.yaml", "listen: '"+addr+"'\n")
	if code := runHealthcheck([]string{"--config", cfgFile}, env(nil), io.Discard); code != 0 {
		t.Errorf("healthcheck with the address from the config file: exit %d", code)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	free := ln.Addr().String()
	ln.Close()
	if code := runHealthcheck(nil, env(map[string]string{"DAAPD_LISTEN": free}), io.Discard); code == 0 {
		t.Error("healthcheck against nothing: exit 0")
	}
}
