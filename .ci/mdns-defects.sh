#!/usr/bin/env bash
# mdns-defects.sh — issue 14's hostile and changing-network cases against the
# real daapd binary, one per numbered defect, each in a fresh pair of network
# namespaces of its own (nothing touches a real interface). Called by
# .ci/mdns-test.sh; runs on its own too:
#
#   .ci/mdns-defects.sh DAAPD_BINARY [CASE...]      (root)
#
#   d1-nquestions   one query holding 1,494 PTR questions: at most one answer
#                   per family, and the next query is answered at once
#   d2-storm        5 s of spoofed cache-flush A records for <host>-daapd … -120:
#                   the share still resolves to valid records, conflicts are
#                   logged at WARN, /healthz names the host held
#   d3-flood        2,000 queries/s for 5 s (host A, SRV, PTR): bounded answers,
#                   a browser still resolves the share afterwards
#   d4-late         python-zeroconf announces the same instance name later:
#                   daapd re-probes and renames, browsers list both names
#   d5-newcomer     a second daapd with the same host name must rename itself,
#                   the first keeps <host>-daapd.local
#   d6-addr         an added address is announced, a removed one withdrawn (TTL 0)
#   d7-iface        an interface added after start is answered on
#   d8-short        a 12-byte header with QDCOUNT=1 gets no answer
#   d9-avahi-rename avahi-daemon renames its host under a conflict storm: the
#                   share follows the new host name
#   d10-avahi-follow  --mdns auto started before avahi-daemon moves to it when
#                   it starts, and back to embedded when it stops
#   docker-dbus-ro  the README's Docker set-up without Docker: the system bus
#                   socket bind-mounted read-only, daapd as uid 65532, auto
#                   publishes through avahi-daemon
#
# Prints PASS/FAIL per case, figures for BENCHMARKS.md, and
# "mdns-defects: N passed, N failed". Logs in $MDNS_TEST_DIR/defects.
set -uo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PY=/usr/bin/python3
DRV=$REPO/.ci/mdns_defects.py
BIN=$(realpath "$1"); shift
CASES=("$@")
ID=${MDNS_DEFECTS_ID:-annd$$}
NSA=$ID-a NSB=$ID-b
A=192.0.2.1 B=192.0.2.2
NAME="daapd CI Library"
WORK=${MDNS_TEST_DIR:-$(mktemp -d /tmp/daapd-mdns-defects.XXXXXX)}/defects
mkdir -p "$WORK"
PASS=0 FAIL=0

log() { printf '%s %s\n' "$(date +%T.%3N)" "$*"; }

down() {
    local ns pid
    for ns in "$NSA" "$NSB"; do
        ip netns list 2>/dev/null | grep -qw "^$ns" || continue
        # every process in these namespaces was started by this script
        for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -TERM "$pid" 2>/dev/null; done
        for _ in $(seq 20); do [ -z "$(ip netns pids "$ns" 2>/dev/null)" ] && break; sleep 0.1; done
        for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
        ip netns del "$ns" 2>/dev/null
    done
}
trap down EXIT

# bus NS DIR [with-65532]: a private system bus in NS (socket DIR/bus)
bus() {
    local ns=$1 dir=$2
    mkdir -p "$dir"
    cat > "$dir/dbus.conf" <<EOF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig><type>system</type><listen>unix:path=$dir/bus</listen><auth>EXTERNAL</auth>
<policy context="default"><allow user="*"/><allow own="*"/><allow send_type="method_call"/>
<allow send_destination="*"/><allow receive_sender="*"/></policy></busconfig>
EOF
    if [ "${3:-}" = with-65532 ]; then
        # dbus-daemon drops clients whose uid it cannot look up: give this
        # one (only, in its own mount namespace) a user 65532, as the
        # README tells Docker hosts to create.
        { cat /etc/passwd; echo "daapd:x:65532:65532::/nonexistent:/usr/sbin/nologin"; } > "$dir/passwd"
        { cat /etc/group; echo "daapd:x:65532:"; } > "$dir/group"
        ip netns exec "$ns" sh -c 'mount --bind "$1/passwd" /etc/passwd && mount --bind "$1/group" /etc/group &&
            exec dbus-daemon --config-file="$1/dbus.conf" --nofork --nopidfile' sh "$dir" > "$dir/dbus.log" 2>&1 &
    else
        ip netns exec "$ns" dbus-daemon --config-file="$dir/dbus.conf" --nofork --nopidfile > "$dir/dbus.log" 2>&1 &
    fi
    for _ in $(seq 50); do [ -S "$dir/bus" ] && break; sleep 0.1; done
}

# avahi NS HOST IFACE DIR: avahi-daemon on DIR's bus; its pid in DIR/avahi.pid
avahi() {
    local ns=$1 host=$2 ifc=$3 dir=$4
    cat > "$dir/avahi.conf" <<EOF
[server]
host-name=$host
domain-name=local
use-ipv4=yes
use-ipv6=yes
allow-interfaces=$ifc
enable-dbus=yes
[wide-area]
enable-wide-area=no
[publish]
publish-hinfo=no
publish-workstation=no
EOF
    : > "$dir/avahi.log"
    DBUS_SYSTEM_BUS_ADDRESS="unix:path=$dir/bus" ip netns exec "$ns" sh -c '
        mount -t tmpfs -o mode=0755 mdnslab-run /run && mkdir -p /run/avahi-daemon &&
        mount -t tmpfs -o mode=0755 mdnslab-svc /etc/avahi/services &&
        exec avahi-daemon -f "$1" --no-drop-root --no-chroot --no-rlimits --no-proc-title' \
        sh "$dir/avahi.conf" >> "$dir/avahi.log" 2>&1 &
    echo $! > "$dir/avahi.pid"
    for _ in $(seq 100); do grep -q 'Server startup complete' "$dir/avahi.log" && break; sleep 0.1; done
}

# up DIR: namespaces, veth, avahi-daemon + watcher on host B
up() {
    local dir=$1 ns
    down
    ip netns add "$NSA"; ip netns add "$NSB"
    for ns in "$NSA" "$NSB"; do
        ip -n "$ns" link set lo up
        ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
    done
    ip link add veth-a netns "$NSA" type veth peer name veth-b netns "$NSB"
    ip -n "$NSA" addr add $A/24 dev veth-a
    ip -n "$NSB" addr add $B/24 dev veth-b
    for ns in "$NSA:veth-a" "$NSB:veth-b"; do
        ip -n "${ns%%:*}" link set "${ns#*:}" multicast on up
        ip -n "${ns%%:*}" route add 224.0.0.0/4 dev "${ns#*:}"
    done
    bus "$NSB" "$dir/b"
    avahi "$NSB" lab-b veth-b "$dir/b"
    ip netns exec "$NSB" $PY "$DRV" watch "$dir/wire.jsonl" > "$dir/watch.log" 2>&1 &
}

# server DIR NS HOST MODE [BUSDIR]: daapd in NS with hostname HOST
server() {
    local dir=$1 ns=$2 host=$3 mode=$4 busdir=${5:-}
    local bus="unix:path=$dir/no-bus"
    [ -n "$busdir" ] && bus="unix:path=$busdir/bus"
    mkdir -p "$dir/state-$ns"
    ip netns exec "$ns" unshare --uts sh -c '
        hostname "$0"
        for d in /run/dbus /run/avahi-daemon; do [ -d "$d" ] && mount -t tmpfs -o mode=0755 mdnslab-empty "$d"; done
        exec "$@"' "$host" env "DBUS_SYSTEM_BUS_ADDRESS=$bus" \
        "$BIN" --music "$REPO/music-fixtures" --listen :3689 --name "$NAME" --state-dir "$dir/state-$ns" \
        --mdns "$mode" --log-level debug > "$dir/server-$ns.log" 2>&1 &
    echo $! > "$dir/server-$ns.pid"
}

# waitfor SECS CMD...: poll until CMD succeeds
waitfor() {
    local end=$(( $(date +%s%N) + $1 * 1000000000 )); shift
    while [ "$(date +%s%N)" -lt $end ]; do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
    return 1
}
published() { grep -q 'announce: published' "$1"; }
healthz() { ip netns exec "$1" curl -s --max-time 2 http://127.0.0.1:3689/healthz; }
resolve() { ip netns exec "$NSB" $PY "$DRV" resolve "$1" $B "${2:-3}"; }
# cpu PID: user+system CPU seconds of a process
cpu() { awk '{printf "%.2f", ($14 + $15) / 100}' "/proc/$1/stat" 2>/dev/null || echo "?"; }
# count_from DIR SINCE SRC: responses from SRC in the wire log after SINCE
count_from() {
    $PY - "$1/wire.jsonl" "$2" "$3" <<'EOF'
import json, sys
n = size = 0
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e["t"] >= float(sys.argv[2]) and e["src"] == sys.argv[3]:
        n += 1; size += e["size"]
print(n, size)
EOF
}
# wire_has DIR SINCE PYEXPR: a record r after SINCE satisfies PYEXPR
wire_has() {
    $PY - "$1/wire.jsonl" "$2" "$3" <<'EOF'
import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e["t"] < float(sys.argv[2]):
        continue
    for r in e["records"]:
        if eval(sys.argv[3]):
            sys.exit(0)
sys.exit(1)
EOF
}

result() { # CASE WHY (empty: pass) DIR
    if [ -z "$2" ]; then PASS=$((PASS+1)); echo "PASS  $1"
    else FAIL=$((FAIL+1)); echo "FAIL  $1: $2"; tail -5 "$3"/server-*.log 2>/dev/null | sed 's/^/      /'; echo "      logs: $3"; fi
}
now() { date +%s.%N; }

# start_embedded DIR: lab + embedded daapd on host A, published
start_embedded() {
    up "$1"; server "$1" "$NSA" lab-a embedded
    waitfor 10 published "$1/server-$NSA.log"
}

case_d1-nquestions() {
    local dir=$1 why="" t n
    start_embedded "$dir" || { result d1-nquestions "not published" "$dir"; return; }
    sleep 2.2 # past the announcements and the rate-limit second
    t=$(now)
    ip netns exec "$NSB" $PY "$DRV" query-n 1494 $B
    sleep 0.3
    ip netns exec "$NSB" $PY "$DRV" query lab-a-daapd.local A $B
    sleep 1.5
    read -r n _ < <(count_from "$dir" "$t" $A)
    [ "$n" -le 2 ] || why="$n responses to one query (+1 plain query)"
    wire_has "$dir" "$t" "r['type'] == 1 and r['name'] == 'lab-a-daapd.local.'" || why="${why:+$why; }the query after it went unanswered"
    # SIGTERM under a flood of such packets: the goodbye must go out in time.
    ip netns exec "$NSB" $PY "$DRV" flood-n 1494 200 4 $B > "$dir/flood-n.json" &
    local fpid=$!
    sleep 1.5
    t=$(now)
    kill -TERM "$(cat "$dir/server-$NSA.pid")"
    waitfor 5 sh -c "! kill -0 $(cat "$dir/server-$NSA.pid")"
    local gone bye; gone=$(now)
    wait $fpid
    bye=$($PY - "$dir/wire.jsonl" "$t" <<'EOF'
import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e["t"] >= float(sys.argv[2]) and e["src"] == "192.0.2.1" and any(r["ttl"] == 0 for r in e["records"]):
        print("%.3f" % (e["t"] - float(sys.argv[2]))); break
EOF
)
    [ -n "$bye" ] || why="${why:+$why; }no goodbye after SIGTERM under a flood"
    grep -q 'goodbye not finished' "$dir/server-$NSA.log" && why="${why:+$why; }goodbye not finished in time"
    echo "      goodbye under a flood of 1494-question queries (200/s): first TTL-0 packet ${bye:-never} s after SIGTERM, exit $(awk -v a="$t" -v b="$gone" 'BEGIN{printf "%.3f", b-a}') s (load $(cut -d' ' -f1-3 /proc/loadavg))"
    result d1-nquestions "$why" "$dir"
}

case_d2-storm() {
    local dir=$1 why="" out h
    start_embedded "$dir" || { result d2-storm "not published" "$dir"; return; }
    ip netns exec "$NSB" $PY "$DRV" storm lab-a-daapd 120 5 $B > "$dir/storm.json"
    sleep 6 # one 5 s storm wait, then probes and announcements
    out=$(resolve "$NAME" 5)
    h=$(healthz "$NSA")
    echo "$out" > "$dir/resolve.json"; echo "$h" > "$dir/healthz.json"
    $PY -c 'import json,sys; d=json.loads(sys.argv[1]); sys.exit(not (d["ok"] and d["port"] == 3689 and d["server"] not in ("", ".", "..") and "192.0.2.1" in d["addresses"]))' "$out" \
        || why="share does not resolve to valid records after the storm: $out"
    grep -q 'level=WARN.*name conflict' "$dir/server-$NSA.log" || why="${why:+$why; }no conflict logged at WARN"
    $PY -c 'import json,sys; d=json.loads(sys.argv[1]); h=json.loads(sys.argv[2]); sys.exit(not (h["announce"] == "embedded" and h["announce_host"] + "." == d["server"]))' "$out" "$h" \
        || why="${why:+$why; }/healthz does not name the host held: $h"
    echo "      storm: $(cat "$dir/storm.json"); host now $(echo "$h" | $PY -c 'import json,sys; print(json.load(sys.stdin).get("announce_host"))'), $(grep -c 'name conflict' "$dir/server-$NSA.log") conflicts logged"
    result d2-storm "$why" "$dir"
}

# flood DIR PID LABEL QNAME QTYPE: 2,000 q/s for 5 s; prints the figures and
# sets FLOOD_N to the responses host A sent meanwhile
flood() {
    local dir=$1 pid=$2 label=$3 t c0 c1 size sent
    sleep 1.2 # past the last answer's rate-limit second
    t=$(now); c0=$(cpu "$pid")
    ip netns exec "$NSB" $PY "$DRV" flood "$4" "$5" 2000 5 $B > "$dir/flood.json"
    sleep 0.5
    c1=$(cpu "$pid")
    read -r FLOOD_N size < <(count_from "$dir" "$t" $A)
    sent=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["sent"])' "$dir/flood.json")
    echo "      flood $label ($4 $5): $sent queries in 5 s -> $FLOOD_N responses ($size bytes) from host A; CPU $(awk -v a="$c0" -v b="$c1" 'BEGIN{printf "%.2f", b-a}') s (load $(cut -d' ' -f1-3 /proc/loadavg))"
}

# FLOOD_QUERIES: host A, instance SRV, service PTR
FLOOD_QUERIES=("lab-a-daapd.local A" "$NAME._daap._tcp.local SRV" "_daap._tcp.local PTR")

case_d3-flood() {
    local dir=$1 why="" out q pid
    start_embedded "$dir" || { result d3-flood "not published" "$dir"; return; }
    sleep 1
    pid=$(cat "$dir/server-$NSA.pid")
    for q in "${FLOOD_QUERIES[@]}"; do
        flood "$dir" "$pid" embedded "${q% *}" "${q##* }"
        [ "$FLOOD_N" -le 12 ] || why="${why:+$why; }$q: $FLOOD_N responses in 5 s"
    done
    out=$(resolve "$NAME" 3)
    $PY -c 'import json,sys; sys.exit(not json.loads(sys.argv[1])["ok"])' "$out" || why="${why:+$why; }share not resolvable after the flood"
    # The same flood against the Avahi backend, for BENCHMARKS.md only
    # (avahi-daemon's own behaviour; CPU is avahi-daemon's).
    down; up "$dir"; bus "$NSA" "$dir/a"; avahi "$NSA" lab-a veth-a "$dir/a"
    server "$dir" "$NSA" lab-a auto "$dir/a"
    if waitfor 10 published "$dir/server-$NSA.log"; then
        sleep 1
        pid=$(cat "$dir/a/avahi.pid")
        for q in "lab-a.local A" "$NAME._daap._tcp.local SRV" "_daap._tcp.local PTR"; do
            flood "$dir" "$pid" avahi "${q% *}" "${q##* }"
        done
    fi
    result d3-flood "$why" "$dir"
}

case_d4-late() {
    local dir=$1 why="" list
    start_embedded "$dir" || { result d4-late "not published" "$dir"; return; }
    sleep 1
    ip netns exec "$NSB" $PY "$DRV" register "$NAME" 4000 $B > "$dir/register.log" 2>&1 &
    waitfor 10 grep -q "probing again" "$dir/server-$NSA.log" || why="the later announcement was not noticed"
    waitfor 10 grep -q "renamed.*$NAME (2)" "$dir/server-$NSA.log" || why="${why:+$why; }no rename to '$NAME (2)'"
    sleep 2
    # avahi-browse escapes as \DDD (decimal): decode before comparing
    DBUS_SYSTEM_BUS_ADDRESS="unix:path=$dir/b/bus" ip netns exec "$NSB" avahi-browse -rpt _daap._tcp 2>/dev/null |
        $PY -c 'import re,sys
for l in sys.stdin:
    f = l.rstrip("\n").split(";")
    if f[0] == "=": print(re.sub(r"\\(\d{3})", lambda m: chr(int(m.group(1))), f[3]) + ";" + f[8])' | sort -u > "$dir/browse.txt"
    grep -qx "$NAME (2);3689" "$dir/browse.txt" || why="${why:+$why; }browsers do not list '$NAME (2)' on 3689: $(tr '\n' '|' < "$dir/browse.txt")"
    grep -qx "$NAME;4000" "$dir/browse.txt" || why="${why:+$why; }browsers do not list the other '$NAME' on 4000: $(tr '\n' '|' < "$dir/browse.txt")"
    grep -qx "$NAME;3689" "$dir/browse.txt" && why="${why:+$why; }a browser still resolves '$NAME' to daapd: $(tr '\n' '|' < "$dir/browse.txt")"
    result d4-late "$why" "$dir"
}

case_d5-newcomer() {
    local dir=$1 why="" h1
    start_embedded "$dir" || { result d5-newcomer "not published" "$dir"; return; }
    server "$dir" "$NSB" lab-a embedded # same host name, on host B
    waitfor 10 published "$dir/server-$NSB.log" || why="newcomer not published"
    sleep 1
    h1=$(healthz "$NSA")
    grep -q '"announce_host":"lab-a-daapd.local"' <<<"$h1" || why="${why:+$why; }established daapd lost its host name: $h1"
    grep -q 'renamed.*now_host=lab-a-daapd-2.local' "$dir/server-$NSB.log" || why="${why:+$why; }newcomer did not rename itself to lab-a-daapd-2"
    grep -q 'name conflict' "$dir/server-$NSA.log" && why="${why:+$why; }established daapd renamed"
    result d5-newcomer "$why" "$dir"
}

case_d6-addr() {
    local dir=$1 why="" t
    start_embedded "$dir" || { result d6-addr "not published" "$dir"; return; }
    sleep 2.5
    t=$(now)
    ip -n "$NSA" addr add 192.0.2.11/24 dev veth-a
    waitfor 3 wire_has "$dir" "$t" "r['type'] == 1 and r['data'] == '192.0.2.11' and r['ttl'] > 0" || why="added address not announced"
    sleep 1
    t=$(now)
    ip -n "$NSA" addr del 192.0.2.11/24 dev veth-a
    waitfor 3 wire_has "$dir" "$t" "r['type'] == 1 and r['data'] == '192.0.2.11' and r['ttl'] == 0" || why="${why:+$why; }removed address not withdrawn"
    result d6-addr "$why" "$dir"
}

case_d7-iface() {
    local dir=$1 why="" t
    start_embedded "$dir" || { result d7-iface "not published" "$dir"; return; }
    ip link add veth-a2 netns "$NSA" type veth peer name veth-b2 netns "$NSB"
    ip -n "$NSA" addr add 198.51.100.1/24 dev veth-a2
    ip -n "$NSB" addr add 198.51.100.2/24 dev veth-b2
    ip -n "$NSA" link set veth-a2 multicast on up
    ip -n "$NSB" link set veth-b2 multicast on up
    ip netns exec "$NSB" $PY "$DRV" watch "$dir/wire2.jsonl" 198.51.100.2 > /dev/null 2>&1 &
    sleep 3 # probes and announcements on the new link
    t=$(now)
    ip netns exec "$NSB" $PY "$DRV" query lab-a-daapd.local A 198.51.100.2
    waitfor 2 wire_has "$dir" "$t" "r['type'] == 1 and r['data'] == '198.51.100.1'" || why="query on the new interface not answered"
    result d7-iface "$why" "$dir"
}

case_d8-short() {
    local dir=$1 why="" t n
    start_embedded "$dir" || { result d8-short "not published" "$dir"; return; }
    sleep 2.2
    ip netns exec "$NSB" $PY "$DRV" query-n 1 $B
    sleep 1.2 # past the once-a-second limit
    t=$(now)
    ip netns exec "$NSB" $PY "$DRV" short $B
    sleep 1
    read -r n _ < <(count_from "$dir" "$t" $A)
    [ "$n" = 0 ] || why="a 12-byte packet got $n answers"
    result d8-short "$why" "$dir"
}

case_d9-avahi-rename() {
    local dir=$1 why="" out
    up "$dir"; bus "$NSA" "$dir/a"; avahi "$NSA" lab-a veth-a "$dir/a"
    server "$dir" "$NSA" lab-a auto "$dir/a"
    waitfor 10 published "$dir/server-$NSA.log" || { result d9-avahi-rename "not published" "$dir"; return; }
    ip netns exec "$NSB" $PY "$DRV" storm lab-a 1 3 $B > "$dir/storm.json"
    waitfor 10 grep -q 'Host name conflict' "$dir/a/avahi.log" || why="storm did not make avahi-daemon rename its host (test broken)"
    sleep 4
    out=$(resolve "$NAME" 5)
    echo "$out" > "$dir/resolve.json"
    $PY -c 'import json,sys; d=json.loads(sys.argv[1]); sys.exit(not (d["ok"] and d["server"] != "lab-a.local." and "192.0.2.1" in d["addresses"]))' "$out" \
        || why="${why:+$why; }share does not follow avahi's new host name: $out ($(grep -o 'Host name conflict.*' "$dir/a/avahi.log" | tail -1))"
    result d9-avahi-rename "$why" "$dir"
}

case_d10-avahi-follow() {
    local dir=$1 why="" h out
    up "$dir"; bus "$NSA" "$dir/a"
    server "$dir" "$NSA" lab-a auto "$dir/a"
    waitfor 10 published "$dir/server-$NSA.log" || { result d10-avahi-follow "not published" "$dir"; return; }
    grep -q '"announce":"embedded"' <<<"$(healthz "$NSA")" || why="not embedded without avahi"
    avahi "$NSA" lab-a veth-a "$dir/a"
    waitfor 20 sh -c "ip netns exec $NSA curl -s http://127.0.0.1:3689/healthz | grep -q '\"announce\":\"avahi\"'" || why="${why:+$why; }still not avahi after avahi-daemon started: $(healthz "$NSA")"
    sleep 1
    out=$(resolve "$NAME" 5); echo "$out" > "$dir/resolve-avahi.json"
    grep -q '"server": "lab-a.local."' <<<"$out" || why="${why:+$why; }not resolved through avahi: $out"
    grep -q 'Detected another IPv4 mDNS stack' "$dir/a/avahi.log" && echo "      note: avahi-daemon saw daapd's socket at its start (expected: daapd was embedded then)"
    kill -TERM "$(cat "$dir/a/avahi.pid")"
    waitfor 20 sh -c "ip netns exec $NSA curl -s http://127.0.0.1:3689/healthz | grep -q '\"announce\":\"embedded\"'" || why="${why:+$why; }no fallback to embedded after avahi-daemon stopped: $(healthz "$NSA")"
    sleep 1
    out=$(resolve "$NAME" 5); echo "$out" > "$dir/resolve-embedded.json"
    grep -q '"server": "lab-a-daapd.local."' <<<"$out" || why="${why:+$why; }not resolved through the embedded responder: $out"
    result d10-avahi-follow "$why" "$dir"
}

# The Docker set-up the README documents, without Docker: the host's system
# bus socket bind-mounted read-only at the default path, daapd as the
# image's uid 65532 with no D-Bus settings: auto must publish through Avahi.
# The host must know uid 65532 (dbus-daemon 1.14 drops clients it cannot
# look up); the bus here gets such a user, as the README says.
case_docker-dbus-ro() {
    local dir=$1 why="" out
    up "$dir"; bus "$NSA" "$dir/a" with-65532; avahi "$NSA" lab-a veth-a "$dir/a"
    mkdir -p "$dir/ro/state" && cp -r "$REPO/music-fixtures" "$dir/ro/music" && cp "$BIN" "$dir/ro/daapd"
    chown -R 65532:65532 "$dir/ro/state"; chmod -R a+rX "$dir/ro"
    local p=$dir; while [ "$p" != / ]; do chmod o+x "$p"; p=$(dirname "$p"); done
    ip netns exec "$NSA" unshare --uts sh -c '
        hostname lab-a
        mount -t tmpfs -o mode=0755 mdnslab-run /run && mkdir -p /run/dbus && : > /run/dbus/system_bus_socket &&
        mount --bind "$0" /run/dbus/system_bus_socket && mount -o remount,bind,ro /run/dbus/system_bus_socket &&
        exec setpriv --reuid 65532 --regid 65532 --clear-groups env -u DBUS_SYSTEM_BUS_ADDRESS \
            "$1/daapd" --music "$1/music" --listen :3689 --name "$2" --state-dir "$1/state" --mdns auto' \
        "$dir/a/bus" "$dir/ro" "$NAME" > "$dir/server-$NSA.log" 2>&1 &
    waitfor 10 published "$dir/server-$NSA.log" || why="not published"
    grep -q 'announce: published.*backend=avahi' "$dir/server-$NSA.log" || why="${why:+$why; }not published through the host's avahi-daemon"
    out=$(resolve "$NAME" 5); echo "$out" > "$dir/resolve.json"
    grep -q '"server": "lab-a.local."' <<<"$out" || why="${why:+$why; }not resolved as lab-a.local: $out"
    result docker-dbus-ro "$why" "$dir"
}

ALL=(d1-nquestions d2-storm d3-flood d4-late d5-newcomer d6-addr d7-iface d8-short d9-avahi-rename d10-avahi-follow docker-dbus-ro)
[ ${#CASES[@]} -gt 0 ] || CASES=("${ALL[@]}")
for c in "${CASES[@]}"; do
    rm -rf "${WORK:?}/$c"; mkdir -p "$WORK/$c"
    "case_$c" "$WORK/$c"
    down
done
echo "mdns-defects: $PASS passed, $FAIL failed"
[ $FAIL = 0 ]
