#!/usr/bin/env bash
# tools/onecore.sh LIBRARY — daapd as on a small NAS: pinned to one core
# (taskset -c 0), on loopback, mDNS off. Prints the first scan (wall and CPU
# time), the listings iTunes and Rhythmbox load (../shared/clients/bench-daap.sh),
# a restart from the scan cache, and peak RSS (VmHWM) after each phase.
# Extra environment is passed on, e.g. GOMEMLIMIT=150MiB tools/onecore.sh DIR;
# PIN= (empty) runs on every core, as for the 1M rows of BENCHMARKS.md.
# Make a library with: go run ./tools/genlib -n 100000 -out /tmp/lib100k
set -euo pipefail
cd "$(dirname "$0")/.."
LIB=${1:?usage: tools/onecore.sh LIBRARY}
KIT=${DAAPD_CLIENTS:-$(pwd)/../shared/clients}
tmp=$(mktemp -d /tmp/daapd-onecore.XXXXXX)
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; rm -rf "$tmp"' EXIT
go build -o $tmp/daapd ./cmd/daapd
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
hz=http://127.0.0.1:$port/healthz
PIN=${PIN-taskset -c 0}
echo "load: $(uptime | sed 's/.*load average/load average/')  GOMEMLIMIT=${GOMEMLIMIT:-unset}  pinned: ${PIN:-no}"

cpu() { awk -v t="$(getconf CLK_TCK)" '{printf "%.2f", ($14 + $15) / t}' /proc/$pid/stat; }
hwm() { awk '/VmHWM/{printf "%d MB", $2 / 1024}' /proc/$pid/status; }
start() {
    $PIN $tmp/daapd --mdns off --listen 127.0.0.1:$port --music "$LIB" \
        --state-dir $tmp/state --watch=false --log-level warn &
    pid=$!
    t0=$(date +%s.%N)
}
# until the catalog holds tracks and (with $1 = scan) the scan has finished;
# polled every 50 ms with curl alone, so the wait adds little to the figure
wait_ready() {
    local h
    while :; do
        h=$(curl -fsS $hz 2>/dev/null) || h=
        if [[ $h =~ \"tracks\":([0-9]+) ]] && [ "${BASH_REMATCH[1]}" -gt 0 ] &&
            { [ "$1" != scan ] || [[ $h == *'"scanning":false'* ]]; }; then
            break
        fi
        sleep 0.05
    done
    printf '%s: %.2f s wall, %s s CPU, tracks %s, VmHWM %s\n' "$2" "$(echo "$(date +%s.%N) - $t0" | bc)" "$(cpu)" \
        "${BASH_REMATCH[1]}" "$(hwm)"
}

start
wait_ready scan "first scan (no cache)"
"$KIT/bench-daap.sh" --runs 3 --poll 1 --pid $pid 127.0.0.1:$port | grep -v -E 'long-poll|^server ' || true
echo "after the listings: VmHWM $(hwm), CPU $(cpu) s"
kill -TERM $pid; wait $pid || true

start
wait_ready any "restart: catalog served from the cache"
wait_ready scan "restart: background rescan finished"
"$KIT/bench-daap.sh" --runs 3 --poll 1 --pid $pid 127.0.0.1:$port | grep -v -E 'long-poll|^server ' || true
echo "after the restart's listings: VmHWM $(hwm)"
kill -TERM $pid; wait $pid || true
pid=
