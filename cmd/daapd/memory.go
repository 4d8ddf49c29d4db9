package main

import (
	"context"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// Go's default collector lets the heap grow to twice what is live before a
// collection. Nearly all of daapd's live heap is its catalog, about 450 MB
// at a million tracks, so a listing built then would push the process
// towards 1 GB. limitMemory keeps the headroom proportionate instead: each
// second it sets the soft memory limit to the live heap, a quarter more,
// and memSlack. Small libraries never come near that limit, so the
// default pacing alone rules them; a big one collects sooner rather than
// doubling (measured in BENCHMARKS.md).
const (
	memSlack = 320 << 20 // the listing budget (256 MiB) and some
	memEvery = time.Second
)

// memLimit is the soft memory limit for a live heap of live bytes.
func memLimit(live uint64) int64 { return int64(live + live/4 + memSlack) }

// limitMemory runs until ctx ends, from when ready returns: after the
// first catalog, as a restart loads its cache with the collector paused,
// which a limit computed before the load would undo. A GOMEMLIMIT in the
// environment wins, and then it does nothing.
func limitMemory(ctx context.Context, getenv func(string) string, ready func(context.Context) error) {
	if getenv("GOMEMLIMIT") != "" || ready(ctx) != nil {
		return
	}
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1)) // restored for tests running several servers
	live := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	t := time.NewTicker(memEvery)
	defer t.Stop()
	for {
		metrics.Read(live)
		if live[0].Value.Kind() == metrics.KindUint64 {
			debug.SetMemoryLimit(memLimit(live[0].Value.Uint64()))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
