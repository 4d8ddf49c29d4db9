#!/usr/bin/env bash
# .ci/docker.sh — run the README's `docker build` and `docker run` lines as
# written (only /path/to/music becomes music-fixtures/), with the Docker
# client against podman's Docker-compatible API, then check the container:
# /healthz, its HEALTHCHECK, iTunes sees every fixture and gets FLAC, Ogg
# and Opus as WAV that streams. Also builds the static target and checks
# the image sizes.
#
# No registry is reachable here, so the base images the Dockerfile names are
# local stand-ins (see ../shared/docs/containers.md): Debian from the package
# archive with mmdebstrap, the host's Go toolchain and module cache, and a
# distroless-like static base. They are cached in a storage of this script's
# own (/var/tmp/daapd-ci/containers); DAAPD_CI_FRESH=1 rebuilds them.
# Everything runs inside a private network namespace: the podman service, the
# build (no network), the container (--network host = that namespace) and the
# checks. Exit 77: skipped (not root, or a tool is missing).
#
# To add a check, write a function check_NAME and append NAME to CHECKS;
# it runs with the container up, `in_ns` runs a command in its namespace.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
CI=/var/tmp/daapd-ci
CHECKS=(healthz healthcheck itunes static_image)

skip() { echo "skip: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root (podman, network namespaces)"
for t in podman runc mmdebstrap docker unshare nsenter curl python3 flock; do
    command -v $t >/dev/null || skip "$t missing (apt-get install --no-install-recommends podman runc mmdebstrap curl; docker CLI at /usr/local/bin/docker)"
done
mkdir -p $CI
exec 9>$CI/lock
flock 9 # one run at a time: the README's names (daapd, daapd-state) are fixed

# Podman settings that work on this machine (containers.md), in our own storage.
export CONTAINERS_CONF=$CI/containers.conf CONTAINERS_STORAGE_CONF=$CI/storage.conf
printf '[containers]\ndefault_ulimits = []\n[engine]\nruntime = "runc"\n' >$CONTAINERS_CONF
printf '[storage]\ndriver = "overlay"\ngraphroot = "%s/containers/storage"\nrunroot = "%s/containers/run"\n' $CI $CI >$CONTAINERS_STORAGE_CONF

t0=$SECONDS
phase() { echo "--- $1 ($((SECONDS - t0)) s)"; }

# 1. Stand-in base images, under the exact names the Dockerfile uses.
standins() {
    [ "${DAAPD_CI_FRESH:-}" = 1 ] && podman rmi -af >/dev/null 2>&1 || true
    local tmp; tmp=$(mktemp -d $CI/standin.XXXXXX)
    if ! podman image exists docker.io/library/debian:bookworm-slim; then
        # With ffmpeg already in it: the build has no network, and the
        # Dockerfile's apt-get then finds everything installed.
        mmdebstrap --quiet --variant=minbase --include=ca-certificates,ffmpeg \
            bookworm $tmp/rootfs.tar /etc/apt/sources.list.d/debian.sources
        podman import -q $tmp/rootfs.tar docker.io/library/debian:bookworm-slim >/dev/null
    fi
    # The Go stand-in's module proxy follows go.sum: rebuild it when go.sum changes.
    local sum; sum=$(sha256sum go.sum | cut -c1-16)
    if [ "$(cat $CI/golang-standin.gosum 2>/dev/null)" != "$sum" ]; then
        podman rmi -f docker.io/library/golang:1.26-bookworm >/dev/null 2>&1 || true
    fi
    if ! podman image exists docker.io/library/golang:1.26-bookworm; then
        mkdir -p $tmp/go/goproxy
        cp -a "$(go env GOROOT)" $tmp/go/go
        # The modules go.sum names (the whole module graph), as a file:// proxy.
        go mod download
        python3 - "$(go env GOMODCACHE)/cache/download" $tmp/go/goproxy <<'PY'
import os, re, shutil, sys
src, dst = sys.argv[1], sys.argv[2]
esc = lambda p: re.sub(r"[A-Z]", lambda m: "!" + m.group().lower(), p)
for line in open("go.sum"):
    mod, ver = line.split()[:2]
    ver = ver.removesuffix("/go.mod")
    d = os.path.join(esc(mod), "@v")
    for ext in (".info", ".mod", ".zip"):
        f = os.path.join(src, d, esc(ver) + ext)
        if os.path.exists(f):
            os.makedirs(os.path.join(dst, d), exist_ok=True)
            shutil.copy(f, os.path.join(dst, d))
PY
        cat >$tmp/go/Containerfile <<'EOF'
FROM docker.io/library/debian:bookworm-slim
COPY go /usr/local/go
COPY goproxy /goproxy
ENV PATH=/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    GOPROXY=file:///goproxy GOSUMDB=off GOTOOLCHAIN=local GOFLAGS=-buildvcs=false
EOF
        podman build -q --pull=never --network=none -t docker.io/library/golang:1.26-bookworm $tmp/go >/dev/null
        echo "$sum" >$CI/golang-standin.gosum
    fi
    if ! podman image exists gcr.io/distroless/static-debian12:nonroot; then
        local s=$tmp/static; mkdir -p $s/etc/ssl/certs $s/tmp $s/home/nonroot
        printf 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' >$s/etc/passwd
        printf 'root:x:0:\nnobody:x:65534:\nnonroot:x:65532:\n' >$s/etc/group
        cp /etc/ssl/certs/ca-certificates.crt $s/etc/ssl/certs/
        chmod 1777 $s/tmp
        printf 'FROM scratch\nCOPY etc /etc\nCOPY --chown=65532:65532 home /home\nCOPY tmp /tmp\n' >$s/Containerfile
        podman build -q --pull=never --network=none -t gcr.io/distroless/static-debian12:nonroot $s >/dev/null
    fi
    rm -rf $tmp
}
standins
phase "stand-in base images ready"

# 2. podman's Docker API inside a private network namespace.
SOCK=$CI/podman.sock
rm -f $SOCK
unshare -n sh -c 'ip link set lo up; exec podman system service --time=0 unix://'$SOCK >$CI/service.log 2>&1 &
SVC=$!
export DOCKER_HOST=unix://$SOCK
unset DOCKER_BUILDKIT
cleanup() {
    docker rm -f daapd >/dev/null 2>&1 || true
    kill $SVC 2>/dev/null || true
    wait $SVC 2>/dev/null || true
    rm -f $SOCK
}
trap cleanup EXIT
for _ in $(seq 50); do [ -S $SOCK ] && docker version >/dev/null 2>&1 && break; sleep 0.2; done
in_ns() { nsenter --net=/proc/$SVC/ns/net "$@"; }

# 3. The README's lines, literally.
readme_cmds=$(awk '/^## Docker/{d=1} d&&/^```sh/{c=1;next} c&&/^```/{exit} c' README.md |
    sed -e ':a' -e '/\\$/N; s/\\\n//; ta' | grep -E '^docker (build|run) ')
[ -n "$readme_cmds" ] || { echo "README has no docker build/run lines under '## Docker'"; exit 1; }
docker rm -f daapd >/dev/null 2>&1 || true
docker volume rm daapd-state >/dev/null 2>&1 || true
while read -r line; do
    cmd=${line//\/path\/to\/music/$ROOT/music-fixtures}
    echo "+ $cmd"
    eval "$cmd"
    phase "${line%% -*}"
done <<<"$readme_cmds"

# 4. Checks against the running container.
base=http://127.0.0.1:3689
for _ in $(seq 100); do in_ns curl -fsS $base/healthz 2>/dev/null | grep -q '"scanning":false' && break; sleep 0.3; done

check_healthz() {
    in_ns curl -fsS $base/healthz; echo
}
check_healthcheck() {
    # podman schedules HEALTHCHECK with systemd timers; there is none here.
    [ "$(docker inspect -f '{{json .Config.Healthcheck.Test}}' daapd)" = '["CMD","/usr/local/bin/daapd","healthcheck"]' ] ||
        { echo "image has no HEALTHCHECK"; return 1; }
    in_ns podman healthcheck run daapd && echo "healthcheck: healthy"
}
check_itunes() {
    in_ns python3 "$ROOT/.ci/docker_itunes.py" $base "$ROOT/music-fixtures"
}
check_static_image() {
    docker build -q --target static -t daapd:static . >/dev/null
    docker run --rm --entrypoint /usr/local/bin/daapd daapd:static --version
    docker run --rm --entrypoint /usr/bin/ffmpeg daapd -hide_banner -version | head -1
    echo "user: $(docker inspect -f '{{.Config.User}}' daapd)"
    podman images --format '{{.Repository}}:{{.Tag}} {{.Size}}' | grep -E 'daapd:(latest|static)'
}
fail=0
for c in "${CHECKS[@]}"; do
    if check_$c; then echo "--- $c: ok"; else echo "--- $c: FAILED"; fail=1; docker logs daapd 2>&1 | tail -20; fi
done
phase "checks done"
exit $fail
