package redisq

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/afterlife-watch/afterlife/configs"
	"github.com/afterlife-watch/afterlife/crawler"
	"github.com/afterlife-watch/afterlife/monitor"
	"github.com/afterlife-watch/afterlife/reports"
)

// ScanConfig is one distributed run driven from here: plan it into Redis, let workers (other
// processes, and Workers in-process ones) crawl it, build the store from the findings stream,
// finish the run and write the reports.
type ScanConfig struct {
	Client   redis.UniversalClient
	Config   Config
	Watch    *configs.Watch
	Registry *configs.Registry
	// Store is the sightings store the report builder writes (the coordinator's, on local disk).
	Store reports.Store
	// Workers in-process workers per run (0: only workers in other processes crawl).
	Workers int
	Version string
	Env     crawler.Env
	Log     *slog.Logger
	// WriteReports renders the finished run; nil skips it.
	WriteReports func(ctx context.Context, runID string) ([]string, error)
	// Worker tunes the in-process workers (Client, Config, Watch, Registry, Run are filled in).
	Worker WorkerConfig
}

// ScanResult is what a distributed scan did.
type ScanResult struct {
	Run     reports.Run
	Resumed bool
	Reports []string
	Built   BuildStats
}

// Scan runs one distributed monitoring run. It resumes the store's unfinished run if there is one
// (its Redis state, if still there, is picked up; job ids dedup re-planned seeds).
func Scan(ctx context.Context, cfg ScanConfig) (ScanResult, error) {
	log := cfg.Log
	if log == nil {
		log = slog.Default()
	}
	if cfg.Client == nil || cfg.Watch == nil || cfg.Registry == nil || cfg.Store == nil {
		return ScanResult{}, errors.New("redisq: scan needs a Redis client, a watch plan, a registry and a store")
	}
	rc := cfg.Config.withDefaults()
	datasets, err := monitor.WatchedDatasets(cfg.Registry, cfg.Watch)
	if err != nil {
		return ScanResult{}, err
	}
	fr := NewFrontier(cfg.Client, rc)
	defer fr.Close()
	runs := NewRuns(cfg.Client, rc)
	co := &monitor.Coordinator{Store: cfg.Store, Frontier: fr, Sources: monitor.BuildSources(cfg.Watch, cfg.Env),
		Datasets: datasets, Mode: "redis", Log: log}
	runID, resumed, err := co.Begin(ctx)
	if err != nil {
		return ScanResult{}, err
	}
	res := ScanResult{Resumed: resumed}
	info, exists, err := runs.Info(ctx, runID)
	if err != nil {
		return res, err
	}
	if !exists {
		if err := runs.Create(ctx, runID, map[string]string{"mode": "redis", "watch": cfg.Watch.File}); err != nil {
			return res, err
		}
	}
	if info["state"] != StateDrained && info["state"] != StateDone {
		if err := runs.Start(ctx, runID); err != nil {
			return res, fmt.Errorf("redisq: start run %s: %w", runID, err)
		}
	}
	log.Info("run queued on Redis; waiting for workers", "run_id", runID, "resumed", resumed, "in_process_workers", cfg.Workers)

	var werr chan error
	if cfg.Workers > 0 {
		wc := cfg.Worker
		wc.Client, wc.Config, wc.Watch, wc.Registry, wc.Run, wc.Workers = cfg.Client, rc, cfg.Watch, cfg.Registry, runID, cfg.Workers
		if wc.Version == "" {
			wc.Version = cfg.Version
		}
		if wc.Env == nil {
			wc.Env = cfg.Env
		}
		if wc.Log == nil {
			wc.Log = log
		}
		werr = make(chan error, 1)
		go func() { werr <- Serve(ctx, nil, 0, wc) }()
	}
	built, err := NewBuilder(cfg.Client, rc).Build(ctx, runID, cfg.Store)
	res.Built = built
	if werr != nil {
		if e := <-werr; e != nil && err == nil && ctx.Err() == nil {
			err = e
		}
	}
	if err != nil {
		if ctx.Err() != nil {
			return res, fmt.Errorf("%w (run %s stays queued on Redis; workers go on; scan again to collect it)", monitor.ErrInterrupted, runID)
		}
		return res, err
	}
	run, err := co.Finish(ctx, runID)
	if err != nil {
		return res, err
	}
	res.Run = run
	if cfg.WriteReports != nil {
		files, err := cfg.WriteReports(ctx, runID)
		if err != nil {
			return res, fmt.Errorf("write reports for run %s: %w", runID, err)
		}
		res.Reports = files
	}
	if err := runs.Done(ctx, runID); err != nil {
		log.Warn("could not mark run done on Redis", "run_id", runID, "err", err)
	}
	log.Info("run finished", "run_id", runID, "new", run.New, "gone", run.Gone, "events", built.Events, "at", time.Now().UTC())
	return res, nil
}
