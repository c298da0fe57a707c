package semanticscholar

import (
	"context"
	"strings"
	"testing"

	"github.com/afterlife-watch/afterlife/artifact"
	"github.com/afterlife-watch/afterlife/crawler"
	"github.com/afterlife-watch/afterlife/crawler/fulltext"
	"github.com/afterlife-watch/afterlife/crawler/webapi/webapitest"
	"github.com/afterlife-watch/afterlife/extract"
)

// The recorded relevance search (fixtures/real: 100 papers, 51 with openAccessPdf.url). A search
// hit is matched only when the run's matcher finds a dataset in it: with a matcher that finds a
// mention in two of them, exactly those two with a PDF get a fulltext job, at the URL S2 lists, and
// the job is fetched without the API key.
func TestSearchPlansFullTextOfMatchedHitsWithOpenAccessPDFs(t *testing.T) {
	srv, _ := serve(t, "graph_v1_paper_search_turing_all_fields.json")
	s := newSource(t, srv.URL, map[string]string{"S2_API_KEY": "s2-secret"}, map[string]string{"search": "relevance"})
	job := s.searchJob("megaface", "megaface")
	matched := map[string]bool{"s2:CorpusId:1438116": true, "s2:CorpusId:232303711": true, "s2:CorpusId:246411325": true}
	s.UseJudge(func(a *artifact.Artifact) []extract.Finding {
		if matched[a.ID] {
			return []extract.Finding{{ArtifactID: a.ID, Dataset: "megaface", Relation: extract.Mention}}
		}
		return nil
	})
	res, err := s.Handle(context.Background(), job, webapitest.NewFetcher())
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, j := range res.Next {
		if j.Kind == KindFullText {
			got[strings.TrimPrefix(j.ID, crawler.Key(Name, KindFullText, ""))] = j.URL
		}
	}
	want := map[string]string{ // 246411325 is matched but S2 lists no open-access PDF for it
		"s2:CorpusId:1438116":   "http://www.cs.berkeley.edu/~christos/classics/Deutsch_quantum_theory.pdf",
		"s2:CorpusId:232303711": "https://link.springer.com/content/pdf/10.1007/s11538-021-00870-y.pdf",
	}
	if len(got) != len(want) {
		t.Fatalf("fulltext jobs %v, want %v", got, want)
	}
	for id, u := range want {
		if got[id] != u {
			t.Errorf("%s: fulltext job at %q, want %q", id, got[id], u)
		}
	}
	rec := &recordingFetcher{}
	for _, j := range res.Next {
		if j.Kind == KindFullText {
			if _, err := s.Handle(context.Background(), j, rec); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, r := range rec.reqs {
		if len(r.Header["X-Api-Key"]) != 0 || r.Source != Name || r.RateKey != Name+"/fulltext" {
			t.Errorf("PDF request %+v", r)
		}
	}
	if r := s.DefaultRates()[Name]; r.PerSecond != 1 {
		t.Errorf("the API bucket %+v: S2 allows 1 request/s with a key", r)
	}
	if r := s.DefaultRates()[Name+"/fulltext"]; r.PerSecond != fulltext.RatePerSecond {
		t.Errorf("full-text bucket %+v", r)
	}
}

type recordingFetcher struct{ reqs []crawler.Request }

func (f *recordingFetcher) Fetch(_ context.Context, r crawler.Request) (*crawler.Response, error) {
	f.reqs = append(f.reqs, r)
	return &crawler.Response{URL: r.URL, Status: 404}, nil
}
