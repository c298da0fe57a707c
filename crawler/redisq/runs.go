package redisq

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Run states, in order.
const (
	StatePlanning = "planning" // created, seeds being enqueued: not drained even if empty
	StateRunning  = "running"  // workers claim from it
	StateDrained  = "drained"  // frontier empty and nothing in flight: workers stop, the builder finishes
	StateDone     = "done"     // reports written
)

// Runs tracks run status so every worker learns when a run starts and ends: a hash per run, a set
// of active runs, and a pub/sub channel that wakes waiters (who also poll, so a lost message or a
// Redis restart never leaves anyone waiting).
type Runs struct {
	rdb redis.UniversalClient
	k   keys
	cfg Config
}

// NewRuns returns run tracking on rdb (Prefix, RunTTL, Retention and Patience of cfg apply).
func NewRuns(rdb redis.UniversalClient, cfg Config) *Runs {
	cfg = cfg.withDefaults()
	return &Runs{rdb: rdb, k: keys{cfg.Prefix}, cfg: cfg}
}

// Create registers a run in the planning state with extra fields (watch plan, started at, ...).
// It fails if the run already exists.
func (r *Runs) Create(ctx context.Context, runID string, fields map[string]string) error {
	if runID == "" || strings.ContainsAny(runID, "{}") {
		return fmt.Errorf("redisq: run id %q: empty or contains braces", runID)
	}
	ok, err := r.rdb.HSetNX(ctx, r.k.meta(runID), "state", StatePlanning).Result()
	if err != nil {
		return fmt.Errorf("redisq: create run %s: %w", runID, err)
	}
	if !ok {
		return fmt.Errorf("redisq: run %s already exists", runID)
	}
	vals := map[string]any{"created": time.Now().UTC().Format(time.RFC3339Nano)}
	for k, v := range fields {
		vals[k] = v
	}
	p := r.rdb.TxPipeline()
	p.HSet(ctx, r.k.meta(runID), vals)
	p.Expire(ctx, r.k.meta(runID), r.cfg.RunTTL)
	if _, err := p.Exec(ctx); err != nil {
		return fmt.Errorf("redisq: create run %s: %w", runID, err)
	}
	return nil
}

// Start moves a planned run to running, makes it visible to workers and wakes them.
func (r *Runs) Start(ctx context.Context, runID string) error {
	return retry(ctx, r.cfg.Patience, func() error {
		p := r.rdb.TxPipeline()
		p.HSet(ctx, r.k.meta(runID), "state", StateRunning)
		p.SAdd(ctx, r.k.active(), runID)
		p.Publish(ctx, r.k.channel(), "start "+runID)
		_, err := p.Exec(ctx)
		return err
	})
}

// Info returns the run's fields ("state", "created", ...); ok is false for an unknown run.
func (r *Runs) Info(ctx context.Context, runID string) (map[string]string, bool, error) {
	var m map[string]string
	err := retry(ctx, r.cfg.Patience, func() error {
		var err error
		m, err = r.rdb.HGetAll(ctx, r.k.meta(runID)).Result()
		return err
	})
	if err != nil {
		return nil, false, fmt.Errorf("redisq: run %s: %w", runID, err)
	}
	return m, len(m) > 0, nil
}

// State returns the run's state ("" for an unknown run).
func (r *Runs) State(ctx context.Context, runID string) (string, error) {
	m, _, err := r.Info(ctx, runID)
	return m["state"], err
}

// Active lists running runs.
func (r *Runs) Active(ctx context.Context) ([]string, error) {
	var ids []string
	err := retry(ctx, r.cfg.Patience, func() error {
		var err error
		ids, err = r.rdb.SMembers(ctx, r.k.active()).Result()
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("redisq: active runs: %w", err)
	}
	return ids, nil
}

// finishScript: KEYS q delayed meta active; ARGV group channel run. Moves a running run whose
// frontier is empty with nothing in flight to drained, atomically with the check.
var finishScript = redis.NewScript(`
if redis.call('HGET', KEYS[3], 'state') ~= 'running' then return 0 end
local xlen, inflight = 0, 0
if redis.call('EXISTS', KEYS[1]) == 1 then
  xlen = redis.call('XLEN', KEYS[1])
  local ok, s = pcall(redis.call, 'XPENDING', KEYS[1], ARGV[1])
  if ok and s then inflight = tonumber(s[1]) end
end
if xlen > 0 or inflight > 0 or redis.call('ZCARD', KEYS[2]) > 0 then return 0 end
local t = redis.call('TIME')
redis.call('HSET', KEYS[3], 'state', 'drained', 'drained_at', t[1])
redis.call('SREM', KEYS[4], ARGV[3])
redis.call('PUBLISH', ARGV[2], 'drained ' .. ARGV[3])
return 1
`)

// FinishIfDrained marks a running run drained if its frontier is empty and nothing is in flight;
// it reports whether the run is drained (by this call or before).
func (r *Runs) FinishIfDrained(ctx context.Context, runID string) (bool, error) {
	var n int64
	err := retry(ctx, r.cfg.Patience, func() error {
		var err error
		n, err = finishScript.Run(ctx, r.rdb, []string{r.k.queue(runID), r.k.delayed(runID), r.k.meta(runID), r.k.active()},
			groupWorkers, r.k.channel(), runID).Int64()
		return err
	})
	if err != nil {
		return false, fmt.Errorf("redisq: finish run %s: %w", runID, err)
	}
	if n == 1 {
		return true, nil
	}
	st, err := r.State(ctx, runID)
	return st == StateDrained || st == StateDone, err
}

// Done marks the run's reports written and lets its keys expire after Retention.
func (r *Runs) Done(ctx context.Context, runID string) error {
	return retry(ctx, r.cfg.Patience, func() error {
		p := r.rdb.TxPipeline()
		p.HSet(ctx, r.k.meta(runID), "state", StateDone, "done_at", time.Now().UTC().Format(time.RFC3339Nano))
		p.SRem(ctx, r.k.active(), runID)
		for _, k := range r.k.runKeys(runID) {
			p.Expire(ctx, k, r.cfg.Retention)
		}
		p.Publish(ctx, r.k.channel(), "done "+runID)
		_, err := p.Exec(ctx)
		return err
	})
}

// Delete removes every key of a run (tests, aborted runs).
func (r *Runs) Delete(ctx context.Context, runID string) error {
	p := r.rdb.TxPipeline()
	p.Del(ctx, r.k.runKeys(runID)...)
	p.SRem(ctx, r.k.active(), runID)
	_, err := p.Exec(ctx)
	return err
}

// WaitState blocks until the run reaches one of states (or ctx ends), waking on the pub/sub channel
// and polling every poll interval in any case.
func (r *Runs) WaitState(ctx context.Context, runID string, poll time.Duration, states ...string) (string, error) {
	if poll <= 0 {
		poll = time.Second
	}
	sub := r.rdb.Subscribe(ctx, r.k.channel())
	defer sub.Close()
	ch := sub.Channel()
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		st, err := r.State(ctx, runID)
		if err != nil && !errors.Is(err, context.Canceled) {
			return "", err
		}
		for _, s := range states {
			if st == s {
				return st, nil
			}
		}
		select {
		case <-ctx.Done():
			return st, ctx.Err()
		case <-ch:
		case <-t.C:
		}
	}
}

// Wake returns a channel that receives on every run start or end (pub/sub), for workers that
// otherwise poll. Close the returned closer when done.
func (r *Runs) Wake(ctx context.Context) (<-chan *redis.Message, func() error) {
	sub := r.rdb.Subscribe(ctx, r.k.channel())
	return sub.Channel(), sub.Close
}
