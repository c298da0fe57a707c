package webapitest

import (
	"context"
	"fmt"

	"github.com/afterlife-watch/afterlife/artifact"
	"github.com/afterlife-watch/afterlife/configs"
	"github.com/afterlife-watch/afterlife/crawler"
)

// Crawled is what a test crawl collected.
type Crawled struct {
	Artifacts map[string]artifact.Artifact // last version of each id
	Gone      []string
	Listings  []crawler.Listing
	Notes     []string
	Errors    []error
	Jobs      int
	Kinds     map[string]int // jobs handled per kind
}

// Crawl runs src over datasets to completion, one job at a time (breadth first, jobs deduplicated
// by id like the frontier does), bounded by maxJobs.
func Crawl(ctx context.Context, src crawler.Source, f crawler.Fetcher, datasets []*configs.Dataset, maxJobs int) (*Crawled, error) {
	jobs, err := src.Plan(ctx, datasets)
	if err != nil {
		return nil, err
	}
	out := &Crawled{Artifacts: map[string]artifact.Artifact{}, Kinds: map[string]int{}}
	seen := map[string]bool{}
	var queue []crawler.Job
	push := func(js ...crawler.Job) {
		for _, j := range js {
			if !seen[j.ID] {
				seen[j.ID] = true
				queue = append(queue, j)
			}
		}
	}
	push(jobs...)
	for len(queue) > 0 {
		if out.Jobs >= maxJobs {
			return out, fmt.Errorf("crawl did not finish within %d jobs", maxJobs)
		}
		j := queue[0]
		queue = queue[1:]
		out.Jobs++
		out.Kinds[j.Kind]++
		res, err := src.Handle(ctx, j, f)
		if err != nil {
			out.Errors = append(out.Errors, fmt.Errorf("%s %s: %w", j.Kind, j.URL, err))
		}
		for _, a := range res.Artifacts {
			if err := a.Validate(); err != nil {
				out.Errors = append(out.Errors, fmt.Errorf("%s: invalid artifact %s: %w", j.URL, a.ID, err))
			}
			out.Artifacts[a.ID] = a
		}
		out.Gone = append(out.Gone, res.Gone...)
		if res.Listing != nil {
			out.Listings = append(out.Listings, *res.Listing)
		}
		out.Notes = append(out.Notes, res.Notes...)
		push(res.Next...)
	}
	return out, nil
}
