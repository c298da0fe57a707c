package crawler

import (
	"context"
	"time"
)

// Rechecker is implemented by adapters that can look up one known artifact by its id (the
// detail endpoint of a repository, model, dataset, record or paper). A scheduled run re-checks
// the artifacts it has sighted before: a 404/410 answer puts the id in Result.Gone.
type Rechecker interface {
	Recheck(artifactID string) (Job, bool)
}

// Incremental tells an adapter's Plan how much of its source to list in this run.
type Incremental struct {
	// Since is the start of the source's last complete run. Zero: list everything.
	Since time.Time
	// Full asks for complete listings even though Since is known (a periodic full listing,
	// which gone detection needs). An adapter must list everything when Full is set.
	Full bool
}

// Filtered reports whether an adapter may restrict its listings to items changed since Since.
// A filtered listing is not a complete listing: the adapter must not report it as a Listing.
func (i Incremental) Filtered() bool { return !i.Full && !i.Since.IsZero() }

type incrementalKey struct{}

// WithIncremental returns ctx carrying each source's incremental plan (by source name). The
// coordinator's Plan calls see it; sources not in the map list everything.
func WithIncremental(ctx context.Context, plans map[string]Incremental) context.Context {
	return context.WithValue(ctx, incrementalKey{}, plans)
}

// IncrementalFor returns the source's incremental plan carried by ctx (zero: list everything).
func IncrementalFor(ctx context.Context, source string) Incremental {
	m, _ := ctx.Value(incrementalKey{}).(map[string]Incremental)
	return m[source]
}
