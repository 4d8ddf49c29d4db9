#!/usr/bin/env bash
# mdns-test.sh — Bonjour/mDNS acceptance of the real daapd binary, both
# backends, with ../shared/clients/mdns/mdns-acceptance.sh. Every mDNS packet
# stays inside network namespaces that script creates; nothing is announced
# on this machine's real network.
#
# Usage:
#   .ci/mdns-test.sh DAAPD_BINARY   run the cases below (root needed)
#   .ci/mdns-test.sh --install      install the tools (apt-get; starts no service)
#
# Cases:
#   default             --mdns auto, no avahi on the server's host: embedded
#   avahi               avahi-daemon beside daapd: auto must publish through it,
#                       and the host keeps one responder and its host name
#   avahi-ipv6-embedded --mdns embedded forced beside avahi with global IPv6:
#                       the embedded host label must not rename the host
#   squat               the name is taken on the network: "NAME (2)"
#   squat-avahi         the same through avahi: "NAME #2"
#   kill-avahi          SIGKILL with avahi: the daemon still withdraws it
#   kill-embedded       SIGKILL with the embedded responder: no goodbye, so the
#                       acceptance run must FAIL (negative control)
#   d1 … d10            issue 14's defects, one case each: .ci/mdns-defects.sh
#
# Prints one line per case and "mdns-test: N passed, N failed"; exits 1 if a
# case failed, 77 (skipped, with the reason) when not root or the tools are
# missing. MDNS_TEST_CASES="default squat" runs a subset. Logs stay in
# $MDNS_TEST_DIR (default: a new /tmp/daapd-mdns-test.XXXXXX).
set -uo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SHARED=$(cd "$REPO/../shared" 2>/dev/null && pwd) || SHARED=""
ACC=${SHARED:+$SHARED/clients/mdns/mdns-acceptance.sh}
NAME="daapd CI Library"

skip() { echo "mdns-test: SKIP: $*"; echo "mdns-test: 0 passed, 0 failed"; exit 77; }

[ -n "$ACC" ] && [ -x "$ACC" ] || skip "no $REPO/../shared/clients/mdns/mdns-acceptance.sh"
if [ "${1:-}" = --install ]; then
    [ "$(id -u)" = 0 ] || { echo "mdns-test: --install needs root" >&2; exit 1; }
    exec "$ACC" --install
fi
[ $# = 1 ] || { sed -n '2,/^set /p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }
BIN=$(realpath "$1" 2>/dev/null) && [ -x "$BIN" ] || { echo "mdns-test: $1: not an executable" >&2; exit 2; }
[ "$(id -u)" = 0 ] || skip "needs root (network namespaces, mounts)"
for t in ip unshare dbus-daemon avahi-daemon avahi-browse avahi-publish tcpdump tshark; do
    command -v "$t" >/dev/null || skip "$t missing (run: $0 --install)"
done
/usr/bin/python3 -c 'import zeroconf' 2>/dev/null || skip "python3-zeroconf missing (run: $0 --install)"
[ -d "$REPO/music-fixtures" ] || echo "mdns-test: note: $REPO/music-fixtures is missing"

WORK=${MDNS_TEST_DIR:-$(mktemp -d /tmp/daapd-mdns-test.XXXXXX)}
mkdir -p "$WORK"
export MDNS_LAB_ID=${MDNS_LAB_ID:-daapdci}
PASS=0 FAIL=0

# run CASE EXPECT BACKEND [acceptance options...] -- MODE
#   EXPECT pass|fail: the acceptance run's expected outcome
#   BACKEND: the backend daapd must report in its log ("-" to skip the check)
run() {
    local case=$1 expect=$2 backend=$3; shift 3
    local opts=() mode
    while [ "$1" != -- ]; do opts+=("$1"); shift; done
    mode=$2
    if [ -n "${MDNS_TEST_CASES:-}" ] && [[ " $MDNS_TEST_CASES " != *" $case "* ]]; then return; fi
    local dir=$WORK/$case
    rm -rf "$dir"; mkdir -p "$dir/state"
    MDNS_LAB_STATE=$dir/lab "$ACC" "${opts[@]}" -- \
        "$BIN" --music "$REPO/music-fixtures" --listen :3689 --name "$NAME" \
        --state-dir "$dir/state" --mdns "$mode" > "$dir/acceptance.log" 2>&1
    local rc=$? why=""
    local summary; summary=$(grep -o 'mdns-acceptance: .*' "$dir/acceptance.log" | tail -1)
    case $expect in
        pass) [ $rc = 0 ] || why="acceptance failed (exit $rc)" ;;
        fail) if [ $rc = 0 ]; then why="negative control passed: the checks have no teeth"
              elif [ -z "$summary" ] || ! grep -q 'FAIL  .*still lists' "$dir/acceptance.log"; then
                  why="failed, but not because the share lingered (exit $rc)"; fi ;;
    esac
    if [ -z "$why" ] && [ "$backend" != - ] && ! grep -Eq "backend[=\":]+$backend\b" "$dir/lab/server.log" 2>/dev/null; then
        why="daapd did not log backend=$backend"
    fi
    if [ -z "$why" ]; then
        PASS=$((PASS+1)); echo "PASS  $case ($summary)"
    else
        FAIL=$((FAIL+1)); echo "FAIL  $case: $why ($summary)"
        grep -E 'FAIL|ERROR' "$dir/acceptance.log" | sed 's/^/      /' | head -10
        echo "      server log:"; tail -8 "$dir/lab/server.log" 2>/dev/null | sed 's/^/      /'
        echo "      full log: $dir/acceptance.log"
    fi
}

run default             pass embedded --name "$NAME"                                     -- auto
run avahi               pass avahi    --server-avahi --name "$NAME"                      -- auto
run avahi-ipv6-embedded pass embedded --server-avahi --global-ipv6 --name "$NAME"        -- embedded
run squat               pass embedded --squat-name "$NAME" --name "$NAME (2)"            -- auto
run squat-avahi         pass avahi    --server-avahi --squat-name "$NAME" --name "$NAME #2" -- auto
run kill-avahi          pass avahi    --server-avahi --signal KILL --name "$NAME"        -- auto
run kill-embedded       fail embedded --signal KILL --name "$NAME"                       -- embedded

"$ACC" --cleanup > /dev/null 2>&1 || true

# Issue 14: one namespace test per defect of the embedded responder and of
# auto mode (hostile packets, floods, conflicts, address and interface
# changes, avahi-daemon renaming, stopping and starting). MDNS_DEFECT_CASES
# picks some (see .ci/mdns-defects.sh); MDNS_DEFECT_CASES=none skips them.
if [ "${MDNS_DEFECT_CASES:-}" != none ]; then
    # shellcheck disable=SC2086
    MDNS_TEST_DIR=$WORK MDNS_DEFECTS_ID=${MDNS_LAB_ID}d bash "$REPO/.ci/mdns-defects.sh" "$BIN" ${MDNS_DEFECT_CASES:-} > "$WORK/defects.log" 2>&1
    grep -E '^(PASS|FAIL) |^      (flood|storm|note|logs|time=.*level=(WARN|ERROR))' "$WORK/defects.log" | cut -c1-400
    read -r dp df < <(sed -n 's/^mdns-defects: \([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p' "$WORK/defects.log")
    if [ -z "${dp:-}" ]; then FAIL=$((FAIL+1)); echo "FAIL  defects: no summary ($WORK/defects.log)"; tail -5 "$WORK/defects.log"
    else PASS=$((PASS+dp)); FAIL=$((FAIL+df)); fi
fi
echo "logs: $WORK"
echo "mdns-test: $PASS passed, $FAIL failed"
[ $FAIL = 0 ]
