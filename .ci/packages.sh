#!/usr/bin/env bash
# .ci/packages.sh — build the release artifacts with the release tool, check
# the tarballs and SHA256SUMS, install the amd64 .deb into a throwaway
# Debian root (mmdebstrap minbase with systemd, not running) and run `daapd --version`
# there, check what the package installed and that it enabled nothing,
# remove and purge it, and let `systemd-analyze verify` check both units.
# Exit 77: skipped (not root, or mmdebstrap missing).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
CI=/var/tmp/daapd-ci
VERSION=v0.0.0-ci

skip() { echo "skip: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root (chroot)"
for t in mmdebstrap dpkg-deb systemd-analyze sha256sum; do
    command -v $t >/dev/null || skip "$t missing (apt-get install --no-install-recommends mmdebstrap)"
done
t0=$SECONDS
phase() { echo "--- $1 ($((SECONDS - t0)) s)"; }
tmp=$(mktemp -d /tmp/daapd-packages.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

go -C tools/release run . -out "$tmp/rel" $VERSION
phase "release tool"
cd "$tmp/rel"
sha256sum --quiet -c SHA256SUMS
for a in amd64 arm64 armv6 armv7 386 riscv64; do
    got=$(tar tzf daapd_${VERSION#v}_linux_$a.tar.gz | sort | tr '\n' ' ')
    want="daapd_${VERSION#v}_linux_$a/LICENSE daapd_${VERSION#v}_linux_$a/README.md daapd_${VERSION#v}_linux_$a/config.example.yaml daapd_${VERSION#v}_linux_$a/daapd daapd_${VERSION#v}_linux_$a/daapd.service "
    [ "$got" = "$want" ] || { echo "tarball $a holds: $got"; exit 1; }
done
for a in amd64 arm64 armhf; do
    deb=$(ls daapd_*_$a.deb)
    [ "$(dpkg-deb -f "$deb" Architecture)" = $a ] || { echo "$deb: wrong Architecture"; exit 1; }
    dpkg-deb -I "$deb" conffiles | grep -x /etc/daapd/config.yaml >/dev/null || { echo "$deb: config.yaml is not a conffile"; exit 1; }
done
# The ARM binaries run (under qemu-user when it is installed).
want_tracks=$(cd "$ROOT" && go run ./cmd/daapd scan music-fixtures --json 2>/dev/null | wc -l)
for a in arm64:qemu-aarch64 armv6:qemu-arm armv7:qemu-arm; do
    q=${a#*:}; a=${a%:*}
    command -v $q >/dev/null || { echo "$a: not run ($q missing: apt-get install qemu-user)"; continue; }
    tar -C "$tmp" -xzf daapd_${VERSION#v}_linux_$a.tar.gz
    bin=$tmp/daapd_${VERSION#v}_linux_$a/daapd
    got=$($q $bin scan "$ROOT/music-fixtures" --json 2>/dev/null | wc -l)
    echo "$a under $q: $($q $bin --version), scan of music-fixtures: $got tracks"
    [ "$got" -gt 0 ] && [ "$got" = "$want_tracks" ] || { echo "want $want_tracks"; exit 1; }
done
ls -l "$tmp/rel" | awk 'NR>1{print "  " $5, $9}'
cd "$ROOT"

# A minimal Debian root with systemd (not running: it only gives
# systemd-analyze the targets and /bin/kill a real system has), cached
# between runs.
mkdir -p $CI
base=$CI/bookworm-minbase-systemd.tar
if [ ! -s $base ]; then
    mmdebstrap --quiet --variant=minbase --include=systemd,procps bookworm $base.tmp.tar /etc/apt/sources.list.d/debian.sources
    mv $base.tmp.tar $base
fi
r=$tmp/root
mkdir -p $r
tar -C $r -xf $base
phase "Debian root ready"
cp "$tmp"/rel/daapd_*_amd64.deb $r/tmp/daapd.deb
in_root() { chroot $r "$@"; }
in_root dpkg -i /tmp/daapd.deb
got=$(in_root daapd --version)
echo "daapd --version in the Debian root: $got"
case $got in *"${VERSION#v}"*) ;; *) echo "want $VERSION"; exit 1 ;; esac
in_root getent passwd daapd | grep ':/var/lib/daapd:/usr/sbin/nologin$' >/dev/null || { echo "no daapd system user"; exit 1; }
in_root dpkg-query -W -f='${Conffiles}\n' daapd | grep '/etc/daapd/config.yaml' >/dev/null || { echo "config.yaml is not a conffile"; exit 1; }
[ -f $r/lib/systemd/system/daapd.service ] && [ -f $r/usr/lib/sysusers.d/daapd.conf ] || { echo "unit or sysusers file missing"; exit 1; }
if [ -n "$(find $r/etc/systemd -name 'daapd*' 2>/dev/null)" ]; then echo "the package enabled daapd"; exit 1; fi
echo "installed: user daapd, conffile /etc/daapd/config.yaml, unit not enabled"

# The units: the packaged one in the Debian root, the hand-install one too.
install -D -m755 $r/usr/bin/daapd $r/usr/local/bin/daapd
install -D -m644 dist/daapd.service $r/etc/systemd/system/daapd-manual.service
SYSTEMD_LOG_LEVEL=notice systemd-analyze verify --root=$r daapd.service daapd-manual.service
echo "systemd-analyze verify: both units accepted"

# Remove keeps the configuration; purge deletes configuration and state.
mkdir -p $r/var/lib/daapd && in_root chown daapd: /var/lib/daapd
in_root dpkg -r daapd >/dev/null
[ -f $r/etc/daapd/config.yaml ] && [ ! -e $r/usr/bin/daapd ] || { echo "remove: wrong files left"; exit 1; }
in_root dpkg -P daapd >/dev/null
[ ! -e $r/etc/daapd/config.yaml ] && [ ! -e $r/var/lib/daapd ] || { echo "purge left files"; exit 1; }
echo "remove and purge: ok"
phase "packages checked"
