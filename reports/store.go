// Package reports owns what Afterlife remembers and tells: the sightings store (first/last seen,
// gone), run history, report building and rendering, exports for researchers and delivery.
package reports

import (
	"context"
	"time"

	"github.com/afterlife-watch/afterlife/artifact"
	"github.com/afterlife-watch/afterlife/extract"
)

// SourceStat is what one source cost and how it went in a run.
type SourceStat struct {
	Name     string `json:"name"`
	Requests int64  `json:"requests"`
	Bytes    int64  `json:"bytes"`
	Errors   int64  `json:"errors"`
	// Status is ok, degraded (some errors), failed (nothing worked) or skipped.
	Status  string `json:"status"`
	Message string `json:"message,omitempty"`
	// Artifacts counts artifacts the source produced in the run.
	Artifacts int64 `json:"artifacts"`
	// Cached counts requests answered 304 Not Modified.
	Cached int64 `json:"cached"`
}

// Run is one monitoring run.
type Run struct {
	ID       string       `json:"id"`
	Started  time.Time    `json:"started"`
	Finished time.Time    `json:"finished,omitzero"`
	Mode     string       `json:"mode,omitempty"` // embedded | redis
	Sources  []SourceStat `json:"sources"`
	New      int          `json:"new"`
	Gone     int          `json:"gone"`
	// Reappeared counts sightings that had gone and were seen again in the run.
	Reappeared int `json:"reappeared"`
	// Complete is false for a run that was interrupted and not resumed.
	Complete bool `json:"complete"`
}

// Sighting is a finding as seen over time.
type Sighting struct {
	Artifact       artifact.Artifact  `json:"-"`
	Dataset        string             `json:"dataset"`
	Relation       extract.Relation   `json:"relation"`
	Confidence     float64            `json:"confidence"`
	Evidence       []extract.Evidence `json:"evidence"`
	Via            string             `json:"via,omitempty"`
	Chain          []string           `json:"chain,omitempty"`
	PostRetraction bool               `json:"post_retraction,omitempty"`
	FirstSeen      time.Time          `json:"first_seen"`
	LastSeen       time.Time          `json:"last_seen"`
	Gone           bool               `json:"gone"`
	GoneSince      time.Time          `json:"gone_since,omitzero"`
	// GoneHow says how it was found gone (GoneHTTP, or missing from complete listings).
	GoneHow string `json:"gone_how,omitempty"`
	// FirstRun and LastRun are the runs that first and last saw it.
	FirstRun string `json:"first_run,omitempty"`
	LastRun  string `json:"last_run,omitempty"`
}

// SightingQuery filters sightings. Zero values mean "any".
type SightingQuery struct {
	Dataset  string
	Relation extract.Relation
	Source   string
	Text     string // substring of title, id or url
	Gone     *bool
	// MinConfidence keeps sightings at least this confident (0: any).
	MinConfidence float64
	Limit         int
}

// RecordResult says what recording an artifact changed.
type RecordResult struct {
	NewSightings int
	Reappeared   int
}

// EventLister is implemented by stores that list what each run changed (SQLiteStore).
type EventLister interface {
	Events(ctx context.Context, q EventQuery) ([]Event, error)
}

// Store is the sightings store. The embedded backend is SQLite under the data directory.
type Store interface {
	// OpenRun returns the unfinished run to resume, if any.
	OpenRun(ctx context.Context) (Run, bool, error)
	BeginRun(ctx context.Context, r Run) error
	// AddSourceStat adds deltas to a source's counters in a run (and sets status/message when given).
	AddSourceStat(ctx context.Context, runID string, delta SourceStat) error
	FinishRun(ctx context.Context, runID string, finished time.Time) (Run, error)
	GetRun(ctx context.Context, runID string) (Run, error)
	Runs(ctx context.Context, limit int) ([]Run, error)

	// Record stores an artifact and its findings as seen at seenAt in runID. Recording the same
	// artifact twice in a run changes nothing the second time.
	Record(ctx context.Context, runID string, seenAt time.Time, a artifact.Artifact, fs []extract.Finding) (RecordResult, error)
	// RecordListing notes a complete listing of scope in runID; artifacts seen in earlier complete
	// listings of the scope and missing from missAfter consecutive ones are marked gone.
	RecordListing(ctx context.Context, runID, scope string, ids []string, at time.Time, missAfter int) (gone []string, err error)
	// MarkGone marks artifacts gone (404/410) as of at.
	MarkGone(ctx context.Context, runID string, artifactIDs []string, at time.Time) error

	Sightings(ctx context.Context, q SightingQuery) ([]Sighting, error)
	Artifact(ctx context.Context, id string) (artifact.Artifact, bool, error)

	// TaintOf implements extract.Lineage from stored trained-on findings.
	TaintOf(modelID string) []extract.Taint

	Close() error
}
