#!/usr/bin/env bash
# .ci/cross.sh — cross-compile daapd for every platform people run it on: Raspberry Pi and NAS boxes (arm v6/v7, arm64),
# 32-bit PCs (386), RISC-V boards, MIPS routers (mipsle), TrueNAS CORE
# (freebsd/amd64) and Macs. CGO is off, as in every release build. go vet
# runs for the 32-bit targets only (VET_TARGETS): that is where sizes and
# atomics differ from amd64, which the main vet step already covers; the
# other targets only need to compile.
#   .ci/cross.sh            all targets
#   TARGETS="linux/arm/7" .ci/cross.sh
set -euo pipefail
cd "$(dirname "$0")/.."
TARGETS=${TARGETS:-"linux/amd64 linux/arm64 linux/arm/6 linux/arm/7 linux/386 linux/riscv64 linux/mipsle freebsd/amd64 darwin/amd64 darwin/arm64"}
VET_TARGETS=${VET_TARGETS:-"linux/arm/7 linux/386"}
out=$(mktemp -d /tmp/daapd-cross.XXXXXX)
trap 'rm -rf "$out"' EXIT
fail=0
for t in $TARGETS; do
    IFS=/ read -r goos goarch goarm <<<"$t"
    start=$SECONDS
    env=(CGO_ENABLED=0 GOOS="$goos" GOARCH="$goarch")
    [ -n "$goarm" ] && env+=(GOARM="$goarm")
    [ "$goarch" = mipsle ] && env+=(GOMIPS=softfloat)
    vet=true
    [[ " $VET_TARGETS " == *" $t "* ]] && vet=(env "${env[@]}" go vet ./...)
    if "${vet[@]}" && env "${env[@]}" go build -trimpath -o "$out/daapd-${t//\//-}" ./cmd/daapd; then
        printf '%-16s ok   %6s  %ss\n' "$t" "$(du -h "$out/daapd-${t//\//-}" | cut -f1)" $((SECONDS - start))
    else
        printf '%-16s FAILED\n' "$t"; fail=1
    fi
done
exit $fail
