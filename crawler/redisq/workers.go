package redisq

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/afterlife-watch/afterlife/configs"
	"github.com/afterlife-watch/afterlife/crawler"
	"github.com/afterlife-watch/afterlife/crawler/webapi"
	"github.com/afterlife-watch/afterlife/extract"
	"github.com/afterlife-watch/afterlife/monitor"
)

// WorkerConfig is one worker process of the distributed mode.
type WorkerConfig struct {
	Client   redis.UniversalClient
	Config   Config // Heartbeat is forced on: a live worker never loses a slow job
	Watch    *configs.Watch
	Registry *configs.Registry
	// Workers is the number of concurrent workers per run in this process (default Watch.Workers, else 4).
	Workers int
	Version string
	Env     crawler.Env
	Log     *slog.Logger
	// Run, when set, limits the process to that run and makes Serve return once it is drained
	// (`afterlife scan --redis --workers N`). Empty: serve every run, until stopped.
	Run string
	// Poll is how often idle workers look for runs besides the pub/sub wake-up (default 1s).
	Poll           time.Duration
	FetcherOptions crawler.FetcherOptions
	RetryBase      time.Duration
	// Margin is the shared limiter's safety margin (LimiterConfig.Margin).
	Margin float64
	// MaxWait: a claimed job whose host has no slot within MaxWait goes back until its slot and the
	// worker takes another (default DefaultMaxWait).
	MaxWait time.Duration
	// Choose is how many queued jobs a claim looks at to hand out the one whose host is free
	// soonest (Polite.Choose; default DefaultChoose).
	Choose int
}

// DefaultChoose is WorkerConfig.Choose's default: with 4 candidates per claim, 32 workers per
// process keep 50 hosts at 2 requests/s 96–98% busy (bench/results/redis.md).
const DefaultChoose = 4

// hintRates passes an adapter's documented rate limits to set (as monitor.Scan does).
func hintRates(src crawler.Source, name string, set func(key string, perSecond float64, burst int)) {
	if h, ok := src.(crawler.RateHinter); ok {
		r, b := h.DefaultRate()
		set(name, r, b)
	}
	if h, ok := src.(webapi.Rater); ok {
		for key, r := range h.DefaultRates() {
			set(key, r.PerSecond, r.Burst)
		}
	}
}

// gated is the frontier the workers see: once closed, Claim hands out nothing, so a stopping
// worker finishes the jobs in hand and takes no new ones.
type gated struct {
	*Frontier
	polite *Polite
	shut   atomic.Bool
}

func (g *gated) Claim(ctx context.Context, runID, worker string, max int) ([]crawler.Lease, error) {
	if g.shut.Load() {
		return nil, nil
	}
	return g.polite.Claim(ctx, runID, worker, max)
}

// DefaultMaxWait is how long a worker may wait for a host's slot before it takes another job
// instead (WorkerConfig.MaxWait). Waiting is cheap (a goroutine holding a lease), and the
// benchmark shows deferring short waits costs more than it saves; long waits (a search API at
// 10 requests/minute) are what deferral is for.
const DefaultMaxWait = 5 * time.Second

// Serve runs workers on every running run (or only cfg.Run) until ctx ends. When stop closes,
// workers take no new job, finish the ones in hand for up to grace, then hand back what is left
// and Serve returns nil.
func Serve(ctx context.Context, stop <-chan struct{}, grace time.Duration, cfg WorkerConfig) error {
	if cfg.Client == nil || cfg.Watch == nil || cfg.Registry == nil {
		return errors.New("redisq: worker needs a Redis client, a watch plan and a registry")
	}
	log := cfg.Log
	if log == nil {
		log = slog.Default()
	}
	rc := cfg.Config
	rc.Heartbeat = true
	rc = rc.withDefaults()
	lim := NewLimiter(cfg.Client, LimiterConfig{Prefix: rc.Prefix, Margin: cfg.Margin, Patience: rc.Patience})
	peek := NewRates(lim, cfg.Watch)
	for name, src := range monitor.BuildSources(cfg.Watch, cfg.Env).Active {
		hintRates(src, name, peek.SetRate)
	}
	maxWait := cfg.MaxWait
	if maxWait <= 0 {
		maxWait = DefaultMaxWait
	}
	base := NewFrontier(cfg.Client, rc)
	choose := cfg.Choose
	if choose <= 0 {
		choose = DefaultChoose
	}
	fr := &gated{Frontier: base, polite: &Polite{Frontier: base, Limits: peek, MaxWait: maxWait, Choose: choose}}
	defer fr.Close() // hands back any job still in hand
	runs := NewRuns(cfg.Client, rc)
	pub := NewPublisher(cfg.Client, rc)
	matcher := extract.New(cfg.Registry, extract.WithLineage(NewLineage(cfg.Client, rc)))
	n := cfg.Workers
	if n <= 0 {
		n = cfg.Watch.Workers
	}
	if n <= 0 {
		n = 4
	}
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
	wake, closeWake := runs.Wake(wctx)
	defer closeWake()

	var mu sync.Mutex
	active := map[string]bool{}
	var wg sync.WaitGroup
	errc := make(chan error, 16)
	startRun := func(runID string) error {
		fetcher, err := newFetcher(cfg, lim, log)
		if err != nil {
			return err
		}
		sources := monitor.BuildSources(cfg.Watch, cfg.Env)
		for name, src := range sources.Active {
			hintRates(src, name, fetcher.SetRate)
		}
		proto := monitor.Worker{Name: rc.Name, Frontier: fr, Fetcher: fetcher, Sources: sources.Active, Matcher: matcher,
			Recorder: pub, Stats: monitor.NewStats(fetcher), Log: log, ExitWhenDrained: true, RetryBase: cfg.RetryBase}
		log.Info("joining run", "run_id", runID, "workers", n)
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := monitor.Pool(wctx, runID, n, proto)
			if err == nil {
				if _, ferr := runs.FinishIfDrained(context.WithoutCancel(wctx), runID); ferr != nil {
					log.Warn("could not mark run drained", "run_id", runID, "err", ferr)
				}
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

	t := time.NewTicker(poll)
	defer t.Stop()
	stopping := false
	var graceEnd <-chan time.Time
	for {
		if !stopping {
			ids, err := runs.Active(wctx)
			if err != nil {
				if wctx.Err() != nil {
					break
				}
				log.Warn("listing runs failed", "err", err)
			}
			if cfg.Run != "" {
				st, err := runs.State(wctx, cfg.Run)
				if err == nil && (st == StateDrained || st == StateDone) {
					mu.Lock()
					busy := active[cfg.Run]
					mu.Unlock()
					if !busy {
						wg.Wait()
						return nil
					}
				}
				ids = []string{cfg.Run}
				if st != StateRunning {
					ids = nil
				}
			}
			for _, id := range ids {
				mu.Lock()
				busy := active[id]
				if !busy {
					active[id] = true
				}
				mu.Unlock()
				if !busy {
					if err := startRun(id); err != nil {
						return err
					}
				}
			}
		} else {
			if fr.Held() == 0 {
				break
			}
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
				fr.shut.Store(true)
				graceEnd = time.After(grace)
				log.Info("stopping: finishing the jobs in hand", "jobs", fr.Held(), "grace", grace)
			}
			stop = nil
			continue
		case <-graceEnd:
			log.Warn("grace period over: handing back the jobs in hand", "jobs", fr.Held())
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

func newFetcher(cfg WorkerConfig, lim *Limiter, log *slog.Logger) (*crawler.HTTPFetcher, error) {
	fo := cfg.FetcherOptions
	if fo.Cache == nil {
		fo.Cache = NewCache(cfg.Client, CacheConfig{Prefix: cfg.Config.Prefix})
	}
	fo.Logger = log
	if fo.Version == "" {
		fo.Version = cfg.Version
	}
	if fo.Limiter == nil {
		fo.Limiter = lim // every attempt, retries included, takes its slots on the shared budget
	}
	return crawler.NewFetcher(cfg.Watch, fo)
}
