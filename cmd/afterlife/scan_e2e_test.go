package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/afterlife-watch/afterlife/configs"
	"github.com/afterlife-watch/afterlife/internal/demoworld"
)

// buildBinary builds the afterlife binary once per test binary run.
var builtBinary string

func binary(t *testing.T) string {
	t.Helper()
	if builtBinary != "" {
		return builtBinary
	}
	dir, err := os.MkdirTemp("", "afterlife-e2e-bin-*")
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "afterlife")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	builtBinary = bin
	return bin
}

func TestMain(m *testing.M) {
	code := m.Run()
	if builtBinary != "" {
		os.RemoveAll(filepath.Dir(builtBinary))
	}
	os.Exit(code)
}

// demoWorld serves the demo world in the test process (so the test can watch its request counts)
// and writes a watch config pointing every source at it.
func demoWorld(t *testing.T, latency time.Duration) (*demoworld.Server, string) {
	t.Helper()
	w, err := demoworld.New(demoworld.Options{Latency: latency})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := demoworld.Start(w, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	wc := srv.WatchConfig()
	wc.Workers = 3
	b, err := wc.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(t.TempDir(), "watch.yaml")
	if err := os.WriteFile(cfg, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return srv, cfg
}

func worldRequests(w *demoworld.World) int64 {
	var n int64
	for _, s := range demoworld.Sources() {
		n += w.Requests(s)
	}
	return n
}

func scanCmd(ctx context.Context, t *testing.T, cfg, data, out string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, binary(t), "scan", "--config", cfg, "--data", data, "--out", out,
		"--progress", "never", "--log-level", "warn")
	cmd.Env = append(os.Environ(), "AFTERLIFE_DATA=", "AFTERLIFE_REDIS_URL=") // embedded mode
	return cmd
}

type summary struct {
	RunID   string `json:"run_id"`
	Resumed bool   `json:"resumed"`
	Sources []struct {
		Name    string `json:"name"`
		Status  string `json:"status"`
		Message string `json:"message"`
		Errors  int    `json:"errors"`
	} `json:"sources"`
	Reports  []string `json:"reports"`
	Coverage struct {
		State string `json:"state"`
	} `json:"coverage"`
}

func runScanOK(ctx context.Context, t *testing.T, cfg, data, out string) summary {
	t.Helper()
	cmd := scanCmd(ctx, t, cfg, data, out)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("afterlife scan: %v\nstderr:\n%s", err, stderr.String())
	}
	var s summary
	if err := json.Unmarshal(stdout.Bytes(), &s); err != nil {
		t.Fatalf("scan stdout is not one JSON summary: %v\n%s", err, stdout.String())
	}
	return s
}

// sightingSet reads report.json: every (dataset, artifact, relation), and fails on duplicates.
func sightingSet(t *testing.T, out string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(out, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Run struct {
			Complete bool `json:"complete"`
		} `json:"run"`
		Datasets []struct {
			ID        string `json:"id"`
			Sightings []struct {
				Artifact struct {
					ID string `json:"id"`
				} `json:"artifact"`
				Relation string `json:"relation"`
			} `json:"sightings"`
		} `json:"datasets"`
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatalf("report.json: %v", err)
	}
	if !rep.Run.Complete {
		t.Fatal("report.json: run not complete")
	}
	seen := map[string]bool{}
	var out2 []string
	for _, d := range rep.Datasets {
		for _, s := range d.Sightings {
			k := d.ID + " | " + s.Artifact.ID + " | " + s.Relation
			if seen[k] {
				t.Fatalf("sighting recorded twice in report.json: %s", k)
			}
			seen[k] = true
			out2 = append(out2, k)
		}
	}
	sort.Strings(out2)
	return out2
}

// The key promise of the embedded engine: a demo run killed with -9 mid-run (twice) and started
// again on the same data directory ends with the same report as an uninterrupted run — the same
// sightings, none doubled — and the resumed process does not redo the finished work.
func TestScanKilledMidRunResumesToTheSameReport(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	srv, cfg := demoWorld(t, 15*time.Millisecond)
	tmp := t.TempDir()

	// Uninterrupted reference run.
	before := worldRequests(srv.World)
	ref := runScanOK(ctx, t, cfg, filepath.Join(tmp, "data-ref"), filepath.Join(tmp, "out-ref"))
	full := worldRequests(srv.World) - before
	if ref.Resumed || full < 50 {
		t.Fatalf("reference run: resumed=%v, %d requests", ref.Resumed, full)
	}
	want := sightingSet(t, filepath.Join(tmp, "out-ref"))
	if len(want) < 20 {
		t.Fatalf("reference run found only %d sightings; the demo world plants more", len(want))
	}

	data, out := filepath.Join(tmp, "data"), filepath.Join(tmp, "out")
	for i, frac := range []float64{0.25, 0.6} {
		start := worldRequests(srv.World)
		cmd := scanCmd(ctx, t, cfg, data, out)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Wait (polling the world's request counter) until this process has done part of the work.
		target := int64(frac * float64(full))
		if i == 1 {
			target = int64((0.6 - 0.25) * float64(full))
		}
		deadline := time.Now().Add(3 * time.Minute)
		for worldRequests(srv.World)-start < target && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		if err := cmd.Process.Kill(); err != nil { // SIGKILL: no cleanup, no deferred code
			t.Fatal(err)
		}
		err := cmd.Wait()
		if ws, ok := cmd.ProcessState.Sys().(interface{ Signaled() bool }); !ok || !ws.Signaled() {
			t.Fatalf("kill %d: the scan was not killed mid-run (it exited: %v)\n%s", i+1, err, stderr.String())
		}
		if _, err := os.Stat(filepath.Join(out, "report.json")); err == nil {
			t.Fatalf("kill %d: report written although the run was killed", i+1)
		}
	}

	resumeStart := worldRequests(srv.World)
	got := runScanOK(ctx, t, cfg, data, out)
	resumedRequests := worldRequests(srv.World) - resumeStart
	if !got.Resumed {
		t.Fatal("second scan on the same data directory did not resume the interrupted run")
	}
	if resumedRequests >= full {
		t.Fatalf("the resumed process made %d requests, the whole run takes %d: finished work was redone", resumedRequests, full)
	}
	have := sightingSet(t, out)
	if strings.Join(have, "\n") != strings.Join(want, "\n") {
		t.Fatalf("interrupted+resumed report differs from the uninterrupted one:\n%s", diff(want, have))
	}
	for _, s := range got.Sources {
		if s.Status != "ok" {
			t.Errorf("source %s: status %s (%s)", s.Name, s.Status, s.Message)
		}
	}
	t.Logf("reference: %d requests, %d sightings; resumed process: %d requests", full, len(want), resumedRequests)
}

// With nothing reachable (every source pointed at a closed port, as with no network) a scan ends
// promptly, its report says, per source, that it failed and why, and — issue 17, item 2 — it
// exits non-zero (2) saying that nothing could be checked.
func TestScanWithNoNetworkEndsPromptlyWithFailedSources(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	ln.Close()
	wc := &configs.Watch{Contact: "test", AllowLoopback: true, Sources: map[string]configs.SourceConfig{}}
	for _, name := range demoworld.Sources() {
		wc.Sources[name] = configs.SourceConfig{Enabled: true, BaseURL: dead + "/" + name, Rate: 100, Burst: 10}
	}
	b, _ := wc.Marshal()
	cfg := filepath.Join(t.TempDir(), "watch.yaml")
	os.WriteFile(cfg, b, 0o644)
	tmp := t.TempDir()
	start := time.Now()
	cmd := scanCmd(ctx, t, cfg, filepath.Join(tmp, "data"), filepath.Join(tmp, "out"))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	took := time.Since(start)
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 || !strings.Contains(stderr.String(), "Nothing could be checked") {
		t.Fatalf("scan with every source failing: %v (want exit status 2 saying nothing could be checked)\nstderr:\n%s", err, stderr.String())
	}
	var s summary
	if err := json.Unmarshal(stdout.Bytes(), &s); err != nil {
		t.Fatalf("scan stdout is not one JSON summary: %v\n%s", err, stdout.String())
	}
	if s.Coverage.State != "none" {
		t.Errorf("summary coverage %q, want none", s.Coverage.State)
	}
	// Off a terminal: one closing line per source on stderr, saying it failed and why.
	for _, name := range demoworld.Sources() {
		if !strings.Contains(stderr.String(), "afterlife: source "+name+": failed — 0 artifacts") {
			t.Errorf("stderr has no closing line for %s:\n%s", name, stderr.String())
		}
	}
	if len(s.Sources) != len(demoworld.Sources()) {
		t.Fatalf("%d sources in the summary, want %d", len(s.Sources), len(demoworld.Sources()))
	}
	for _, src := range s.Sources {
		if src.Status != "failed" || !strings.Contains(src.Message, "connection refused") {
			t.Errorf("source %s: status %q message %q, want failed with the reason", src.Name, src.Status, src.Message)
		}
	}
	b, err = os.ReadFile(filepath.Join(tmp, "out", "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"failed"`) {
		t.Fatal("report.json does not record the failed sources")
	}
	idx, err := os.ReadFile(filepath.Join(tmp, "out", "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	if i := strings.Index(string(idx), "Nothing could be checked"); i < 0 || strings.Contains(string(idx), "No sighting of a retracted dataset") {
		t.Errorf("index.html does not say first that nothing could be checked")
	}
	// Generous bound for a loaded machine; the run itself takes seconds (3 attempts with backoff).
	if took > 2*time.Minute {
		t.Fatalf("scan with no network took %s", took)
	}
}

func TestScanRefusesBusyDataDir(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	srv, cfg := demoWorld(t, 200*time.Millisecond)
	_ = srv
	tmp := t.TempDir()
	data := filepath.Join(tmp, "data")
	first := scanCmd(ctx, t, cfg, data, filepath.Join(tmp, "out1"))
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { first.Process.Kill(); first.Wait() }()
	// Wait until the first scan holds the lock (its frontier file exists and it has made requests).
	deadline := time.Now().Add(2 * time.Minute)
	for worldRequests(srv.World) == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	second := scanCmd(ctx, t, cfg, data, filepath.Join(tmp, "out2"))
	var stderr bytes.Buffer
	second.Stderr = &stderr
	err := second.Run()
	if err == nil || !strings.Contains(stderr.String(), "in use by another afterlife process") {
		t.Fatalf("second scan on a busy data dir: err=%v stderr=%s", err, stderr.String())
	}
}

func diff(want, have []string) string {
	w, h := map[string]bool{}, map[string]bool{}
	for _, s := range want {
		w[s] = true
	}
	for _, s := range have {
		h[s] = true
	}
	var b strings.Builder
	for _, s := range want {
		if !h[s] {
			fmt.Fprintf(&b, "- %s\n", s)
		}
	}
	for _, s := range have {
		if !w[s] {
			fmt.Fprintf(&b, "+ %s\n", s)
		}
	}
	return b.String()
}
