package monitor

import (
	"context"
	"fmt"
	"sync"

	"github.com/afterlife-watch/afterlife/crawler"
)

// feed hands a Pool's workers their jobs from shared claims and acks what they finish with the
// next claim, through a frontier that can settle (crawler.Settler; the embedded frontier does it
// in one transaction): one Settle acks every job finished since the last one (with its follow-ups)
// and claims up to one job per worker. A worker that finishes a job takes the next from the
// claimed ones without a round trip; only when none is left does it settle. With every worker
// busy that is one transaction per pool-size jobs instead of two per job.
//
// Two things keep discovery and the end of a run prompt: when a worker waits for work (nothing
// was ready), a finished job is settled at once (its follow-ups become claimable, or the run is
// seen drained) and jobs are claimed for the waiting workers; and idle workers are woken then.
// A source with an in-flight cap (arXiv: one request at a time) never has more of its jobs
// handled at once than its cap: more would only wait for a connection slot while other sources'
// jobs wait for a worker. Its claimed jobs beyond the cap wait in the buffer while the workers
// take other jobs, and no more of its jobs are claimed until those are done.
//
// Durability is unchanged where it matters: a job's results are recorded before its ack is
// queued, and a queued ack is committed with the next Settle — at the latest when the pool
// stops (flush). A process killed meanwhile loses only acks, whose jobs are done again and record
// nothing twice (recording is idempotent within a run).
type feed struct {
	st   crawler.Settler
	size int            // jobs claimed per settle: the pool's workers
	caps map[string]int // in-flight caps of the run's capped sources
	wake *wakeup        // signalled when a settle ends: idle workers look again

	mu        sync.Mutex
	buf       []crawler.Lease // claimed, not started
	acks      []crawler.Ack   // finished, not acked
	refilling chan struct{}   // non-nil while a Settle is under way; closed when it ends
	idle      int             // workers waiting for work
	running   map[string]int  // jobs being handled, per capped source
	dry       bool            // the last Settle claimed fewer jobs than it asked for
}

func newFeed(st crawler.Settler, size int, f crawler.Fetcher, sources map[string]crawler.Source, wake *wakeup) *feed {
	fd := &feed{st: st, size: max(size, 1), caps: map[string]int{}, running: map[string]int{}, wake: wake}
	if c, ok := f.(interface{ MaxInFlight(source string) int }); ok {
		for name := range sources {
			if n := c.MaxInFlight(name); n > 0 {
				fd.caps[name] = n
			}
		}
	}
	return fd
}

// next returns a job for w: a claimed one, else one from a Settle that also acks the finished
// jobs. ok is false when nothing is ready now.
func (f *feed) next(ctx context.Context, w *Worker, runID string) (crawler.Lease, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for {
		if l, ok := f.pop(); ok {
			// Few claimed jobs are left: settle behind the workers (sync the store, ack, claim)
			// while they take those, so the next worker to finish finds jobs waiting instead of
			// waiting for the commits (lowWaterFactor). Not when nothing is to ack and the last
			// claim came back short: that would only poll.
			if len(f.buf) <= f.size*lowWaterFactor && f.refilling == nil && (len(f.acks) > 0 || !f.dry) {
				f.refillBehind(ctx, w, runID)
			}
			return l, true, nil
		}
		if ch := f.refilling; ch != nil {
			f.mu.Unlock()
			<-ch // a Settle always returns; its claims are shared
			f.mu.Lock()
			continue
		}
		ls, err := f.refill(ctx, w, runID, f.size)
		if err != nil {
			return crawler.Lease{}, false, err
		}
		if len(ls) == 0 {
			return crawler.Lease{}, false, nil
		}
	}
}

// pop takes the first claimed job whose source has a free slot (mu held).
func (f *feed) pop() (crawler.Lease, bool) {
	for i, l := range f.buf {
		src := l.Job.Source
		if c, capped := f.caps[src]; capped {
			if f.running[src] >= c {
				continue
			}
			f.running[src]++
		}
		f.buf = append(f.buf[:i], f.buf[i+1:]...)
		return l, true
	}
	return crawler.Lease{}, false
}

// refill acks the finished jobs and claims up to n more (called with mu held, which it releases
// during the Settle).
func (f *feed) refill(ctx context.Context, w *Worker, runID string, n int) ([]crawler.Lease, error) {
	acks, want, ch := f.beginRefill(n)
	f.mu.Unlock()
	ls, err := f.settle(ctx, w, runID, acks, want)
	f.mu.Lock()
	f.endRefill(ls, n, len(acks) > 0, ch)
	return ls, err
}

// aheadFactor is how many jobs per worker a Settle behind the workers claims: the fewer
// transactions (each a commit of the frontier's pages, and a store Sync before it), the less CPU
// per page. 4 against 2 cut a demo-world scan's settles by about a quarter (frontier ~150 → ~115
// transactions, store ~205 → ~160 per 842 pages) with no loss at 20 ms latency: a worker that
// finds nothing claimed still settles at once (next), so follow-ups wait for a busy pool only
// (bench/results/crawl.md, round 5).
var aheadFactor = 4

// lowWaterFactor is how many claimed jobs per worker may still wait when a Settle behind the
// workers starts. It used to start when the last one was taken (0): the other workers then
// finished their jobs while the store's Sync and the frontier's commit ran, and waited for them
// — ~11 % of the workers' time in a no-latency crawl, and the pipeline used ~165 % of the two
// cores where bare colly used ~180 %. With 2 (half of what a Settle claims) the commits overlap
// the work. Pipeline/colly in runs side by side (medians of 5 rounds, two runs each): 0 jobs per
// worker 0.42–0.43, ½ 0.44–0.47, 1 0.45–0.49, 2 0.49–0.54, 3 0.52–0.55, 4 0.51; ~183 % of the
// cores from 2 on, and no more frontier WAL per scan (bench/results/crawl.md, "Stop 26").
const lowWaterFactor = 2

// refillBehind is refill in a goroutine of its own (called with mu held; returns at once). What it
// claims goes to the buffer; a claim error is left to the worker that next finds the buffer empty
// (its own refill sees it again); failed acks are handled as in refill (Worker.settle).
func (f *feed) refillBehind(ctx context.Context, w *Worker, runID string) {
	n := f.size * aheadFactor
	acks, want, ch := f.beginRefill(n)
	go func() {
		ls, err := f.settle(ctx, w, runID, acks, want)
		if err != nil && ctx.Err() == nil {
			w.Log.Debug("claim behind the workers failed; the next claim tries again", "err", err)
		}
		f.mu.Lock()
		f.endRefill(ls, n, len(acks) > 0, ch)
		f.mu.Unlock()
	}()
}

// beginRefill marks a Settle under way and takes what it acks and claims (mu held).
func (f *feed) beginRefill(n int) ([]crawler.Ack, crawler.Want, chan struct{}) {
	ch := make(chan struct{})
	f.refilling = ch
	acks := f.acks
	f.acks = nil
	// A capped source whose jobs are all taken (being handled, or waiting here for a slot) gets no
	// more claimed.
	want := crawler.Want{Max: n}
	for src, c := range f.caps {
		held := f.running[src]
		for _, l := range f.buf {
			if l.Job.Source == src {
				held++
			}
		}
		if held >= c {
			want.Skip = append(want.Skip, src)
		}
	}
	return acks, want, ch
}

// settle makes the finished jobs' records durable, then acks them and claims (mu not held).
func (f *feed) settle(ctx context.Context, w *Worker, runID string, acks []crawler.Ack, want crawler.Want) ([]crawler.Lease, error) {
	acks = f.syncRecords(ctx, w, acks)
	return w.settle(ctx, f.st, runID, acks, want)
}

// endRefill hands a Settle's claims to the workers and ends it (mu held). Idle workers are woken
// when it changed something for them: it claimed jobs, or it acked some (follow-ups, or the run
// drained). A Settle that did neither leaves them asleep: woken by it, an idle worker settled
// again at once, and woke the others with its own empty Settle — idle workers never slept, and
// spun through empty transactions (up to 350 of a demo-world scan's ~430 Settles) while the last
// jobs ran or the seeds were planned. What else makes work (seeds enqueued, a job handed back,
// a capped source's slot freed) signals on its own.
func (f *feed) endRefill(ls []crawler.Lease, n int, acked bool, ch chan struct{}) {
	f.buf = append(f.buf, ls...)
	f.dry = len(ls) < n
	f.refilling = nil
	close(ch)
	if len(ls) > 0 || acked {
		f.wake.signal()
	}
}

// syncer is a recorder that may hold writes back until Sync (reports.SQLiteStore, for calls
// whose context is marked with reports.DeferUntilSync).
type syncer interface {
	Sync(ctx context.Context) error
}

// syncRecords makes what the finished jobs recorded durable before they are acked: a job is
// never acked with its results still held back. If that fails, the jobs are handed back (retried)
// instead of acked.
func (f *feed) syncRecords(ctx context.Context, w *Worker, acks []crawler.Ack) []crawler.Ack {
	sy, ok := w.Recorder.(syncer)
	if !ok || len(acks) == 0 {
		return acks
	}
	err := sy.Sync(context.WithoutCancel(ctx))
	if err == nil {
		return acks
	}
	for _, a := range acks {
		j := a.Lease.Job
		w.Stats.reserveJobs(j.Source, -len(a.Next), w.MaxJobsPerSource)
		log := w.Log.With("run_id", j.RunID, "job_id", j.ID, "source", j.Source, "kind", j.Kind, "attempt", j.Attempt)
		w.retry(context.WithoutCancel(ctx), log, a.Lease, fmt.Errorf("recording results: %w", err))
	}
	return nil
}

// done says w finished l; ack (nil: the job was retried, buried or interrupted) goes with the
// next Settle, at once if some worker waits for work.
func (f *feed) done(ctx context.Context, w *Worker, runID string, l crawler.Lease, ack *crawler.Ack) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.caps[l.Job.Source]; ok {
		f.running[l.Job.Source]--
	}
	if ack != nil {
		f.acks = append(f.acks, *ack)
	}
	switch {
	case f.idle > 0 && f.refilling == nil && len(f.acks) > 0:
		_, _ = f.refill(ctx, w, runID, f.idle) // a claim error is the idle workers' to see
	case f.idle > 0:
		f.wake.signal() // a retried job is due later, or a capped source's slot is free
	}
}

// waiting counts w among the workers waiting for work until the returned func is called.
func (f *feed) waiting() func() {
	f.mu.Lock()
	f.idle++
	f.mu.Unlock()
	return func() {
		f.mu.Lock()
		f.idle--
		f.mu.Unlock()
	}
}

// awaitSettle returns once no Settle is under way (mu held; released while it waits).
func (f *feed) awaitSettle() {
	for f.refilling != nil {
		ch := f.refilling
		f.mu.Unlock()
		<-ch
		f.mu.Lock()
	}
}

// flush acks the finished jobs now (claiming nothing).
func (f *feed) flush(ctx context.Context, w *Worker, runID string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.awaitSettle()
	if len(f.acks) > 0 {
		_, _ = f.refill(ctx, w, runID, 0)
	}
	// Jobs claimed ahead and never started go back (they would wait for their lease to expire, or
	// for the next open of the frontier); one that cannot go back is handed out again after that.
	if r, ok := f.st.(releaser); ok && len(f.buf) > 0 {
		if err := r.Release(ctx, f.buf); err != nil {
			w.Log.Warn("could not hand back the jobs claimed ahead; they are handed out again when their lease expires", "jobs", len(f.buf), "err", err)
		}
		f.buf = nil
	}
}

// releaser is a frontier that hands back jobs claimed and never started (the embedded frontier).
type releaser interface {
	Release(ctx context.Context, ls []crawler.Lease) error
}

// wakeup lets idle workers of a Pool wait for another worker to finish a job instead of only
// backing off: a job's follow-ups are claimed at once, and a drained run is seen at once (a
// worker asleep for IdleMax kept the whole pool waiting).
type wakeup struct {
	mu sync.Mutex
	ch chan struct{}
}

// wait returns a channel closed by the next signal (nil for a nil wakeup: never closed).
func (k *wakeup) wait() <-chan struct{} {
	if k == nil {
		return nil
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.ch == nil {
		k.ch = make(chan struct{})
	}
	return k.ch
}

func (k *wakeup) signal() {
	if k == nil {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.ch != nil {
		close(k.ch)
		k.ch = nil
	}
}
