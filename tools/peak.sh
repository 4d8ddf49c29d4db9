#!/usr/bin/env bash
# tools/peak.sh LIBRARY — the memory and wire figures of issue 12, on
# loopback with mDNS off: a first scan without a cache, then exactly the two
# listings the issue names, iTunes's (gzip) and Rhythmbox's (plain), with
# the peak RSS (VmHWM) after each step; then the iTunes listing's bytes per
# track once the background level-9 recompression has replaced the first
# answer. Extra environment is passed on (GOMEMLIMIT=…, GOGC=…).
# Make a library with: go run ./tools/genlib -n 1000000 -seed 3 -out /work/lib1m
set -euo pipefail
cd "$(dirname "$0")/.."
LIB=${1:?usage: tools/peak.sh LIBRARY}
KIT=${DAAPD_CLIENTS:-$(pwd)/../shared/clients}
tmp=$(mktemp -d /tmp/daapd-peak.XXXXXX)
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; rm -rf "$tmp"' EXIT
go build -o $tmp/daapd ./cmd/daapd
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base=http://127.0.0.1:$port
meta() { sed -n "/^$1=\"/,/\"\$/p" "$KIT/daap-dump.sh" | tr -d '\\\n' | sed "s/^$1=\"//; s/\"\$//"; }
ITUNES_META=$(meta ITUNES_META)
RB_META=$(meta RB_META)
ITUNES_UA='iTunes/12.12.10 (Macintosh; OS X 13.5) AppleWebKit/615.3.12.11.2'
RB_UA='iTunes/4.6 (Windows; N)' # what libdmapsharing sends
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)  GOMEMLIMIT=${GOMEMLIMIT:-unset}  GOGC=${GOGC:-unset}"

hwm() { awk '/VmHWM/{printf "%d MiB", $2 / 1024}' /proc/$pid/status; }
cpu() { awk -v t="$(getconf CLK_TCK)" '{printf "%.1f", ($14 + $15) / t}' /proc/$pid/stat; }
t0=$(date +%s.%N)
since() { echo "$(date +%s.%N) - $1" | bc; }
$tmp/daapd --mdns off --listen 127.0.0.1:$port --music "$LIB" --state-dir $tmp/state \
    --watch=false --log-level warn &
pid=$!
# /healthz answers before the scan starts: wait for tracks and no scan.
until curl -fsS $base/healthz 2>/dev/null | grep '"scanning":false' | grep -qv '"tracks":0,'; do sleep 0.2; done
tracks=$(curl -fsS $base/healthz | sed 's/.*"tracks":\([0-9]*\).*/\1/')
printf 'first scan: %s tracks, %.1f s wall, %s s CPU, VmHWM %s\n' "$tracks" "$(since $t0)" "$(cpu)" "$(hwm)"

curl -fsS -o $tmp/login $base/login
sid=$(perl "$KIT/dmap-decode.pl" --quiet --get dmap.loginresponse/dmap.sessionid $tmp/login | sed -n 1p)
items="$base/databases/1/items?session-id=$sid&revision-number=1"
itunes() { curl -fsS -A "$ITUNES_UA" -H 'Client-DAAP-Version: 3.0' -H 'Accept-Encoding: gzip' -o /dev/null \
    -w '%{size_download} %{time_total}\n' "$items&type=music&meta=$ITUNES_META"; }
t=$(date +%s.%N); read -r bytes secs < <(itunes)
printf 'iTunes listing (gzip): %s bytes (%.1f B/track) in %.2f s, VmHWM %s\n' "$bytes" "$(echo "$bytes / $tracks" | bc -l)" "$secs" "$(hwm)"
read -r rbytes rsecs < <(curl -fsS -A "$RB_UA" -H 'Client-DAAP-Version: 3.0' -o /dev/null \
    -w '%{size_download} %{time_total}\n' "$items&meta=$RB_META")
printf 'Rhythmbox listing (plain): %s bytes in %.2f s, VmHWM %s\n' "$rbytes" "$rsecs" "$(hwm)"
# The level-9 pass replaces the cached body once it is done: poll until the
# answer shrinks (up to 5 minutes).
t=$(date +%s.%N); last=$bytes
while [ "$last" -ge "$bytes" ] && [ "$(echo "$(since $t) < 300" | bc)" = 1 ]; do
    sleep 2
    read -r last _ < <(itunes)
done
printf 'iTunes listing after recompression: %s bytes (%.1f B/track), VmHWM %s, CPU %s s\n' "$last" "$(echo "$last / $tracks" | bc -l)" "$(hwm)" "$(cpu)"
kill -TERM $pid; wait $pid || true
pid=
