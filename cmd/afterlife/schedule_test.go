package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/afterlife-watch/afterlife/internal/demoworld"
	"github.com/afterlife-watch/afterlife/reports"
)

func scheduleCmd(ctx context.Context, t *testing.T, cfg, data, grace string) (*exec.Cmd, *bytes.Buffer, *bytes.Buffer) {
	cmd := exec.CommandContext(ctx, binary(t), "schedule", "--config", cfg, "--data", data, "--out", filepath.Join(data, "out"),
		"--every", "@every 1s", "--jitter", "0s", "--grace", grace, "--log-level", "info")
	cmd.Env = append(os.Environ(), "AFTERLIFE_DATA=", "AFTERLIFE_REDIS_URL=")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	return cmd, &stdout, &stderr
}

// waitRequests waits until the world has served n requests (a run is in hand).
func waitRequests(ctx context.Context, t *testing.T, w *demoworld.World, n int64) {
	t.Helper()
	for worldRequests(w) < n {
		if ctx.Err() != nil {
			t.Fatalf("the daemon made %d requests, waited for %d", worldRequests(w), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func waitExit(t *testing.T, cmd *exec.Cmd, stderr *bytes.Buffer, within time.Duration) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("afterlife schedule after SIGTERM: %v\nstderr:\n%s", err, stderr.String())
		}
	case <-time.After(within):
		_ = cmd.Process.Kill()
		t.Fatalf("afterlife schedule did not stop within %s of SIGTERM\nstderr:\n%s", within, stderr.String())
	}
}

// SIGTERM with no grace: the daemon interrupts the run in hand, hands its work back (the run
// stays open in the store) and exits 0; the next `afterlife scan` resumes that run.
func TestScheduleSIGTERMHandsBackTheRunInHand(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	srv, cfg := demoWorld(t, 20*time.Millisecond)
	data := t.TempDir()
	cmd, _, stderr := scheduleCmd(ctx, t, cfg, data, "0s")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitRequests(ctx, t, srv.World, 40)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitExit(t, cmd, stderr, time.Minute)
	if !strings.Contains(stderr.String(), "interrupted") {
		t.Fatalf("no interrupted run in the log:\n%s", stderr.String())
	}
	st, err := reports.OpenStore(filepath.Join(data, reports.StoreFile))
	if err != nil {
		t.Fatal(err)
	}
	open, ok, err := st.OpenRun(ctx)
	st.Close()
	if err != nil || !ok {
		t.Fatalf("no open run handed back after SIGTERM (err %v)", err)
	}
	s := runScanOK(ctx, t, cfg, data, filepath.Join(data, "out"))
	if !s.Resumed || s.RunID != open.ID {
		t.Fatalf("scan after the daemon: run %s resumed=%v, want run %s resumed", s.RunID, s.Resumed, open.ID)
	}
}

// SIGTERM with a grace period: no new run starts, the run in hand finishes, the daemon exits 0.
func TestScheduleSIGTERMFinishesTheRunWithinGrace(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	srv, cfg := demoWorld(t, 5*time.Millisecond)
	data := t.TempDir()
	cmd, stdout, stderr := scheduleCmd(ctx, t, cfg, data, "4m")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitRequests(ctx, t, srv.World, 40)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitExit(t, cmd, stderr, 4*time.Minute)
	st, err := reports.OpenStore(filepath.Join(data, reports.StoreFile))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	runs, err := st.Runs(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 1 || !runs[0].Complete {
		t.Fatalf("after SIGTERM with grace: runs %+v, want the one run in hand, complete", runs)
	}
	var sum summary
	if err := json.Unmarshal(stdout.Bytes(), &sum); err != nil || sum.RunID != runs[0].ID {
		t.Fatalf("daemon stdout: %v\n%s", err, stdout.String())
	}
}

// The done criterion: `afterlife demo --epoch 1` then `--epoch 2` on one data directory; the second
// report's new and gone sightings are exactly the planted change (derived from the epochs fields
// of internal/demoworld/planted/*.jsonl), and `afterlife runs` shows both runs with their costs.
func TestDemoEpochsOnOneDataDirectory(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	data, out := t.TempDir(), t.TempDir()
	for _, e := range []string{"1", "2"} {
		cmd := exec.CommandContext(ctx, binary(t), "demo", "--epoch", e, "--data", data, "--out", filepath.Join(out, "o"+e),
			"--progress", "never", "--log-level", "warn")
		cmd.Env = append(os.Environ(), "AFTERLIFE_DATA=", "AFTERLIFE_REDIS_URL=")
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("afterlife demo --epoch %s: %v\n%s", e, err, b)
		}
	}
	planted, err := demoworld.LoadPlanted()
	if err != nil {
		t.Fatal(err)
	}
	var wantNew, wantGone []string
	for _, p := range planted {
		switch {
		case len(p.Expect) == 0:
		case p.InEpoch(2) && !p.InEpoch(1):
			wantNew = append(wantNew, p.ID)
		case p.InEpoch(1) && !p.InEpoch(2):
			wantGone = append(wantGone, p.ID)
		}
	}
	sort.Strings(wantNew)
	sort.Strings(wantGone)
	b, err := os.ReadFile(filepath.Join(out, "o2", "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Datasets []struct {
			Sightings []struct {
				Artifact struct {
					ID string `json:"id"`
				} `json:"artifact"`
				New     bool `json:"new"`
				GoneNow bool `json:"gone_now"`
			} `json:"sightings"`
		} `json:"datasets"`
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	var gotNew, gotGone []string
	for _, d := range rep.Datasets {
		for _, s := range d.Sightings {
			if s.New && !slices.Contains(gotNew, s.Artifact.ID) {
				gotNew = append(gotNew, s.Artifact.ID)
			}
			if s.GoneNow && !slices.Contains(gotGone, s.Artifact.ID) {
				gotGone = append(gotGone, s.Artifact.ID)
			}
		}
	}
	sort.Strings(gotNew)
	sort.Strings(gotGone)
	if d := diff(wantNew, gotNew); d != "" {
		t.Errorf("epoch-2 report, new: %s", d)
	}
	if d := diff(wantGone, gotGone); d != "" {
		t.Errorf("epoch-2 report, gone: %s", d)
	}

	cmd := exec.CommandContext(ctx, binary(t), "runs", "--data", data, "--format", "json")
	cmd.Env = append(os.Environ(), "AFTERLIFE_DATA=")
	rb, err := cmd.Output()
	if err != nil {
		t.Fatalf("afterlife runs: %v", err)
	}
	var runs []struct {
		ID       string  `json:"id"`
		Duration float64 `json:"duration_seconds"`
		Requests int64   `json:"requests"`
		Bytes    int64   `json:"bytes"`
		New      int     `json:"new"`
		Gone     int     `json:"gone"`
		Sources  []struct {
			Name     string `json:"name"`
			Requests int64  `json:"requests"`
		} `json:"sources"`
	}
	if err := json.Unmarshal(rb, &runs); err != nil {
		t.Fatalf("afterlife runs --format json: %v\n%s", err, rb)
	}
	if len(runs) != 2 {
		t.Fatalf("afterlife runs shows %d runs, want 2:\n%s", len(runs), rb)
	}
	second, first := runs[0], runs[1]
	if first.Bytes == 0 || first.Requests == 0 || first.Duration <= 0 {
		t.Errorf("first run's costs missing: %+v", first)
	}
	for _, r := range runs {
		for _, name := range demoworld.Sources() {
			if !slices.ContainsFunc(r.Sources, func(s struct {
				Name     string `json:"name"`
				Requests int64  `json:"requests"`
			}) bool {
				return s.Name == name && s.Requests > 0
			}) {
				t.Errorf("run %s: no requests recorded for source %s: %+v", r.ID, name, r.Sources)
			}
		}
	}
	if second.Requests == 0 || second.Bytes >= first.Bytes || second.Gone == 0 || second.New == 0 {
		t.Errorf("second run: %+v (first %+v): want requests, fewer bytes than the first, new and gone", second, first)
	}
}
