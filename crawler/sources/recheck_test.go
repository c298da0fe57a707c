package sources_test

import (
	"context"
	"slices"
	"testing"

	"github.com/afterlife-watch/afterlife/crawler"
	"github.com/afterlife-watch/afterlife/crawler/webapi/webapitest"
	"github.com/afterlife-watch/afterlife/internal/demoworld"
)

// Every adapter can re-check a known artifact by id (crawler.Rechecker): for each planted
// artifact that exists in only one epoch, the re-check finds it in that epoch and answers gone in
// the other. Derived from the epochs fields of internal/demoworld/planted/*.jsonl.
func TestRecheckEveryAdapterAcrossEpochs(t *testing.T) {
	ctx := context.Background()
	world, err := demoworld.New(demoworld.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := demoworld.Start(world, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	wc := srv.WatchConfig()
	planted, err := demoworld.LoadPlanted()
	if err != nil {
		t.Fatal(err)
	}
	checked := map[string]int{}
	for _, name := range demoworld.Sources() {
		f, ok := crawler.Factory(name)
		if !ok {
			t.Fatalf("no adapter for %s", name)
		}
		src, err := f(wc.Sources[name], func(string) string { return "" })
		if err != nil {
			t.Fatal(err)
		}
		rc, ok := src.(crawler.Rechecker)
		if !ok {
			t.Errorf("%s: the adapter cannot re-check known artifacts (no crawler.Rechecker)", name)
			continue
		}
		for _, p := range planted {
			if p.Source != name {
				continue
			}
			job, ok := rc.Recheck(p.ID)
			if !ok {
				t.Errorf("%s: Recheck(%q) refused a planted id", name, p.ID)
				continue
			}
			if len(p.Epochs) != 1 {
				continue
			}
			for _, e := range []int{1, 2} {
				world.SetEpoch(e)
				found, gone := recheck(ctx, t, src, job)
				want := p.InEpoch(e)
				if found != want || gone == want {
					t.Errorf("%s epoch %d: re-check of %s found=%v gone=%v, want found=%v", name, e, p.ID, found, gone, want)
				}
			}
			checked[name]++
		}
	}
	world.SetEpoch(1)
	if len(checked) < 6 {
		t.Fatalf("only %v had artifacts that come and go; the planted data changed", checked)
	}
}

// recheck handles a re-check job and its follow-ups (cards, READMEs, file lists).
func recheck(ctx context.Context, t *testing.T, src crawler.Source, job crawler.Job) (found, gone bool) {
	t.Helper()
	f := webapitest.NewFetcher()
	queue := []crawler.Job{job}
	id := job.Meta["id"]
	for n := 0; len(queue) > 0 && n < 50; n++ {
		j := queue[0]
		queue = queue[1:]
		res, err := src.Handle(ctx, j, f)
		if err != nil {
			t.Fatalf("%s %s: %v", j.Kind, j.URL, err)
		}
		for _, a := range res.Artifacts {
			found = found || a.ID == id
		}
		gone = gone || slices.Contains(res.Gone, id)
		queue = append(queue, res.Next...)
	}
	return found, gone
}
