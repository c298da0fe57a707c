package main

import (
	"context"
	"encoding/json"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

type planEntry struct {
	Source     string   `json:"source"`
	Enabled    bool     `json:"enabled"`
	Requests   int64    `json:"requests"`
	RateLimit  string   `json:"rate_limit"`
	EstSeconds float64  `json:"est_seconds"`
	Notes      []string `json:"notes"`
	Seeds      int64    `json:"seed_requests"`
}

func scanPlan(ctx context.Context, t *testing.T, cfg, data string) map[string]planEntry {
	t.Helper()
	out := runAfterlife(ctx, t, nil, "scan", "--plan", "--config", cfg, "--data", data, "--log-level", "warn")
	var ps []planEntry
	if err := json.Unmarshal(out, &ps); err != nil {
		t.Fatalf("scan --plan prints no JSON array: %v\n%s", err, out)
	}
	m := map[string]planEntry{}
	for _, p := range ps {
		m[p.Source] = p
	}
	return m
}

// scan --plan sends nothing and, per source, says how many requests the run will send. On a data
// directory with no history the seed requests are a lower bound of the run's count; after a run,
// the estimate for the next run (seeds exact, follow-ups from the last run that listed as the next
// one will: in full, or only what changed) is within 20% of what the next run of the demo world
// really sends, per source and in total. A source whose next run lists differently from every run
// before it (the first run that lists only what changed) gets a lower bound, said in its notes.
func TestScanPlanEstimatesTheNextRunsRequestsWithin20Percent(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	srv, cfg := demoWorld(t, 0)
	tmp := t.TempDir()
	data := filepath.Join(tmp, "data")

	first := scanPlan(ctx, t, cfg, data)
	if n := worldRequests(srv.World); n != 0 {
		t.Fatalf("scan --plan sent %d requests", n)
	}
	run1 := decodeSummary(t, runAfterlife(ctx, t, nil, "scan", "--config", cfg, "--data", data, "--out", filepath.Join(tmp, "out1"),
		"--progress", "never", "--log-level", "warn"))
	for _, s := range run1.Sources {
		p, ok := first[s.Name]
		if !ok || !p.Enabled || p.RateLimit == "" || p.Seeds == 0 && s.Name != "kaggle" {
			t.Errorf("%s: plan %+v", s.Name, p)
			continue
		}
		if p.Requests > s.Requests {
			t.Errorf("%s: with no history the plan (%d) must be a lower bound of the run's %d requests", s.Name, p.Requests, s.Requests)
		}
	}

	for i, name := range []string{"out2", "out3"} {
		before := worldRequests(srv.World)
		next := scanPlan(ctx, t, cfg, data)
		if n := worldRequests(srv.World); n != before {
			t.Fatalf("scan --plan sent %d requests", n-before)
		}
		run := decodeSummary(t, runAfterlife(ctx, t, nil, "scan", "--config", cfg, "--data", data, "--out", filepath.Join(tmp, name),
			"--progress", "never", "--log-level", "warn"))
		var est, real int64
		for _, s := range run.Sources {
			p := next[s.Name]
			lower := slices.ContainsFunc(p.Notes, func(n string) bool { return strings.Contains(n, "follow-ups not estimated") })
			t.Logf("run %d: %-17s plan %4d (seeds %4d)  run %4d  lower bound %v  %s", i+2, s.Name, p.Requests, p.Seeds, s.Requests, lower, p.RateLimit)
			if lower {
				// Only where the next run lists differently from every run before it.
				if i > 0 || p.Requests > s.Requests {
					t.Errorf("run %d: %s: plan %d is a lower bound (%q) of %d", i+2, s.Name, p.Requests, p.Notes, s.Requests)
				}
				continue
			}
			est += p.Requests
			real += s.Requests
			if off := math.Abs(float64(p.Requests-s.Requests)) / math.Max(float64(s.Requests), 1); off > 0.20 {
				t.Errorf("run %d: %s: plan said %d requests, the run sent %d (%.0f%% off)", i+2, s.Name, p.Requests, s.Requests, 100*off)
			}
		}
		if off := math.Abs(float64(est-real)) / float64(real); off > 0.20 {
			t.Errorf("run %d: total: plan %d, run %d", i+2, est, real)
		}
	}
}
