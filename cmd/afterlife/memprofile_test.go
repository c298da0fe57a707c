package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime/debug"
	"testing"
)

func TestApplyMemoryLimitSetsTheBudgetWhenGOMEMLIMITIsUnset(t *testing.T) {
	old := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(old) })
	debug.SetMemoryLimit(1 << 40)
	if got := applyMemoryLimit(func(string) string { return "" }); got != defaultMemoryLimit {
		t.Fatalf("applyMemoryLimit returned %d, want %d", got, defaultMemoryLimit)
	}
	if got := debug.SetMemoryLimit(-1); got != defaultMemoryLimit {
		t.Fatalf("runtime memory limit %d after applyMemoryLimit, want %d (400 MiB)", got, defaultMemoryLimit)
	}
	if defaultMemoryLimit >= 512<<20 {
		t.Fatalf("default limit %d is not below the 512 MiB RSS budget", defaultMemoryLimit)
	}
}

func TestApplyMemoryLimitKeepsAnExplicitGOMEMLIMIT(t *testing.T) {
	old := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(old) })
	debug.SetMemoryLimit(3 << 30) // what GOMEMLIMIT=3GiB would have set at start-up
	env := func(k string) string {
		if k == "GOMEMLIMIT" {
			return "3GiB"
		}
		return ""
	}
	if got := applyMemoryLimit(env); got != 3<<30 {
		t.Fatalf("applyMemoryLimit returned %d, want the environment's %d", got, int64(3<<30))
	}
	if got := debug.SetMemoryLimit(-1); got != 3<<30 {
		t.Fatalf("runtime memory limit %d, want the environment's %d kept", got, int64(3<<30))
	}
}

func TestMemProfileEnvWritesAGzippedHeapProfileAtTheEnd(t *testing.T) {
	path := filepath.Join(t.TempDir(), "heap.pprof")
	t.Setenv("AFTERLIFE_MEMPROFILE", path)
	stop := startMemProfile(context.Background())
	stop()
	b, err := os.ReadFile(path + ".end")
	if err != nil {
		t.Fatalf("end profile: %v", err)
	}
	if len(b) < 100 || !bytes.HasPrefix(b, []byte{0x1f, 0x8b}) {
		t.Fatalf("end profile: %d bytes, prefix % x; want a gzipped pprof profile", len(b), b[:min(len(b), 2)])
	}
}

func TestMemProfileWithoutEnvWritesNothing(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("AFTERLIFE_MEMPROFILE", "")
	t.Chdir(dir)
	startMemProfile(context.Background())()
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Fatalf("wrote %d files without AFTERLIFE_MEMPROFILE", len(ents))
	}
}

// Rendering lowers GOGC while it runs and puts it back; a GOGC from the environment is left alone.
func TestRenderGCSetsAndRestoresGOGC(t *testing.T) {
	old := debug.SetGCPercent(80)
	defer debug.SetGCPercent(old)
	restore := renderGC(func(string) string { return "" })
	if got := debug.SetGCPercent(renderGCPercent); got != renderGCPercent {
		t.Fatalf("GOGC while rendering: %d, want %d", got, renderGCPercent)
	}
	restore()
	if got := debug.SetGCPercent(80); got != 80 {
		t.Fatalf("GOGC after rendering: %d, want 80 back", got)
	}
	renderGC(func(k string) string {
		if k == "GOGC" {
			return "200"
		}
		return ""
	})()
	if got := debug.SetGCPercent(80); got != 80 {
		t.Fatalf("GOGC with GOGC set: %d, want 80 untouched", got)
	}
}
