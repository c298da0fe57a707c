package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/afterlife-watch/afterlife/internal/demoworld"
)

type demoTruthSummary struct {
	Scale       int `json:"scale"`
	GroundTruth struct {
		Planted       int            `json:"planted"`
		Found         int            `json:"found"`
		Missed        int            `json:"missed"`
		LookAlikes    int            `json:"look_alikes"`
		MissedByShape map[string]int `json:"missed_by_shape"`
		BySource      map[string]struct {
			Planted, Found, Missed int
		} `json:"by_source"`
	} `json:"ground_truth"`
	FalseFindings struct {
		Count int      `json:"count"`
		IDs   []string `json:"ids"`
	} `json:"false_findings"`
	Requests struct {
		Minimum  int     `json:"minimum"`
		Actual   int64   `json:"actual"`
		Ratio    float64 `json:"ratio"`
		BySource map[string]struct {
			Minimum int   `json:"minimum"`
			Actual  int64 `json:"actual"`
		} `json:"by_source"`
	} `json:"requests"`
}

// Issue 16, a world at scale: every demo run measures its completeness against the planted
// truth. At scale 1 (the planted files) the run finds every planted afterlife artifact and reports
// no planted look-alike; at scale 2 (about a thousand more) the planted count is the world's, every
// non-Hub source is complete, and what the Hub adapter misses is only the deep lineage (hops 3 and
// 4, past its lineage depth); the summary prints requests against the minimum.
func TestDemoSummaryMeasuresGroundTruthAtScale(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	tmp := t.TempDir()
	for _, scale := range []int{1, 2} {
		w, err := demoworld.New(demoworld.Options{Scale: scale})
		if err != nil {
			t.Fatal(err)
		}
		planted, lookalikes := 0, 0
		for _, p := range w.All(1) {
			if len(demoworld.Expected(p)) > 0 {
				planted++
			} else {
				lookalikes++
			}
		}
		dir := filepath.Join(tmp, strconv.Itoa(scale))
		stdout, stderr, code := runCLI(ctx, t, nil, "demo", "--scale", strconv.Itoa(scale), "--data", filepath.Join(dir, "data"),
			"--out", filepath.Join(dir, "out"), "--progress", "never", "--log-level", "warn")
		if code != 0 {
			t.Fatalf("demo --scale %d: exit %d\n%s", scale, code, stderr)
		}
		var s demoTruthSummary
		if err := json.Unmarshal([]byte(stdout), &s); err != nil {
			t.Fatalf("demo --scale %d: summary: %v\n%s", scale, err, stdout)
		}
		g := s.GroundTruth
		if s.Scale != scale || g.Planted != planted || g.LookAlikes != lookalikes || g.Found+g.Missed != g.Planted {
			t.Fatalf("scale %d: ground truth %+v, want %d planted and %d look-alikes", scale, g, planted, lookalikes)
		}
		if s.FalseFindings.Count != 0 {
			t.Errorf("scale %d: planted look-alikes reported: %v", scale, s.FalseFindings.IDs)
		}
		if s.Requests.Minimum <= 0 || s.Requests.Actual < int64(s.Requests.Minimum) || s.Requests.Ratio < 1 {
			t.Errorf("scale %d: requests %+v: the run cannot send fewer than the minimum", scale, s.Requests)
		}
		// The minimum is a lower bound: a run that lists the planted world sends at least it, per
		// source (demoworld.Minimum, docs/scale.md).
		for src, c := range s.Requests.BySource {
			if c.Actual < int64(c.Minimum) {
				t.Errorf("scale %d: %s sent %d requests, under its minimum %d", scale, src, c.Actual, c.Minimum)
			}
		}
		if !strings.Contains(stderr, "Ground truth (scale "+strconv.Itoa(scale)) || !strings.Contains(stderr, "at least needed to list and decide the planted world") ||
			!strings.Contains(stderr, "minimum  ratio") {
			t.Errorf("scale %d: stderr does not print the ground truth and the minimum:\n%s", scale, stderr)
		}
		switch scale {
		case 1:
			if g.Missed != 0 {
				t.Errorf("scale 1: %d planted artifacts missed (%v)", g.Missed, g.MissedByShape)
			}
		case 2:
			if planted < 36+900 {
				t.Fatalf("scale 2 plants %d afterlife artifacts, want about a thousand more than scale 1", planted)
			}
			for src, c := range g.BySource {
				if src != "huggingface" && c.Missed != 0 {
					t.Errorf("scale 2: %s missed %d of %d", src, c.Missed, c.Planted)
				}
			}
			for shape := range g.MissedByShape {
				if shape != "huggingface:hop3-finetune" && shape != "huggingface:hop4-quantised" {
					t.Errorf("scale 2: missed %d %s", g.MissedByShape[shape], shape)
				}
			}
		}
	}
}
