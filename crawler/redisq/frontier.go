package redisq

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/afterlife-watch/afterlife/crawler"
)

// Config tunes the Redis backend. Zero values take the defaults.
type Config struct {
	// Prefix starts every key (default "afterlife").
	Prefix string
	// LeaseTimeout is how long a claimed job may sit unacked with no heartbeat before another worker
	// reclaims it (default 30s). Live workers extend their leases every LeaseTimeout/3.
	LeaseTimeout time.Duration
	// MaxAttempts is how many claims a job gets: Retry of the MaxAttempts-th claim, or a lease lost
	// for the MaxAttempts-th time, sends it to the dead letters (default 5).
	MaxAttempts int
	// Heartbeat makes this process extend the leases it holds every LeaseTimeout/3, so a live
	// worker never loses a slow job and only a dead (or partitioned) one's jobs are reclaimed.
	// Off, a lease expires LeaseTimeout after its claim, like the embedded frontier's.
	Heartbeat bool
	// MaxJobs bounds a run's job dedup set; jobs past it are dropped and counted (default 1,000,000).
	MaxJobs int64
	// RunTTL expires an active run's keys if nobody touches them for this long (default 7 days);
	// a finished run's keys are kept for Retention (default 24h).
	RunTTL    time.Duration
	Retention time.Duration
	// Patience is how long a call keeps retrying while Redis is unreachable (default 2 minutes).
	Patience time.Duration
	// Name identifies this process among the consumers (default host-pid-random).
	Name string
}

func (c Config) withDefaults() Config {
	c.Prefix = cleanPrefix(c.Prefix)
	if c.LeaseTimeout <= 0 {
		c.LeaseTimeout = 30 * time.Second
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 5
	}
	if c.MaxJobs == 0 {
		c.MaxJobs = 1_000_000
	}
	if c.RunTTL <= 0 {
		c.RunTTL = 7 * 24 * time.Hour
	}
	if c.Retention <= 0 {
		c.Retention = 24 * time.Hour
	}
	if c.Patience <= 0 {
		c.Patience = 2 * time.Minute
	}
	if c.Name == "" {
		host, _ := os.Hostname()
		var b [3]byte
		_, _ = rand.Read(b[:])
		c.Name = fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b[:]))
	}
	return c
}

// Frontier is crawler.Frontier on a Redis stream per run with the consumer group "workers".
// Claimed jobs stay in the group's pending list until acked; this process's heartbeat keeps its
// leases alive, and a dead process's leases are reclaimed (XAUTOCLAIM) after LeaseTimeout.
type Frontier struct {
	rdb  redis.UniversalClient
	cfg  Config
	k    keys
	stop chan struct{}
	wg   sync.WaitGroup

	mu     sync.Mutex
	leases map[string]held // by entry id
	closed bool
}

type held struct {
	runID, consumer string
	lease           crawler.Lease
}

var _ crawler.Frontier = (*Frontier)(nil)

// ErrClosed is returned by calls on a closed frontier.
var ErrClosed = errors.New("redisq: frontier closed")

// NewFrontier returns a frontier on rdb. Close it to hand back the leases it still holds.
func NewFrontier(rdb redis.UniversalClient, cfg Config) *Frontier {
	cfg = cfg.withDefaults()
	f := &Frontier{rdb: rdb, cfg: cfg, k: keys{cfg.Prefix}, stop: make(chan struct{}), leases: map[string]held{}}
	if cfg.Heartbeat {
		f.wg.Add(1)
		go f.heartbeat()
	}
	return f
}

// Config returns the effective configuration.
func (f *Frontier) Config() Config { return f.cfg }

func (f *Frontier) consumer(worker string) string {
	if worker == "" {
		return f.cfg.Name
	}
	return f.cfg.Name + "/" + worker
}

// Enqueue adds jobs not already seen in their run; jobs with NotBefore in the future wait in the
// run's delayed set. Jobs may belong to different runs.
func (f *Frontier) Enqueue(ctx context.Context, jobs ...crawler.Job) (int, error) {
	byRun := map[string][]crawler.Job{}
	var order []string
	for _, j := range jobs {
		if j.RunID == "" || j.ID == "" {
			return 0, fmt.Errorf("redisq: enqueue job %q of run %q: job id and run id are required", j.ID, j.RunID)
		}
		if _, ok := byRun[j.RunID]; !ok {
			order = append(order, j.RunID)
		}
		byRun[j.RunID] = append(byRun[j.RunID], j)
	}
	total := 0
	for _, run := range order {
		rj := byRun[run]
		for start := 0; start < len(rj); start += 500 {
			end := min(start+500, len(rj))
			args := []any{groupWorkers, f.cfg.MaxJobs, int64(f.cfg.RunTTL / time.Second)}
			for _, j := range rj[start:end] {
				j.Attempt = 0
				nb := int64(0)
				if !j.NotBefore.IsZero() {
					nb = j.NotBefore.UnixMilli()
				}
				p, err := json.Marshal(j)
				if err != nil {
					return total, fmt.Errorf("redisq: encode job %s: %w", j.ID, err)
				}
				args = append(args, j.ID, nb, p)
			}
			var res []int64
			err := retry(ctx, f.cfg.Patience, func() error {
				var err error
				res, err = enqueueScript.Run(ctx, f.rdb,
					[]string{f.k.queue(run), f.k.delayed(run), f.k.seen(run), f.k.stats(run)}, args...).Int64Slice()
				return err
			})
			if err != nil {
				return total, fmt.Errorf("redisq: enqueue %d jobs in run %s: %w", end-start, run, err)
			}
			total += int(res[0])
			if res[1] > 0 {
				slog.Warn("redisq: run job limit reached, jobs dropped", "run", run, "dropped", res[1], "max_jobs", f.cfg.MaxJobs)
			}
		}
	}
	return total, nil
}

// Claim leases up to max ready jobs of runID: first jobs whose worker stopped heart-beating for
// LeaseTimeout, then new ones. A reclaimed job counts the lost lease as a failed attempt.
func (f *Frontier) Claim(ctx context.Context, runID, worker string, max int) ([]crawler.Lease, error) {
	if f.isClosed() {
		return nil, ErrClosed
	}
	if max <= 0 {
		max = 1
	}
	c := f.consumer(worker)
	var flat []any
	err := retry(ctx, f.cfg.Patience, func() error {
		var err error
		flat, err = claimScript.Run(ctx, f.rdb,
			[]string{f.k.queue(runID), f.k.delayed(runID), f.k.dead(runID), f.k.stats(runID)},
			groupWorkers, c, max, f.cfg.LeaseTimeout.Milliseconds(), f.cfg.MaxAttempts).Slice()
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("redisq: claim from run %s: %w", runID, err)
	}
	expires := time.Now().Add(f.cfg.LeaseTimeout)
	out := make([]crawler.Lease, 0, len(flat)/3)
	for i := 0; i+2 < len(flat); i += 3 {
		id, _ := flat[i].(string)
		payload, _ := flat[i+1].(string)
		att, _ := strconv.Atoi(fmt.Sprint(flat[i+2]))
		var j crawler.Job
		if err := json.Unmarshal([]byte(payload), &j); err != nil {
			// A corrupt entry cannot be worked on: dead-letter it instead of looping on it.
			slog.Error("redisq: undecodable job, dead-lettered", "run", runID, "entry", id, "err", err)
			_, _ = requeueScript.Run(ctx, f.rdb, []string{f.k.queue(runID), f.k.delayed(runID), f.k.dead(runID), f.k.stats(runID)},
				groupWorkers, c, id, 0, payload, 1, 1, "undecodable job: "+err.Error(), "").Result()
			continue
		}
		j.Attempt = att
		j.RunID = runID
		// The token names the stream entry and the claim, so a reclaimed lease never reuses the
		// dead worker's token.
		l := crawler.Lease{Job: j, Token: id + "@" + strconv.Itoa(att), Expires: expires}
		out = append(out, l)
		f.mu.Lock()
		f.leases[l.Token] = held{runID: runID, consumer: c, lease: l}
		f.mu.Unlock()
	}
	return out, nil
}

// Ack marks a leased job done. Acking a job another worker already finished is a no-op.
func (f *Frontier) Ack(ctx context.Context, l crawler.Lease) error {
	run := l.Job.RunID
	err := retry(ctx, f.cfg.Patience, func() error {
		return ackScript.Run(ctx, f.rdb, []string{f.k.queue(run), f.k.stats(run)}, groupWorkers, entryID(l.Token), l.Job.Source).Err()
	})
	f.forget(l.Token)
	if err != nil {
		return fmt.Errorf("redisq: ack job %s of run %s: %w", l.Job.ID, run, err)
	}
	return nil
}

// ErrLeaseLost is returned by Retry and Release when the lease expired and the job was handed to
// another worker (or is done): the caller must drop the job.
var ErrLeaseLost = errors.New("redisq: lease lost")

// Retry hands the job back to be tried again not before at; Retry of its MaxAttempts-th claim sends
// it to the run's dead letters with reason.
func (f *Frontier) Retry(ctx context.Context, l crawler.Lease, at time.Time, reason string) error {
	if reason == "" {
		reason = "retry"
	}
	return f.requeue(ctx, l, at, l.Job.Attempt, f.cfg.MaxAttempts, reason)
}

// Release hands a job back untried (a worker shutting down): it is ready again at once and the
// claim does not count as an attempt.
func (f *Frontier) Release(ctx context.Context, l crawler.Lease) error {
	return f.requeue(ctx, l, time.Time{}, max(l.Job.Attempt-1, 0), 0, "")
}

func (f *Frontier) requeue(ctx context.Context, l crawler.Lease, at time.Time, attempt, maxAtt int, reason string) error {
	run := l.Job.RunID
	h, ok := f.holder(l.Token)
	if !ok {
		return fmt.Errorf("redisq: requeue job %s: lease %s is not this process's: %w", l.Job.ID, l.Token, ErrLeaseLost)
	}
	j := l.Job
	j.Attempt = attempt
	j.NotBefore = at
	p, err := json.Marshal(j)
	if err != nil {
		return fmt.Errorf("redisq: encode job %s: %w", j.ID, err)
	}
	atMs := int64(0)
	if !at.IsZero() {
		atMs = at.UnixMilli()
	}
	var res int64
	err = retry(ctx, f.cfg.Patience, func() error {
		var err error
		res, err = requeueScript.Run(ctx, f.rdb,
			[]string{f.k.queue(run), f.k.delayed(run), f.k.dead(run), f.k.stats(run)},
			groupWorkers, h.consumer, entryID(l.Token), atMs, p, attempt, maxAtt, reason, j.Source).Int64()
		return err
	})
	f.forget(l.Token)
	if err != nil {
		return fmt.Errorf("redisq: requeue job %s of run %s: %w", j.ID, run, err)
	}
	if res == 0 {
		return fmt.Errorf("redisq: requeue job %s of run %s: %w", j.ID, run, ErrLeaseLost)
	}
	return nil
}

// Stats counts the run's jobs in one atomic snapshot.
func (f *Frontier) Stats(ctx context.Context, runID string) (crawler.FrontierStats, error) {
	s, _, err := f.stats(ctx, runID)
	return s, err
}

// Counts are the run's counters beyond FrontierStats.
type Counts struct {
	Enqueued, Dropped int64
}

func (f *Frontier) stats(ctx context.Context, runID string) (crawler.FrontierStats, Counts, error) {
	var v []int64
	err := retry(ctx, f.cfg.Patience, func() error {
		var err error
		v, err = statsScript.Run(ctx, f.rdb, []string{f.k.queue(runID), f.k.delayed(runID), f.k.stats(runID)}, groupWorkers).Int64Slice()
		return err
	})
	if err != nil {
		return crawler.FrontierStats{}, Counts{}, fmt.Errorf("redisq: stats of run %s: %w", runID, err)
	}
	return crawler.FrontierStats{Pending: v[0], InFlight: v[1], Done: v[2], Dead: v[3]}, Counts{Enqueued: v[4], Dropped: v[5]}, nil
}

// DeadLetter is a job that gave up.
type DeadLetter struct {
	Job     crawler.Job
	Attempt int
	Reason  string
}

// DeadLetters lists up to max of the run's dead letters, oldest first.
func (f *Frontier) DeadLetters(ctx context.Context, runID string, max int64) ([]DeadLetter, error) {
	msgs, err := f.rdb.XRangeN(ctx, f.k.dead(runID), "-", "+", max).Result()
	if err != nil {
		return nil, fmt.Errorf("redisq: dead letters of run %s: %w", runID, err)
	}
	out := make([]DeadLetter, 0, len(msgs))
	for _, m := range msgs {
		var d DeadLetter
		if s, ok := m.Values["job"].(string); ok {
			_ = json.Unmarshal([]byte(s), &d.Job)
		}
		d.Attempt, _ = strconv.Atoi(fmt.Sprint(m.Values["attempt"]))
		d.Reason = fmt.Sprint(m.Values["reason"])
		out = append(out, d)
	}
	return out, nil
}

func (f *Frontier) holder(token string) (held, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	h, ok := f.leases[token]
	return h, ok
}

func (f *Frontier) forget(token string) {
	f.mu.Lock()
	delete(f.leases, token)
	f.mu.Unlock()
}

func (f *Frontier) isClosed() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.closed
}

// heartbeat extends this process's leases every LeaseTimeout/3, so only a dead (or partitioned)
// worker's jobs are reclaimed.
func (f *Frontier) heartbeat() {
	defer f.wg.Done()
	t := time.NewTicker(f.cfg.LeaseTimeout / 3)
	defer t.Stop()
	for {
		select {
		case <-f.stop:
			return
		case <-t.C:
		}
		type key struct{ run, consumer string }
		groups := map[key][]any{}
		f.mu.Lock()
		for tok, h := range f.leases {
			k := key{h.runID, h.consumer}
			groups[k] = append(groups[k], entryID(tok))
		}
		f.mu.Unlock()
		for k, ids := range groups {
			ctx, cancel := context.WithTimeout(context.Background(), f.cfg.LeaseTimeout/3)
			args := append([]any{groupWorkers, k.consumer}, ids...)
			if err := extendScript.Run(ctx, f.rdb, []string{f.k.queue(k.run)}, args...).Err(); err != nil {
				slog.Warn("redisq: lease heartbeat failed", "run", k.run, "err", err)
			}
			cancel()
		}
	}
}

// Close stops the heartbeat and hands back every lease this process still holds (a worker stopped
// with a job in hand), so other workers pick those jobs up at once. It does not close the client.
func (f *Frontier) Close() error {
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return nil
	}
	f.closed = true
	hs := make([]held, 0, len(f.leases))
	for _, h := range f.leases {
		hs = append(hs, h)
	}
	f.mu.Unlock()
	close(f.stop)
	f.wg.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var errs []error
	for _, h := range hs {
		if err := f.Release(ctx, h.lease); err != nil && !errors.Is(err, ErrLeaseLost) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// kill stops the heartbeat without handing anything back (tests: a process killed with -9).
func (f *Frontier) kill() {
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return
	}
	f.closed = true
	f.mu.Unlock()
	close(f.stop)
	f.wg.Wait()
}

// entryID is the stream entry id of a lease token ("<entry id>@<attempt>").
func entryID(token string) string {
	if i := strings.IndexByte(token, '@'); i >= 0 {
		return token[:i]
	}
	return token
}
