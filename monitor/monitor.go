// Package monitor owns a monitoring run end to end: it begins (or resumes) a run, plans seed jobs
// from the watched datasets, lets workers claim jobs from a frontier, hands each job to its source
// adapter with the polite fetcher, matches every artifact against the registry, records artifacts,
// findings, listings and gone artifacts, and finishes the run when the frontier is drained.
//
// The pieces are separable so the same loop runs embedded (one process, SQLite frontier and store:
// Scan) or distributed (a Coordinator in one process, Workers in others, a Redis frontier and a
// Recorder that pushes findings to a stream).
package monitor

import (
	"context"
	"time"

	"github.com/afterlife-watch/afterlife/artifact"
	"github.com/afterlife-watch/afterlife/crawler"
	"github.com/afterlife-watch/afterlife/extract"
	"github.com/afterlife-watch/afterlife/reports"
)

// Recorder receives what workers find. reports.Store implements it; a distributed worker may push
// to a findings stream instead. Every method must be idempotent within a run: after a crash a job
// is handled again and records the same things again.
type Recorder interface {
	Record(ctx context.Context, runID string, seenAt time.Time, a artifact.Artifact, fs []extract.Finding) (reports.RecordResult, error)
	RecordListing(ctx context.Context, runID, scope string, ids []string, at time.Time, missAfter int) (gone []string, err error)
	MarkGone(ctx context.Context, runID string, artifactIDs []string, at time.Time) error
	// AddSourceStat adds deltas to a source's counters (and sets status/message when non-empty).
	AddSourceStat(ctx context.Context, runID string, delta reports.SourceStat) error
}

// BatchRecorder is implemented by recorders that record several artifacts in one transaction
// (reports.SQLiteStore); the worker records each job's artifacts with one call.
type BatchRecorder interface {
	RecordBatch(ctx context.Context, runID string, seenAt time.Time, obs []reports.Observation) ([]reports.RecordResult, error)
}

// RunStore is what the Coordinator needs from the store; reports.Store implements it.
type RunStore interface {
	Recorder
	OpenRun(ctx context.Context) (reports.Run, bool, error)
	BeginRun(ctx context.Context, r reports.Run) error
	FinishRun(ctx context.Context, runID string, finished time.Time) (reports.Run, error)
	GetRun(ctx context.Context, runID string) (reports.Run, error)
}

// Matcher turns an artifact into findings; *extract.Matcher implements it.
type Matcher interface {
	Match(a *artifact.Artifact) []extract.Finding
}

// CounterSource is implemented by fetchers that count per-source cost (*crawler.HTTPFetcher).
type CounterSource interface {
	Snapshot() map[string]crawler.Counters
}

// Burier is implemented by frontiers that can send a job straight to the dead letters (a permanent
// failure: retrying will not help). Frontiers without it get the job acked instead.
type Burier interface {
	Bury(ctx context.Context, l crawler.Lease, reason string) error
}

// SourceCounter is implemented by frontiers that count a run's jobs per source; the Coordinator
// uses it to tell a failed source (nothing done) from a degraded one (some jobs dead).
type SourceCounter interface {
	StatsBySource(ctx context.Context, runID string) (map[string]crawler.FrontierStats, error)
}

// ReadyWaiter is implemented by frontiers that know when their next delayed job becomes ready.
type ReadyWaiter interface {
	NextReady(ctx context.Context, runID string) (time.Time, error)
}

// Source statuses in reports.SourceStat.
const (
	StatusOK       = "ok"
	StatusDegraded = "degraded"
	StatusFailed   = "failed"
	StatusSkipped  = "skipped"
)

// MissAfter is how many consecutive complete listings an artifact must be missing from to be gone.
const MissAfter = 2
