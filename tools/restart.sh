#!/usr/bin/env bash
# tools/restart.sh STATE_DIR LIBRARY TRACKS [RUNS] — the restart figure of
# issue 12: daapd starts on a copy of STATE_DIR (a scan cache written by a
# previous run, e.g. with --state-dir STATE_DIR and SIGTERM after its scan),
# loopback only, mDNS off; prints the wall and process CPU time from exec
# until /healthz reports TRACKS tracks (polled every 20 ms), and the cache
# load time daapd logs.
set -euo pipefail
cd "$(dirname "$0")/.."
STATE=${1:?usage: tools/restart.sh STATE_DIR LIBRARY TRACKS [RUNS]}
LIB=${2:?}
WANT=${3:?}
RUNS=${4:-3}
tmp=$(mktemp -d /tmp/daapd-restart.XXXXXX)
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; rm -rf "$tmp"' EXIT
go build -o $tmp/daapd ./cmd/daapd
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
for _ in $(seq "$RUNS"); do
    rm -rf $tmp/state && cp -a "$STATE" $tmp/state
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    t0=$(date +%s.%N)
    $tmp/daapd --mdns off --listen 127.0.0.1:$port --music "$LIB" --state-dir $tmp/state --watch=false > $tmp/log 2>&1 &
    pid=$!
    until curl -fsS http://127.0.0.1:$port/healthz 2>/dev/null | grep -q "\"tracks\":$WANT,"; do sleep 0.02; done
    wall=$(echo "$(date +%s.%N) - $t0" | bc)
    cpu=$(awk -v t="$(getconf CLK_TCK)" '{printf "%.2f", ($14 + $15) / t}' /proc/$pid/stat)
    load=$(grep -o 'loaded scan cache.*duration=[^ ]*' $tmp/log | sed 's/.*duration=//')
    printf 'served %s tracks after %.2f s wall, %s s CPU (cache load %s)\n' "$WANT" "$wall" "$cpu" "$load"
    kill $pid; wait $pid || true
    pid=
done
