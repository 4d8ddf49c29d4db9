#!/usr/bin/env bash
# .ci/docker-mdns.sh — the README's "one responder per host" Docker set-up
# (issue 14): the real image, run by the README's `docker run` line that
# mounts the host's system D-Bus socket read-only, publishes through the
# host's avahi-daemon, falls back to its own responder when Avahi stops, and
# says goodbye when stopped.
#
# The "host" is a network namespace this script creates (a veth to a second
# one, "lan", where a python-zeroconf browser and a packet log run) plus a
# mount namespace in which /run/dbus and /run/avahi-daemon are empty tmpfs:
# there it starts a stock system bus (dbus-daemon --system: Debian's
# system.conf and Avahi's own D-Bus policy, unchanged), a stock avahi-daemon
# (drops root to user avahi) and podman's Docker API. The machine's real bus
# and network are never touched. Steps:
#   1. no host account for the image's uid 65532: the bus drops it, daapd
#      logs why and publishes with its own responder
#   2. the README's `useradd` (applied to the host namespace's passwd):
#      /healthz says "avahi", the lan resolves the share from the host's
#      Avahi (lab-a.local) and no second responder is on the wire or in
#      Avahi's log
#   3. avahi-daemon stops: "embedded" on /healthz, the share still resolves
#   4. docker stop: the goodbye (PTR, TTL 0) reaches the lan
#   5. the README's `--user` line (a host user instead of the account),
#      run as nobody with a state folder nobody owns: "avahi" again
# Reuses .ci/docker.sh's podman storage and stand-in images (run it first;
# the image is rebuilt from this tree with the README's `docker build` line,
# from cache after docker.sh). Exit 77: skipped, with the reason.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
CI=/var/tmp/daapd-ci
PY=/usr/bin/python3
DRV=$ROOT/.ci/mdns_defects.py
NAME="daapd Docker Library"
HOSTNS=dkbus$$-host LANNS=dkbus$$-lan
A=192.0.2.1 B=192.0.2.2

skip() { echo "skip: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root (podman, namespaces)"
for t in podman runc docker nsenter unshare curl flock dbus-daemon avahi-daemon; do
    command -v $t >/dev/null || skip "$t missing (apt-get install --no-install-recommends podman runc dbus avahi-daemon curl)"
done
$PY -c 'import zeroconf' 2>/dev/null || skip "python3-zeroconf missing"
[ -f $CI/containers.conf ] && [ -f $CI/storage.conf ] || skip "no podman storage of .ci/docker.sh yet (run it first)"
exec 9>$CI/lock
flock 9 # the README's names (daapd, daapd-state) are fixed: one run at a time
export CONTAINERS_CONF=$CI/containers.conf CONTAINERS_STORAGE_CONF=$CI/storage.conf
podman image exists docker.io/library/golang:1.26-bookworm || skip "no stand-in base images (run .ci/docker.sh first)"

W=$(mktemp -d /tmp/daapd-docker-mdns.XXXXXX)
SOCK=$W/podman.sock
export DOCKER_HOST=unix://$SOCK
unset DOCKER_BUILDKIT
t0=$SECONDS
log() { echo "$(date +%T) ($((SECONDS - t0)) s) $*"; }
fail=0
check() { # NAME WHY (empty: ok)
    if [ -z "$2" ]; then echo "--- $1: ok"; else echo "--- $1: FAILED: $2"; fail=1; fi
}

pids=()
cleanup() {
    local rc=$? p ns
    docker rm -f daapd >/dev/null 2>&1
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
    for ns in $HOSTNS $LANNS; do
        ip netns list | grep -qw "^$ns" || continue
        # every process left in these namespaces was started by this script
        for p in $(ip netns pids $ns); do kill -KILL "$p" 2>/dev/null; done
        ip netns del $ns
    done
    [ $rc = 0 ] && rm -rf "$W" # kept when something failed
}
trap cleanup EXIT

# The two namespaces and the veth between them (created inside them).
ip netns add $HOSTNS; ip netns add $LANNS
ip link add veth-a netns $HOSTNS type veth peer name veth-b netns $LANNS
for nv in "$HOSTNS veth-a $A" "$LANNS veth-b $B"; do
    set -- $nv
    ip -n $1 link set lo up
    ip netns exec $1 sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
    ip -n $1 addr add $3/24 dev $2
    ip -n $1 link set $2 multicast on up
    ip -n $1 route add 224.0.0.0/4 dev $2
done

# The host's mount namespace, held by a sleeping keeper. (Not `ip netns
# exec`: it remounts /sys, and podman then finds no cgroups.)
mkdir -p /run/avahi-daemon
nsenter --net=/run/netns/$HOSTNS unshare -m --propagation private sh -c '
    mount -t tmpfs -o mode=0755 dkbus-dbus /run/dbus &&
    mount -t tmpfs -o mode=0755 dkbus-avahi /run/avahi-daemon &&
    mount -t tmpfs -o mode=0755 dkbus-services /etc/avahi/services &&
    echo ready && exec sleep 100000' >$W/keeper.log 2>&1 &
KEEPER=$!; pids+=($KEEPER)
for _ in $(seq 50); do grep -q ready $W/keeper.log && break; sleep 0.1; done
grep -q ready $W/keeper.log || { cat $W/keeper.log; exit 1; }
on_host() { nsenter -t $KEEPER -m -n "$@"; }

# (nsenter itself in the background, not on_host: then $! is the daemon)
nsenter -t $KEEPER -m -n dbus-daemon --system --nofork --nosyslog >$W/dbus.log 2>&1 &
pids+=($!)
cat >$W/avahi.conf <<EOF
[server]
host-name=lab-a
allow-interfaces=veth-a
[wide-area]
enable-wide-area=no
[publish]
publish-workstation=no
EOF
start_avahi() {
    : >$W/avahi.log
    nsenter -t $KEEPER -m -n avahi-daemon -f $W/avahi.conf --no-rlimits >>$W/avahi.log 2>&1 &
    AVAHI=$!; pids+=($AVAHI)
    for _ in $(seq 100); do grep -q 'Server startup complete' $W/avahi.log && return 0; sleep 0.1; done
    cat $W/avahi.log; return 1
}
nsenter -t $KEEPER -m -n podman system service --time=0 unix://$SOCK >$W/podman.log 2>&1 &
pids+=($!)
for _ in $(seq 50); do [ -S $SOCK ] && docker version >/dev/null 2>&1 && break; sleep 0.2; done
ip netns exec $LANNS $PY "$DRV" watch $W/wire.jsonl $B >$W/watch.log 2>&1 &
pids+=($!)
log "host namespace up: system bus, podman"

# The README's lines (the Docker section's code blocks, continuations joined).
readme=$(awk '/^## Docker/{d=1;next} d&&/^## /{exit} d&&/^```sh/{c=1;next} c&&/^```/{c=0} c' README.md |
    sed -e ':a' -e '/\\$/N; s/\\\n//; ta' | sed 's/  */ /g')
build_line=$(grep -m1 -E '^docker build -t daapd \.$' <<<"$readme")
bus_line=$(grep -E '^docker run .*system_bus_socket' <<<"$readme" | grep -v -m1 -- --user)
user_line=$(grep -m1 -E '^docker run .*--user .*system_bus_socket' <<<"$readme")
useradd_line=$(grep -m1 -E '^(sudo )?useradd .*--uid 65532' <<<"$readme")
[ -n "$build_line" ] && [ -n "$bus_line" ] && [ -n "$user_line" ] && [ -n "$useradd_line" ] ||
    { echo "README's Docker section lacks the build, bus, --user or useradd line"; exit 1; }
echo "+ $build_line"
docker build -q -t daapd . >/dev/null || exit 1
log "image built"

base=http://127.0.0.1:3689
backend() { on_host curl -s --max-time 2 $base/healthz | sed -n 's/.*"announce":"\([a-z]*\)".*/\1/p'; }
wait_backend() { # WANT SECS
    local i
    for i in $(seq $(($2 * 5))); do [ "$(backend)" = "$1" ] && return 0; sleep 0.2; done
    return 1
}
resolve() { ip netns exec $LANNS $PY "$DRV" resolve "$NAME" $B 4; }
run_readme() { # LINE: run a README docker line with the fixtures and our name
    local cmd=${1//\/path\/to\/music/$ROOT/music-fixtures}
    cmd=${cmd//\/path\/to\/daapd-state/$W/state}
    docker rm -f daapd >/dev/null 2>&1
    echo "+ $cmd --name \"$NAME\""
    eval "$cmd --name \"\$NAME\"" >/dev/null
}

# 1. No host account for uid 65532: dropped by the bus, embedded instead.
run_readme "$bus_line"
why=""
wait_backend embedded 20 || why="/healthz says '$(backend)', want embedded"
# podman's log file can trail the process by a moment: wait for the line.
said=""
for _ in $(seq 25); do
    docker logs daapd 2>&1 | grep -q 'closed the connection of uid 65532 (dbus-daemon drops uids that have no account' && { said=1; break; }
    sleep 0.2
done
[ -n "$said" ] || why="${why:+$why; }no log line naming the missing account"
check "no host account: embedded, and the log says why" "$why"
docker rm -f daapd >/dev/null
log "step 1 done"

# 2. The README's useradd (in the host namespace's copy of passwd/group).
echo "+ $useradd_line (host namespace)"
cp /etc/passwd $W/passwd; cp /etc/group $W/group
echo "daapd:x:65532:65532::/nonexistent:/usr/sbin/nologin" >>$W/passwd
echo "daapd:x:65532:" >>$W/group
on_host sh -c "mount --bind $W/passwd /etc/passwd && mount --bind $W/group /etc/group" || exit 1
start_avahi || exit 1
since=$(date +%s.%N)
run_readme "$bus_line"
why=""
wait_backend avahi 20 || why="/healthz says '$(backend)', want avahi"
out=$(resolve)
grep -q '"server": "lab-a.local."' <<<"$out" && grep -q "\"$A\"" <<<"$out" ||
    why="${why:+$why; }not resolved from the host's Avahi: $out"
sleep 1
if grep -q 'Detected another IPv4 mDNS stack' $W/avahi.log; then why="${why:+$why; }avahi-daemon saw a second mDNS stack"; fi
$PY - $W/wire.jsonl "$since" <<'EOF' || why="${why:+$why; }a second responder answered on the wire"
import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e["t"] >= float(sys.argv[2]) and any(r["type"] == 33 and "daapd Docker" in r["name"] and "lab-a.local" not in str(r["data"]) for r in e["records"]):
        print("SRV not from Avahi:", line.strip()); sys.exit(1)
EOF
check "host account: published through the host's Avahi, one responder ($out)" "$why"
log "step 2 done"

# 3. avahi-daemon stops: the container's own responder takes over.
kill $AVAHI; wait $AVAHI 2>/dev/null
why=""
wait_backend embedded 15 || why="/healthz says '$(backend)', want embedded"
out=$(resolve)
grep -q '"ok": true' <<<"$out" && grep -q "\"$A\"" <<<"$out" && ! grep -q 'lab-a.local' <<<"$out" ||
    why="${why:+$why; }not resolved from the embedded responder: $out"
check "avahi-daemon stopped: embedded fallback resolves ($out)" "$why"
log "step 3 done"

# 4. docker stop: the goodbye reaches the lan. (-t 10 is Docker's default;
# podman 4.3's Docker API stores a stop timeout of 0 for containers the
# Docker CLI creates, and would SIGKILL at once.)
since=$(date +%s.%N)
docker stop -t 10 daapd >/dev/null
sleep 1
why=""
$PY - $W/wire.jsonl "$since" "$A" <<'EOF' || why="no PTR with TTL 0 from the container after docker stop"
import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e["t"] >= float(sys.argv[2]) and e["src"] == sys.argv[3] and any(
            r["type"] == 12 and r["name"].rstrip(".") == "_daap._tcp.local" and r["ttl"] == 0 for r in e["records"]):
        sys.exit(0)
sys.exit(1)
EOF
check "docker stop: goodbye" "$why"
[ -z "$why" ] || { docker inspect -f '{{.State.ExitCode}} {{.Config.StopSignal}} {{.State.Status}}' daapd; docker logs daapd 2>&1 | tail -8; }
docker rm -f daapd >/dev/null
log "step 4 done"

# 5. The README's --user line: a host user (here nobody) instead of the account.
start_avahi || exit 1
mkdir -p $W/state && chown 65534:65534 $W/state
p=$W; while [ "$p" != / ]; do chmod o+x "$p"; p=$(dirname "$p"); done
u=$(grep -o -- '--user [0-9]*:[0-9]*' <<<"$user_line")
run_readme "${user_line/$u/--user 65534:65534}"
why=""
wait_backend avahi 20 || why="/healthz says '$(backend)', want avahi"
out=$(resolve)
grep -q '"server": "lab-a.local."' <<<"$out" || why="${why:+$why; }not resolved from the host's Avahi: $out"
[ -n "$(ls $W/state)" ] || why="${why:+$why; }nothing written to the state folder"
check "--user with a host user: published through the host's Avahi" "$why"
[ $fail = 0 ] || { echo "container log:"; docker logs daapd 2>&1 | tail -15; echo "avahi log:"; tail -5 $W/avahi.log; echo "logs: $W"; }
log "done"
exit $fail
