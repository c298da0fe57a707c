package monitor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/afterlife-watch/afterlife/crawler"
	"github.com/afterlife-watch/afterlife/reports"
)

// Worker claims jobs of one run from a frontier and handles them. Several workers (goroutines or
// processes) may share a frontier; workers in one process should share one Stats.
type Worker struct {
	Name     string
	Frontier Frontier
	Fetcher  crawler.Fetcher
	Sources  map[string]crawler.Source
	Matcher  Matcher
	Recorder Recorder
	// Stats accumulates per-source counters and flushes them to the Recorder; share it between
	// the workers of a process. Nil: a private one.
	Stats *Stats
	Log   *slog.Logger
	// Observer is told what the worker does (metrics); share one between a process's workers.
	// Nil: nothing is observed.
	Observer *observer

	// JobTimeout bounds one job (default 5m). RetryBase/RetryMax shape the backoff before a failed
	// job is tried again (default 2s / 2m).
	JobTimeout time.Duration
	RetryBase  time.Duration
	RetryMax   time.Duration
	// MaxRetryAfter caps how long a job waits when the server says when to come back (default 15m).
	MaxRetryAfter time.Duration
	// IdleMax caps the wait between claims when no job is ready (default 500ms).
	IdleMax time.Duration
	// ExitWhenDrained makes Run return once the run is drained (embedded). A distributed worker
	// keeps waiting for work instead.
	ExitWhenDrained bool
	// After BreakAfter failed jobs of a source in a row, with no success yet in this process, the
	// worker fails that source's remaining jobs at once instead of hammering it (default 3; <0
	// disables).
	BreakAfter int
	// NoWait hands failed jobs back ready at once (a replay: the answers come from cassettes, in
	// their recorded order, so waiting changes nothing). The MaxRetryAfter cap still applies.
	NoWait bool
	// MaxJobsPerSource caps the follow-up jobs one source may enqueue in a run from this process
	// (default DefaultMaxJobsPerSource; <0: no cap). Follow-ups past it are dropped, counted and
	// named in the source's message, so a hostile page cannot grow the run without bound.
	MaxJobsPerSource int

	// wake (set by Pool, shared by its workers) ends an idle worker's wait as soon as another
	// worker finishes a job: its follow-ups may be ready, or the run drained.
	wake *wakeup
	// feed (set by Pool when the frontier can settle) is the pool's shared claims and acks.
	feed *feed
}

// DefaultMaxJobsPerSource is the default budget of follow-up jobs per source per run (per
// process): far above what a real listing needs (max_pages × page size, plus a detail job per
// hit), far below what a flooded search page asks for.
const DefaultMaxJobsPerSource = 50_000

func (w *Worker) defaults() {
	if w.Name == "" {
		w.Name = "worker"
	}
	if w.Log == nil {
		w.Log = slog.Default()
	}
	if w.Stats == nil {
		w.Stats = NewStats(w.Fetcher)
	}
	if w.JobTimeout <= 0 {
		w.JobTimeout = 5 * time.Minute
	}
	if w.RetryBase <= 0 {
		w.RetryBase = 2 * time.Second
	}
	if w.RetryMax <= 0 {
		w.RetryMax = 2 * time.Minute
	}
	if w.MaxRetryAfter <= 0 {
		w.MaxRetryAfter = 15 * time.Minute
	}
	if w.IdleMax <= 0 {
		w.IdleMax = 500 * time.Millisecond
	}
	if w.BreakAfter == 0 {
		w.BreakAfter = 3
	}
	if w.MaxJobsPerSource == 0 {
		w.MaxJobsPerSource = DefaultMaxJobsPerSource
	}
}

// Run claims and handles jobs of runID until ctx is done, or (ExitWhenDrained) the run is drained.
// A job interrupted by ctx is left leased: its lease expires (or the embedded frontier hands it
// back on the next open) and it is handled again.
func (w *Worker) Run(ctx context.Context, runID string) error {
	w.defaults()
	log := w.Log.With("run_id", runID, "worker", w.Name)
	// Jobs flush source counters at most every FlushEvery; whatever is left goes out when the
	// worker stops, drained or cancelled (SIGTERM), on a context that is no longer cancelled.
	defer w.Stats.Flush(context.WithoutCancel(ctx), w.Recorder, runID, log)
	if st := settlerOf(w.Frontier); st != nil {
		return w.runFeed(ctx, log, st, runID)
	}
	idle := 10 * time.Millisecond
	claimErrs := 0
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := w.Stats.Fatal(); err != nil {
			return fmt.Errorf("worker %s: %w", w.Name, err)
		}
		woken := w.wake.wait() // before claiming: a job finished after this claim ends the idle wait
		ls, err := w.Frontier.Claim(ctx, runID, w.Name, 1)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if w.backendFull(log, err) {
				return fmt.Errorf("worker %s: %w", w.Name, w.Stats.Fatal())
			}
			claimErrs++
			if claimErrs >= 10 {
				return fmt.Errorf("worker %s: frontier: %w", w.Name, err)
			}
			log.Warn("claim failed", "err", err)
			if err := sleep(ctx, crawler.Backoff(claimErrs, 100*time.Millisecond, 5*time.Second)); err != nil {
				return err
			}
			continue
		}
		claimErrs = 0
		w.Observer.queue(ctx, w.Frontier, runID)
		if len(ls) == 0 {
			if done, err := w.idleWait(ctx, runID, &idle, woken); done || err != nil {
				return err
			}
			continue
		}
		idle = 10 * time.Millisecond
		for _, l := range ls {
			w.Handle(ctx, l)
			w.wake.signal()
		}
		if err := w.Stats.Fatal(); err != nil {
			return fmt.Errorf("worker %s: %w", w.Name, err)
		}
	}
}

// runFeed is Run through a feed (a frontier that can settle): jobs come from shared claims and
// each handled job's ack goes with the next Settle (see feed). What is still unacked when the
// worker stops is settled on the way out.
func (w *Worker) runFeed(ctx context.Context, log *slog.Logger, st crawler.Settler, runID string) error {
	f := w.feed
	if f == nil {
		f = newFeed(st, 1, w.Fetcher, w.Sources, w.wake)
	}
	defer f.flush(context.WithoutCancel(ctx), w, runID)
	// The feed syncs the recorder before it acks (syncRecords), so a recorder that can hold
	// writes back until then may (reports.DeferUntilSync).
	hctx := ctx
	if _, ok := w.Recorder.(syncer); ok {
		hctx = reports.DeferUntilSync(ctx)
	}
	idle := 10 * time.Millisecond
	claimErrs := 0
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := w.Stats.Fatal(); err != nil {
			return fmt.Errorf("worker %s: %w", w.Name, err)
		}
		woken := w.wake.wait()
		l, ok, err := f.next(ctx, w, runID)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if w.backendFull(log, err) {
				return fmt.Errorf("worker %s: %w", w.Name, w.Stats.Fatal())
			}
			claimErrs++
			if claimErrs >= 10 {
				return fmt.Errorf("worker %s: frontier: %w", w.Name, err)
			}
			log.Warn("claim failed", "err", err)
			if err := sleep(ctx, crawler.Backoff(claimErrs, 100*time.Millisecond, 5*time.Second)); err != nil {
				return err
			}
			continue
		}
		claimErrs = 0
		w.Observer.queue(ctx, w.Frontier, runID)
		if !ok {
			stop := f.waiting()
			done, err := w.idleWait(ctx, runID, &idle, woken)
			stop()
			if done || err != nil {
				return err
			}
			continue
		}
		idle = 10 * time.Millisecond
		var acks []crawler.Ack
		w.handle(hctx, l, &acks)
		var ack *crawler.Ack
		if len(acks) > 0 {
			ack = &acks[0]
		}
		f.done(ctx, w, runID, l, ack)
	}
}

// idleWait is what a worker does when nothing was ready: with ExitWhenDrained it stops (done)
// once the run is drained; otherwise it waits, backing off up to IdleMax, until the next job is
// due or another worker finishes one (woken).
func (w *Worker) idleWait(ctx context.Context, runID string, idle *time.Duration, woken <-chan struct{}) (done bool, err error) {
	if w.ExitWhenDrained {
		if d, err := isDrained(ctx, w.Frontier, runID); err == nil && d {
			// The final counts are for an observer only: counting the run's jobs per worker was
			// four COUNTs over the run on the frontier's one connection, at the very end of a run.
			if w.Observer.observing() {
				if st, err := w.Frontier.Stats(ctx, runID); err == nil {
					w.Observer.queueFinal(runID, st)
				}
			}
			return true, nil
		}
	}
	wait := *idle
	if t, err := w.Frontier.NextReady(ctx, runID); err == nil && !t.IsZero() {
		if d := time.Until(t); d > wait {
			wait = d
		}
	}
	if wait > w.IdleMax {
		wait = w.IdleMax
	}
	if err := sleepOrWake(ctx, wait, woken); err != nil {
		return false, err
	}
	if *idle < w.IdleMax {
		*idle *= 2
	}
	return false, nil
}

// drainer is a frontier that tells whether a run is drained without counting its jobs (the
// embedded frontier).
type drainer interface {
	Drained(ctx context.Context, runID string) (bool, error)
}

// isDrained reports whether nothing of runID is pending or in flight: through the frontier's
// Drained when it has one (looking through a gate), else from its Stats.
func isDrained(ctx context.Context, fr crawler.Frontier, runID string) (bool, error) {
	inner := fr
	if g, ok := fr.(*gate); ok {
		if g.seeding.Load() {
			return false, nil
		}
		inner = g.Frontier
	}
	if d, ok := inner.(drainer); ok {
		return d.Drained(ctx, runID)
	}
	st, err := fr.Stats(ctx, runID)
	return err == nil && st.Drained(), err
}

func sleepOrWake(ctx context.Context, d time.Duration, woken <-chan struct{}) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-woken:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// settle acks the handled jobs (with their follow-ups) and claims up to max jobs in one round
// trip. An ack that failed is treated as in Handle: its follow-ups go back to the source's job
// budget, a job with follow-ups is retried (they must not be lost), one without is left to its
// lease; an ack's duplicate follow-ups go back to the budget too.
func (w *Worker) settle(ctx context.Context, st crawler.Settler, runID string, acks []crawler.Ack, want crawler.Want) ([]crawler.Lease, error) {
	ls, res, err := st.Settle(ctx, runID, w.Name, acks, want)
	for i, r := range res {
		a := acks[i]
		src := a.Lease.Job.Source
		if r.Err == nil {
			if r.Added < len(a.Next) {
				w.Stats.reserveJobs(src, r.Added-len(a.Next), w.MaxJobsPerSource) // duplicates cost nothing
			}
			continue
		}
		aerr := r.Err
		w.Stats.reserveJobs(src, -len(a.Next), w.MaxJobsPerSource)
		log := w.Log.With("run_id", runID, "job_id", a.Lease.Job.ID, "source", a.Lease.Job.Source, "kind", a.Lease.Job.Kind,
			"attempt", a.Lease.Job.Attempt)
		if w.backendFull(log, aerr) {
			continue
		}
		if len(a.Next) > 0 {
			w.retry(context.WithoutCancel(ctx), log, a.Lease, fmt.Errorf("enqueue follow-ups: %w", aerr))
			continue
		}
		log.Warn("ack failed; the job will run again after its lease expires", "err", aerr)
	}
	return ls, err
}

// settlerOf returns fr's Settle, when fr (or the frontier a gate wraps) has one.
func settlerOf(fr Frontier) crawler.Settler {
	if g, ok := fr.(*gate); ok {
		if _, ok := g.Frontier.(crawler.Settler); ok {
			return gateSettler{g}
		}
		return nil
	}
	s, _ := fr.(crawler.Settler)
	return s
}

// gateSettler is Settle through a gate: a shut gate claims nothing (acks still go through), and the
// jobs in hand are counted as Claim, AckEnqueue and the others count them.
type gateSettler struct{ g *gate }

func (s gateSettler) Settle(ctx context.Context, runID, worker string, acks []crawler.Ack, want crawler.Want) ([]crawler.Lease, []crawler.AckResult, error) {
	if s.g.shut.Load() {
		want.Max = 0
	}
	ls, errs, err := s.g.Frontier.(crawler.Settler).Settle(ctx, runID, worker, acks, want)
	s.g.held.Add(int64(len(ls) - len(acks)))
	return ls, errs, err
}

// Release hands back jobs claimed and never started, when the gated frontier can.
func (s gateSettler) Release(ctx context.Context, ls []crawler.Lease) error {
	r, ok := s.g.Frontier.(releaser)
	if !ok {
		return nil
	}
	err := r.Release(ctx, ls)
	if err == nil {
		s.g.held.Add(-int64(len(ls)))
	}
	return err
}

// Handle performs one leased job: the adapter fetches and parses, artifacts are matched and
// recorded, follow-up jobs enqueued, listings and gone artifacts noted, and the job acked. Errors
// never escape: a permanent one is recorded against the source and the job buried (or acked), a
// transient one hands the job back for a later attempt. Source counters are flushed at most every
// FlushEvery: a caller of Handle (not Run or Pool) flushes Stats itself when done.
func (w *Worker) Handle(ctx context.Context, l crawler.Lease) {
	w.handle(ctx, l, nil)
}

// handle is Handle; with pending set, a job that succeeded is not acked here but appended to
// *pending, for the worker's next Settle (Run).
func (w *Worker) handle(ctx context.Context, l crawler.Lease, pending *[]crawler.Ack) {
	w.defaults()
	job := l.Job
	runID := job.RunID
	log := withLazy(w.Log, "run_id", runID, "job_id", job.ID, "source", job.Source, "kind", job.Kind, "attempt", job.Attempt)
	if w.Stats.Fatal() != nil {
		return // the process stops (a full backend): the job stays leased for the resumed run
	}
	src, ok := w.Sources[job.Source]
	if !ok {
		w.fail(ctx, log, l, fmt.Errorf("no adapter for source %q in this run", job.Source), true)
		return
	}
	if open, cause, first := w.Stats.breakerOpen(job.Source, w.BreakAfter); open {
		err := fmt.Errorf("source unreachable: %d jobs failed in a row, the rest skipped (%s)", w.BreakAfter, cause)
		if first {
			log.Warn("source unreachable; skipping its remaining jobs", "cause", cause)
		}
		w.retire(ctx, log, l, err)
		return
	}
	jctx, cancel := context.WithTimeout(ctx, w.JobTimeout)
	start := time.Now()
	res, err := src.Handle(jctx, job, crawler.WithLog(w.Fetcher, log))
	cancel()
	if ctx.Err() != nil {
		w.Observer.job(job.Source, "interrupted", job.Attempt > 0, time.Since(start))
		log.Debug("job interrupted; it will be handed out again", "err", ctx.Err())
		return
	}
	if w.backendFull(log, err) {
		// The shared cache or limiter could not write: not the source's fault, and no job may be
		// retired for it (the breaker would bury the source's whole queue). The job stays leased.
		w.Observer.job(job.Source, "interrupted", job.Attempt > 0, time.Since(start))
		return
	}
	if err != nil {
		outcome := "retry"
		if crawler.Permanent(err) {
			outcome = "failed"
		}
		w.Observer.job(job.Source, outcome, job.Attempt > 0, time.Since(start))
		w.Stats.jobFailed(job.Source, err)
		w.fail(ctx, log, l, err, crawler.Permanent(err))
		return
	}
	next, err := w.apply(ctx, log, job, res)
	if err != nil {
		if ctx.Err() != nil || w.backendFull(log, err) {
			return // a full backend: the job stays leased, to be handled again when the run resumes
		}
		// The store or the frontier failed, not the source: try the job again later.
		w.retry(ctx, log, l, fmt.Errorf("recording results: %w", err))
		return
	}
	// The source's follow-up budget: what is past it is dropped (and counted in its message).
	granted := w.Stats.reserveJobs(job.Source, len(next), w.MaxJobsPerSource)
	if granted < len(next) {
		if w.Stats.overBudget(job.Source, len(next)-granted) {
			log.Warn("source over its job budget for this run; follow-up jobs dropped", "max_jobs_per_source", w.MaxJobsPerSource)
		}
		next = next[:granted]
	}
	// Follow-ups and the ack together (one transaction in the embedded frontier); in Run, with the
	// worker's next claim too (Settle, which settles the budget reservation as below).
	if pending != nil {
		*pending = append(*pending, crawler.Ack{Lease: l, Next: next})
	} else if added, err := w.Frontier.AckEnqueue(ctx, l, next...); err != nil {
		w.Stats.reserveJobs(job.Source, -granted, w.MaxJobsPerSource)
		if ctx.Err() != nil || w.backendFull(log, err) {
			return
		}
		if len(next) > 0 {
			w.retry(ctx, log, l, fmt.Errorf("enqueue follow-ups: %w", err))
			return
		}
		log.Warn("ack failed; the job will run again after its lease expires", "err", err)
	} else if added < granted {
		w.Stats.reserveJobs(job.Source, added-granted, w.MaxJobsPerSource) // duplicates cost nothing
	}
	w.Stats.jobDone(job.Source, len(res.Artifacts), res.Notes)
	w.Observer.job(job.Source, "ok", job.Attempt > 0, time.Since(start))
	w.Stats.MaybeFlush(ctx, w.Recorder, runID, log, FlushEvery)
	log.Debug("job done", "artifacts", len(res.Artifacts), "next", len(res.Next), "elapsed", time.Since(start))
}

// apply records what a job produced. Everything here is idempotent within a run, so a job that
// is handled twice (crash between apply and ack) records nothing twice. Follow-up jobs are
// returned, for the ack (Frontier.AckEnqueue).
func (w *Worker) apply(ctx context.Context, log *slog.Logger, job crawler.Job, res crawler.Result) ([]crawler.Job, error) {
	seen := time.Now().UTC()
	newSightings := 0
	var batch []reports.Observation
	// flush records what is batched. Lineage needs order: a model whose base model is earlier in
	// the same result must be matched after that base model is recorded, so the batch is flushed
	// before matching any artifact that names base models.
	//
	// In a feed (ctx marked reports.DeferUntilSync), a store that can hold records back until its
	// Sync (reports.SQLiteStore.RecordBatchLater) gets them without the worker waiting for the
	// commit: the feed syncs the store before it acks the job, and the store's lineage reads
	// commit held-back records first. The new sightings are counted when the write is in.
	later, _ := w.Recorder.(laterRecorder)
	if later != nil && !reports.DeferringUntilSync(ctx) {
		later = nil
	}
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		defer func() { batch = batch[:0] }()
		if later != nil {
			src := job.Source
			err := later.RecordBatchLater(ctx, job.RunID, seen, slices.Clone(batch), func(rrs []reports.RecordResult) {
				n := 0
				for _, rr := range rrs {
					n += rr.NewSightings
				}
				w.Stats.sightings(src, n)
			})
			if err != nil {
				return fmt.Errorf("record %d artifacts: %w", len(batch), err)
			}
			return nil
		}
		rrs, err := w.Recorder.RecordBatch(ctx, job.RunID, seen, batch)
		if err != nil {
			return fmt.Errorf("record %d artifacts: %w", len(batch), err)
		}
		for _, rr := range rrs {
			newSightings += rr.NewSightings
		}
		return nil
	}
	for i := range res.Artifacts {
		a := &res.Artifacts[i]
		if a.Source == "" {
			a.Source = job.Source
		}
		if err := a.Validate(); err != nil {
			log.Warn("adapter produced an invalid artifact; skipped", "artifact_id", a.ID, "err", err)
			w.Stats.invalidArtifact(job.Source, fmt.Errorf("invalid artifact %q: %w", a.ID, err))
			continue
		}
		if len(a.BaseModels) > 0 {
			if err := flush(); err != nil {
				return nil, err
			}
		}
		fs := w.Matcher.Match(a)
		w.Observer.findings(job.Source, fs)
		if len(fs) > 0 {
			log.Debug("findings", "artifact_id", a.ID, "findings", len(fs))
		}
		batch = append(batch, reports.Observation{Artifact: *a, Findings: fs})
	}
	if err := flush(); err != nil {
		return nil, err
	}
	if err := w.recordProbes(ctx, log, job, res.Probes); err != nil {
		return nil, err
	}
	res.Next = append(res.Next, w.followUps(job, res.Artifacts)...)
	if res.Listing != nil {
		gone, err := w.Recorder.RecordListing(ctx, job.RunID, res.Listing.Scope, res.Listing.IDs, seen, MissAfter)
		if err != nil {
			return nil, fmt.Errorf("record listing %s: %w", res.Listing.Scope, err)
		}
		if len(gone) > 0 {
			log.Info("artifacts gone from a complete listing", "scope", res.Listing.Scope, "gone", len(gone))
		}
	}
	if len(res.Gone) > 0 {
		if err := w.Recorder.MarkGone(ctx, job.RunID, res.Gone, seen); err != nil {
			return nil, fmt.Errorf("mark gone: %w", err)
		}
	}
	var next []crawler.Job
	if len(res.Next) > 0 {
		next = make([]crawler.Job, 0, len(res.Next))
		for _, n := range res.Next {
			next = append(next, normalizeJob(n, job.RunID, job.Source))
		}
	}
	w.Stats.sightings(job.Source, newSightings)
	return next, nil
}

// laterRecorder is a recorder that can hold a batch of records back until its Sync (the
// embedded store).
type laterRecorder interface {
	RecordBatchLater(ctx context.Context, runID string, seenAt time.Time, obs []reports.Observation, done func([]reports.RecordResult)) error
}

func (w *Worker) fail(ctx context.Context, log *slog.Logger, l crawler.Lease, err error, permanent bool) {
	if !permanent {
		w.retry(ctx, log, l, err)
		return
	}
	log.Warn("job failed permanently", "err", err)
	w.retire(ctx, log, l, err)
}

// retire records a permanent failure and buries (or acks) the job.
func (w *Worker) retire(ctx context.Context, log *slog.Logger, l crawler.Lease, err error) {
	w.Stats.jobError(l.Job.Source, err)
	w.noteFailure(ctx, log, l, err, true)
	if berr := w.Frontier.Bury(ctx, l, err.Error()); berr != nil && !w.backendFull(log, berr) {
		log.Warn("could not retire the failed job", "err", berr)
	}
	w.Stats.MaybeFlush(ctx, w.Recorder, l.Job.RunID, log, FlushEvery)
}

func (w *Worker) retry(ctx context.Context, log *slog.Logger, l crawler.Lease, err error) {
	wait := crawler.Backoff(l.Job.Attempt, w.RetryBase, w.RetryMax)
	// A server that said how long to wait (Retry-After, rate-limit reset) is obeyed, up to a cap;
	// beyond it the job fails now rather than stall the run for hours.
	var ra interface{ RetryAfter() time.Duration }
	if errors.As(err, &ra) {
		if d := ra.RetryAfter(); d > w.MaxRetryAfter {
			w.fail(ctx, log, l, fmt.Errorf("%w (the server asks to wait %s, more than the %s cap)", err,
				d.Round(time.Second), w.MaxRetryAfter), true)
			return
		} else if d > wait {
			wait = d
		}
	}
	if w.NoWait {
		wait = 0
	}
	log.Warn("job failed; will retry", "err", err, "wait", wait.Round(time.Millisecond))
	w.Stats.jobError(l.Job.Source, err)
	w.noteFailure(ctx, log, l, err, false)
	if rerr := w.Frontier.Retry(ctx, l, time.Now().Add(wait), err.Error()); rerr != nil && !w.backendFull(log, rerr) {
		log.Warn("could not hand the job back; its lease will expire", "err", rerr)
	}
	w.Stats.MaybeFlush(ctx, w.Recorder, l.Job.RunID, log, FlushEvery)
}

// ErrBackendFull is a write the backend refused for want of memory (Redis at maxmemory with
// noeviction answers "OOM command not allowed"). Nothing may be dropped silently, so the run stops:
// the jobs in hand stay leased and the run resumes, losing nothing, once there is room.
var ErrBackendFull = errors.New("the backend refused a write: out of memory")

// BackendFull reports whether err is a write the backend refused for want of memory.
func BackendFull(err error) bool {
	return err != nil && (errors.Is(err, ErrBackendFull) || strings.Contains(err.Error(), "OOM command not allowed"))
}

// backendFull, when err is a refused write, stops this process's workers (Stats.Fatal) and logs it
// once, loudly.
func (w *Worker) backendFull(log *slog.Logger, err error) bool {
	if !BackendFull(err) {
		return false
	}
	if w.Stats.setFatal(fmt.Errorf("%w (%v): the run stops here and loses nothing; give Redis more memory (maxmemory) "+
		"or free some, then run the scan again to resume", ErrBackendFull, err)) {
		log.Error("the backend refused a write for want of memory; stopping the run", "err", err)
	}
	return true
}

// normalizeJob fills a job's run, source and id.
func normalizeJob(j crawler.Job, runID, source string) crawler.Job {
	j.RunID = runID
	if j.Source == "" {
		j.Source = source
	}
	if j.ID == "" {
		j.ID = crawler.Key(j.Source, j.Kind, j.URL)
	}
	j.Attempt = 0
	return j
}

// Pool runs n workers sharing everything but their name, until the run is drained or ctx is done.
func Pool(ctx context.Context, runID string, n int, proto Worker) error {
	if n < 1 {
		n = 1
	}
	proto.defaults()
	if proto.wake == nil {
		proto.wake = &wakeup{}
	}
	if st := settlerOf(proto.Frontier); st != nil {
		proto.feed = newFeed(st, n, proto.Fetcher, proto.Sources, proto.wake)
	}
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := 0; i < n; i++ {
		w := proto
		w.Name = fmt.Sprintf("%s-%d", proto.Name, i+1)
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			errs[i] = w.Run(ctx, runID)
		}(i)
	}
	wg.Wait()
	if proto.feed != nil {
		proto.feed.flush(context.WithoutCancel(ctx), &proto, runID)
	}
	proto.Stats.Flush(context.WithoutCancel(ctx), proto.Recorder, runID, proto.Log)
	return errors.Join(errs...)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

var _ Store = (*reports.SQLiteStore)(nil)
