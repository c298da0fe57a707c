package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	vcr "gopkg.in/dnaeon/go-vcr.v4/pkg/cassette"
)

// tapeSummary is the JSON summary of scan, with the per-source cost.
type tapeSummary struct {
	RunID   string `json:"run_id"`
	Sources []struct {
		Name      string `json:"name"`
		Status    string `json:"status"`
		Message   string `json:"message"`
		Requests  int64  `json:"requests"`
		Errors    int64  `json:"errors"`
		Artifacts int64  `json:"artifacts"`
	} `json:"sources"`
}

// runAfterlife runs the binary with args in embedded mode and returns stdout; it fails the test
// when the command fails.
func runAfterlife(ctx context.Context, t *testing.T, env []string, args ...string) []byte {
	t.Helper()
	cmd := exec.CommandContext(ctx, binary(t), args...)
	cmd.Env = append(append(os.Environ(), "AFTERLIFE_DATA=", "AFTERLIFE_REDIS_URL="), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("afterlife %s: %v\nstderr:\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.Bytes()
}

func decodeSummary(t *testing.T, b []byte) tapeSummary {
	t.Helper()
	var s tapeSummary
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatalf("scan stdout is not one JSON summary: %v\n%s", err, b)
	}
	sort.Slice(s.Sources, func(i, j int) bool { return s.Sources[i].Name < s.Sources[j].Name })
	return s
}

// A demo-world scan recorded with --record, replayed with --replay into a fresh data directory
// after the world is stopped, gives the same report: the same sightings, and per source the same
// status, requests and artifacts. Nothing can reach the network (the world is gone); the
// recording names the tokens that were set and holds none of their values.
func TestRecordedDemoScanReplaysToTheSameReportWithTheWorldStopped(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	srv, cfg := demoWorld(t, 0)
	tmp := t.TempDir()
	tape := filepath.Join(tmp, "tape")
	const token = "hf_DemoSecretToken_123456"
	rec := decodeSummary(t, runAfterlife(ctx, t, []string{"HF_TOKEN=" + token}, "scan", "--config", cfg,
		"--data", filepath.Join(tmp, "data1"), "--out", filepath.Join(tmp, "out1"), "--record", tape,
		"--progress", "never", "--log-level", "warn"))
	want := sightingSet(t, filepath.Join(tmp, "out1"))
	served := worldRequests(srv.World)
	srv.Close()
	if len(want) == 0 {
		t.Fatal("the recorded demo scan found nothing")
	}

	// The recording: one cassette per host, the plan, and the token's name but not its value.
	files, _ := filepath.Glob(filepath.Join(tape, "*.yaml"))
	var cassettes, interactions int
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), token) {
			t.Errorf("%s holds the token", f)
		}
		if strings.HasPrefix(filepath.Base(f), "127.0.0.1_") {
			cassettes++
			c, err := vcr.Load(strings.TrimSuffix(f, ".yaml"))
			if err != nil {
				t.Fatal(err)
			}
			interactions = len(c.Interactions)
		}
	}
	if cassettes != 1 {
		t.Fatalf("cassettes %v: want one for the demo world's host", files)
	}
	m, err := os.ReadFile(filepath.Join(tape, tapeManifestFile))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(m), `"HF_TOKEN"`) || strings.Contains(string(m), token) {
		t.Errorf("manifest %s: want the token's name, never its value", m)
	}

	// Replay: no --config (the recorded plan is used), no token, a fresh data directory.
	rep := decodeSummary(t, runAfterlife(ctx, t, nil, "scan", "--replay", tape,
		"--data", filepath.Join(tmp, "data2"), "--out", filepath.Join(tmp, "out2"),
		"--progress", "never", "--log-level", "warn"))
	if have := sightingSet(t, filepath.Join(tmp, "out2")); strings.Join(have, "\n") != strings.Join(want, "\n") {
		t.Fatalf("replayed sightings differ from the recorded run's:\n%s", diff(want, have))
	}
	if len(rec.Sources) != len(rep.Sources) {
		t.Fatalf("recorded %d sources, replayed %d", len(rec.Sources), len(rep.Sources))
	}
	var recorded int64
	for i, r := range rec.Sources {
		p := rep.Sources[i]
		recorded += r.Requests
		if r.Name != p.Name || r.Status != p.Status || r.Requests != p.Requests || r.Artifacts != p.Artifacts || r.Errors != p.Errors {
			t.Errorf("source %s: recorded %+v, replayed %+v", r.Name, r, p)
		}
		if p.Status != "ok" {
			t.Errorf("source %s replayed %s: %s", p.Name, p.Status, p.Message)
		}
	}
	// Every request the fetcher counted is in the cassette; the world's counter leaves out its
	// tracker's scrapes.
	if recorded == 0 || int64(interactions) != recorded || served > recorded {
		t.Errorf("the recorded run counted %d requests, the cassette holds %d, the world served %d", recorded, interactions, served)
	}
	t.Logf("%d requests recorded and replayed, %d sightings", recorded, len(want))
}
