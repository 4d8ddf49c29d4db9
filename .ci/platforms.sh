#!/usr/bin/env bash
# .ci/platforms.sh — everywhere daapd runs (issue 9), one CI step:
#   cross.sh     vet + build for every target (linux amd64/arm64/arm v6,v7/386/riscv64/mipsle, freebsd, darwin)
#   qemu.sh      the Go tests as linux/arm (GOARM=7) and linux/arm64 under qemu-user
#   packages.sh  release tarballs + .deb; install into a Debian root; systemd-analyze verify
#   docker.sh    the README's docker build/run lines; healthcheck; iTunes gets FLAC/Ogg/Opus as WAV
#   docker-mdns.sh  the README's host-D-Bus lines: publishes through the host's Avahi, falls back, goodbye
# Each prints its own time; a script that cannot run here (exit 77) is
# reported as skipped with its reason and does not fail the step.
#   ONLY="cross qemu" .ci/platforms.sh
set -uo pipefail
cd "$(dirname "$0")/.."
# Tools the scripts need (root on Debian): never start a service.
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    missing=()
    for p in qemu-user podman runc mmdebstrap uidmap curl; do dpkg -s $p >/dev/null 2>&1 || missing+=($p); done
    if [ ${#missing[@]} -gt 0 ]; then
        echo "installing: ${missing[*]}"
        guard=/usr/sbin/policy-rc.d made=0
        if [ ! -e $guard ]; then printf '#!/bin/sh\nexit 101\n' >$guard; chmod +x $guard; made=1; fi
        { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >/tmp/daapd-platforms-apt.log 2>&1 ||
            tail -5 /tmp/daapd-platforms-apt.log
        [ $made = 1 ] && rm -f $guard
    fi
fi
fail=0 summary=()
for s in ${ONLY:-cross qemu packages docker docker-mdns}; do
    echo "=== .ci/$s.sh"
    start=$SECONDS
    bash .ci/$s.sh; rc=$?
    case $rc in
        0) r=ok ;;
        77) r=SKIPPED ;;
        *) r=FAILED; fail=1 ;;
    esac
    summary+=("$s: $r ($((SECONDS - start)) s)")
    echo "--- $s: $r ($((SECONDS - start)) s)"
done
printf '%s\n' "${summary[@]}"
exit $fail
