// Package crawler owns crawl work: jobs, the frontier and its backends, fetching with politeness,
// and one adapter per source turning responses into artifacts.
package crawler

import (
	"time"

	"github.com/afterlife-watch/afterlife/artifact"
)

// Job is one unit of crawl work.
type Job struct {
	// ID is the dedup key within a run: stable for the same work (source, kind, URL).
	ID     string `json:"id"`
	RunID  string `json:"run_id"`
	Source string `json:"source"`
	// Kind is adapter-defined ("search-models", "model-info", "model-card", ...).
	Kind string `json:"kind"`
	URL  string `json:"url"`
	// Dataset is the registry id the job was planned for, if any.
	Dataset string `json:"dataset,omitempty"`
	// Page counts pagination depth from 0.
	Page      int               `json:"page,omitempty"`
	Attempt   int               `json:"attempt,omitempty"`
	NotBefore time.Time         `json:"not_before,omitzero"`
	Meta      map[string]string `json:"meta,omitempty"`
}

// Key builds a job id from its parts.
func Key(source, kind, url string) string { return source + "|" + kind + "|" + url }

// Result is what handling a job produced.
type Result struct {
	Artifacts []artifact.Artifact
	// Next are follow-up jobs (next page, detail pages, model cards, children of a tainted model).
	Next []Job
	// Listing, when set, says the job was a complete listing of Listing.Scope that held exactly
	// Listing.IDs; gone detection uses it (an artifact missing from N complete listings is gone).
	Listing *Listing
	// Gone lists artifact ids the source answered 404/410 for.
	Gone []string
	// Notes are human-readable remarks for the run report (e.g. "code search skipped: no GITHUB_TOKEN").
	Notes []string
	// Probes are swarm health measurements (the swarm source); the run stores them with the run id.
	Probes []SwarmProbe
}

// Listing is a complete listing of one scope (a search query across all its pages).
type Listing struct {
	Scope string
	IDs   []string
}
