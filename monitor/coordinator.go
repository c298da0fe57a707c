package monitor

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"time"

	"github.com/afterlife-watch/afterlife/configs"
	"github.com/afterlife-watch/afterlife/crawler"
	"github.com/afterlife-watch/afterlife/reports"
)

// Sources is the set of sources a run crawls: the adapters built from the watch config, and the
// enabled sources that could not be built (with why).
type Sources struct {
	Active  map[string]crawler.Source
	Skipped map[string]string // no adapter registered
	Failed  map[string]string // the factory refused the config
}

// Names lists every enabled source, sorted.
func (s Sources) Names() []string {
	var out []string
	for n := range s.Active {
		out = append(out, n)
	}
	for n := range s.Skipped {
		out = append(out, n)
	}
	for n := range s.Failed {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// BuildSources builds the enabled sources of a watch plan with the registered factories. env
// gives tokens (os.Getenv when nil).
func BuildSources(w *configs.Watch, env crawler.Env) Sources {
	if env == nil {
		env = os.Getenv
	}
	s := Sources{Active: map[string]crawler.Source{}, Skipped: map[string]string{}, Failed: map[string]string{}}
	for _, name := range w.SourceNames() {
		cfg := w.Sources[name]
		if !cfg.Enabled {
			continue
		}
		f, ok := crawler.Factory(name)
		if !ok {
			s.Skipped[name] = "no adapter for this source in this build"
			continue
		}
		src, err := f(cfg, env)
		if err != nil {
			s.Failed[name] = oneLine(err.Error())
			continue
		}
		s.Active[name] = src
	}
	return s
}

// WatchedDatasets returns the registry's retracted datasets, limited to watch.Datasets when set.
func WatchedDatasets(reg *configs.Registry, w *configs.Watch) ([]*configs.Dataset, error) {
	all := reg.Retracted()
	if len(w.Datasets) == 0 {
		return all, nil
	}
	want := map[string]bool{}
	for _, id := range w.Datasets {
		if _, ok := reg.Get(id); !ok {
			return nil, fmt.Errorf("%s: datasets: %q is not a registry id", w.File, id)
		}
		want[id] = true
	}
	var out []*configs.Dataset
	for _, d := range all {
		if want[d.ID] {
			out = append(out, d)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: datasets: none of %v is a retracted dataset", w.File, w.Datasets)
	}
	return out, nil
}

// Coordinator begins or resumes a run, plans its seed jobs, waits for the frontier to drain and
// finishes the run. It does not handle jobs: Workers do, here or in other processes.
type Coordinator struct {
	Store    Store
	Frontier Frontier
	Sources  Sources
	Datasets []*configs.Dataset
	Mode     string // embedded | redis
	Log      *slog.Logger
	Observer *observer
	// Listing is each source's incremental plan (Incremental.begin sets it): sources that can
	// filter by date (crawler.IncrementalPlanner) plan with theirs; nil: every source lists all.
	Listing map[string]crawler.Incremental
	// Poll is how often WaitDrained checks the frontier (default 500ms).
	Poll time.Duration

	decided map[string]bool // sources whose status Begin settled
}

// Begin resumes the unfinished run if there is one, else begins a new run, and enqueues the seed
// jobs (re-planning a resumed run enqueues nothing new: job ids dedup): Open, then Seed.
func (c *Coordinator) Begin(ctx context.Context) (runID string, resumed bool, err error) {
	runID, resumed, err = c.Open(ctx)
	if err != nil {
		return runID, resumed, err
	}
	return runID, resumed, c.Seed(ctx, runID, nil)
}

// Open resumes the unfinished run if there is one, else begins a new run; it records the status
// of the sources that cannot run (no adapter, bad configuration). Seed plans and enqueues the
// run's seed jobs.
func (c *Coordinator) Open(ctx context.Context) (runID string, resumed bool, err error) {
	log := c.log()
	run, ok, err := c.Store.OpenRun(ctx)
	if err != nil {
		return "", false, fmt.Errorf("open run: %w", err)
	}
	if ok {
		runID, resumed = run.ID, true
		log.Info("resuming interrupted run", "run_id", runID, "started", run.Started)
	} else {
		runID = NewRunID(time.Now())
		r := reports.Run{ID: runID, Started: time.Now().UTC(), Mode: c.Mode}
		for _, n := range c.Sources.Names() {
			r.Sources = append(r.Sources, reports.SourceStat{Name: n})
		}
		if err := c.Store.BeginRun(ctx, r); err != nil {
			return "", false, fmt.Errorf("begin run: %w", err)
		}
		log.Info("run started", "run_id", runID, "sources", c.Sources.Names(), "datasets", len(c.Datasets))
	}
	c.decided = map[string]bool{}
	for name, why := range c.Sources.Skipped {
		c.decided[name] = true
		c.setStatus(ctx, runID, name, StatusSkipped, why)
	}
	for name, why := range c.Sources.Failed {
		c.decided[name] = true
		c.setStatus(ctx, runID, name, StatusFailed, "configuration: "+why)
	}
	return runID, resumed, nil
}

// Seed plans every active source's seed jobs, in source-name order, and enqueues them in that
// order. With enqueued nil they go in with one Enqueue (one transaction in the embedded frontier
// instead of one per source). Otherwise the enqueues run beside the planning, so workers started
// before Seed (monitor.Run in embedded mode) crawl the first seeds while the other sources plan:
// the first source's seeds go in alone, and each later Enqueue takes every source planned while
// the one before it was committed (a few transactions, not one per source); enqueued is called
// after each. A source whose plan fails gets its status and is left out, as before.
func (c *Coordinator) Seed(ctx context.Context, runID string, enqueued func()) error {
	log := c.log()
	names := make([]string, 0, len(c.Sources.Active))
	for n := range c.Sources.Active {
		names = append(names, n)
	}
	sort.Strings(names)
	var total, added int
	enqueue := func(jobs []crawler.Job) error {
		n, err := c.Frontier.Enqueue(ctx, jobs...)
		if err != nil {
			return fmt.Errorf("enqueue seed jobs: %w", err)
		}
		total, added = total+len(jobs), added+n
		return nil
	}
	var batches chan []crawler.Job
	var enqueued1 chan error
	if enqueued != nil {
		batches, enqueued1 = make(chan []crawler.Job, len(names)), make(chan error, 1)
		go func() {
			var err error
			for jobs := range batches {
				for more := true; more; {
					select {
					case next, ok := <-batches:
						jobs = append(jobs, next...)
						more = ok
					default:
						more = false
					}
				}
				if err == nil {
					if err = enqueue(jobs); err == nil {
						enqueued()
					}
				}
			}
			enqueued1 <- err
		}()
	}
	var seeds []crawler.Job
	for _, name := range names {
		jobs, err := c.plan(ctx, name)
		if err != nil {
			log.Warn("planning failed", "run_id", runID, "source", name, "err", err)
			c.decided[name] = true
			c.setStatus(ctx, runID, name, StatusFailed, "planning: "+oneLine(err.Error()))
			continue
		}
		for i := range jobs {
			jobs[i] = normalizeJob(jobs[i], runID, name)
		}
		log.Debug("planned", "run_id", runID, "source", name, "jobs", len(jobs))
		if batches != nil {
			if len(jobs) > 0 {
				batches <- jobs
			}
			continue
		}
		seeds = append(seeds, jobs...)
	}
	var err error
	if batches != nil {
		close(batches)
		err = <-enqueued1
	} else {
		err = enqueue(seeds)
	}
	if err != nil {
		return err
	}
	log.Debug("seed jobs enqueued", "run_id", runID, "jobs", total, "new", added)
	return nil
}

// plan asks a source for its seed jobs, with its incremental plan when it can filter by date.
func (c *Coordinator) plan(ctx context.Context, name string) ([]crawler.Job, error) {
	return planSource(ctx, c.Sources.Active[name], c.Datasets, c.Listing[name])
}

// planSource asks src for its seed jobs over datasets, with its incremental plan when it can
// filter by date (crawler.IncrementalPlanner). The run and `scan --plan` plan alike.
func planSource(ctx context.Context, src crawler.Source, datasets []*configs.Dataset, inc crawler.Incremental) ([]crawler.Job, error) {
	if ip, ok := src.(crawler.IncrementalPlanner); ok {
		return ip.PlanIncremental(ctx, datasets, inc)
	}
	return src.Plan(ctx, datasets)
}

// WaitDrained returns when nothing is pending or in flight in the run (or ctx is done).
func (c *Coordinator) WaitDrained(ctx context.Context, runID string) error {
	poll := c.Poll
	if poll <= 0 {
		poll = 500 * time.Millisecond
	}
	for {
		d, err := isDrained(ctx, c.Frontier, runID)
		if err != nil {
			return fmt.Errorf("frontier stats: %w", err)
		}
		if d {
			return nil
		}
		if err := sleep(ctx, poll); err != nil {
			return err
		}
	}
}

// Finish sets each source's status from how its jobs ended and closes the run.
func (c *Coordinator) Finish(ctx context.Context, runID string) (reports.Run, error) {
	run, err := c.Store.GetRun(ctx, runID)
	if err != nil {
		return reports.Run{}, fmt.Errorf("finish run %s: %w", runID, err)
	}
	bySource, err := c.Frontier.StatsBySource(ctx, runID)
	if err != nil {
		c.log().Warn("per-source job counts unavailable", "run_id", runID, "err", err)
		bySource = nil
	}
	for _, s := range run.Sources {
		if c.decided[s.Name] {
			continue // decided at Begin: no adapter, bad config, planning failed
		}
		status := SourceStatus(s, bySource[s.Name], bySource != nil)
		msg := ""
		if status == StatusFailed && s.Message == "" {
			msg = "no job of this source succeeded"
		}
		c.setStatus(ctx, runID, s.Name, status, msg)
	}
	finished, err := c.Store.FinishRun(ctx, runID, time.Now().UTC())
	if err == nil {
		c.Observer.runFinished(runID, finished.Finished.Sub(finished.Started))
	}
	return finished, err
}

// SourceStatus decides ok / degraded / failed. With per-source job counts: no dead job and no
// error is ok, some jobs done and some dead or erroring is degraded, nothing done is failed.
// Without them it falls back on the counters.
func SourceStatus(s reports.SourceStat, jobs crawler.FrontierStats, haveJobs bool) string {
	if haveJobs {
		switch {
		case jobs.Dead == 0 && s.Errors == 0:
			return StatusOK
		case jobs.Done > 0:
			return StatusDegraded
		default:
			return StatusFailed
		}
	}
	switch {
	case s.Errors == 0:
		return StatusOK
	case s.Artifacts > 0 || s.Cached > 0:
		return StatusDegraded
	default:
		return StatusFailed
	}
}

func (c *Coordinator) setStatus(ctx context.Context, runID, name, status, msg string) {
	if err := c.Store.AddSourceStat(ctx, runID, reports.SourceStat{Name: name, Status: status, Message: msg}); err != nil {
		c.log().Warn("could not record source status", "run_id", runID, "source", name, "err", err)
	}
}

func (c *Coordinator) log() *slog.Logger {
	if c.Log == nil {
		return slog.Default()
	}
	return c.Log
}

// NewRunID is a sortable run id: UTC time plus randomness.
func NewRunID(t time.Time) string {
	var b [3]byte
	_, _ = rand.Read(b[:])
	return t.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:])
}
