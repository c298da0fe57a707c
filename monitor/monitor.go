// Package monitor owns the one monitoring run loop (Run): it begins (or resumes) a run, plans seed
// jobs from the watched datasets, lets workers claim jobs from a frontier, hands each job to its
// source adapter with the polite fetcher, matches every artifact against the registry, records
// artifacts, findings, listings and gone artifacts, re-checks known artifacts the listings did not
// show, and finishes the run when the frontier is drained.
//
// The loop is the same in one process and across many: it receives a Backend (backend.go), the
// small interfaces it needs — frontier, recorder and store, validator cache, limiter, lineage, run
// board, collector, lock — built by OpenEmbedded (SQLite files in a data directory) or
// NewRedisBackend (Redis shared by worker processes). See docs/engine.md.
package monitor

import (
	"github.com/afterlife-watch/afterlife/artifact"
	"github.com/afterlife-watch/afterlife/crawler"
	"github.com/afterlife-watch/afterlife/extract"
)

// Matcher turns an artifact into findings; *extract.Matcher implements it.
type Matcher interface {
	Match(a *artifact.Artifact) []extract.Finding
}

// CounterSource is implemented by fetchers that count per-source cost (*crawler.HTTPFetcher).
type CounterSource interface {
	Snapshot() map[string]crawler.Counters
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
