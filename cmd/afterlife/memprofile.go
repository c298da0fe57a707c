package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"time"
)

// startMemProfile, with AFTERLIFE_MEMPROFILE=path set, writes a pprof heap profile to path each
// time the live heap reaches a new high (10% above the last written one, checked every second)
// and once more at the end, to path+".end". It is a debugging aid (docs/scale.md, "Memory"):
// `go tool pprof -sample_index=inuse_space path` shows what is held at the peak.
func startMemProfile(ctx context.Context) (stop func()) {
	path := os.Getenv("AFTERLIFE_MEMPROFILE")
	if path == "" {
		return func() {}
	}
	write := func(p string) {
		f, err := os.Create(p)
		if err != nil {
			slog.Warn("memprofile", "err", err)
			return
		}
		defer f.Close()
		if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
			slog.Warn("memprofile", "err", fmt.Errorf("write %s: %w", p, err))
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		var peak uint64
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			if ms.HeapAlloc > peak+peak/10 {
				peak = ms.HeapAlloc
				write(path)
				slog.Warn("memprofile: new heap high", "heap_alloc_mib", ms.HeapAlloc>>20, "heap_sys_mib", ms.HeapSys>>20, "sys_mib", ms.Sys>>20)
			}
		}
	}()
	return func() {
		cancel()
		<-done
		write(path + ".end")
	}
}

// defaultMemoryLimit is the soft limit on the Go runtime's memory set when GOMEMLIMIT is not:
// the documented budget for a --scale 100 scan is 512 MiB of peak RSS (issue 16), of which
// SQLite's page caches, the binary and mapped files take about 100 MiB outside the Go heap
// (docs/scale.md, "Memory"). Without a limit the collector lets the heap grow to twice what
// is live (GOGC=100), and report rendering at the end of a large scan peaks at 2.5x its live
// heap in RSS.
const defaultMemoryLimit = 400 << 20

// applyMemoryLimit sets defaultMemoryLimit unless the environment sets GOMEMLIMIT (which the
// runtime has already applied, including GOMEMLIMIT=off). It returns the limit in effect.
func applyMemoryLimit(getenv func(string) string) int64 {
	if getenv("GOMEMLIMIT") != "" {
		return debug.SetMemoryLimit(-1)
	}
	debug.SetMemoryLimit(defaultMemoryLimit)
	return defaultMemoryLimit
}

// renderGCPercent is the collector's growth target (GOGC) while reports are rendered. Rendering
// keeps every sighting's view live (~150 MiB at --scale 100) and allocates several GiB in short
// lived strings; at the default of 100 the heap reaches twice the live views before a cycle
// (RSS 456 MB rendering a --scale 100 store alone), at 50 one and a half times (382 MB) for ~10%
// more CPU (bench/results/scale.md, "Memory: streamed rendering").
const renderGCPercent = 50

// renderGC sets renderGCPercent unless the environment sets GOGC, and returns what restores the
// previous setting.
func renderGC(getenv func(string) string) (restore func()) {
	if getenv("GOGC") != "" {
		return func() {}
	}
	old := debug.SetGCPercent(renderGCPercent)
	return func() { debug.SetGCPercent(old) }
}
