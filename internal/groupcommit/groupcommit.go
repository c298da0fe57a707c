// Package groupcommit runs the small write transactions of concurrent callers together: while one
// transaction commits, the callers that arrive queue up, and the next transaction runs all of their
// work and commits once. Each caller still returns only after its own work is committed (or rolled
// back), so nothing about durability changes; what changes is how many commits (WAL frames, locks,
// fsyncs at checkpoints) a busy crawl pays per page. No caller waits for a batch to fill: a lone
// caller commits at once, as it would without the group.
package groupcommit

import (
	"context"
	"database/sql"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// TxFunc runs fn in one write transaction and commits it (rolling back if fn or the commit fails).
type TxFunc func(ctx context.Context, fn func(*sql.Tx) error) error

// Committer groups the work of concurrent Do calls (and of Defer calls) into shared transactions.
// Safe for concurrent use.
type Committer struct {
	tx    TxFunc
	max   int
	delay time.Duration

	ops, batches atomic.Int64

	mu    sync.Mutex
	queue []*op
	busy  bool // a leader is running a batch
	timer *time.Timer
}

type op struct {
	ctx  context.Context
	fn   func(context.Context, *sql.Tx) error
	err  error
	lead bool          // set (under mu) when this waiter must run the next batch
	wake chan struct{} // receives once: done, or lead; nil for a deferred op
	done func(error)   // a deferred op's callback
}

// New returns a Committer that runs batches through tx, at most max callers' work per
// transaction (max <= 0: 64). Deferred work waits at most delay for a batch to carry it
// (delay <= 0: 5ms).
func New(tx TxFunc, max int, delay time.Duration) *Committer {
	if max <= 0 {
		max = 64
	}
	if delay <= 0 {
		delay = 5 * time.Millisecond
	}
	return &Committer{tx: tx, max: max, delay: delay}
}

// Do runs fn inside a write transaction shared with the callers that arrived while the previous
// transaction was committing (and with the deferred work queued), and returns once that
// transaction committed (nil) or fn's work was rolled back (fn's error, or the transaction's).
//
// fn must be re-runnable and must touch only tx (and its own variables, which it resets at its
// start): when another caller's fn fails, the shared transaction is rolled back and every fn of the
// batch runs again in a transaction of its own, so one bad caller never fails the others. fn gets
// a context that is not cancelled while the batch runs (cancelling a statement mid-transaction
// would roll back the other callers' work too); a caller whose ctx is done before its batch starts
// gets ctx.Err() and its fn does not run.
func (c *Committer) Do(ctx context.Context, fn func(ctx context.Context, tx *sql.Tx) error) error {
	o := &op{ctx: ctx, fn: fn, wake: make(chan struct{}, 1)}
	c.mu.Lock()
	c.queue = append(c.queue, o)
	if c.busy {
		c.mu.Unlock()
		<-o.wake
		if !o.lead {
			return o.err
		}
		c.mu.Lock()
	} else {
		c.busy = true
	}
	c.lead(o)
	return o.err
}

// Defer queues fn to run in the next shared transaction and returns at once; done (if not nil)
// is called with fn's outcome once that transaction committed or fn was rolled back. The next Do
// or Sync carries it, or, if none comes, a transaction of its own after the Committer's delay.
// fn runs even if ctx is cancelled meanwhile (what was deferred is work already done: an ack).
// The same rules as for Do's fn apply.
func (c *Committer) Defer(ctx context.Context, fn func(ctx context.Context, tx *sql.Tx) error, done func(error)) {
	o := &op{ctx: context.WithoutCancel(ctx), fn: fn, done: done}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.queue = append(c.queue, o)
	if !c.busy && c.timer == nil {
		c.timer = time.AfterFunc(c.delay, func() { _ = c.Sync(context.Background()) })
	}
}

// Sync returns once all work deferred before the call is committed (or failed: each deferred
// fn's done hears of it). It returns ctx.Err() only if ctx is done before its batch starts.
func (c *Committer) Sync(ctx context.Context) error {
	c.mu.Lock()
	if len(c.queue) == 0 && !c.busy {
		c.mu.Unlock()
		return nil
	}
	c.mu.Unlock()
	return c.Do(ctx, func(context.Context, *sql.Tx) error { return nil })
}

// lead runs one batch holding o (called with mu held, busy set; returns with mu released), then
// hands the lead to the first waiting caller that queued meanwhile, or ends the busy spell.
func (c *Committer) lead(o *op) {
	if c.timer != nil {
		c.timer.Stop()
		c.timer = nil
	}
	// The batch is the queue in order (deferred acks before the claims that follow them), at most
	// max, always with o.
	var batch []*op
	if i := slices.Index(c.queue, o); i < c.max {
		n := min(len(c.queue), c.max)
		batch = slices.Clone(c.queue[:n])
		c.queue = slices.Clone(c.queue[n:])
	} else {
		batch = append(slices.Clone(c.queue[:c.max-1]), o)
		c.queue = slices.Delete(slices.Clone(c.queue[c.max-1:]), i-(c.max-1), i-(c.max-1)+1)
	}
	c.mu.Unlock()
	c.run(batch)
	// Deferred work hears first, before the lead passes on: a caller whose later Do follows work
	// it deferred sees that work's outcome when its Do returns, whichever batch carried it.
	for _, b := range batch {
		if b.wake == nil && b.done != nil {
			b.done(b.err)
		}
	}
	c.mu.Lock()
	handed := false
	for _, q := range c.queue {
		if q.wake != nil {
			q.lead = true
			q.wake <- struct{}{}
			handed = true
			break
		}
	}
	if !handed {
		c.busy = false
		if len(c.queue) > 0 && c.timer == nil { // deferred work only: nobody waits to carry it
			c.timer = time.AfterFunc(c.delay, func() { _ = c.Sync(context.Background()) })
		}
	}
	c.mu.Unlock()
	for _, b := range batch {
		if b != o && b.wake != nil {
			b.wake <- struct{}{}
		}
	}
}

// run executes a batch: one transaction for all, or, if it fails, one transaction each.
func (c *Committer) run(batch []*op) {
	live := batch[:0:0]
	for _, o := range batch {
		if err := o.ctx.Err(); err != nil {
			o.err = err
			continue
		}
		live = append(live, o)
	}
	if len(live) == 0 {
		return
	}
	c.ops.Add(int64(len(live)))
	c.batches.Add(1)
	if len(live) == 1 {
		c.solo(live[0])
		return
	}
	err := c.tx(context.Background(), func(tx *sql.Tx) error {
		for _, o := range live {
			if err := o.fn(context.WithoutCancel(o.ctx), tx); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		for _, o := range live {
			o.err = nil
		}
		return
	}
	// Someone's work (or the commit) failed and everything was rolled back: give each its own
	// transaction, so each gets its own answer.
	for _, o := range live {
		c.solo(o)
	}
}

func (c *Committer) solo(o *op) {
	wctx := context.WithoutCancel(o.ctx)
	o.err = c.tx(wctx, func(tx *sql.Tx) error { return o.fn(wctx, tx) })
}

// Counts returns how many callers' work ran in how many transactions so far (diagnostics).
func (c *Committer) Counts() (ops, batches int64) { return c.ops.Load(), c.batches.Load() }

// Tx is a TxFunc on db: BeginTx, fn, Commit (Rollback when either fails).
func Tx(db *sql.DB) TxFunc {
	return func(ctx context.Context, fn func(*sql.Tx) error) error {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if err := fn(tx); err != nil {
			_ = tx.Rollback()
			return err
		}
		return tx.Commit()
	}
}
