package monitor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/afterlife-watch/afterlife/crawler"
	"github.com/afterlife-watch/afterlife/reports"
)

// IncrementalFile records, per run, which sources listed everything (a full listing) and since
// when the others listed only what changed. It lives in the data directory.
const IncrementalFile = "incremental.json"

// Incremental makes re-scans cheap and keeps gone detection honest. For each source it decides
// whether this run lists everything (the first run, every FullEvery-th run, or when the last
// full listing is older than FullAfter) or only what changed since the source's last complete
// run (adapters that can filter by date, crawler.IncrementalPlanner, get their plan in PlanIncremental; a filtered listing
// is never a complete listing, so it never feeds gone detection). After the listings, a run
// re-checks, through the adapters' detail endpoints (crawler.Rechecker), sighted artifacts the
// listings did not show: a 404/410 marks one gone at once, and an answer (usually a 304 from the
// validator cache) refreshes its last_seen.
//
// Gone detection at scale comes from the full listings, not from one request per known artifact:
// on a run whose listing of a source is filtered (only what changed), every known artifact of the
// source is missing from the listings, so the live ones re-checked are a bounded sample
// (FilteredRechecks, least recently seen first: the sample rotates) — a second scan of an
// unchanged world costs its filtered listings and that sample, whatever the world's size. Gone
// ones are re-checked too (a restored copy reappears): on a filtered run a sample of
// FilteredGoneRechecks drawn afresh each run, on a full-listing run up to the re-check bound.
type Incremental struct {
	// FullEvery: a full listing every Nth run of a source (default 4; 1 lists everything always).
	FullEvery int
	// FullAfter: a full listing when the source's last one is older than this (default 7 days).
	FullAfter time.Duration
	// Margin is subtracted from the last run's start (default 10 minutes): search indexes lag.
	Margin time.Duration
	// MaxRechecks bounds the re-checked artifacts per source and run, least recently seen first
	// (default 1000; negative: no re-checks). On a run that lists the source in full the bound
	// grows with the source: at least FullRecheckShare of its known artifacts.
	MaxRechecks int
	// FullRecheckShare: on a run that lists a source in full, the re-check bound is at least this
	// share of the source's known (sighted) artifacts (default 0.25; negative: MaxRechecks only).
	// Gone is marked after MissAfter complete listings, so on the first full listing after a
	// change the re-checks are what reports it: a fixed bound cut them at scale (issue 16: scale
	// 100 epoch 2 reported exactly 1,000 of GitHub's 1,585 and of the Hub's 1,138 gone ones).
	FullRecheckShare float64
	// FilteredRechecks bounds the live artifacts re-checked per source on a run that lists the
	// source filtered (since the last run), least recently seen first (default 100; negative:
	// none). What goes between full listings is reported by the next full listing.
	FilteredRechecks int
	// FilteredGoneRechecks bounds the gone artifacts re-checked per source on a run that lists
	// the source filtered (default 100; negative: none): a sample drawn afresh each run (ordered
	// by a hash of the run id and the artifact id, so a resumed run draws the same one), so every
	// gone artifact is re-checked every few runs and a restored copy reappears, while a run
	// after a full listing that reported thousands gone does not send one request per gone
	// artifact (issue 16: 7,525 requests at scale 100, 12% of a first scan). A full listing
	// shows a restored copy anyway.
	FilteredGoneRechecks int
}

// DefaultIncremental is the policy `afterlife scan`, `demo` and `schedule` use.
func DefaultIncremental() *Incremental {
	return &Incremental{FullEvery: 4, FullAfter: 7 * 24 * time.Hour, Margin: 10 * time.Minute, MaxRechecks: 1000, FilteredRechecks: 100, FilteredGoneRechecks: 100, FullRecheckShare: 0.25}
}

func (p *Incremental) defaults() Incremental {
	q := *p
	if q.FullEvery <= 0 {
		q.FullEvery = 4
	}
	if q.FullAfter <= 0 {
		q.FullAfter = 7 * 24 * time.Hour
	}
	if q.Margin < 0 {
		q.Margin = 0
	}
	if q.MaxRechecks == 0 {
		q.MaxRechecks = 1000
	}
	if q.FilteredRechecks == 0 {
		q.FilteredRechecks = 100
	}
	if q.FilteredGoneRechecks == 0 {
		q.FilteredGoneRechecks = 100
	}
	if q.FullRecheckShare == 0 {
		q.FullRecheckShare = 0.25
	}
	return q
}

// maxIncRuns bounds the runs the state file remembers (a full listing is due long before).
const maxIncRuns = 500

type incState struct {
	Runs map[string]incRun `json:"runs"`
}

type incRun struct {
	Full  []string             `json:"full"`
	Since map[string]time.Time `json:"since,omitempty"`
	// Datasets the run watched (absent: unknown, taken as every dataset).
	Datasets []string `json:"datasets,omitempty"`
}

// covers reports whether a run that watched `have` searched for everything in `want` (a run of
// one dataset's own schedule says nothing about the others).
func covers(have, want []string) bool {
	if len(have) == 0 {
		return true
	}
	for _, w := range want {
		if !contains(have, w) {
			return false
		}
	}
	return true
}

func loadIncState(dataDir string) (incState, error) {
	st := incState{Runs: map[string]incRun{}}
	b, err := os.ReadFile(filepath.Join(dataDir, IncrementalFile))
	if errors.Is(err, os.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return st, fmt.Errorf("incremental state: %w", err)
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return incState{Runs: map[string]incRun{}}, fmt.Errorf("incremental state %s: %w", filepath.Join(dataDir, IncrementalFile), err)
	}
	if st.Runs == nil {
		st.Runs = map[string]incRun{}
	}
	return st, nil
}

func saveIncState(dataDir string, st incState) error {
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(dataDir, IncrementalFile+".tmp")
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return fmt.Errorf("incremental state: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(dataDir, IncrementalFile)); err != nil {
		return fmt.Errorf("incremental state: %w", err)
	}
	return nil
}

// IncrementalPlan is what the policy decided for one run.
type IncrementalPlan struct {
	Sources map[string]crawler.Incremental
	// Datasets the run watches (recorded with the plan).
	Datasets []string
	// Warning says why the plan fell back on full listings (a damaged state file).
	Warning string
	// Known is false when the store has no complete run yet (nothing to re-check).
	Known bool
}

// Plan decides each source's listing for the next run from the store's run history and the
// state file. It is deterministic: a resumed run gets the plan it began with (the run being
// resumed is not complete, so it is not part of the history the plan reads).
func (p *Incremental) Plan(ctx context.Context, store RunHistory, dataDir string, sources []string) (IncrementalPlan, error) {
	return p.PlanFor(ctx, store, dataDir, sources, nil)
}

// PlanFor is Plan for a run over the given datasets (nil: unknown, every dataset): only earlier
// runs that watched all of them count as the source's last run.
func (p *Incremental) PlanFor(ctx context.Context, store RunHistory, dataDir string, sources, datasets []string) (IncrementalPlan, error) {
	pol := p.defaults()
	out := IncrementalPlan{Sources: map[string]crawler.Incremental{}, Datasets: datasets}
	runs, err := store.Runs(ctx, 0) // newest first
	if err != nil {
		return out, fmt.Errorf("incremental plan: %w", err)
	}
	st, err := loadIncState(dataDir)
	if err != nil {
		// A damaged state file costs a full listing (no run is known to have been one), not the run.
		out.Warning = err.Error() + "; every source lists in full this run"
	}
	for _, name := range sources {
		var done []reports.Run // complete runs in which the source worked, newest first
		for _, r := range runs {
			if r.Complete && !r.Finished.IsZero() && sourceWorked(r, name) && covers(st.Runs[r.ID].Datasets, datasets) {
				done = append(done, r)
			}
		}
		if len(done) == 0 {
			out.Sources[name] = crawler.Incremental{}
			continue
		}
		out.Known = true
		lastFull := -1
		for i, r := range done {
			if contains(st.Runs[r.ID].Full, name) {
				lastFull = i
				break
			}
		}
		since := done[0].Started.Add(-pol.Margin)
		full := lastFull < 0 || lastFull+1 >= pol.FullEvery || time.Since(done[lastFull].Started) > pol.FullAfter
		out.Sources[name] = crawler.Incremental{Since: since, Full: full}
	}
	return out, nil
}

func sourceWorked(r reports.Run, name string) bool {
	for _, s := range r.Sources {
		if s.Name == name {
			return s.Status == StatusOK || s.Status == StatusDegraded
		}
	}
	return false
}

// Record notes the plan a run began with (which sources listed everything).
func (p IncrementalPlan) Record(dataDir, runID string) error {
	st, err := loadIncState(dataDir)
	if err != nil {
		st = incState{Runs: map[string]incRun{}} // a damaged state file only costs an early full listing
	}
	r := incRun{Since: map[string]time.Time{}, Datasets: p.Datasets}
	for name, inc := range p.Sources {
		if !inc.Filtered() {
			r.Full = append(r.Full, name)
		} else {
			r.Since[name] = inc.Since.UTC()
		}
	}
	sort.Strings(r.Full)
	st.Runs[runID] = r
	if len(st.Runs) > maxIncRuns { // run ids sort by time: keep the newest
		ids := make([]string, 0, len(st.Runs))
		for id := range st.Runs {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		for _, id := range ids[:len(ids)-maxIncRuns] {
			delete(st.Runs, id)
		}
	}
	return saveIncState(dataDir, st)
}

// EnqueueRechecks enqueues, for every active source that can look artifacts up
// (crawler.Rechecker), the detail jobs of its live sighted artifacts that runID has not seen yet,
// least recently seen first, then of its gone ones, most recently gone first: a taken-down copy
// that is back at its address (a restored repository, a re-upload) is seen again — it reappears —
// even when no listing shows it (an incremental listing shows only what changed). Job ids dedup:
// enqueueing again (a resumed run) adds nothing.
func (p *Incremental) EnqueueRechecks(ctx context.Context, store SightingLister, fr crawler.Frontier, sources map[string]crawler.Source, runID string, log *slog.Logger) (int, error) {
	return p.EnqueueRechecksFor(ctx, store, fr, sources, nil, runID, log)
}

// EnqueueRechecksFor is EnqueueRechecks knowing the run's listing plan: a source listed filtered
// gets at most FilteredRechecks live re-checks (its gone ones as before).
func (p *Incremental) EnqueueRechecksFor(ctx context.Context, store SightingLister, fr crawler.Frontier, sources map[string]crawler.Source,
	listing map[string]crawler.Incremental, runID string, log *slog.Logger) (int, error) {
	pol := p.defaults()
	if pol.MaxRechecks < 0 {
		return 0, nil
	}
	names := make([]string, 0, len(sources))
	for n := range sources {
		names = append(names, n)
	}
	sort.Strings(names)
	total := 0
	for _, name := range names {
		rc, ok := sources[name].(crawler.Rechecker)
		if !ok {
			continue
		}
		type cand struct {
			gone bool
			at   time.Time // live: last seen (oldest first); gone: gone since (newest first)
		}
		// Streamed: only what the choice needs is kept per artifact (a source's sightings at
		// scale 100 held 207 MiB decoded at once, the peak of the whole run).
		cands := map[string]cand{}
		known := map[string]struct{}{}
		err := store.EachSightingState(ctx, name, func(s reports.SightingState) error {
			id := s.ArtifactID
			known[id] = struct{}{}
			if s.LastRun == runID {
				return nil // seen by this run's listings
			}
			c := cand{gone: s.Gone, at: s.LastSeen}
			if s.Gone {
				c.at = s.GoneSince
			}
			old, seen := cands[id]
			switch {
			case !seen:
			case old.gone != c.gone: // one of its sightings is live: the artifact is live
				c = cand{at: s.LastSeen}
				if !old.gone {
					c = old
				}
			case !c.gone && !c.at.Before(old.at), c.gone && !c.at.After(old.at):
				c = old
			}
			cands[id] = c
			return nil
		})
		if err != nil {
			return total, fmt.Errorf("re-checks of %s: %w", name, err)
		}
		ids := make([]string, 0, len(cands))
		for id := range cands {
			ids = append(ids, id)
		}
		sort.Slice(ids, func(i, j int) bool {
			a, b := cands[ids[i]], cands[ids[j]]
			switch {
			case a.gone != b.gone:
				return !a.gone
			case !a.at.Equal(b.at) && !a.gone:
				return a.at.Before(b.at)
			case !a.at.Equal(b.at):
				return a.at.After(b.at)
			}
			return ids[i] < ids[j]
		})
		if listing[name].Filtered() {
			// Live ones first in ids: keep FilteredRechecks of them, then a sample of the gone ones.
			maxLive := max(pol.FilteredRechecks, 0)
			kept := ids[:0:0]
			var gone []string
			for _, id := range ids {
				if cands[id].gone {
					gone = append(gone, id)
				} else if len(kept) < maxLive {
					kept = append(kept, id)
				}
			}
			ids = append(kept, sampleGone(gone, runID, max(pol.FilteredGoneRechecks, 0))...)
		}
		limit := pol.MaxRechecks
		if !listing[name].Filtered() && pol.FullRecheckShare > 0 {
			limit = max(limit, int(math.Ceil(pol.FullRecheckShare*float64(len(known)))))
		}
		if len(ids) > limit {
			if log != nil {
				log.Warn("re-checks cut: the rest of the artifacts the listings did not show wait for a later run (gone detection incomplete)",
					"run_id", runID, "source", name, "candidates", len(ids), "rechecked", limit)
			}
			ids = ids[:limit]
		}
		var jobs []crawler.Job
		for _, id := range ids {
			if j, ok := rc.Recheck(id); ok {
				jobs = append(jobs, normalizeJob(j, runID, name))
			}
		}
		if len(jobs) == 0 {
			continue
		}
		n, err := fr.Enqueue(ctx, jobs...)
		if err != nil {
			return total, fmt.Errorf("enqueue re-checks of %s: %w", name, err)
		}
		total += n
		if log != nil {
			log.Debug("re-checks planned", "run_id", runID, "source", name, "artifacts", len(jobs), "new_jobs", n)
		}
	}
	return total, nil
}

// begin is Coordinator.Open with the policy applied (a nil policy: plain Open): each source's
// plan is set for Coordinator.Seed, which the caller runs next, and the plan is recorded.
func (p *Incremental) begin(ctx context.Context, co *Coordinator, dataDir string) (runID string, resumed bool, err error) {
	if p == nil {
		return co.Open(ctx)
	}
	ids := make([]string, 0, len(co.Datasets))
	for _, d := range co.Datasets {
		ids = append(ids, d.ID)
	}
	sort.Strings(ids)
	plan, err := p.PlanFor(ctx, co.Store, dataDir, co.Sources.Names(), ids)
	if err != nil {
		return "", false, err
	}
	if plan.Warning != "" {
		co.log().Warn("incremental state unreadable", "err", plan.Warning)
	}
	co.Listing = plan.Sources
	runID, resumed, err = co.Open(ctx)
	if err != nil {
		return runID, resumed, err
	}
	if err := plan.Record(dataDir, runID); err != nil {
		co.log().Warn("could not record the incremental plan; the next run may list everything", "run_id", runID, "err", err)
	}
	var full, filtered []string
	for name, inc := range plan.Sources {
		if inc.Filtered() {
			filtered = append(filtered, name)
		} else {
			full = append(full, name)
		}
	}
	sort.Strings(full)
	sort.Strings(filtered)
	co.log().Info("listing plan", "run_id", runID, "full_listing", full, "since_last_run_where_supported", filtered)
	return runID, resumed, nil
}

// recheck runs after the listings drained: it enqueues the re-checks of sighted artifacts (live,
// then gone) the run has not seen and crawls again until they drained (nil policy: nothing).
func (p *Incremental) recheck(ctx context.Context, co *Coordinator, runID string, crawl func() error) error {
	if p == nil {
		return nil
	}
	n, err := p.EnqueueRechecksFor(ctx, co.Store, co.Frontier, co.Sources.Active, co.Listing, runID, co.log())
	if err != nil {
		return err
	}
	co.log().Info("re-checking known artifacts the listings did not show", "run_id", runID, "jobs", n)
	if n == 0 {
		return nil
	}
	return crawl()
}

// sampleGone returns at most n of the gone ids, ordered by an FNV-1a hash of the run id and the
// artifact id: each run draws a different sample (every gone artifact is re-checked about every
// len(gone)/n runs), a resumed run the same one, and no state is kept between runs.
func sampleGone(gone []string, runID string, n int) []string {
	if len(gone) <= n {
		return gone
	}
	key := func(id string) uint64 {
		h := fnv.New64a()
		h.Write([]byte(runID))
		h.Write([]byte{0})
		h.Write([]byte(id))
		return h.Sum64()
	}
	keys := make(map[string]uint64, len(gone))
	for _, id := range gone {
		keys[id] = key(id)
	}
	out := append([]string(nil), gone...)
	sort.Slice(out, func(i, j int) bool {
		if keys[out[i]] != keys[out[j]] {
			return keys[out[i]] < keys[out[j]]
		}
		return out[i] < out[j]
	})
	return out[:n]
}
