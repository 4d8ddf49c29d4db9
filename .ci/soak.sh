#!/usr/bin/env bash
# .ci/soak.sh — issue 8's soak test: a real daapd on 127.0.0.1 under
# clients that list, stream (direct with a Rhythmbox user agent, WAV
# transcodes with an iTunes one), park on /update and hang up mid-stream,
# while its music folders change (files added and removed, files swapped for
# FIFOs, a folder moved away and back, deleted and re-created). It fails on
# any 5xx but the documented 503s, on goroutines or descriptors not back to
# their baseline, on an ffmpeg left behind, on more than 64 threads or more
# than 100 MiB of RSS. Loopback only; bounded by DAAPD_SOAK_DURATION
# (default 60s) and 5000 rounds per client: about 75 s in all.
# Exit 77: skipped (no /proc).
set -uo pipefail
cd "$(dirname "$0")/.."
if [ ! -r /proc/self/status ]; then echo "soak: skipped: needs Linux /proc"; exit 77; fi
command -v ffmpeg >/dev/null || echo "soak: note: no ffmpeg, so no WAV transcodes (iTunes clients get direct streams only)"
DAAPD_SOAK=1 DAAPD_SOAK_DURATION=${DAAPD_SOAK_DURATION:-60s} \
    go test -count=1 -run '^TestSoak$' -v -timeout 5m ./cmd/daapd
