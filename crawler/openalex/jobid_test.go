package openalex

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/afterlife-watch/afterlife/configs"
	"github.com/afterlife-watch/afterlife/crawler"
	"github.com/afterlife-watch/afterlife/crawler/webapi/webapitest"
)

// Two datasets listing the same paper: the resolve look-ups and the cites listing are the same
// URLs for both, but what they record depends on the dataset (cites-dataset:<id>). A resolve
// finishes whenever the other workers let it, so with URL-only ids the dataset whose cites job was
// enqueued first decided the run's sightings. Each dataset now gets its own jobs; searches for
// the same query stay shared.
func TestSharedPaperJobsPerDataset(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasPrefix(r.URL.Path, "/works/doi:"):
			fmt.Fprint(rw, `{"id":"https://openalex.org/W9900000001","title":"MS-Celeb-1M: A Dataset and Benchmark for Large-Scale Face Recognition"}`)
		default:
			fmt.Fprint(rw, `{"meta":{"count":2,"per_page":1,"next_cursor":"c2"},"results":[{"id":"https://openalex.org/W9912004417","title":"Quality-Aware Face Embeddings"}]}`)
		}
	}))
	defer srv.Close()
	s := newSource(t, srv.URL, nil)
	paper := configs.Paper{Title: "MS-Celeb-1M: A Dataset and Benchmark for Large-Scale Face Recognition", ArXiv: "1607.08221"}
	ds := []*configs.Dataset{
		{ID: "ms-celeb-1m", Name: "MS-Celeb-1M", Papers: []configs.Paper{paper}},
		{ID: "megaface", Name: "MS-Celeb-1M", Papers: []configs.Paper{paper}},
	}
	jobs, err := s.Plan(context.Background(), ds)
	if err != nil {
		t.Fatal(err)
	}
	resolves := map[string]crawler.Job{}
	searches := 0
	for _, j := range jobs {
		switch j.Kind {
		case KindResolve:
			resolves[j.Dataset] = j
		case KindSearch:
			searches++
		}
	}
	if len(resolves) != 2 || searches != 1 || resolves["ms-celeb-1m"].ID == resolves["megaface"].ID {
		t.Fatalf("planned %d resolves %v and %d searches, want 2 distinct and 1", len(resolves), resolves, searches)
	}
	f := webapitest.NewFetcher()
	cites := map[string]crawler.Job{}
	for d, j := range resolves {
		res, err := s.Handle(context.Background(), j, f)
		if err != nil || len(res.Next) != 1 || res.Next[0].Kind != KindCites || res.Next[0].Dataset != d {
			t.Fatalf("resolve %s: %v %+v", d, err, res.Next)
		}
		cites[d] = res.Next[0]
	}
	a, b := cites["ms-celeb-1m"], cites["megaface"]
	if a.URL != b.URL || a.ID == b.ID {
		t.Fatalf("cites jobs share an id (%q, %q) or differ in URL (%q, %q)", a.ID, b.ID, a.URL, b.URL)
	}
	for d, j := range cites {
		res, err := s.Handle(context.Background(), j, f)
		if err != nil || len(res.Artifacts) != 1 || len(res.Next) != 1 {
			t.Fatalf("cites %s: %v %+v", d, err, res)
		}
		if tags := strings.Join(res.Artifacts[0].Tags, ","); !strings.Contains(tags, "cites-dataset:"+d) || strings.Count(tags, "cites-dataset:") != 1 {
			t.Errorf("cites %s: tags %s", d, tags)
		}
		if n := res.Next[0]; n.Dataset != d || !strings.HasSuffix(n.ID, "|dataset="+d) {
			t.Errorf("cites %s: next page %+v", d, n)
		}
	}
}
