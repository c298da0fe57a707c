package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/afterlife-watch/afterlife/configs"
	"github.com/afterlife-watch/afterlife/crawler/webapi"
	"github.com/afterlife-watch/afterlife/internal/demoworld"
	"github.com/afterlife-watch/afterlife/reports"
)

// demoTruth is what the demo adds to the scan summary: how much of the planted afterlife the run
// reported, which planted look-alikes it wrongly reported, and the run's requests against the
// fewest that could list the planted world (docs/scale.md).
type demoTruth struct {
	Scale         int            `json:"scale"`
	Epoch         int            `json:"epoch"`
	GroundTruth   groundTruth    `json:"ground_truth"`
	FalseFindings falseFindings  `json:"false_findings"`
	Requests      demoRequests   `json:"requests"`
	EpochChange   *demoEpochDiff `json:"epoch_change,omitempty"`
}

type groundTruth struct {
	Planted int `json:"planted"`
	Found   int `json:"found"`
	Missed  int `json:"missed"`
	// LookAlikes is how many planted negatives the world holds in this epoch.
	LookAlikes int                        `json:"look_alikes"`
	BySource   map[string]*truthPerSource `json:"by_source"`
	// MissedByShape counts the missed artifacts by shape (demoworld.Shape: planted, copy, lineage hops).
	MissedByShape map[string]int `json:"missed_by_shape,omitempty"`
	// MissedIDs lists some missed artifacts (at most 20), for a first look.
	MissedIDs []string `json:"missed_ids,omitempty"`
}

type truthPerSource struct {
	Planted int `json:"planted"`
	Found   int `json:"found"`
	Missed  int `json:"missed"`
}

type falseFindings struct {
	Count int      `json:"count"`
	IDs   []string `json:"ids"` // at most 20
}

type demoRequests struct {
	// Minimum is the fewest requests that list and decide every planted artifact
	// (demoworld.Minimum: listing pages at the largest page each API serves, one lineage listing
	// per Hub parent with children, and the details the listings do not carry; docs/scale.md).
	Minimum int `json:"minimum"`
	// Actual is what the demo world served during the run.
	Actual   int64                    `json:"actual"`
	Ratio    float64                  `json:"ratio"`
	BySource map[string]*requestCount `json:"by_source"`
	// Routes counts the run's requests by "source route-kind", with the repeats of a path and
	// query already served (demoworld.RouteCounts): where the requests over the minimum go.
	Routes map[string]demoworld.RouteCount `json:"routes,omitempty"`
}

type requestCount struct {
	Artifacts int `json:"artifacts"`
	Minimum   int `json:"minimum"`
	// MinimumItems breaks the minimum down (listing pages, cards, READMEs, ...).
	MinimumItems map[string]int `json:"minimum_items,omitempty"`
	Actual       int64          `json:"actual"`
	Ratio        float64        `json:"ratio"`
}

// demoEpochDiff compares what the run reported new and gone with what the world changed since the
// epoch of the data directory's previous demo run.
type demoEpochDiff struct {
	From           int `json:"from"`
	To             int `json:"to"`
	NewPlanted     int `json:"new_planted"`
	NewReported    int `json:"new_reported"`
	NewUnexpected  int `json:"new_unexpected"`
	GonePlanted    int `json:"gone_planted"`
	GoneReported   int `json:"gone_reported"`
	GoneUnexpected int `json:"gone_unexpected"`
	// NewMissed and GoneMissed count the planted changes not reported, by source and shape.
	NewMissed  map[string]int `json:"new_missed,omitempty"`
	GoneMissed map[string]int `json:"gone_missed,omitempty"`
}

// demoEpochFile remembers the epoch and scale of the data directory's last demo run, and when the
// world entered that epoch ("2 100 1765000000000000000"; files without the time: unknown).
const demoEpochFile = "demo-world.epoch"

// readDemoEpoch returns the epoch of the data directory's last demo run at this scale (0: none)
// and when the world entered it (zero: unknown).
func readDemoEpoch(dataDir string, scale int) (int, time.Time) {
	b, err := os.ReadFile(filepath.Join(dataDir, demoEpochFile))
	if err != nil {
		return 0, time.Time{}
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0, time.Time{}
	}
	ep, err1 := strconv.Atoi(f[0])
	sc, err2 := strconv.Atoi(f[1])
	if err1 != nil || err2 != nil || sc != scale {
		return 0, time.Time{}
	}
	var start time.Time
	if len(f) > 2 {
		if n, err := strconv.ParseInt(f[2], 10, 64); err == nil && n > 0 {
			start = time.Unix(0, n).UTC()
		}
	}
	return ep, start
}

// writeDemoEpoch records the run's epoch, scale and when the world entered the epoch.
func writeDemoEpoch(dataDir string, epoch, scale int, start time.Time) error {
	return os.WriteFile(filepath.Join(dataDir, demoEpochFile), []byte(fmt.Sprintf("%d %d %d\n", epoch, scale, start.UnixNano())), 0o644)
}

// retractedDatasets are the registry entries a finding counts against: not context entries (of:)
// and not datasets that were never retracted.
func retractedDatasets(reg *configs.Registry) map[string]bool {
	out := map[string]bool{}
	for _, d := range reg.Datasets {
		if d.Of == "" && d.Status != "not-retracted" && d.Status != "active-with-warning" {
			out[d.ID] = true
		}
	}
	return out
}

// computeDemoTruth reads the store after the run and compares it with the world's planted truth.
func computeDemoTruth(ctx context.Context, st *reports.SQLiteStore, reg *configs.Registry, w *demoworld.World,
	runID string, requestsBefore int64, prevEpoch int) (*demoTruth, error) {
	e := w.Epoch()
	t := &demoTruth{Scale: w.Scale(), Epoch: e, GroundTruth: groundTruth{BySource: map[string]*truthPerSource{}},
		FalseFindings: falseFindings{IDs: []string{}}, Requests: demoRequests{BySource: map[string]*requestCount{}}}
	retracted := retractedDatasets(reg)
	all := w.All(e)
	bySource := map[string][]demoworld.Planted{}
	for _, p := range all {
		bySource[p.Source] = append(bySource[p.Source], p)
	}
	srcs := make([]string, 0, len(bySource))
	for s := range bySource {
		srcs = append(srcs, s)
	}
	sort.Strings(srcs)
	for _, src := range srcs {
		// Live scored sightings of this source: artifact -> datasets.
		// Streamed, narrow: one row at a time and no artifact document decoded.
		live := map[string]map[string]bool{}
		err := st.EachSightingState(ctx, src, func(s reports.SightingState) error {
			if s.Gone || s.Relation.Scored() == "" {
				return nil
			}
			if live[s.ArtifactID] == nil {
				live[s.ArtifactID] = map[string]bool{}
			}
			live[s.ArtifactID][s.Dataset] = true
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("ground truth: %w", err)
		}
		ps := &truthPerSource{}
		t.GroundTruth.BySource[src] = ps
		for _, p := range bySource[src] {
			expect := demoworld.Expected(p)
			if len(expect) == 0 {
				t.GroundTruth.LookAlikes++
				for d := range live[p.ID] {
					if retracted[d] {
						t.FalseFindings.Count++
						if len(t.FalseFindings.IDs) < 20 {
							t.FalseFindings.IDs = append(t.FalseFindings.IDs, p.ID+" ("+d+")")
						}
						break
					}
				}
				continue
			}
			ps.Planted++
			found := true
			for _, x := range expect {
				if !live[p.ID][x.Dataset] {
					found = false
				}
			}
			if found {
				ps.Found++
			} else {
				ps.Missed++
				if t.GroundTruth.MissedByShape == nil {
					t.GroundTruth.MissedByShape = map[string]int{}
				}
				t.GroundTruth.MissedByShape[src+":"+demoworld.Shape(p)]++
				if len(t.GroundTruth.MissedIDs) < 20 {
					t.GroundTruth.MissedIDs = append(t.GroundTruth.MissedIDs, p.ID)
				}
			}
		}
		t.GroundTruth.Planted += ps.Planted
		t.GroundTruth.Found += ps.Found
		t.GroundTruth.Missed += ps.Missed
	}
	// Requests: the world's counters against the fewest requests that list and decide what is
	// planted (demoworld.Minimum, docs/scale.md).
	var known []string
	for i := range reg.Datasets {
		known = append(known, webapi.HubModelIDs(&reg.Datasets[i])...)
	}
	mins := w.Minimum(e, known)
	for _, src := range append(demoworld.Sources(), "tracker") {
		m := mins[src]
		rc := &requestCount{Artifacts: m.Artifacts, Minimum: m.Total, MinimumItems: m.Items, Actual: w.Requests(src)}
		if rc.Minimum > 0 {
			rc.Ratio = math.Round(100*float64(rc.Actual)/float64(rc.Minimum)) / 100
		}
		t.Requests.BySource[src] = rc
		t.Requests.Minimum += rc.Minimum
		t.Requests.Actual += rc.Actual
	}
	t.Requests.Actual -= requestsBefore
	t.Requests.Routes = w.RouteCounts()
	if t.Requests.Minimum > 0 {
		t.Requests.Ratio = math.Round(100*float64(t.Requests.Actual)/float64(t.Requests.Minimum)) / 100
	}
	if prevEpoch > 0 && prevEpoch != e {
		d, err := epochDiff(ctx, st, w, runID, prevEpoch, e)
		if err != nil {
			return nil, err
		}
		t.EpochChange = d
	}
	return t, nil
}

// epochDiff compares the run's new and gone events with the planted change from epoch `from`.
func epochDiff(ctx context.Context, st *reports.SQLiteStore, w *demoworld.World, runID string, from, to int) (*demoEpochDiff, error) {
	d := &demoEpochDiff{From: from, To: to}
	shape := map[string]string{}
	in := func(e int) map[string]bool {
		m := map[string]bool{}
		for _, p := range w.All(e) {
			if len(demoworld.Expected(p)) > 0 {
				m[p.ID] = true
				shape[p.ID] = p.Source + ":" + demoworld.Shape(p)
			}
		}
		return m
	}
	before, after := in(from), in(to)
	wantNew, wantGone := map[string]bool{}, map[string]bool{}
	for id := range after {
		if !before[id] {
			wantNew[id] = true
		}
	}
	for id := range before {
		if !after[id] {
			wantGone[id] = true
		}
	}
	d.NewPlanted, d.GonePlanted = len(wantNew), len(wantGone)
	for _, kind := range []string{reports.EventNew, reports.EventGone} {
		evs, err := st.Events(ctx, reports.EventQuery{RunID: runID, Kind: kind})
		if err != nil {
			return nil, fmt.Errorf("epoch change: %w", err)
		}
		seen := map[string]bool{}
		for _, ev := range evs {
			if ev.Relation.Scored() == "" || seen[ev.ArtifactID] {
				continue
			}
			seen[ev.ArtifactID] = true
			switch {
			case kind == reports.EventNew && wantNew[ev.ArtifactID]:
				d.NewReported++
				delete(wantNew, ev.ArtifactID)
			case kind == reports.EventNew:
				d.NewUnexpected++
			case wantGone[ev.ArtifactID]:
				d.GoneReported++
				delete(wantGone, ev.ArtifactID)
			default:
				d.GoneUnexpected++
			}
		}
	}
	for id := range wantNew {
		if d.NewMissed == nil {
			d.NewMissed = map[string]int{}
		}
		d.NewMissed[shape[id]]++
	}
	for id := range wantGone {
		if d.GoneMissed == nil {
			d.GoneMissed = map[string]int{}
		}
		d.GoneMissed[shape[id]]++
	}
	return d, nil
}

// print writes the truth for a terminal.
func (t *demoTruth) print(w io.Writer) {
	g := t.GroundTruth
	fmt.Fprintf(w, "Ground truth (scale %d, epoch %d): %d planted, %d found, %d missed; %d false findings among %d look-alikes.\n",
		t.Scale, t.Epoch, g.Planted, g.Found, g.Missed, t.FalseFindings.Count, g.LookAlikes)
	srcs := make([]string, 0, len(g.BySource))
	for s := range g.BySource {
		srcs = append(srcs, s)
	}
	sort.Strings(srcs)
	for _, s := range srcs {
		p := g.BySource[s]
		fmt.Fprintf(w, "  %-18s %7d planted %7d found %7d missed\n", s, p.Planted, p.Found, p.Missed)
	}
	if len(g.MissedByShape) > 0 {
		keys := make([]string, 0, len(g.MissedByShape))
		for k := range g.MissedByShape {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		fmt.Fprintf(w, "  missed by shape:")
		for _, k := range keys {
			fmt.Fprintf(w, " %s %d;", k, g.MissedByShape[k])
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "Requests: %d sent, %d at least needed to list and decide the planted world (ratio %.2f).\n",
		t.Requests.Actual, t.Requests.Minimum, t.Requests.Ratio)
	srcs = srcs[:0]
	for s := range t.Requests.BySource {
		srcs = append(srcs, s)
	}
	sort.Strings(srcs)
	for _, s := range srcs {
		rc := t.Requests.BySource[s]
		fmt.Fprintf(w, "  %-18s %7d sent %7d minimum  ratio %.2f\n", s, rc.Actual, rc.Minimum, rc.Ratio)
	}
	if d := t.EpochChange; d != nil {
		fmt.Fprintf(w, "Epoch %d -> %d: new %d/%d reported (%d unexpected), gone %d/%d reported (%d unexpected).\n",
			d.From, d.To, d.NewReported, d.NewPlanted, d.NewUnexpected, d.GoneReported, d.GonePlanted, d.GoneUnexpected)
		if len(d.NewMissed)+len(d.GoneMissed) > 0 {
			fmt.Fprintf(w, "  not reported: new %v, gone %v\n", d.NewMissed, d.GoneMissed)
		}
	}
}
