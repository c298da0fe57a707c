package github

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/afterlife-watch/afterlife/artifact"
	"github.com/afterlife-watch/afterlife/configs"
	"github.com/afterlife-watch/afterlife/crawler"
	"github.com/afterlife-watch/afterlife/crawler/webapi/webapitest"
	"github.com/afterlife-watch/afterlife/internal/demoworld"
)

func demoSource(t *testing.T) (*demoworld.Server, crawler.Source, []*configs.Dataset) {
	t.Helper()
	w, err := demoworld.New(demoworld.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := demoworld.Start(w, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	src, err := New(srv.WatchConfig().Sources[Name], func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	reg, err := configs.LoadRegistry("")
	if err != nil {
		t.Fatal(err)
	}
	return srv, src, reg.Retracted()
}

func searchListings(c *webapitest.Crawled) int {
	n := 0
	for _, l := range c.Listings {
		if strings.HasPrefix(l.Scope, Name+":search-") {
			n++
		}
	}
	return n
}

// A re-scan with a last-run time asks GitHub's search only for what was pushed or updated since
// (pushed:>= / updated:>=), finds what the new epoch added and nothing else, and reports no
// search as a complete listing; a full run (Full) searches unfiltered and lists completely.
func TestSearchSinceLastRun(t *testing.T) {
	ctx := context.Background()
	srv, csrc, datasets := demoSource(t)
	src := csrc.(*Source)
	full, err := webapitest.Crawl(ctx, src, webapitest.NewFetcher(), datasets, 2000)
	if err != nil || len(full.Errors) > 0 {
		t.Fatalf("full crawl: %v %v", err, full.Errors)
	}
	if searchListings(full) == 0 || full.Artifacts["gh:repo:books-corpus/books3-download"].ID == "" {
		t.Fatalf("full crawl: %d search listings, artifacts %d", searchListings(full), len(full.Artifacts))
	}
	since := time.Now().Add(-time.Minute)
	inc := crawler.Incremental{Since: since}
	jobs, err := src.PlanIncremental(ctx, datasets, inc)
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range jobs {
		q := j.URL
		switch j.Kind {
		case KindSearchRepos:
			if !strings.Contains(q, "pushed%3A%3E%3D") {
				t.Errorf("repository search without pushed:>= : %s", q)
			}
		case KindSearchIssues:
			if !strings.Contains(q, "updated%3A%3E%3D") {
				t.Errorf("issue search without updated:>= : %s", q)
			}
		}
	}

	same, err := webapitest.Crawl(ctx, sinceSource{src, inc}, webapitest.NewFetcher(), datasets, 2000)
	if err != nil || len(same.Errors) > 0 {
		t.Fatalf("filtered crawl: %v %v", err, same.Errors)
	}
	if n := searchListings(same); n != 0 {
		t.Fatalf("a date-filtered search was reported as %d complete listings", n)
	}
	if _, ok := same.Artifacts["gh:repo:books-corpus/books3-download"]; ok {
		t.Fatal("a repository unchanged since the last run came back from a filtered search")
	}

	srv.World.SetEpoch(2) // adds gh:issue:laion-tools/img2dataset-lite#88
	changed, err := webapitest.Crawl(ctx, sinceSource{src, inc}, webapitest.NewFetcher(), datasets, 2000)
	if err != nil || len(changed.Errors) > 0 {
		t.Fatalf("filtered crawl, epoch 2: %v %v", err, changed.Errors)
	}
	if _, ok := changed.Artifacts["gh:issue:laion-tools/img2dataset-lite#88"]; !ok {
		t.Fatalf("the issue epoch 2 added is missing from the filtered search: %v", keys(changed.Artifacts))
	}

	fullAgain := crawler.Incremental{Since: since, Full: true}
	f2, err := webapitest.Crawl(ctx, sinceSource{src, fullAgain}, webapitest.NewFetcher(), datasets, 2000)
	if err != nil || searchListings(f2) != searchListings(full) {
		t.Fatalf("full run with a known last run: %v, %d search listings, want %d", err, searchListings(f2), searchListings(full))
	}
}

// Re-checks look one repository or issue up: present, it is emitted again; absent (404), gone.
func TestRecheckRepoAndIssue(t *testing.T) {
	ctx := context.Background()
	srv, src, _ := demoSource(t)
	rc := src.(crawler.Rechecker)
	for _, bad := range []string{"gh:repo:onlyowner", "gh:issue:o/r#x", "gh:issue:o/r", "hf:model:a/b", "gh:repo:o/r/x"} {
		if _, ok := rc.Recheck(bad); ok {
			t.Errorf("Recheck(%q) accepted", bad)
		}
	}
	f := webapitest.NewFetcher()
	run := func(id string) *webapitest.Crawled {
		t.Helper()
		j, ok := rc.Recheck(id)
		if !ok {
			t.Fatalf("Recheck(%q) refused", id)
		}
		c, err := crawlFrom(ctx, src, f, j)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	repo, issue := "gh:repo:books-corpus/books3-download", "gh:issue:laion-tools/img2dataset-lite#88"
	if c := run(repo); c.Artifacts[repo].ID != repo || len(c.Gone) != 0 {
		t.Fatalf("epoch 1, %s: artifacts %v gone %v", repo, keys(c.Artifacts), c.Gone)
	}
	if c := run(issue); len(c.Artifacts) != 0 || !slices.Equal(c.Gone, []string{issue}) {
		t.Fatalf("epoch 1, %s: artifacts %v gone %v, want gone", issue, keys(c.Artifacts), c.Gone)
	}
	srv.World.SetEpoch(2)
	if c := run(repo); len(c.Artifacts) != 0 || !slices.Equal(c.Gone, []string{repo}) {
		t.Fatalf("epoch 2, %s: artifacts %v gone %v, want gone", repo, keys(c.Artifacts), c.Gone)
	}
	c := run(issue)
	if a := c.Artifacts[issue]; a.ID != issue || !strings.Contains(a.Text, "laion") || len(c.Gone) != 0 {
		t.Fatalf("epoch 2, %s: %+v gone %v", issue, a, c.Gone)
	}
}

// crawlFrom handles job and its follow-ups (a re-check's README, tree and comments jobs).
func crawlFrom(ctx context.Context, src crawler.Source, f crawler.Fetcher, job crawler.Job) (*webapitest.Crawled, error) {
	out := &webapitest.Crawled{Artifacts: map[string]artifact.Artifact{}}
	queue := []crawler.Job{job}
	for len(queue) > 0 && out.Jobs < 50 {
		j := queue[0]
		queue = queue[1:]
		out.Jobs++
		res, err := src.Handle(ctx, j, f)
		if err != nil {
			return out, err
		}
		for _, a := range res.Artifacts {
			out.Artifacts[a.ID] = a
		}
		out.Gone = append(out.Gone, res.Gone...)
		queue = append(queue, res.Next...)
	}
	return out, nil
}

func keys(m map[string]artifact.Artifact) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// sinceSource is the adapter as the run loop sees it on a re-scan: its Plan is PlanIncremental
// with the run's plan for the source.
type sinceSource struct {
	*Source
	inc crawler.Incremental
}

func (s sinceSource) Plan(ctx context.Context, ds []*configs.Dataset) ([]crawler.Job, error) {
	return s.Source.PlanIncremental(ctx, ds, s.inc)
}
