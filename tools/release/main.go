// Command release builds daapd's release artifacts for VERSION:
//
//	go -C tools/release run . v1.2.3            # from the repository root
//	go -C tools/release run . -out /tmp/rel v1.2.3
//
// For each Linux target it writes daapd_VERSION_linux_ARCH.tar.gz (the
// binary, README.md, config.example.yaml, daapd.service, LICENSE in one
// folder), Debian packages for amd64, arm64 and armhf (made with nfpm:
// /usr/bin/daapd, the systemd unit, /etc/daapd/config.yaml as a conffile, a
// "daapd" system user; nothing is enabled or started), and SHA256SUMS.
// Binaries are static (CGO off), built with -trimpath and
// -X main.version=VERSION, so `daapd --version` prints VERSION.
//
// It is a module of its own so that the packaging library never enters
// the daemon's dependencies.
package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/goreleaser/nfpm/v2"
	_ "github.com/goreleaser/nfpm/v2/deb" // registers the deb packager
	"github.com/goreleaser/nfpm/v2/files"
)

// target is one platform release builds for.
type target struct {
	Arch, ARM string // GOARCH and GOARM
	Name      string // in file names
	Deb       string // Debian architecture; "" = no .deb
}

// targets: armv6 runs on every 32-bit Raspberry Pi and is Debian's armhf
// package (Raspberry Pi OS armhf is ARMv6; Debian armhf is ARMv7, which runs
// ARMv6 code); armv7 is a tarball for NAS boxes.
var targets = []target{
	{Arch: "amd64", Name: "amd64", Deb: "amd64"},
	{Arch: "arm64", Name: "arm64", Deb: "arm64"},
	{Arch: "arm", ARM: "6", Name: "armv6", Deb: "armhf"},
	{Arch: "arm", ARM: "7", Name: "armv7"},
	{Arch: "386", Name: "386"},
	{Arch: "riscv64", Name: "riscv64"},
}

var versionRE = regexp.MustCompile(`^v?[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.+-]+)?$`)

func main() {
	out := flag.String("out", "", "output folder (default: release/VERSION in the repository)")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: go -C tools/release run . [-out DIR] VERSION\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 || !versionRE.MatchString(flag.Arg(0)) {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(flag.Arg(0), *out); err != nil {
		fmt.Fprintln(os.Stderr, "release:", err)
		os.Exit(1)
	}
}

func run(version, out string) error {
	root, err := repoRoot()
	if err != nil {
		return err
	}
	if out == "" {
		out = filepath.Join(root, "release", version)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	mtime := sourceTime(root)
	docs := map[string][]byte{}
	for _, f := range []string{"README.md", "LICENSE", "config.example.yaml", "dist/daapd.service"} {
		if docs[f], err = os.ReadFile(filepath.Join(root, f)); err != nil {
			return err
		}
	}
	var made []string
	for _, t := range targets {
		bin, err := build(root, version, t)
		if err != nil {
			return err
		}
		tgz, err := tarball(out, version, t, bin, docs, mtime)
		if err != nil {
			return err
		}
		made = append(made, tgz)
		if t.Deb != "" {
			deb, err := debPackage(out, version, t, bin, docs, mtime)
			if err != nil {
				return err
			}
			made = append(made, deb)
		}
		fmt.Printf("%-8s %s\n", t.Name, strings.Join(made[len(made)-1-btoi(t.Deb != ""):], " "))
	}
	return checksums(out, made)
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// repoRoot finds the daapd module's folder above the working directory.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && bytes.HasPrefix(b, []byte("module github.com/daapd/daapd\n")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("not inside the daapd repository")
		}
		dir = parent
	}
}

// sourceTime is the time stamped on archive members: SOURCE_DATE_EPOCH,
// else the last commit's time, so rebuilding a release gives the same bytes.
func sourceTime(root string) time.Time {
	s := os.Getenv("SOURCE_DATE_EPOCH")
	if s == "" {
		b, _ := exec.Command("git", "-C", root, "log", "-1", "--format=%ct").Output()
		s = strings.TrimSpace(string(b))
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Unix(n, 0).UTC()
	}
	return time.Now().UTC().Truncate(time.Second)
}

func build(root, version string, t target) ([]byte, error) {
	tmp, err := os.MkdirTemp("", "daapd-release-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	bin := filepath.Join(tmp, "daapd")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w -X main.version="+version, "-o", bin, "./cmd/daapd")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+t.Arch, "GOARM="+t.ARM)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("build linux/%s: %w", t.Name, err)
	}
	return os.ReadFile(bin)
}

func tarball(out, version string, t target, bin []byte, docs map[string][]byte, mtime time.Time) (string, error) {
	base := fmt.Sprintf("daapd_%s_linux_%s", strings.TrimPrefix(version, "v"), t.Name)
	members := []struct {
		name string
		mode int64
		data []byte
	}{
		{"daapd", 0o755, bin},
		{"README.md", 0o644, docs["README.md"]},
		{"LICENSE", 0o644, docs["LICENSE"]},
		{"config.example.yaml", 0o644, docs["config.example.yaml"]},
		{"daapd.service", 0o644, docs["dist/daapd.service"]},
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, m := range members {
		h := &tar.Header{Name: base + "/" + m.name, Mode: m.mode, Size: int64(len(m.data)), ModTime: mtime,
			Typeflag: tar.TypeReg, Uname: "root", Gname: "root", Format: tar.FormatPAX}
		if err := tw.WriteHeader(h); err != nil {
			return "", err
		}
		if _, err := tw.Write(m.data); err != nil {
			return "", err
		}
	}
	if err := errors.Join(tw.Close(), zw.Close()); err != nil {
		return "", err
	}
	name := base + ".tar.gz"
	return name, os.WriteFile(filepath.Join(out, name), buf.Bytes(), 0o644)
}

// debUnit turns the hand-install unit (DynamicUser, /usr/local/bin) into
// the package's: the packaged binary and the "daapd" system user, whose
// state survives upgrades in /var/lib/daapd.
func debUnit(unit []byte) ([]byte, error) {
	s := string(unit)
	if i := strings.Index(s, "[Unit]"); i > 0 {
		s = "# systemd unit for daapd, installed by the daapd package.\n" +
			"# Edit /etc/daapd/config.yaml (music:), then: sudo systemctl enable --now daapd\n" + s[i:]
	}
	for _, r := range [][2]string{
		{"DynamicUser=yes\n", "User=daapd\nGroup=daapd\n"},
		{"ExecStart=/usr/local/bin/daapd", "ExecStart=/usr/bin/daapd"},
	} {
		if !strings.Contains(s, r[0]) {
			return nil, fmt.Errorf("dist/daapd.service: no %q to adapt for the package", strings.TrimSpace(r[0]))
		}
		s = strings.Replace(s, r[0], r[1], 1)
	}
	return []byte(s), nil
}

const sysusers = "# daapd's system user (see sysusers.d(5)).\nu daapd - \"daapd DAAP music server\" /var/lib/daapd /usr/sbin/nologin\n"

// postinst creates the user (systemd-sysusers where it exists, else
// useradd, which even minimal Debian roots have) and tells systemd about
// the unit; it enables and starts nothing.
const postinst = `#!/bin/sh
set -e
if [ "$1" = configure ]; then
    if command -v systemd-sysusers >/dev/null 2>&1; then
        systemd-sysusers daapd.conf
    elif ! getent passwd daapd >/dev/null; then
        useradd --system --user-group --home-dir /var/lib/daapd --no-create-home --shell /usr/sbin/nologin daapd
    fi
    if [ -d /run/systemd/system ]; then
        systemctl daemon-reload || true
    fi
    if [ -z "$2" ]; then
        echo "daapd: set music: in /etc/daapd/config.yaml, then run: systemctl enable --now daapd"
    fi
fi
`

// postrm forgets the unit on removal and deletes the state on purge; the
// user stays (Debian practice: its uid may own files elsewhere).
const postrm = `#!/bin/sh
set -e
if [ "$1" = purge ]; then
    rm -rf /var/lib/daapd
fi
if [ -d /run/systemd/system ]; then
    systemctl daemon-reload || true
fi
`

// prerm stops a running daapd before its binary is removed (not on upgrade:
// the running daemon keeps its old binary until the user restarts it).
const prerm = `#!/bin/sh
set -e
if [ "$1" = remove ] && [ -d /run/systemd/system ]; then
    systemctl stop daapd.service || true
fi
`

func debPackage(out, version string, t target, bin []byte, docs map[string][]byte, mtime time.Time) (string, error) {
	tmp, err := os.MkdirTemp("", "daapd-deb-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	unit, err := debUnit(docs["dist/daapd.service"])
	if err != nil {
		return "", err
	}
	write := map[string][]byte{
		"daapd": bin, "daapd.service": unit, "config.yaml": docs["config.example.yaml"],
		"sysusers.conf": []byte(sysusers), "postinst": []byte(postinst), "postrm": []byte(postrm),
		"prerm": []byte(prerm), "copyright": docs["LICENSE"],
	}
	for name, data := range write {
		if err := os.WriteFile(filepath.Join(tmp, name), data, 0o644); err != nil {
			return "", err
		}
	}
	src := func(n string) string { return filepath.Join(tmp, n) }
	mode := func(m os.FileMode) *files.ContentFileInfo { return &files.ContentFileInfo{Mode: m, MTime: mtime} }
	info := nfpm.WithDefaults(&nfpm.Info{
		Name:        "daapd",
		Arch:        t.Deb,
		Platform:    "linux",
		Version:     version,
		Section:     "sound",
		Priority:    "optional",
		Maintainer:  "daapd developers <daapd@users.noreply.github.com>",
		Description: "DAAP music sharing server for iTunes, Music.app and Rhythmbox\nShares folders of music over DAAP and announces them with mDNS/Bonjour.\nFLAC, Ogg and Opus are converted to WAV for iTunes when ffmpeg is installed.",
		Homepage:    "https://github.com/daapd/daapd",
		License:     "MIT",
		MTime:       mtime,
		Overridables: nfpm.Overridables{
			Recommends: []string{"avahi-daemon"},
			Suggests:   []string{"ffmpeg"},
			Contents: files.Contents{
				{Source: src("daapd"), Destination: "/usr/bin/daapd", FileInfo: mode(0o755)},
				{Source: src("daapd.service"), Destination: "/lib/systemd/system/daapd.service", FileInfo: mode(0o644)},
				{Source: src("sysusers.conf"), Destination: "/usr/lib/sysusers.d/daapd.conf", FileInfo: mode(0o644)},
				{Source: src("config.yaml"), Destination: "/etc/daapd/config.yaml", Type: files.TypeConfigNoReplace, FileInfo: mode(0o644)},
				{Source: src("copyright"), Destination: "/usr/share/doc/daapd/copyright", FileInfo: mode(0o644)},
			},
			Scripts: nfpm.Scripts{PostInstall: src("postinst"), PreRemove: src("prerm"), PostRemove: src("postrm")},
		},
	})
	pkg, err := nfpm.Get("deb")
	if err != nil {
		return "", err
	}
	if err := nfpm.PrepareForPackager(info, "deb"); err != nil {
		return "", err
	}
	name := pkg.ConventionalFileName(info)
	var buf bytes.Buffer
	if err := pkg.Package(info, &buf); err != nil {
		return "", fmt.Errorf("deb %s: %w", t.Deb, err)
	}
	return name, os.WriteFile(filepath.Join(out, name), buf.Bytes(), 0o644)
}

// checksums writes SHA256SUMS in sha256sum(1)'s format.
func checksums(out string, names []string) error {
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		f, err := os.Open(filepath.Join(out, n))
		if err != nil {
			return err
		}
		h := sha256.New()
		_, err = io.Copy(h, f)
		f.Close()
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "%x  %s\n", h.Sum(nil), n)
	}
	fmt.Printf("SHA256SUMS in %s\n", out)
	return os.WriteFile(filepath.Join(out, "SHA256SUMS"), []byte(b.String()), 0o644)
}
