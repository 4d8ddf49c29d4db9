#!/bin/sh
# bench-update.sh LIB [RUNS]: how fast a new album copied into the watched
# library LIB reaches a DAAP client parked on /update, and whether the delta
# listing that follows holds exactly it (tools/benchupdate). Builds daapd
# and a 8–14-track album (tools/genlib) in a temporary folder, starts daapd
# with a fresh state folder (so the first scan reads every file; set
# STATE_DIR to reuse a scan cache), and leaves LIB as it found it, whatever
# ends the run. BENCHMARKS.md ("One million tracks") has the figures.
set -eu
lib=$(cd "${1:?usage: bench-update.sh LIB [RUNS]}" && pwd)
runs=${2:-3}
cd "$(dirname "$0")/.."
tmp=$(mktemp -d "${TMPDIR:-/tmp}/bench-update.XXXXXX")
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	[ -n "$pid" ] && rm -rf "$lib"/daapd-bench-update-"$pid"-*
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

go build -o "$tmp/daapd" ./cmd/daapd
go build -o "$tmp/benchupdate" ./tools/benchupdate
go run ./tools/genlib -n 30 -seed "$$" -out "$tmp/gen" >/dev/null
# The largest album genlib made, under a name no library holds.
album=$(find "$tmp/gen" -mindepth 2 -maxdepth 2 -type d ! -path '*/Playlists*' | while read -r d; do
	echo "$(ls "$d" | wc -l) $d"; done | sort -rn | head -1 | cut -d' ' -f2-)
mv "$album" "$tmp/Benchupdate Album $$"
echo "load: $(uptime)"
"$tmp/benchupdate" -lib "$lib" -daapd "$tmp/daapd" -album "$tmp/Benchupdate Album $$" -runs "$runs" ${STATE_DIR:+-state-dir "$STATE_DIR"} &
pid=$!
rc=0
wait "$pid" || rc=$?
pid=
echo "load: $(uptime)"
exit $rc
