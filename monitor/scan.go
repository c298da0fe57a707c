package monitor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/afterlife-watch/afterlife/configs"
	"github.com/afterlife-watch/afterlife/crawler"
	"github.com/afterlife-watch/afterlife/crawler/frontier"
	"github.com/afterlife-watch/afterlife/crawler/httpcache"
	"github.com/afterlife-watch/afterlife/crawler/webapi"
	"github.com/afterlife-watch/afterlife/extract"
	"github.com/afterlife-watch/afterlife/reports"
)

// Files under the data directory.
const (
	FrontierFile = "frontier.db"
	CacheFile    = "httpcache.db"
)

// ErrInterrupted is returned when a scan is stopped before the frontier drained; running the
// same scan again on the same data directory resumes it.
var ErrInterrupted = errors.New("scan interrupted; run it again to resume")

// ScanConfig is one embedded monitoring run.
type ScanConfig struct {
	Watch    *configs.Watch
	Registry *configs.Registry
	DataDir  string
	// Store is the sightings store (reports.Store). When it also implements extract.Lineage, the
	// matcher follows lineage through models found in earlier runs.
	Store   RunStore
	Workers int // default: Watch.Workers, else 4
	Version string
	Env     crawler.Env // tokens (os.Getenv when nil)
	Log     *slog.Logger
	// Progress, when TTY is set, gets a redrawn per-source progress table.
	Progress    io.Writer
	ProgressTTY bool
	// NewLogger, when set with a progress display, builds the run's logger writing through the
	// display (so log lines and the table do not garble each other).
	NewLogger func(w io.Writer) *slog.Logger
	// WriteReports renders the finished run (reports.Write); nil skips it.
	WriteReports func(ctx context.Context, runID string) ([]string, error)
	// Fetcher options (bounds, backoff) for tests and benchmarks; zero: defaults.
	FetcherOptions crawler.FetcherOptions
	// RetryBase is the first wait before a failed job is tried again (default 2s).
	RetryBase time.Duration
	// Incremental, when set, makes re-scans list only what changed since the last run where the
	// source can filter by date, with periodic full listings, and re-check known artifacts
	// (incremental.go). Nil: every run lists everything.
	Incremental *Incremental
}

// ScanResult is what a finished scan did.
type ScanResult struct {
	Run      reports.Run
	Resumed  bool
	Reports  []string
	Progress []SourceProgress
}

// Scan runs one monitoring run on the embedded frontier: it resumes the data directory's
// unfinished run or begins one, crawls until the frontier is drained, finishes the run and writes
// the reports. A failing source never stops the run; its status says why.
func Scan(ctx context.Context, cfg ScanConfig) (ScanResult, error) {
	log := cfg.Log
	if log == nil {
		log = slog.Default()
	}
	if cfg.Watch == nil || cfg.Registry == nil || cfg.Store == nil || cfg.DataDir == "" {
		return ScanResult{}, errors.New("scan: watch config, registry, store and data directory are required")
	}
	datasets, err := WatchedDatasets(cfg.Registry, cfg.Watch)
	if err != nil {
		return ScanResult{}, err
	}
	release, err := lockDataDir(cfg.DataDir)
	if err != nil {
		return ScanResult{}, err
	}
	defer release()

	fr, err := frontier.Open(filepath.Join(cfg.DataDir, FrontierFile), frontier.Options{ReclaimOnOpen: true, MaxAttempts: 3})
	if err != nil {
		return ScanResult{}, err
	}
	defer fr.Close()
	cache, err := httpcache.Open(filepath.Join(cfg.DataDir, CacheFile))
	if err != nil {
		return ScanResult{}, err
	}
	defer cache.Close()
	fo := cfg.FetcherOptions
	fo.Cache = cache
	fo.Logger = log
	if fo.Version == "" {
		fo.Version = cfg.Version
	}
	fetcher, err := crawler.NewFetcher(cfg.Watch, fo)
	if err != nil {
		return ScanResult{}, err
	}
	sources := BuildSources(cfg.Watch, cfg.Env)
	for name, src := range sources.Active {
		if h, ok := src.(crawler.RateHinter); ok {
			r, b := h.DefaultRate()
			fetcher.SetRate(name, r, b)
		}
		if h, ok := src.(webapi.Rater); ok {
			for key, r := range h.DefaultRates() {
				fetcher.SetRate(key, r.PerSecond, r.Burst)
			}
		}
	}
	var opts []extract.Option
	if l, ok := cfg.Store.(extract.Lineage); ok {
		opts = append(opts, extract.WithLineage(l))
	}
	matcher := extract.New(cfg.Registry, opts...)

	co := &Coordinator{Store: cfg.Store, Frontier: fr, Sources: sources, Datasets: datasets, Mode: "embedded", Log: log}
	runID, resumed, err := cfg.Incremental.begin(ctx, co, cfg.DataDir)
	if err != nil {
		return ScanResult{}, err
	}
	workers := cfg.Workers
	if workers <= 0 {
		workers = cfg.Watch.Workers
	}
	if workers <= 0 {
		workers = 4
	}
	stats := NewStats(fetcher)
	disp := &Display{W: cfg.Progress, TTY: cfg.ProgressTTY, Stats: stats, Frontier: fr, RunID: runID}
	if cfg.ProgressTTY && cfg.Progress != nil && cfg.NewLogger != nil {
		log = cfg.NewLogger(disp)
	}
	stop := disp.Start(ctx)
	crawl := func() error {
		return Pool(ctx, runID, workers, Worker{Name: "w", Frontier: fr, Fetcher: fetcher, Sources: sources.Active,
			Matcher: matcher, Recorder: cfg.Store, Stats: stats, Log: log, ExitWhenDrained: true, RetryBase: cfg.RetryBase, RetryMax: 30 * time.Second})
	}
	err = crawl()
	if err == nil && ctx.Err() == nil {
		err = cfg.Incremental.recheck(ctx, co, runID, crawl) // re-check what the listings did not see
	}
	stop()
	res := ScanResult{Resumed: resumed, Progress: stats.Progress()}
	if ctx.Err() != nil {
		return res, fmt.Errorf("%w (run %s, data %s)", ErrInterrupted, runID, cfg.DataDir)
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
	if n, err := fr.Forget(ctx, runID); err != nil {
		log.Warn("could not prune the finished run's jobs", "run_id", runID, "err", err)
	} else {
		log.Debug("pruned finished jobs", "run_id", runID, "jobs", n)
	}
	log.Info("run finished", "run_id", runID, "new", run.New, "gone", run.Gone, "resumed", resumed)
	if cfg.WriteReports != nil {
		files, err := cfg.WriteReports(ctx, runID)
		if err != nil {
			return res, fmt.Errorf("write reports for run %s: %w", runID, err)
		}
		res.Reports = files
	}
	return res, nil
}
