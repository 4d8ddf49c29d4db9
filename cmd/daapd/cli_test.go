package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/daapd/daapd/internal/testkit"
)

// TestMain lets a test run the real main() in a child process: the
// signal handling and exit codes are part of what is tested.
func TestMain(m *testing.M) {
	if os.Getenv("DAAPD_TEST_RUN_MAIN") == "1" {
		os.Args = append([]string{"daapd"}, strings.Split(os.Getenv("DAAPD_TEST_ARGS"), "\n")...)
		main()
		return
	}
	os.Exit(m.Run())
}

func TestBadFlagIsOneShortError(t *testing.T) {
	var stderr bytes.Buffer
	err := run(context.Background(), []string{"--no-such-flag"}, env(nil), &stderr, nil)
	if err == nil {
		t.Fatal("no error")
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "no-such-flag") || !strings.Contains(lines[1], "daapd --help") {
		t.Errorf("error %q: want the problem and one line pointing at --help", err)
	}
	if stderr.Len() != 0 {
		t.Errorf("usage printed on stderr:\n%s", stderr.String())
	}
}

func TestHelp(t *testing.T) {
	var out bytes.Buffer
	err := run(context.Background(), []string{"--help"}, env(nil), io.Discard, &hooks{stdout: &out})
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("run(--help) = %v", err)
	}
	help := out.String()
	for _, want := range []string{"daapd scan", "daapd playlists", "daapd healthcheck", "defaults < YAML file", "DAAPD_* environment variables < flags", "--config FILE", "--version"} {
		if !strings.Contains(help, want) {
			t.Errorf("--help does not mention %q", want)
		}
	}
	for _, o := range options {
		for _, want := range []string{"--" + o.flagName(), "$" + o.env(), o.name + ":"} {
			if !strings.Contains(help, want) {
				t.Errorf("--help does not mention %s", want)
			}
		}
	}
}

func TestVersion(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"--version"}, env(nil), io.Discard, &hooks{stdout: &out}); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "daapd ") || strings.HasPrefix(out.String(), "daapd dev ") {
		t.Errorf("--version printed %q", out.String())
	}
	tests := []struct {
		name string
		bi   debug.BuildInfo
		want string
	}{
		{"module version", debug.BuildInfo{Main: debug.Module{Version: "v1.2.3"}}, "v1.2.3"},
		{"pseudo-version from a checkout", debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20261201232233-6adac4f1a2b3+dirty"}}, "v0.0.0-20261201232233-6adac4f1a2b3+dirty"},
		{"vcs stamp", debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "6adac4f1a2b3c4d5e6f7"}, {Key: "vcs.time", Value: "2026-12-01T23:22:33Z"}, {Key: "vcs.modified", Value: "true"}}},
			"devel-6adac4f1a2b3+dirty (2026-12-01T23:22:33Z)"},
		{"nothing known", debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, "devel (no VCS information in this build)"},
	}
	for _, tc := range tests {
		if got := buildVersion(&tc.bi); got != tc.want {
			t.Errorf("%s: buildVersion = %q, want %q", tc.name, got, tc.want)
		}
	}
	old := version
	version = "1.4.0"
	defer func() { version = old }()
	if got := daapdVersion(); got != "1.4.0" {
		t.Errorf("with -X main.version: %q", got)
	}
}

// Only a port in use suggests another DAAP server.
func TestListenErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	for _, tc := range []struct {
		addr    string
		want    string
		another bool
	}{
		{ln.Addr().String(), "port is in use", true},
		{"192.0.2.1:0", "no network interface of this machine has that address", false},
	} {
		_, err := listen(tc.addr)
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "another DAAP server") != tc.another {
			t.Errorf("listen(%s) = %v", tc.addr, err)
		}
	}
}

// daapdProcess starts main() in a child process with args.
func daapdProcess(t *testing.T, stderr io.Writer, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	if emu := os.Getenv("DAAPD_TEST_EXEC"); emu != "" {
		// Under qemu-user (.ci/qemu.sh sets it) the child needs the emulator too.
		cmd = exec.Command(emu, os.Args[0], "-test.run=^$")
	}
	cmd.Env = append(os.Environ(), "DAAPD_TEST_RUN_MAIN=1", "DAAPD_TEST_ARGS="+strings.Join(args, "\n"), "HOME="+t.TempDir())
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd
}

// A FIFO or device where a state file belongs never stalls startup: the
// library id fails at once with a clear error; the scan cache is refused
// (and logged), and SIGTERM stops the daemon promptly.
func TestStateFilesThatAreNotFiles(t *testing.T) {
	t.Run("library id is a FIFO", func(t *testing.T) {
		state := t.TempDir()
		if err := syscall.Mkfifo(filepath.Join(state, "library-id"), 0o600); err != nil {
			t.Fatal(err)
		}
		var logs testkit.SyncBuffer
		cmd := daapdProcess(t, &logs, "--music", "../../music-fixtures", "--listen", "127.0.0.1:0", "--mdns", "off", "--state-dir", state)
		err := waitExit(t, cmd, &logs)
		if err == nil || !strings.Contains(logs.String(), "not a regular file (a FIFO)") {
			t.Errorf("exit %v; want a clear error, log:\n%s", err, logs.String())
		}
	})
	t.Run("scan cache is a FIFO, then SIGTERM", func(t *testing.T) {
		state := t.TempDir()
		cache := filepath.Join(state, "scan-cache")
		if err := syscall.Mkfifo(cache, 0o600); err != nil {
			t.Fatal(err)
		}
		var logs testkit.SyncBuffer
		cmd := daapdProcess(t, &logs, "--music", "../../music-fixtures", "--listen", "127.0.0.1:0", "--mdns", "off", "--state-dir", state)
		waitLog(t, &logs, "not a regular file")
		cmd.Process.Signal(syscall.SIGTERM)
		if err := waitExit(t, cmd, &logs); err != nil {
			t.Errorf("exit after SIGTERM: %v\n%s", err, logs.String())
		}
		if fi, err := os.Lstat(cache); err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
			t.Errorf("the FIFO was replaced: %v %v", fi.Mode(), err)
		}
	})
}

// TestSIGTERMDuringStartup signals a daemon still in its first scan.
func TestSIGTERMDuringStartup(t *testing.T) {
	var logs testkit.SyncBuffer
	cmd := daapdProcess(t, &logs, "--music", "../../music-fixtures", "--listen", "127.0.0.1:0", "--mdns", "off", "--state-dir", t.TempDir())
	waitLog(t, &logs, "daapd starting")
	cmd.Process.Signal(syscall.SIGTERM)
	if err := waitExit(t, cmd, &logs); err != nil {
		t.Errorf("exit after SIGTERM: %v\n%s", err, logs.String())
	}
}

// waitLog waits for text in a child's log.
func waitLog(t *testing.T, logs *testkit.SyncBuffer, text string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(logs.String(), text) {
		if time.Now().After(deadline) {
			t.Fatalf("no %q in the log:\n%s", text, logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitExit waits for the child; a stuck one is killed and fails the test.
// The bound is generous for a loaded machine; the daemon's own watchdog
// (stopGrace) is tighter.
func waitExit(t *testing.T, cmd *exec.Cmd, logs *testkit.SyncBuffer) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatalf("daapd did not exit; log:\n%s", logs.String())
		return nil
	}
}
