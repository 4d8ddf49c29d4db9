#!/usr/bin/env bash
# .ci/qemu.sh — run the Go test suite as 32-bit ARM (GOARM=7: Raspberry Pi
# OS 32-bit, armv7 NAS boxes) and as arm64, under qemu-user. 32-bit is where
# int overflow in sizes and offsets and unaligned 64-bit atomics show up;
# daap's TestLargeFile serves a sparse 3 GiB file there.
# DAAPD_TEST_EXEC tells tests that start their own binary to run it through
# qemu too. -short skips what cannot run under emulation: the tests that re-execute
# themselves in a network namespace (the re-executed ARM binary would run
# without qemu) and the client/benchmark sweeps. The race detector is
# amd64-only. Exit 77: skipped (no qemu-user).
#   .ci/qemu.sh              arm (v7) and arm64
#   ARCHES=arm .ci/qemu.sh
set -uo pipefail
cd "$(dirname "$0")/.."
ARCHES=${ARCHES:-"arm arm64"}
declare -A QEMU=([arm]=qemu-arm [arm64]=qemu-aarch64 [386]=qemu-i386 [riscv64]=qemu-riscv64)
for a in $ARCHES; do
    command -v "${QEMU[$a]}" >/dev/null || { echo "skip: ${QEMU[$a]} missing (apt-get install qemu-user)"; exit 77; }
done
fail=0
for a in $ARCHES; do
    start=$SECONDS
    log=$(mktemp /tmp/daapd-qemu-$a.XXXXXX)
    echo "--- go test under ${QEMU[$a]} (GOARCH=$a)"
    # Go's test binaries are static (CGO off), so qemu needs no target libc.
    if DAAPD_TEST_EXEC=${QEMU[$a]} CGO_ENABLED=0 GOARCH=$a GOARM=7 go test -short -count=1 -timeout 20m -v \
        -exec "${QEMU[$a]}" ./... >"$log" 2>&1; then rc=0; else rc=1; fail=1; fi
    grep -E '^(ok|FAIL|\?)[[:space:]]' "$log"
    echo "skipped under $a:"; grep -B1 -- '--- SKIP' "$log" | grep -v -E '^(--$|=== )' | sed 's/^/  /'
    if [ $rc = 0 ]; then rm -f "$log"; else
        grep -E -A6 '^[[:space:]]*(--- FAIL|panic:)|\[build failed\]' "$log" | head -60
        echo "full log: $log"
    fi
    echo "--- $a: $((SECONDS - start)) s"
done
exit $fail
