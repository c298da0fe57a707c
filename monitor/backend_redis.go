package monitor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/afterlife-watch/afterlife/configs"
	"github.com/afterlife-watch/afterlife/crawler"
	"github.com/afterlife-watch/afterlife/crawler/redisq"
	"github.com/afterlife-watch/afterlife/reports"
)

// RedisOptions tune the Redis backend.
type RedisOptions struct {
	// Config is the queue's key prefix, lease timeout, attempts, retention and patience. Heartbeat
	// is forced on: a live process never loses a slow job.
	Config redisq.Config
	// Store and StateDir make the backend a coordinating one (afterlife scan --redis, schedule):
	// the findings stream is applied to Store, the incremental state is kept in StateDir. A
	// worker process (afterlife worker) has neither.
	Store    *reports.SQLiteStore
	StateDir string
	// Margin is the shared limiter's safety margin (redisq.LimiterConfig.Margin).
	Margin float64
	// MaxWait: a claimed job whose host has no slot within MaxWait goes back until its slot and
	// the worker takes another (default DefaultMaxWait).
	MaxWait time.Duration
	// Choose is how many queued jobs a claim looks at to hand out the one whose host is free
	// soonest (default DefaultChoose).
	Choose int
	// LockTTL: the schedule lock expires this long after its holder stops refreshing it (default
	// 1 minute, at least 3s).
	LockTTL time.Duration
}

// DefaultChoose is RedisOptions.Choose's default: with 4 candidates per claim, 32 workers per
// process keep 50 hosts at 2 requests/s 96–98% busy (bench/results/redis.md).
const DefaultChoose = 4

// DefaultMaxWait is how long a worker may wait for a host's slot before it takes another job
// instead. Waiting is cheap (a goroutine holding a lease), and the benchmark shows deferring short
// waits costs more than it saves; long waits (a search API at 10 requests/minute) are what
// deferral is for.
const DefaultMaxWait = 5 * time.Second

// NewRedisBackend builds the distributed backend on a Redis client: the frontier is a stream with
// a consumer group, workers record to the run's findings stream (collected into Store by the
// coordinating process), the validator cache, rate limiter, lineage, run board and schedule lock
// are shared by every process on the same Redis and prefix. Close stops the frontier's heartbeat
// and hands back the jobs in hand; the client and the store stay the caller's.
func NewRedisBackend(rdb redis.UniversalClient, o RedisOptions) (*Backend, error) {
	if rdb == nil {
		return nil, errors.New("redis backend: no Redis client")
	}
	if (o.Store == nil) != (o.StateDir == "") {
		return nil, errors.New("redis backend: a coordinating process needs both a store and a state directory")
	}
	rc := o.Config
	rc.Heartbeat = true
	fr := redisq.NewFrontier(rdb, rc)
	rc = fr.Config() // with defaults
	lim := redisq.NewLimiter(rdb, redisq.LimiterConfig{Prefix: rc.Prefix, Margin: o.Margin, Patience: rc.Patience})
	maxWait, choose := o.MaxWait, o.Choose
	if maxWait <= 0 {
		maxWait = DefaultMaxWait
	}
	if choose <= 0 {
		choose = DefaultChoose
	}
	b := &Backend{Mode: "redis", Frontier: fr, Recorder: redisq.NewPublisher(rdb, rc),
		Cache: redisq.NewCache(rdb, redisq.CacheConfig{Prefix: rc.Prefix}), Limiter: lim,
		Lineage: redisq.NewLineage(rdb, rc), Board: redisBoard{runs: redisq.NewRuns(rdb, rc)},
		Collector: redisCollector{b: redisq.NewBuilder(rdb, rc)},
		Lock:      redisLock{rdb: rdb, prefix: rc.Prefix, ttl: o.LockTTL},
		Claim: func(_ Frontier, w *configs.Watch, rates map[string]crawler.Rate) Frontier {
			peek := redisq.NewRates(lim, w)
			for key, r := range rates {
				peek.SetRate(key, r.PerSecond, r.Burst)
			}
			return &redisq.Polite{Frontier: fr, Limits: peek, MaxWait: maxWait, Choose: choose}
		},
	}
	if o.Store != nil {
		b.Store, b.StateDir = o.Store, o.StateDir
	}
	b.onClose(fr.Close)
	b.preflight = func(ctx context.Context, log *slog.Logger) error { return CheckRedisMemory(ctx, rdb, log) }
	return b, nil
}

// ErrEvictingRedis is a Redis whose maxmemory-policy may evict keys: a run's keys (its queue, its
// findings, the run board) could vanish under memory pressure and the run would hang or lose
// sightings, so the Redis backend refuses it.
var ErrEvictingRedis = errors.New("redis evicts keys under memory pressure")

// CheckRedisMemory refuses a Redis whose maxmemory-policy is not noeviction (allkeys-lru and the
// volatile-* policies evict run keys, which all carry a TTL). With noeviction a full Redis refuses
// writes instead, which the run loop detects and stops on (ErrBackendFull). A Redis that does not
// allow CONFIG GET (a managed service, an ACL) cannot be checked: that is logged and the run goes on.
func CheckRedisMemory(ctx context.Context, rdb redis.UniversalClient, log *slog.Logger) error {
	if log == nil {
		log = slog.Default()
	}
	cfg, err := rdb.ConfigGet(ctx, "maxmemory-policy").Result()
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		log.Warn("cannot read Redis's maxmemory-policy (CONFIG GET not allowed?); make sure it is noeviction, "+
			"or a full Redis may evict the run's keys", "err", err)
		return nil
	}
	policy, ok := cfg["maxmemory-policy"]
	if !ok {
		log.Warn("Redis did not say its maxmemory-policy; make sure it is noeviction")
		return nil
	}
	if policy != "noeviction" {
		return fmt.Errorf("%w: maxmemory-policy is %s; the distributed mode needs maxmemory-policy noeviction "+
			"(CONFIG SET maxmemory-policy noeviction, or in redis.conf), so that a full Redis refuses writes "+
			"(the run then stops and resumes) instead of dropping run keys (the run would hang or lose sightings)",
			ErrEvictingRedis, policy)
	}
	return nil
}

// redisBoard is the run board on Redis (redisq.Runs).
type redisBoard struct{ runs *redisq.Runs }

func (r redisBoard) Open(ctx context.Context, runID string, fields map[string]string) error {
	_, exists, err := r.runs.Info(ctx, runID)
	if err != nil {
		return err
	}
	if !exists {
		if err := r.runs.Create(ctx, runID, fields); err != nil {
			return err
		}
	}
	if err := r.runs.Start(ctx, runID); err != nil {
		return fmt.Errorf("redis: start run %s: %w", runID, err)
	}
	return nil
}

func (r redisBoard) Active(ctx context.Context) ([]string, error) { return r.runs.Active(ctx) }

func (r redisBoard) State(ctx context.Context, runID string) (string, error) {
	st, err := r.runs.State(ctx, runID)
	switch st {
	case redisq.StateRunning:
		return RunRunning, err
	case redisq.StateDrained:
		return RunDrained, err
	case redisq.StateDone:
		return RunDone, err
	}
	return st, err
}

func (r redisBoard) MarkDrained(ctx context.Context, runID string) (bool, error) {
	return r.runs.FinishIfDrained(ctx, runID)
}

func (r redisBoard) Done(ctx context.Context, runID string) error { return r.runs.Done(ctx, runID) }

func (r redisBoard) Wake(ctx context.Context) (<-chan struct{}, func()) {
	msgs, closeSub := r.runs.Wake(ctx)
	out := make(chan struct{}, 1)
	go func() {
		for range msgs {
			select {
			case out <- struct{}{}:
			default:
			}
		}
	}()
	return out, func() { _ = closeSub() }
}

// redisCollector applies the run's findings stream to the store (redisq.Builder).
type redisCollector struct{ b *redisq.Builder }

func (c redisCollector) Collect(ctx context.Context, runID string, store Store) (Collected, error) {
	st, err := c.b.Build(ctx, runID, store)
	return Collected(st), err
}

// redisLock is the distributed run lock: redisq's SET NX lock, refreshed while the run lasts, so
// two schedulers on different machines never run at once (and a dead one's lock expires).
type redisLock struct {
	rdb    redis.UniversalClient
	prefix string
	ttl    time.Duration
}

// TryLock implements RunLock.
func (l redisLock) TryLock(ctx context.Context) (func(), error) {
	ttl := l.ttl
	if ttl <= 0 {
		ttl = time.Minute
	}
	if ttl < 3*time.Second {
		ttl = 3 * time.Second
	}
	lk, err := redisq.AcquireLock(ctx, l.rdb, l.prefix, "schedule", ttl)
	if errors.Is(err, redisq.ErrLocked) {
		return nil, fmt.Errorf("%w: %v", ErrLockHeld, err)
	}
	if err != nil {
		return nil, err
	}
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(ttl / 3)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if ok, err := lk.Refresh(context.WithoutCancel(ctx)); err != nil || !ok {
					slog.Warn("run lock refresh failed", "ok", ok, "err", err)
				}
			}
		}
	}()
	return func() {
		close(done)
		<-stopped
		if _, err := lk.Release(context.WithoutCancel(ctx)); err != nil {
			slog.Warn("run lock release failed; it expires by itself", "err", err)
		}
	}, nil
}
