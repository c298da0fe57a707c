package monitor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/afterlife-watch/afterlife/configs"
	"github.com/afterlife-watch/afterlife/crawler"
	"github.com/afterlife-watch/afterlife/crawler/fulltext"
	"github.com/afterlife-watch/afterlife/reports"
)

// ErrInterrupted is returned when a run is stopped before the frontier drained; running the same
// scan again on the same data directory (or Redis) resumes it.
var ErrInterrupted = errors.New("scan interrupted; run it again to resume")

// Role is what a process does in a run.
type Role int

const (
	// Coordinate begins (or resumes) a run, plans it, crawls it with RunConfig.Workers in-process
	// workers (and any worker processes on the same backend), collects what they recorded,
	// re-checks known artifacts, finishes the run and writes the reports. afterlife scan, demo and
	// schedule, in both modes.
	Coordinate Role = iota
	// Serve crawls every running run on the backend's board until stopped (afterlife worker).
	Serve
)

// RunConfig is one call of Run.
type RunConfig struct {
	Watch    *configs.Watch
	Registry *configs.Registry
	Role     Role
	// Workers is the number of in-process workers (default: Watch.Workers, else 4). A coordinator
	// on Redis may set it to -1 to leave the crawling to worker processes.
	Workers int
	Version string
	Env     crawler.Env // tokens (os.Getenv when nil)
	Log     *slog.Logger
	// Observer is told what the workers do (metrics); nil observes nothing.
	Observer Observer
	// Incremental, when set, makes re-scans list only what changed since the last run where the
	// source can filter by date, with periodic full listings, and re-check known artifacts
	// (incremental.go). Nil: every run lists everything. Coordinate only.
	Incremental *Incremental
	// Progress, when TTY is set, gets a redrawn per-source progress table. Coordinate only.
	Progress    io.Writer
	ProgressTTY bool
	// NewLogger, when set with a progress display, builds the run's logger writing through the
	// display (so log lines and the table do not garble each other).
	NewLogger func(w io.Writer) *slog.Logger
	// WriteReports renders the finished run; nil skips it. Coordinate only.
	WriteReports func(ctx context.Context, runID string) ([]string, error)
	// Fetcher options (bounds, backoff) for tests and benchmarks; zero: defaults. With
	// FetcherOptions.Replay set (a replay from cassettes) failed jobs are handed back ready at
	// once instead of after a backoff or a Retry-After (Worker.NoWait).
	FetcherOptions crawler.FetcherOptions
	// RetryBase is the first wait before a failed job is tried again (default 2s).
	RetryBase time.Duration
	// MaxJobsPerSource caps each source's follow-up jobs per run and process (default
	// DefaultMaxJobsPerSource; <0: no cap). Worker.MaxJobsPerSource.
	MaxJobsPerSource int

	// Serve only: when Stop closes, workers take no new job, finish the ones in hand for up to
	// Grace, then hand back what is left and Run returns nil. Poll is how often idle workers look
	// for runs besides the board's wake-ups (default 1s). OnlyRun limits the process to one run.
	Stop    <-chan struct{}
	Grace   time.Duration
	Poll    time.Duration
	OnlyRun string
}

// Result is what a coordinated run did.
type Result struct {
	Run       reports.Run
	Resumed   bool
	Reports   []string
	Progress  []SourceProgress
	Collected Collected
}

// Run is the one monitoring run loop, for every command and both backends. As Coordinate it runs
// one monitoring run end to end; as Serve it crawls the runs other processes coordinate. A failing
// source never stops a run; its status says why.
func Run(ctx context.Context, b *Backend, cfg RunConfig) (Result, error) {
	if cfg.Watch == nil || cfg.Registry == nil {
		return Result{}, errors.New("monitor: a watch plan and a registry are required")
	}
	if err := b.Check(cfg.Role == Coordinate); err != nil {
		return Result{}, err
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if b.preflight != nil {
		if err := b.preflight(ctx, cfg.Log); err != nil {
			return Result{}, err
		}
	}
	if cfg.Role == Serve {
		return Result{}, serve(ctx, b, cfg)
	}
	return coordinate(ctx, b, cfg)
}

func coordinate(ctx context.Context, b *Backend, cfg RunConfig) (Result, error) {
	log := cfg.Log
	datasets, err := WatchedDatasets(cfg.Registry, cfg.Watch)
	if err != nil {
		return Result{}, err
	}
	obs := newObserver(cfg.Observer)
	sources := BuildSources(cfg.Watch, cfg.Env)
	co := &Coordinator{Store: b.Store, Frontier: b.Frontier, Sources: sources, Datasets: datasets, Mode: b.Mode, Log: log, Observer: obs}
	runID, resumed, err := cfg.Incremental.begin(ctx, co, b.StateDir)
	if err != nil {
		return Result{}, err
	}
	// seed plans and enqueues the run's seed jobs (co.Seed), then opens the run on the board, where
	// worker processes find it: they join a run whose seeds are all in.
	seed := func(enqueued func()) error {
		if err := co.Seed(ctx, runID, enqueued); err != nil {
			return err
		}
		if err := b.Board.Open(ctx, runID, map[string]string{"mode": b.Mode, "watch": cfg.Watch.File}); err != nil {
			return fmt.Errorf("open the run on the board: %w", err)
		}
		return nil
	}
	cr, err := newCrew(b, cfg, sources, obs, log)
	if err != nil {
		return Result{}, err
	}
	defer cr.release() // after every phase's workers have returned
	workers := cr.size(cfg.Workers)
	// With the embedded backend (only this process's workers see the run) the workers start
	// before the seeds are planned and crawl the first source's seeds while the others plan
	// (Coordinator.Seed): planning and the seeds' enqueues were ~12–19 ms of a 260 ms scan with
	// a core idle (bench/results/crawl.md). The gate keeps them from taking the run for drained
	// until every seed is in. Elsewhere the seeds go in first, as the worker processes expect.
	_, local := b.Board.(*localBoard)
	early := local && workers > 0
	if !early {
		if err := seed(nil); err != nil {
			return Result{}, fmt.Errorf("run %s: %w", runID, err)
		}
	}
	disp := &Display{W: cfg.Progress, TTY: cfg.ProgressTTY, Stats: cr.stats, Frontier: b.Frontier, RunID: runID}
	if cfg.ProgressTTY && cfg.Progress != nil && cfg.NewLogger != nil {
		cr.log = cfg.NewLogger(disp)
		log = cr.log
	}
	if workers == 0 {
		log.Info("run queued; waiting for worker processes", "run_id", runID, "mode", b.Mode)
	}
	res := Result{Resumed: resumed}
	// phase crawls until the run is drained, with this process's workers and the collector side by
	// side (the embedded collector has nothing to do: its workers record into the store). pre,
	// when set, runs beside the workers before the collector starts; if it fails, the workers
	// stop and phase returns its error.
	phase := func(pre func() error) error {
		var werr error
		var wg sync.WaitGroup
		// Workers that stop on an error (a backend out of memory) stop the collector too: the run
		// would never drain.
		cctx, stopCollect := context.WithCancel(ctx)
		defer stopCollect()
		wctx, stopWorkers := context.WithCancel(ctx)
		defer stopWorkers()
		if workers > 0 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				werr = cr.crawl(wctx, runID, workers, nil)
				if werr != nil {
					stopCollect()
				}
			}()
		}
		if pre != nil {
			if err := pre(); err != nil {
				stopWorkers()
				wg.Wait()
				return err
			}
		}
		got, cerr := b.Collector.Collect(cctx, runID, b.Store)
		wg.Wait()
		res.Collected = res.Collected.add(got)
		if werr != nil && cctx.Err() != nil && ctx.Err() == nil {
			cerr = nil // stopped because the workers failed
		}
		return errors.Join(werr, cerr)
	}
	var first func() error
	if early {
		cr.frontier.seeding.Store(true)
		first = func() error {
			defer func() {
				cr.frontier.seeding.Store(false)
				cr.wake.signal() // idle workers look again: drained now means drained
			}()
			return seed(cr.wake.signal)
		}
	}
	stop := disp.Start(ctx)
	err = phase(first)
	if err == nil && ctx.Err() == nil {
		// Re-check what the listings did not see: the run opens again for the re-check jobs.
		err = cfg.Incremental.recheck(ctx, co, runID, func() error {
			if err := b.Board.Open(ctx, runID, nil); err != nil {
				return err
			}
			return phase(nil)
		})
	}
	stop()
	res.Progress = cr.stats.Progress()
	if ctx.Err() != nil {
		return res, fmt.Errorf("%w (run %s, %s backend)", ErrInterrupted, runID, b.Mode)
	}
	if err != nil {
		return res, fmt.Errorf("run %s: %w", runID, err)
	}
	if err := co.WaitDrained(ctx, runID); err != nil {
		return res, err
	}
	run, err := co.Finish(ctx, runID)
	if err != nil {
		return res, err
	}
	res.Run = run
	if err := b.Board.Done(ctx, runID); err != nil {
		log.Warn("could not prune the finished run's queue state", "run_id", runID, "err", err)
	}
	log.Info("run finished", "run_id", runID, "new", run.New, "gone", run.Gone, "resumed", resumed, "mode", b.Mode)
	if cfg.WriteReports != nil {
		files, err := cfg.WriteReports(ctx, runID)
		if err != nil {
			return res, fmt.Errorf("write reports for run %s: %w", runID, err)
		}
		res.Reports = files
	}
	return res, nil
}

func (c Collected) add(o Collected) Collected {
	return Collected{Events: c.Events + o.Events, Records: c.Records + o.Records, NewSightings: c.NewSightings + o.NewSightings,
		Reappeared: c.Reappeared + o.Reappeared, Listings: c.Listings + o.Listings, Gone: c.Gone + o.Gone, Stats: c.Stats + o.Stats}
}

// crew is what one process's workers share in one run: the fetcher (its buckets and counters),
// the adapters, the matcher, the stats and the frontier they claim from.
type crew struct {
	b       *Backend
	cfg     RunConfig
	fetcher *crawler.HTTPFetcher
	sources map[string]crawler.Source
	matcher Matcher
	// release gives the matcher back to the process's cache (matchers) when the crew is done.
	release  func()
	stats    *Stats
	obs      *observer
	log      *slog.Logger
	frontier *gate
	// wake is the pool's wakeup: idle workers look for jobs again when it is signalled (a job
	// finished, seeds enqueued).
	wake *wakeup
}

func newCrew(b *Backend, cfg RunConfig, sources Sources, obs *observer, log *slog.Logger) (*crew, error) {
	fo := cfg.FetcherOptions
	fo.Cache = b.Cache
	fo.Logger = log
	if fo.Version == "" {
		fo.Version = cfg.Version
	}
	if fo.Limiter == nil {
		fo.Limiter = b.Limiter // shared: every attempt, retries included, takes its slots on it
	}
	fetcher, err := crawler.NewFetcher(cfg.Watch, fo)
	if err != nil {
		return nil, err
	}
	rates := map[string]crawler.Rate{}
	for _, src := range sources.Active {
		for key, r := range crawler.RatesOf(src) {
			fetcher.SetRate(key, r.PerSecond, r.Burst)
			rates[key] = r
		}
	}
	// Papers the paper sources match are also read in full (crawler/fulltext): the sources ask the
	// run's matcher which ones, and it decides on the full text they attach. Both matchers are the
	// process's compiled ones (matchers): the extract matcher lent to this run with its lineage,
	// the full-text checker (no lineage, safe for concurrent use) shared.
	m, release := matchers.get(cfg.Registry, b.Lineage)
	matcher := matchers.checker(cfg.Registry).WithFullText(m)
	for _, src := range sources.Active {
		if a, ok := src.(fulltext.Aware); ok {
			a.UseJudge(matcher.Match)
		}
	}
	return &crew{b: b, cfg: cfg, fetcher: fetcher, sources: sources.Active,
		matcher: matcher, release: release,
		stats: NewStats(fetcher), obs: obs, log: log, wake: &wakeup{},
		frontier: &gate{Frontier: b.Claim(b.Frontier, cfg.Watch, rates)}}, nil
}

// size is the number of in-process workers: n, else the watch plan's, else 4 (negative: none).
func (c *crew) size(n int) int {
	switch {
	case n < 0:
		return 0
	case n > 0:
		return n
	case c.cfg.Watch.Workers > 0:
		return c.cfg.Watch.Workers
	}
	return 4
}

// crawl runs n workers on runID until the run is drained (or ctx ends), then marks it drained on
// the board so a collector elsewhere knows nothing more comes.
func (c *crew) crawl(ctx context.Context, runID string, n int, retryMax *time.Duration) error {
	max := 30 * time.Second
	if retryMax != nil {
		max = *retryMax
	}
	err := Pool(ctx, runID, n, Worker{Name: c.b.Mode, Frontier: c.frontier, Fetcher: c.fetcher, Sources: c.sources,
		Matcher: c.matcher, Recorder: c.b.Recorder, Stats: c.stats, Log: c.log, Observer: c.obs,
		ExitWhenDrained: true, RetryBase: c.cfg.RetryBase, RetryMax: max, NoWait: c.cfg.FetcherOptions.Replay != nil,
		MaxJobsPerSource: c.cfg.MaxJobsPerSource, wake: c.wake})
	if err != nil {
		return err
	}
	if _, err := c.b.Board.MarkDrained(context.WithoutCancel(ctx), runID); err != nil {
		c.log.Warn("could not mark the run drained", "run_id", runID, "err", err)
	}
	return nil
}

// gate is the frontier a process's workers claim from: once shut, Claim hands out nothing, so a
// stopping worker finishes the jobs in hand and takes no new ones. It counts the jobs in hand.
type gate struct {
	Frontier
	shut atomic.Bool
	held atomic.Int64
	// seeding is set while the coordinator still plans and enqueues seed jobs beside the workers:
	// the run is not drained then, whatever the frontier holds (isDrained).
	seeding atomic.Bool
}

func (g *gate) Claim(ctx context.Context, runID, worker string, max int) ([]crawler.Lease, error) {
	if g.shut.Load() {
		return nil, nil
	}
	ls, err := g.Frontier.Claim(ctx, runID, worker, max)
	g.held.Add(int64(len(ls)))
	return ls, err
}

func (g *gate) Ack(ctx context.Context, l crawler.Lease) error {
	defer g.held.Add(-1)
	return g.Frontier.Ack(ctx, l)
}

func (g *gate) AckEnqueue(ctx context.Context, l crawler.Lease, next ...crawler.Job) (int, error) {
	defer g.held.Add(-1)
	return g.Frontier.AckEnqueue(ctx, l, next...)
}

func (g *gate) Retry(ctx context.Context, l crawler.Lease, at time.Time, reason string) error {
	defer g.held.Add(-1)
	return g.Frontier.Retry(ctx, l, at, reason)
}

func (g *gate) Bury(ctx context.Context, l crawler.Lease, reason string) error {
	defer g.held.Add(-1)
	return g.Frontier.Bury(ctx, l, reason)
}

// serve is the Serve role: workers on every running run of the board (or only cfg.OnlyRun) until
// ctx ends or Stop closes.
func serve(ctx context.Context, b *Backend, cfg RunConfig) error {
	log := cfg.Log
	obs := newObserver(cfg.Observer)
	poll := cfg.Poll
	if poll <= 0 {
		poll = time.Second
	}
	wctx, cancelWorkers := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWorkers()
	go func() {
		select {
		case <-ctx.Done():
			cancelWorkers()
		case <-wctx.Done():
		}
	}()
	wake, closeWake := b.Board.Wake(wctx)
	defer closeWake()

	var mu sync.Mutex
	active := map[string]*crew{}
	var wg sync.WaitGroup
	errc := make(chan error, 16)
	startRun := func(runID string) error {
		cr, err := newCrew(b, cfg, BuildSources(cfg.Watch, cfg.Env), obs, log)
		if err != nil {
			return err
		}
		n := cr.size(cfg.Workers)
		if n == 0 {
			n = 1
		}
		mu.Lock()
		active[runID] = cr
		mu.Unlock()
		log.Info("joining run", "run_id", runID, "workers", n)
		retryMax := 2 * time.Minute
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := cr.crawl(wctx, runID, n, &retryMax)
			cr.release()
			if err == nil {
				log.Info("run drained", "run_id", runID)
			} else if wctx.Err() == nil {
				errc <- fmt.Errorf("run %s: %w", runID, err)
			}
			mu.Lock()
			delete(active, runID)
			mu.Unlock()
		}()
		return nil
	}
	held := func() int64 {
		mu.Lock()
		defer mu.Unlock()
		var n int64
		for _, cr := range active {
			n += cr.frontier.held.Load()
		}
		return n
	}
	t := time.NewTicker(poll)
	defer t.Stop()
	stop := cfg.Stop
	stopping := false
	var graceEnd <-chan time.Time
	for {
		if !stopping {
			ids, err := b.Board.Active(wctx)
			if err != nil {
				if wctx.Err() != nil {
					break
				}
				log.Warn("listing runs failed", "err", err)
			}
			if cfg.OnlyRun != "" {
				st, err := b.Board.State(wctx, cfg.OnlyRun)
				mu.Lock()
				_, busy := active[cfg.OnlyRun]
				mu.Unlock()
				if err == nil && (st == RunDrained || st == RunDone) && !busy {
					wg.Wait()
					return nil
				}
				ids = nil
				if st == RunRunning {
					ids = []string{cfg.OnlyRun}
				}
			}
			for _, id := range ids {
				mu.Lock()
				_, busy := active[id]
				mu.Unlock()
				if !busy {
					if err := startRun(id); err != nil {
						return err
					}
				}
			}
		} else if held() == 0 {
			break
		}
		select {
		case <-wctx.Done():
		case err := <-errc:
			cancelWorkers()
			wg.Wait()
			return err
		case <-stop:
			if !stopping {
				stopping = true
				mu.Lock()
				for _, cr := range active {
					cr.frontier.shut.Store(true)
				}
				mu.Unlock()
				graceEnd = time.After(cfg.Grace)
				log.Info("stopping: finishing the jobs in hand", "jobs", held(), "grace", cfg.Grace)
			}
			stop = nil
			continue
		case <-graceEnd:
			log.Warn("grace period over: handing back the jobs in hand", "jobs", held())
		case <-wake:
			continue
		case <-t.C:
			continue
		}
		break
	}
	cancelWorkers()
	wg.Wait()
	if ctx.Err() != nil && !stopping {
		return ctx.Err()
	}
	return nil
}
