#!/usr/bin/env bash
# .ci/smartpl.sh DAAPD_BINARY
# Smart playlists as Rhythmbox sees them. Starts the real daapd on loopback
# over music-fixtures/ (announcing off) with one smart playlist from a flag,
# then lists every playlist with libdmapsharing (the client kit's
# dmap_client.py --strict) and requires each smart playlist with the right
# number of tracks: the .smartpl files' from expected.json, Audiobooks and
# Podcasts from the media kinds there, the configured one from the years
# there, and Recently Added from the files' modification times (a fresh
# state directory has no scan cache, so first seen falls back to them).
# Exit 77 (skipped) when the kit or libdmapsharing is missing.
set -uo pipefail
BIN=$1
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CLIENTS=${DAAPD_CLIENTS:-$ROOT/../shared/clients}
if [ ! -x "$CLIENTS/dmap_client.py" ] || ! /usr/bin/python3 -c 'import gi; gi.require_version("DMAP", "3.0")' 2>/dev/null; then
    echo "skipped: needs $CLIENTS/dmap_client.py and libdmapsharing (gir1.2-dmap-3.0, python3-gi)"
    exit 77
fi
WORK=$(mktemp -d "${TMPDIR:-/tmp}/daapd-smartpl.XXXXXX")
PORT=${DAAPD_TEST_PORT:-$((20000 + RANDOM % 20000))}
mkdir -p "$WORK/state" && echo 5ca1ab1e0ddba11d > "$WORK/state/library-id"
"$BIN" --music "$ROOT/music-fixtures" --listen "127.0.0.1:$PORT" --mdns off --state-dir "$WORK/state" \
    --name "daapd smartpl CI" --smart-playlist 'Since 2020=year >= 2020 order by year desc' 2>"$WORK/daapd.log" &
PID=$!
trap 'kill -9 $PID 2>/dev/null; rm -rf "$WORK"' EXIT
for _ in $(seq 1 200); do
    if curl -fsS "http://127.0.0.1:$PORT/healthz" 2>/dev/null | grep -q '"scanning":false'; then break; fi
    kill -0 $PID 2>/dev/null || { echo "daapd exited early:"; cat "$WORK/daapd.log"; exit 1; }
    sleep 0.1
done
"$CLIENTS/dmap_client.py" --strict --json "$WORK/client.json" "127.0.0.1:$PORT" >"$WORK/client.out" 2>&1
rc=$?
/usr/bin/python3 - "$ROOT/music-fixtures" "$WORK/client.json" <<'PY' || rc=1
import datetime, json, os, sys
fixtures, got = sys.argv[1], json.load(open(sys.argv[2], encoding="utf-8"))
exp = json.load(open(os.path.join(fixtures, "expected.json"), encoding="utf-8"))
want = {}
for pl in exp["playlists"]:
    want[pl["name"]] = sum(r is not None for r in pl["resolves"])
for kind, name in (("audiobook", "Audiobooks"), ("podcast", "Podcasts")):
    n = sum(t["media_kind"] == kind for t in exp["tracks"])
    if n:
        want[name] = n
want["Since 2020"] = sum(t["year"] >= 2020 for t in exp["tracks"])
# Recently Added: first seen after midnight 30 days ago (local time).
since = datetime.datetime.combine(datetime.date.today() - datetime.timedelta(days=30), datetime.time())
want["Recently Added"] = sum(datetime.datetime.fromtimestamp(os.path.getmtime(os.path.join(fixtures, t["path"]))) > since
                             for t in exp["tracks"])
have = {p["name"]: p["entries"] for p in got["playlists"]}
bad = 0
for name, n in sorted(want.items()):
    status = "ok" if have.get(name) == n else "WRONG"
    bad += status != "ok"
    print("%-28s want %3d, libdmapsharing lists %s  %s" % (name, n, have.get(name, "nothing"), status))
for name in sorted(set(have) - set(want)):
    print("%-28s unexpected playlist" % name)
    bad += 1
sys.exit(1 if bad else 0)
PY
kill -TERM $PID
wait $PID; src=$?
if [ $rc != 0 ] || [ $src != 0 ]; then
    echo "smart playlist check failed (daapd exit $src); client output and daapd log:"
    cat "$WORK/client.out"; tail -30 "$WORK/daapd.log"
    exit 1
fi
