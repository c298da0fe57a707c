package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/afterlife-watch/afterlife/configs"
	"github.com/afterlife-watch/afterlife/internal/demoworld"
	"github.com/afterlife-watch/afterlife/reports"
)

// deadWatchConfig writes a real (non-demo) watch config whose every source points at a closed
// port on 127.0.0.1, as with no network: a scan with it fails fast and records a real run.
func deadWatchConfig(t *testing.T, sources ...string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	ln.Close()
	if len(sources) == 0 {
		sources = demoworld.Sources()
	}
	wc := &configs.Watch{Contact: "test", AllowLoopback: true, Sources: map[string]configs.SourceConfig{}}
	for _, name := range sources {
		wc.Sources[name] = configs.SourceConfig{Enabled: true, BaseURL: dead + "/" + name, Rate: 100, Burst: 10}
	}
	b, err := wc.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(t.TempDir(), "watch.yaml")
	if err := os.WriteFile(cfg, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// runCLI runs the binary with env added to a clean environment and returns stdout, stderr and
// the exit code.
func runCLI(ctx context.Context, t *testing.T, env []string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.CommandContext(ctx, binary(t), args...)
	cmd.Env = append(append(os.Environ(), "AFTERLIFE_DATA=", "AFTERLIFE_REDIS_URL=", "AFTERLIFE_WEBHOOKS=", "AFTERLIFE_SLACK_WEBHOOKS="), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("afterlife %v: %v", args, err)
		}
		code = ee.ExitCode()
	}
	return stdout.String(), stderr.String(), code
}

func storeRuns(t *testing.T, dataDir string) int {
	t.Helper()
	st, err := reports.OpenStore(filepath.Join(dataDir, reports.StoreFile))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	runs, err := st.Runs(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	return len(runs)
}

// Issue 17, item 1: `afterlife demo --out X` (its own --help example) never writes into the
// default data directory (nor $AFTERLIFE_DATA): its data lives under X. A store remembers that it
// holds demo data: a real scan into it is refused, and the demo refuses a real store.
func TestDemoKeepsItsDataApartFromRealData(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	tmp := t.TempDir()
	xdg, envData, out := filepath.Join(tmp, "xdg"), filepath.Join(tmp, "env-data"), filepath.Join(tmp, "demo")
	env := []string{"HOME=" + filepath.Join(tmp, "home"), "XDG_DATA_HOME=" + xdg, "AFTERLIFE_DATA=" + envData}
	_, stderr, code := runCLI(ctx, t, env, "demo", "--out", out, "--progress", "never", "--log-level", "warn")
	if code != 0 {
		t.Fatalf("afterlife demo --out %s: exit %d\n%s", out, code, stderr)
	}
	for _, d := range []string{filepath.Join(xdg, "afterlife"), envData, filepath.Join(tmp, "home")} {
		if _, err := os.Stat(d); !os.IsNotExist(err) {
			t.Errorf("the demo touched the real data directory %s (stat: %v)", d, err)
		}
	}
	demoData := filepath.Join(out, "data")
	if n := storeRuns(t, demoData); n != 1 {
		t.Fatalf("demo store %s holds %d runs, want 1", demoData, n)
	}
	if _, err := os.Stat(filepath.Join(out, "report.json")); err != nil {
		t.Fatalf("demo report: %v", err)
	}

	// A real scan into the demo's data directory is refused before it records anything.
	cfg := deadWatchConfig(t, "zenodo")
	_, stderr, code = runCLI(ctx, t, nil, "scan", "--config", cfg, "--data", demoData, "--out", filepath.Join(tmp, "o"), "--progress", "never")
	if code == 0 || !strings.Contains(stderr, "holds demo data") {
		t.Fatalf("real scan into a demo store: exit %d, stderr:\n%s", code, stderr)
	}
	if n := storeRuns(t, demoData); n != 1 {
		t.Fatalf("after the refused scan the demo store holds %d runs, want 1", n)
	}

	// The demo refuses a store holding real data, even when pointed at it with --data.
	real := filepath.Join(tmp, "real")
	runCLI(ctx, t, nil, "scan", "--config", cfg, "--data", real, "--out", filepath.Join(tmp, "o2"), "--progress", "never", "--log-level", "error")
	if n := storeRuns(t, real); n != 1 {
		t.Fatalf("real store holds %d runs, want 1", n)
	}
	_, stderr, code = runCLI(ctx, t, nil, "demo", "--data", real, "--out", filepath.Join(tmp, "demo2"), "--progress", "never")
	if code == 0 || !strings.Contains(stderr, "holds real monitoring data") {
		t.Fatalf("demo into a real store: exit %d, stderr:\n%s", code, stderr)
	}
	if n := storeRuns(t, real); n != 1 {
		t.Fatalf("after the refused demo the real store holds %d runs, want 1", n)
	}
	if _, err := os.Stat(filepath.Join(real, demoAddrFile)); !os.IsNotExist(err) {
		t.Errorf("the refused demo wrote %s into the real data directory", demoAddrFile)
	}
}
