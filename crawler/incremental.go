package crawler

import (
	"context"
	"time"

	"github.com/afterlife-watch/afterlife/configs"
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

// IncrementalPlanner is implemented by adapters that can list only what changed since a time
// (GitHub's date qualifiers). The run loop passes each such source its incremental plan
// explicitly, calling PlanIncremental instead of Plan; Plan is PlanIncremental with the zero
// plan (list everything).
type IncrementalPlanner interface {
	PlanIncremental(ctx context.Context, datasets []*configs.Dataset, inc Incremental) ([]Job, error)
}
