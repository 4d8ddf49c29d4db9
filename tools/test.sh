#!/usr/bin/env bash
# tools/test.sh — run every daapd test: vet, unit and integration tests with
# the race detector, short fuzzing of every parser, the real DAAP clients
# (libdmapsharing, Net::DAAP::DMAP, tshark) against a real daapd on
# loopback, and the mDNS acceptance tests inside network namespaces.
#
# On a fresh Debian machine, run as root, it installs what the tests need
# with apt-get (no service is started: a policy-rc.d guard blocks it).
# Without root or without a tool, the affected tests skip and say why.
#
#   ./tools/test.sh            everything
#   FUZZTIME=0 ./tools/test.sh skip fuzzing (default: 10000x executions per target)
#   QUICK=1 ./tools/test.sh    go test only (no race, no clients, no mDNS)
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
SHARED=${DAAPD_SHARED:-$ROOT/../shared}
# Fuzz budgets are execution counts, not durations: a duration-based
# -fuzztime hits a Go coordinator race (go.dev/issue/75804, fixed in Go 1.27)
# that reports "context deadline exceeded" on a loaded machine.
FUZZTIME=${FUZZTIME:-10000x}
pass=0; fail=0; skip=0; failed=()

step() {
    local name=$1; shift
    echo "=== $name"
    if "$@"; then pass=$((pass + 1)); echo "--- $name: ok"
    else fail=$((fail + 1)); failed+=("$name"); echo "--- $name: FAILED"; fi
}
skipped() { skip=$((skip + 1)); echo "--- $1: SKIPPED ($2)"; }

# 1. Packages (root only). Test-only tools; the daemon itself needs none.
PKGS="ffmpeg python3-mutagen curl perl libnet-daap-dmap-perl python3-gi gir1.2-dmap-3.0 libdmapsharing-3.0-2 tshark bc
      avahi-daemon avahi-utils dbus python3-zeroconf tcpdump iproute2 util-linux
      chromium"
install_pkgs() {
    local missing=()
    for p in $PKGS; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
    [ ${#missing[@]} = 0 ] && { echo "all test packages present"; return 0; }
    echo "installing: ${missing[*]}"
    # Never start avahi-daemon or dbus in this (root) network namespace.
    local guard=/usr/sbin/policy-rc.d made=0
    if [ ! -e $guard ]; then printf '#!/bin/sh\nexit 101\n' > $guard; chmod +x $guard; made=1; fi
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/tmp/daapd-apt.log 2>&1
    local rc=$?
    [ $made = 1 ] && rm -f $guard
    [ $rc = 0 ] || tail -20 /tmp/daapd-apt.log
    return $rc
}
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null && [ -z "${QUICK:-}" ]; then
    step "install test packages" install_pkgs
else
    skipped "install test packages" "not root or no apt-get; tests needing those tools will skip"
fi

export DAAPD_CORPUS=${DAAPD_CORPUS:-$SHARED/corpus}
export DAAPD_CLIENTS=${DAAPD_CLIENTS:-$SHARED/clients}
[ -d "$DAAPD_CORPUS" ] || echo "note: no corpus at $DAAPD_CORPUS; corpus sweeps will skip"

step "go mod download" go mod download
step "go vet" go vet ./...
step "staticcheck" go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

# go_test runs the Go tests verbosely into a log, prints the package
# summary, and lists every skipped test with its reason (each counted as
# skipped below, so a test that cannot run here never passes silently).
go_test() {
    local log=/tmp/daapd-gotest.log rc
    go test -count=1 -timeout 15m -v "$@" ./... >"$log" 2>&1
    rc=$?
    grep -E '^(ok|FAIL|\?) ' "$log"
    gotest_skips=$(grep -c -- '--- SKIP' "$log")
    if [ "$gotest_skips" -gt 0 ]; then
        echo "skipped Go tests ($gotest_skips), with reasons:"
        grep -B1 -- '--- SKIP' "$log" | grep -v -E '^(--$|=== )'
    fi
    [ $rc = 0 ] || grep -v -E '^( *--- PASS|=== (RUN|PAUSE|CONT|NAME))' "$log" | tail -300
    return $rc
}
gotest_skips=0
if [ -n "${QUICK:-}" ]; then
    step "go test" go_test
else
    step "go test -race" go_test -race
fi
skip=$((skip + gotest_skips))

# 2. Fuzz every parser briefly (seeds already ran above).
fuzz_all() {
    local ok=0
    while read -r pkg; do
        for f in $(go test -list '^Fuzz' "$pkg" 2>/dev/null | grep '^Fuzz'); do
            echo "fuzz $pkg $f ($FUZZTIME)"
            go test -run '^$' -fuzz "^$f\$" -fuzztime "$FUZZTIME" -timeout 5m "$pkg" >/tmp/daapd-fuzz.log 2>&1 || { ok=1; tail -30 /tmp/daapd-fuzz.log; }
        done
    done < <(go list ./...)
    return $ok
}
if [ -z "${QUICK:-}" ] && [ "$FUZZTIME" != 0 ]; then step "fuzz" fuzz_all; else skipped fuzz "FUZZTIME=0 or QUICK"; fi
if [ -z "${QUICK:-}" ]; then step "soak (.ci/soak.sh, ~75 s)" bash "$ROOT/.ci/soak.sh"; else skipped soak "QUICK"; fi

# 3. Real DAAP clients against a real daapd on loopback.
if [ -z "${QUICK:-}" ]; then
    BIN=$(mktemp -d)/daapd
    step "build daapd" go build -o "$BIN" ./cmd/daapd
    if [ -x "$DAAPD_CLIENTS/run-all.sh" ] && command -v tshark >/dev/null && /usr/bin/python3 -c 'import gi' 2>/dev/null; then
        step "real clients (run-all --strict)" bash "$ROOT/.ci/clients.sh" "$BIN"
        step "real clients with a password" bash "$ROOT/.ci/clients.sh" "$BIN" --password
        step "smart playlists (libdmapsharing)" bash "$ROOT/.ci/smartpl.sh" "$BIN"
    else
        skipped "real clients" "client kit or its packages missing (run as root to install)"
    fi
    if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null && [ -x "$SHARED/clients/mdns/mdns-acceptance.sh" ] && [ -f "$ROOT/.ci/mdns-test.sh" ]; then
        echo "=== mDNS acceptance (network namespaces)"
        bash "$ROOT/.ci/mdns-test.sh" "$BIN"
        case $? in
            0) pass=$((pass + 1)); echo "--- mDNS acceptance: ok" ;;
            77) skipped "mDNS acceptance" "see the reason above" ;;
            *) fail=$((fail + 1)); failed+=("mDNS acceptance"); echo "--- mDNS acceptance: FAILED" ;;
        esac
    else
        skipped "mDNS acceptance" "needs root, unshare and the mdns kit"
    fi
fi
if [ -z "${QUICK:-}" ]; then step "platforms (.ci/platforms.sh: cross builds, qemu tests, packages, Docker)" bash "$ROOT/.ci/platforms.sh"; else skipped platforms "QUICK"; fi

echo
[ $fail = 0 ] || echo "failed steps: ${failed[*]}"
echo "test.sh: $pass passed, $fail failed, $skip skipped"
[ $fail = 0 ]
