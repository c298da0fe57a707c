package monitor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/afterlife-watch/afterlife/artifact"
	"github.com/afterlife-watch/afterlife/configs"
	"github.com/afterlife-watch/afterlife/crawler"
	"github.com/afterlife-watch/afterlife/extract"
	"github.com/afterlife-watch/afterlife/reports"
)

// The backend contract. The run loop (Run) owns these small interfaces; the embedded backend
// (SQLite files in a data directory: OpenEmbedded) and the Redis backend (NewRedisBackend)
// implement them, and the packages that hold the implementations (crawler/frontier,
// crawler/httpcache, crawler/redisq, reports) import nothing of monitor. Every capability the loop
// uses is a method of one of these interfaces, so a backend that lacks one does not compile, and a
// Backend value missing a part is refused by Check before anything runs.

// Frontier is a run's queue of jobs, as the loop needs it: the crawler.Frontier basics, plus
// burying a job that cannot succeed, per-source job counts (ok / degraded / failed) and when the
// next delayed job becomes ready.
type Frontier interface {
	crawler.Frontier
	// Bury sends a leased job straight to the dead letters (a permanent failure).
	Bury(ctx context.Context, l crawler.Lease, reason string) error
	// StatsBySource counts the run's done and dead jobs per source.
	StatsBySource(ctx context.Context, runID string) (map[string]crawler.FrontierStats, error)
	// NextReady is when the run's earliest delayed job becomes ready (zero: none waits).
	NextReady(ctx context.Context, runID string) (time.Time, error)
	// AckEnqueue enqueues a job's follow-ups and acks it; the run is never seen drained between.
	AckEnqueue(ctx context.Context, l crawler.Lease, next ...crawler.Job) (int, error)
}

// Recorder receives what workers find: the sightings store itself (embedded), or the run's findings
// stream (Redis), which the Collector applies to the store. Every method must be idempotent within
// a run: after a crash a job is handled again and records the same things again.
type Recorder interface {
	Record(ctx context.Context, runID string, seenAt time.Time, a artifact.Artifact, fs []extract.Finding) (reports.RecordResult, error)
	// RecordBatch records several artifacts at once (one transaction, or one pipeline).
	RecordBatch(ctx context.Context, runID string, seenAt time.Time, obs []reports.Observation) ([]reports.RecordResult, error)
	RecordListing(ctx context.Context, runID, scope string, ids []string, at time.Time, missAfter int) (gone []string, err error)
	MarkGone(ctx context.Context, runID string, artifactIDs []string, at time.Time) error
	// AddSourceStat adds deltas to a source's counters (and sets status/message when non-empty).
	AddSourceStat(ctx context.Context, runID string, delta reports.SourceStat) error
	// RecordProbe keeps one swarm health probe.
	RecordProbe(ctx context.Context, p reports.SwarmProbe) error
	// RecordFailure keeps one failed job's URL and error, so the report names each failure.
	RecordFailure(ctx context.Context, runID string, f reports.JobFailure) error
}

// Store is the sightings store and run history the coordinating process writes: it begins,
// resumes and finishes runs, plans incremental listings from the run history, and lists live
// sightings for re-checks. reports.SQLiteStore implements it.
type Store interface {
	Recorder
	RunHistory
	SightingLister
	OpenRun(ctx context.Context) (reports.Run, bool, error)
	BeginRun(ctx context.Context, r reports.Run) error
	FinishRun(ctx context.Context, runID string, finished time.Time) (reports.Run, error)
	GetRun(ctx context.Context, runID string) (reports.Run, error)
}

// RunHistory lists runs, newest first (limit 0: all); the incremental plan reads it.
type RunHistory interface {
	Runs(ctx context.Context, limit int) ([]reports.Run, error)
}

// SightingLister streams the states of sightings (id, dataset, relation, gone, last seen); re-checks
// read them one row at a time and decode no artifact document (a source's sightings at hub scale
// are hundreds of MiB decoded).
type SightingLister interface {
	EachSightingState(ctx context.Context, source string, fn func(reports.SightingState) error) error
}

// Board announces runs to the processes that crawl them and tracks their state: in one process a
// map (embedded), across machines a hash per run with pub/sub wake-ups (Redis).
type Board interface {
	// Open registers the run if it is new and makes it running (again, for the re-check phase),
	// waking every worker.
	Open(ctx context.Context, runID string, fields map[string]string) error
	// Active lists running runs.
	Active(ctx context.Context) ([]string, error)
	// State is the run's state (RunRunning, RunDrained, RunDone; "" for an unknown run).
	State(ctx context.Context, runID string) (string, error)
	// MarkDrained marks a running run drained if nothing is pending or in flight, and reports
	// whether it is drained.
	MarkDrained(ctx context.Context, runID string) (bool, error)
	// Done marks the run's reports written; its queue state may be pruned.
	Done(ctx context.Context, runID string) error
	// Wake returns a channel that receives when a run starts or drains, and its stop function.
	Wake(ctx context.Context) (<-chan struct{}, func())
}

// Run states on a Board.
const (
	RunRunning = "running"
	RunDrained = "drained"
	RunDone    = "done"
)

// Collector brings what the workers recorded into the store. Embedded workers record into the
// store directly, so there is nothing to collect; Redis workers publish to the run's findings
// stream, which the collector applies until the run is drained and every event is applied.
type Collector interface {
	Collect(ctx context.Context, runID string, store Store) (Collected, error)
}

// Collected counts what a Collector applied (zero for the embedded backend).
type Collected struct {
	Events, Records, NewSightings, Reappeared, Listings, Gone, Stats int
}

// RunLock keeps runs from overlapping across processes: a file lock in the data directory
// (embedded) or a Redis lock (distributed). TryLock never waits: a held lock skips the tick.
type RunLock interface {
	TryLock(ctx context.Context) (release func(), err error)
}

// ClaimPolicy shapes what workers claim. The Redis backend hands out first the jobs whose host has
// a free slot on the shared limiter (rates are the adapters' documented ones); the embedded one
// hands out the frontier as it is.
type ClaimPolicy func(fr Frontier, w *configs.Watch, rates map[string]crawler.Rate) Frontier

// Backend is everything a monitoring run needs, as one value. Build it with OpenEmbedded or
// NewRedisBackend; Check says which part is missing.
type Backend struct {
	// Mode names the backend in run records ("embedded", "redis").
	Mode     string
	Frontier Frontier
	// Recorder is where workers record (the store, or the findings stream).
	Recorder Recorder
	// Cache keeps validators (ETag, Last-Modified) and bodies for conditional requests.
	Cache crawler.Cache
	// Limiter is the rate limiter every worker process shares (Redis). Nil: one process, whose
	// fetcher keeps in-process token buckets (embedded).
	Limiter crawler.Limiter
	// Lineage is what the matcher knows of models already found (trained-on, via base models).
	Lineage extract.Lineage
	Board   Board
	// Collector applies the workers' results to Store (coordinating processes only).
	Collector Collector
	// Lock keeps scheduled runs from overlapping.
	Lock RunLock
	// Claim wraps the frontier the workers claim from.
	Claim ClaimPolicy

	// Store is the sightings store; a worker-only process (afterlife worker) has none.
	Store Store
	// StateDir keeps the incremental plan's state (IncrementalFile); with Store.
	StateDir string

	closers []func() error
	// preflight checks the backend's service before a run (Redis: its eviction policy).
	preflight func(ctx context.Context, log *slog.Logger) error
}

// Check reports the first part a role lacks: every role needs the crawl parts, a coordinating one
// also the store and its state directory.
func (b *Backend) Check(coordinate bool) error {
	if b == nil {
		return errors.New("monitor: no backend")
	}
	var missing []string
	need := func(ok bool, name string) {
		if !ok {
			missing = append(missing, name)
		}
	}
	need(b.Frontier != nil, "frontier")
	need(b.Recorder != nil, "recorder")
	need(b.Cache != nil, "validator cache")
	need(b.Lineage != nil, "lineage")
	need(b.Board != nil, "run board")
	need(b.Claim != nil, "claim policy")
	if coordinate {
		need(b.Store != nil, "store")
		need(b.StateDir != "", "state directory")
		need(b.Collector != nil, "collector")
		need(b.Lock != nil, "run lock")
	}
	if len(missing) > 0 {
		return fmt.Errorf("monitor: the %s backend lacks: %s", b.modeName(), strings.Join(missing, ", "))
	}
	return nil
}

func (b *Backend) modeName() string {
	if b.Mode == "" {
		return "unnamed"
	}
	return b.Mode
}

// Close releases what the backend's constructor opened, last opened first.
func (b *Backend) Close() error {
	var errs []error
	for i := len(b.closers) - 1; i >= 0; i-- {
		errs = append(errs, b.closers[i]())
	}
	b.closers = nil
	return errors.Join(errs...)
}

func (b *Backend) onClose(f func() error) { b.closers = append(b.closers, f) }

// asIs is the embedded claim policy: the frontier as it is.
func asIs(fr Frontier, _ *configs.Watch, _ map[string]crawler.Rate) Frontier { return fr }

// AlsoClose makes Close also call c (after what the constructor opened): a Redis client the
// caller opened for the backend, say.
func (b *Backend) AlsoClose(c func() error) {
	b.closers = append([]func() error{c}, b.closers...)
}
