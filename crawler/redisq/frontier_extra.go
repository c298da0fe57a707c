package redisq

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/afterlife-watch/afterlife/crawler"
)

// Bury sends a leased job straight to the dead letters (a permanent failure: retrying will not
// help). It implements monitor.Burier.
func (f *Frontier) Bury(ctx context.Context, l crawler.Lease, reason string) error {
	run := l.Job.RunID
	h, ok := f.holder(l.Token)
	if !ok {
		return fmt.Errorf("redisq: bury job %s: %w", l.Job.ID, ErrLeaseLost)
	}
	p, err := json.Marshal(l.Job)
	if err != nil {
		return fmt.Errorf("redisq: encode job %s: %w", l.Job.ID, err)
	}
	var n int64
	err = retry(ctx, f.cfg.Patience, func() error {
		var err error
		n, err = buryScript.Run(ctx, f.rdb, []string{f.k.queue(run), f.k.dead(run), f.k.stats(run)},
			groupWorkers, h.consumer, entryID(l.Token), p, l.Job.Attempt, reason, l.Job.Source).Int64()
		return err
	})
	f.forget(l.Token)
	if err != nil {
		return fmt.Errorf("redisq: bury job %s of run %s: %w", l.Job.ID, run, err)
	}
	if n == 0 {
		return fmt.Errorf("redisq: bury job %s of run %s: %w", l.Job.ID, run, ErrLeaseLost)
	}
	return nil
}

// NextReady returns when the run's earliest delayed job becomes ready (zero when none waits). It
// implements monitor.ReadyWaiter.
func (f *Frontier) NextReady(ctx context.Context, runID string) (time.Time, error) {
	zs, err := f.rdb.ZRangeWithScores(ctx, f.k.delayed(runID), 0, 0).Result()
	if err != nil {
		return time.Time{}, fmt.Errorf("redisq: next ready of run %s: %w", runID, err)
	}
	if len(zs) == 0 {
		return time.Time{}, nil
	}
	return time.UnixMilli(int64(zs[0].Score)), nil
}

// StatsBySource counts done and dead jobs per source (Pending and InFlight are not split by
// source). It implements monitor.SourceCounter.
func (f *Frontier) StatsBySource(ctx context.Context, runID string) (map[string]crawler.FrontierStats, error) {
	var h map[string]string
	err := retry(ctx, f.cfg.Patience, func() error {
		var err error
		h, err = f.rdb.HGetAll(ctx, f.k.stats(runID)).Result()
		return err
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("redisq: stats by source of run %s: %w", runID, err)
	}
	out := map[string]crawler.FrontierStats{}
	for k, v := range h {
		var n int64
		fmt.Sscan(v, &n)
		switch {
		case strings.HasPrefix(k, "done:"):
			s := out[k[5:]]
			s.Done = n
			out[k[5:]] = s
		case strings.HasPrefix(k, "dead:"):
			s := out[k[5:]]
			s.Dead = n
			out[k[5:]] = s
		}
	}
	return out, nil
}

// AckEnqueue enqueues a job's follow-ups, then acks it: the run is never seen drained while its
// follow-ups are in flight. (Two Redis round trips; the embedded frontier does it in one
// transaction.)
func (f *Frontier) AckEnqueue(ctx context.Context, l crawler.Lease, next ...crawler.Job) (int, error) {
	n := 0
	if len(next) > 0 {
		var err error
		if n, err = f.Enqueue(ctx, next...); err != nil {
			return 0, err
		}
	}
	return n, f.Ack(ctx, l)
}

// Held counts the leases this process holds (jobs in hand).
func (f *Frontier) Held() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.leases)
}

// Defer hands a job back to be claimed not before at, without counting the claim as an attempt
// (its host is busy: a worker takes another job instead of waiting).
func (f *Frontier) Defer(ctx context.Context, l crawler.Lease, at time.Time) error {
	return f.requeue(ctx, l, at, max(l.Job.Attempt-1, 0), 0, "")
}

// Polite is a frontier whose Claim prefers jobs whose host and source have a free slot: it draws
// Choose candidates from the queue, hands out the ones that can go out soonest, puts the others
// back at once (no attempt counted) and sends those whose slot is further than MaxWait to the
// delayed set until their slot. With one FIFO queue for every host, this keeps workers off the
// busy hosts' backlog ("power of d choices": a worker waits behind a busy host only when all its
// candidates are busy).
type Polite struct {
	*Frontier
	Limits  *Rates
	MaxWait time.Duration
	// Choose is how many candidates a claim looks at per job it hands out (default 1: the FIFO
	// head only).
	Choose int
}

type candidate struct {
	l    crawler.Lease
	wait time.Duration
}

// Claim leases up to max jobs that can be fetched within MaxWait, soonest first.
func (p *Polite) Claim(ctx context.Context, runID, worker string, max int) ([]crawler.Lease, error) {
	choose := p.Choose
	if choose < 1 {
		choose = 1
	}
	var out []crawler.Lease
	for tries := 0; tries < 8 && len(out) < max; tries++ {
		ls, err := p.Frontier.Claim(ctx, runID, worker, (max-len(out))*choose)
		if err != nil || len(ls) == 0 {
			return out, err
		}
		cs := make([]candidate, 0, len(ls))
		for _, l := range ls {
			wait, err := p.Limits.Next(ctx, l.Job.Source, l.Job.URL)
			if err != nil {
				wait = 0 // cannot tell: treat as free, the fetcher waits anyway
			}
			cs = append(cs, candidate{l, wait})
		}
		sort.SliceStable(cs, func(i, j int) bool { return cs[i].wait < cs[j].wait })
		for _, c := range cs {
			switch {
			case len(out) < max && c.wait <= p.MaxWait:
				out = append(out, c.l)
			case c.wait > p.MaxWait:
				if err := p.Defer(ctx, c.l, time.Now().Add(c.wait)); err != nil && len(out) < max {
					out = append(out, c.l) // could not hand it back: do it, waiting
				}
			default:
				if err := p.Release(ctx, c.l); err != nil && !errors.Is(err, ErrLeaseLost) {
					return out, err
				}
			}
		}
	}
	return out, nil
}
