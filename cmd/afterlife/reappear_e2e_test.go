package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/afterlife-watch/afterlife/internal/demoworld"
)

// Issue 17, item 3, end to end: the demo world at epoch 1, then 2 (some planted copies are taken
// down), then 1 again (they are back at their addresses). The third run's report has every one of
// them live again and marked reappeared, and lists them first, on the overview.
func TestDemoTakenDownCopiesThatComeBackAreLiveAndFirst(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	tmp := t.TempDir()
	data := filepath.Join(tmp, "data")
	for i, e := range []string{"1", "2", "1"} {
		out := filepath.Join(tmp, "o"+string(rune('1'+i)))
		if _, stderr, code := runCLI(ctx, t, nil, "demo", "--epoch", e, "--data", data, "--out", out, "--progress", "never", "--log-level", "warn"); code != 0 {
			t.Fatalf("afterlife demo --epoch %s: exit %d\n%s", e, code, stderr)
		}
	}
	planted, err := demoworld.LoadPlanted()
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, p := range planted {
		if len(p.Expect) > 0 && p.InEpoch(1) && !p.InEpoch(2) {
			want = append(want, p.ID)
		}
	}
	sort.Strings(want)
	if len(want) == 0 {
		t.Fatal("the demo world plants nothing that goes in epoch 2")
	}
	b, err := os.ReadFile(filepath.Join(tmp, "o3", "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Datasets []struct {
			Sightings []struct {
				Artifact struct {
					ID string `json:"id"`
				} `json:"artifact"`
				Relation   string `json:"relation"`
				Gone       bool   `json:"gone"`
				Reappeared bool   `json:"reappeared"`
			} `json:"sightings"`
		} `json:"datasets"`
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	var back []string
	for _, d := range rep.Datasets {
		for _, s := range d.Sightings {
			if s.Reappeared && !contains(back, s.Artifact.ID) {
				back = append(back, s.Artifact.ID)
			}
			if contains(want, s.Artifact.ID) && s.Gone && (s.Relation == "copy" || s.Relation == "derivative" || s.Relation == "uses") {
				t.Errorf("%s (%s) is back in the world but the report lists it as gone", s.Artifact.ID, s.Relation)
			}
		}
	}
	sort.Strings(back)
	if d := diff(want, back); d != "" {
		t.Errorf("reappeared in the third run's report:\n%s", d)
	}
	idx, err := os.ReadFile(filepath.Join(tmp, "o3", "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	body := string(idx)
	i, j := strings.Index(body, "Back online since the last run"), strings.Index(body, "Retracted datasets")
	if i < 0 || i > j {
		t.Fatalf("index.html does not open with the back-online section (at %d, datasets at %d)", i, j)
	}
	for _, id := range want {
		if !strings.Contains(body[i:j], id) {
			t.Errorf("the back-online section does not list %s", id)
		}
	}
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}
