package crawler

import (
	"context"
	"time"
)

// Lease is a claimed job. Ack or Nack it; a lease not acked before it expires (a dead worker) is
// handed to another worker.
type Lease struct {
	Job     Job
	Token   string // backend-specific handle (row id, stream entry id)
	Expires time.Time
}

// FrontierStats counts a run's jobs.
type FrontierStats struct {
	Pending  int64 // waiting to be claimed (including not-before in the future)
	InFlight int64 // claimed, not acked
	Done     int64
	Dead     int64 // gave up after the maximum attempts
}

// Drained reports whether nothing is left to do.
func (s FrontierStats) Drained() bool { return s.Pending == 0 && s.InFlight == 0 }

// Frontier is the queue of crawl work. The embedded backend is on local disk; the distributed one
// is a Redis stream with a consumer group. Implementations are safe for concurrent use.
type Frontier interface {
	// Enqueue adds jobs not already seen in their run (dedup by Job.ID); it returns how many were new.
	Enqueue(ctx context.Context, jobs ...Job) (int, error)
	// Claim leases up to max ready jobs of runID for worker. It returns no jobs (and no error) when
	// none is ready right now; callers check Stats to know whether the run is drained.
	Claim(ctx context.Context, runID, worker string, max int) ([]Lease, error)
	// Ack marks a leased job done.
	Ack(ctx context.Context, l Lease) error
	// Retry hands a job back to be tried again not before at; after the backend's maximum attempts
	// the job goes to the dead letters with reason.
	Retry(ctx context.Context, l Lease, at time.Time, reason string) error
	// Stats counts the run's jobs.
	Stats(ctx context.Context, runID string) (FrontierStats, error)
	Close() error
}

// Ack is a finished job for Settler.Settle: its lease and the follow-up jobs it produced.
type Ack struct {
	Lease Lease
	Next  []Job
}

// Settler is a frontier that acks finished jobs (enqueueing their follow-ups) and claims new ones
// in one round trip: the embedded frontier does both in one transaction, so a worker pays one
// commit per job instead of two. Each ack behaves as AckEnqueue (its follow-ups and its ack
// together, or neither); res[i] is ack i's outcome. The claim takes up to want.Max ready jobs
// (none if want.Max <= 0), passing over the jobs of want.Skip sources.
type Settler interface {
	Settle(ctx context.Context, runID, worker string, acks []Ack, want Want) (leases []Lease, res []AckResult, err error)
}

// AckResult is one ack's outcome in a Settle: the follow-ups it added (duplicates are not added)
// as AckEnqueue counts them, or its error (then nothing of it was written).
type AckResult struct {
	Added int
	Err   error
}

// Want is what a Settle claims: up to Max jobs, none of a source in Skip (sources whose
// in-flight cap is reached in this process: their jobs would only wait for a connection slot
// while other sources' jobs wait for a worker).
type Want struct {
	Max  int
	Skip []string
}
