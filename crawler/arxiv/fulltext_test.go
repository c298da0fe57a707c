package arxiv

import (
	"context"
	"strings"
	"testing"

	"github.com/afterlife-watch/afterlife/artifact"
	"github.com/afterlife-watch/afterlife/configs"
	"github.com/afterlife-watch/afterlife/crawler"
	"github.com/afterlife-watch/afterlife/crawler/webapi/webapitest"
	"github.com/afterlife-watch/afterlife/extract"
)

// On the recorded search feed (10 entries), hits the run's matcher finds a dataset in without
// `uses` get a fulltext job at <host>/pdf/<id> — the API's host, export.arxiv.org — and the job is
// a request of this source: arXiv's one-request-per-3-s bucket and its single connection.
func TestSearchPlansPDFsOnTheAPIHostInArXivsBucket(t *testing.T) {
	srv, _ := replay(t)
	s := newSource(t, srv.URL+"/api", 1)
	job := s.searchJob("ms-celeb-1m", "all:testing", 0)
	srv.Route(strings.TrimPrefix(job.URL, srv.URL), "query_search_all_testing_start0_max10_2026.xml")
	s.UseJudge(func(a *artifact.Artifact) []extract.Finding {
		switch a.ID {
		case "arxiv:2202.12139":
			return []extract.Finding{{Dataset: "ms-celeb-1m", Relation: extract.Studies}}
		default:
			return []extract.Finding{{Dataset: "ms-celeb-1m", Relation: extract.Uses}}
		}
	})
	res, err := s.Handle(context.Background(), job, webapitest.NewFetcher())
	if err != nil {
		t.Fatal(err)
	}
	var fts []crawler.Job
	for _, j := range res.Next {
		if j.Kind == KindFullText {
			fts = append(fts, j)
		}
	}
	if len(fts) != 1 || fts[0].URL != srv.URL+"/pdf/2202.12139" {
		t.Fatalf("fulltext jobs %+v", fts)
	}
	rec := &recordingFetcher{}
	if _, err := s.Handle(context.Background(), fts[0], rec); err != nil || len(rec.reqs) != 1 {
		t.Fatalf("%v %+v", err, rec.reqs)
	}
	if r := rec.reqs[0]; r.Source != Name || r.RateKey != "" || !r.Robots {
		t.Errorf("PDF request %+v, want a request in arXiv's own bucket", r)
	}
	if s.PDFURL("arxiv:hep-th/9901001") != srv.URL+"/pdf/hep-th/9901001" || s.PDFURL("openalex:W1") != "" {
		t.Errorf("PDFURL: %q %q", s.PDFURL("arxiv:hep-th/9901001"), s.PDFURL("openalex:W1"))
	}
	if d, err := New(configs.SourceConfig{}, nil); err != nil || d.(*Source).PDFURL("arxiv:2101.00001") != "https://export.arxiv.org/pdf/2101.00001" {
		t.Errorf("default host: %v", err)
	}
}

type recordingFetcher struct{ reqs []crawler.Request }

func (f *recordingFetcher) Fetch(_ context.Context, r crawler.Request) (*crawler.Response, error) {
	f.reqs = append(f.reqs, r)
	return &crawler.Response{URL: r.URL, Status: 404}, nil
}
