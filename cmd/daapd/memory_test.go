package main

import (
	"context"
	"runtime/debug"
	"testing"
	"time"
)

func TestMemLimit(t *testing.T) {
	for _, tc := range []struct {
		live uint64
		want int64
	}{
		{0, 320 << 20},
		{40 << 20, 370 << 20},   // 100k tracks: far above what GOGC lets the heap reach
		{480 << 20, 920 << 20},  // a million tracks
		{800 << 20, 1320 << 20}, // grows with the catalog: never below what is live
	} {
		if got := memLimit(tc.live); got != tc.want {
			t.Errorf("memLimit(%d MiB) = %d MiB, want %d MiB", tc.live>>20, got>>20, tc.want>>20)
		}
	}
}

func TestLimitMemory(t *testing.T) {
	before := debug.SetMemoryLimit(-1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		limitMemory(ctx, func(string) string { return "" }, func(context.Context) error { return nil })
	}()
	deadline := time.Now().Add(5 * time.Second)
	for debug.SetMemoryLimit(-1) == before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := debug.SetMemoryLimit(-1); got == before || got < memSlack {
		t.Errorf("limit %d, want at least %d", got, memSlack)
	}
	cancel()
	<-done
	if got := debug.SetMemoryLimit(-1); got != before {
		t.Errorf("limit %d after stopping, want %d restored", got, before)
	}

	// With GOMEMLIMIT set, nothing is waited for or changed.
	limitMemory(context.Background(), func(k string) string { return map[string]string{"GOMEMLIMIT": "1GiB"}[k] },
		func(context.Context) error { t.Error("waited for the catalog"); return nil })
	if got := debug.SetMemoryLimit(-1); got != before {
		t.Errorf("limit changed to %d with GOMEMLIMIT set", got)
	}
}
