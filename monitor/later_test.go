package monitor

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/afterlife-watch/afterlife/artifact"
	"github.com/afterlife-watch/afterlife/configs"
	"github.com/afterlife-watch/afterlife/crawler"
	"github.com/afterlife-watch/afterlife/crawler/frontier"
	"github.com/afterlife-watch/afterlife/extract"
	"github.com/afterlife-watch/afterlife/reports"
)

// treeSource lists, per job, a parent model and then its child (BaseModels: the parent), ten
// jobs in all.
type treeSource struct{ base string }

func (s *treeSource) Name() string { return "tree" }

func (s *treeSource) Plan(context.Context, []*configs.Dataset) ([]crawler.Job, error) {
	var jobs []crawler.Job
	for i := 0; i < 10; i++ {
		jobs = append(jobs, crawler.Job{Kind: "list", URL: fmt.Sprintf("%s/list/%d", s.base, i)})
	}
	return jobs, nil
}

func (s *treeSource) Handle(ctx context.Context, job crawler.Job, f crawler.Fetcher) (crawler.Result, error) {
	if _, err := f.Fetch(ctx, crawler.Request{Source: "tree", URL: job.URL}); err != nil {
		return crawler.Result{}, err
	}
	id := job.URL[len(job.URL)-1:]
	parent := artifact.Artifact{ID: "huggingface:model:org/parent-" + id, Source: "huggingface", Kind: artifact.KindModel, Title: "parent " + id}
	child := artifact.Artifact{ID: "huggingface:model:org/child-" + id, Source: "huggingface", Kind: artifact.KindModel, Title: "child " + id,
		BaseModels: []string{"org/parent-" + id}}
	return crawler.Result{Artifacts: []artifact.Artifact{parent, child}}, nil
}

// lineageMatcher finds every parent trained on laion-5b, and a child trained on what the store's
// lineage says its base model is trained on (as the extract matcher does).
type lineageMatcher struct {
	lineage extract.Lineage
	asked   atomic.Int64
}

func (m *lineageMatcher) Match(a *artifact.Artifact) []extract.Finding {
	if len(a.BaseModels) == 0 {
		return []extract.Finding{{ArtifactID: a.ID, Dataset: "laion-5b", Relation: extract.TrainedOn, Confidence: 0.9,
			Evidence: []extract.Evidence{{Field: "title", Rule: "test"}}}}
	}
	m.asked.Add(1)
	var out []extract.Finding
	for _, t := range m.lineage.TaintOf(a.BaseModels[0]) {
		out = append(out, extract.Finding{ArtifactID: a.ID, Dataset: t.Dataset, Relation: extract.TrainedOn, Confidence: 0.8,
			Via: a.BaseModels[0], Evidence: []extract.Evidence{{Field: "base_model", Rule: "lineage"}}})
	}
	return out
}

// In a pool (the feed: records held back until the store's Sync), a child matched after its
// parent in the same job still sees the parent's record through the lineage, every job's
// records are in the store when the run is drained, and the new sightings are counted.
func TestHeldBackRecordsKeepLineageOrder(t *testing.T) {
	ctx := context.Background()
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) { rw.Write([]byte("ok")) }))
	defer srv.Close()
	store, err := reports.OpenStore(filepath.Join(t.TempDir(), reports.StoreFile))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	w := loopbackWatch("tree")
	w.PolitenessOff = true
	fetcher, err := crawler.NewFetcher(w, crawler.FetcherOptions{})
	if err != nil {
		t.Fatal(err)
	}
	fr := openFrontier(t, frontier.Options{MaxAttempts: 2})
	srcs := map[string]crawler.Source{"tree": &treeSource{base: srv.URL}}
	co := &Coordinator{Store: store, Frontier: fr, Sources: Sources{Active: srcs}}
	runID, _, err := co.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	m := &lineageMatcher{lineage: store}
	stats := NewStats(fetcher)
	if err := Pool(ctx, runID, 4, Worker{Frontier: fr, Fetcher: fetcher, Sources: srcs, Matcher: m, Recorder: store,
		Stats: stats, ExitWhenDrained: true, RetryBase: time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	if m.asked.Load() != 10 {
		t.Fatalf("lineage asked %d times, want once per child (10)", m.asked.Load())
	}
	ss, err := store.Sightings(ctx, reports.SightingQuery{Dataset: "laion-5b"})
	if err != nil {
		t.Fatal(err)
	}
	children := 0
	for _, s := range ss {
		if s.Via != "" {
			children++
		}
	}
	if len(ss) != 20 || children != 10 {
		t.Fatalf("%d sightings (%d through a base model); want 20, every child's through its parent", len(ss), children)
	}
	var newS int64
	for _, p := range stats.Progress() {
		newS += p.NewSightings
	}
	if newS != 20 {
		t.Fatalf("%d new sightings counted, want 20", newS)
	}
}
