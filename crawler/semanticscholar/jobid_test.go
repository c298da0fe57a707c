package semanticscholar

import (
	"context"
	"strings"
	"testing"

	"github.com/afterlife-watch/afterlife/configs"
	"github.com/afterlife-watch/afterlife/crawler"
	"github.com/afterlife-watch/afterlife/crawler/webapi/webapitest"
)

// Two datasets listing the same paper: its citations are one URL, but what a citations job
// records depends on its dataset (cites-dataset:<id>), so each dataset gets its own job (the
// frontier keeps one job per id: a shared id let the first-enqueued dataset win). Searches record
// the same thing whoever asked and stay shared.
func TestSharedPaperCitationsJobPerDataset(t *testing.T) {
	srv, _ := serve(t, "graph_v1_paper_citations_page1.json")
	s := newSource(t, srv.URL, nil, nil)
	paper := configs.Paper{Title: "MS-Celeb-1M: A Dataset and Benchmark for Large-Scale Face Recognition", S2CorpusID: 2908606}
	ds := []*configs.Dataset{
		{ID: "ms-celeb-1m", Name: "MS-Celeb-1M", Papers: []configs.Paper{paper}},
		{ID: "megaface", Name: "MS-Celeb-1M", Papers: []configs.Paper{paper}}, // same name: same search
	}
	for _, order := range [][]*configs.Dataset{ds, {ds[1], ds[0]}} {
		jobs, err := s.Plan(context.Background(), order)
		if err != nil {
			t.Fatal(err)
		}
		ids := map[string]bool{}
		byDataset := map[string]crawler.Job{}
		searches := 0
		for _, j := range jobs {
			if ids[j.ID] {
				t.Fatalf("job id %s planned twice", j.ID)
			}
			ids[j.ID] = true
			switch j.Kind {
			case KindCitations:
				byDataset[j.Dataset] = j
			case KindSearchBulk:
				searches++
			}
		}
		if len(byDataset) != 2 || searches != 1 {
			t.Fatalf("planned %d citations jobs (%v) and %d searches, want 2 and 1: %+v", len(byDataset), byDataset, searches, jobs)
		}
		a, b := byDataset["ms-celeb-1m"], byDataset["megaface"]
		if a.URL != b.URL || a.ID == b.ID {
			t.Fatalf("citations jobs: %q %q, urls %q %q", a.ID, b.ID, a.URL, b.URL)
		}
		for _, j := range []crawler.Job{a, b} {
			res, err := s.Handle(context.Background(), j, webapitest.NewFetcher())
			if err != nil {
				t.Fatal(err)
			}
			tags := strings.Join(res.Artifacts[0].Tags, ",")
			if !strings.Contains(tags, "cites-dataset:"+j.Dataset) || strings.Count(tags, "cites-dataset:") != 1 {
				t.Errorf("%s: tags %s", j.Dataset, tags)
			}
			if len(res.Next) != 1 || res.Next[0].Dataset != j.Dataset || !strings.HasSuffix(res.Next[0].ID, "|dataset="+j.Dataset) {
				t.Errorf("%s: next page %+v", j.Dataset, res.Next)
			}
		}
	}
}
