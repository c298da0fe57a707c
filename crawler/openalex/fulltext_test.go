package openalex

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/afterlife-watch/afterlife/artifact"
	"github.com/afterlife-watch/afterlife/crawler"
	"github.com/afterlife-watch/afterlife/crawler/fulltext"
	"github.com/afterlife-watch/afterlife/crawler/webapi/webapitest"
	"github.com/afterlife-watch/afterlife/extract"
	"github.com/afterlife-watch/afterlife/internal/demoworld"
	"github.com/afterlife-watch/afterlife/manuscript"
)

// The recorded cites page (fixtures/real/openalex) lists 5 citing works, 2 with an open-access PDF
// in best_oa_location.pdf_url. Handed a judge (the run's matcher), the adapter plans one fulltext
// job per citing work with a PDF whose abstract does not already say `uses` of the cited dataset;
// none when the abstract does, none without a judge. The fulltext job fetches the PDF from its host
// without the API key and attaches the full text.
func TestCitesPagePlansFullTextOfWorksWithOpenAccessPDFs(t *testing.T) {
	srv, _ := replay(t, "works_filter_cites_cursor_first_page_2025.json")
	s := newSource(t, srv.URL, map[string]string{"OPENALEX_API_KEY": "oa-secret"})
	job := s.citesJob("ms-celeb-1m", []string{"W3046863325"})
	res, err := s.Handle(context.Background(), job, webapitest.NewFetcher())
	if err != nil {
		t.Fatal(err)
	}
	if n := len(res.Next); n != 1 { // the next cursor page only
		t.Fatalf("without a judge: %d follow-ups", n)
	}
	var silent []extract.Finding
	s.UseJudge(func(*artifact.Artifact) []extract.Finding { return silent })
	res, err = s.Handle(context.Background(), job, webapitest.NewFetcher())
	if err != nil {
		t.Fatal(err)
	}
	var fts []crawler.Job
	for _, j := range res.Next {
		if j.Kind == KindFullText {
			fts = append(fts, j)
		}
	}
	want := map[string]string{
		"openalex:W4311043552": "https://journal-center.litpam.com/index.php/e-Saintika/article/download/897/604",
		"openalex:W4293919086": "https://www.temjournal.com/content/113/TEMJournalAugust2022_1357_1363.pdf",
	}
	if len(fts) != len(want) {
		t.Fatalf("%d fulltext jobs, want %d: %+v", len(fts), len(want), fts)
	}
	for _, j := range fts {
		id := strings.TrimPrefix(j.ID, crawler.Key(Name, KindFullText, ""))
		if want[id] != j.URL || j.Source != Name || j.Dataset != "ms-celeb-1m" || strings.Contains(j.URL+strings.Join(mapValues(j.Meta), " "), "oa-secret") {
			t.Errorf("job %+v", j)
		}
	}
	s.UseJudge(func(*artifact.Artifact) []extract.Finding {
		return []extract.Finding{{Dataset: "ms-celeb-1m", Relation: extract.Uses}}
	})
	if res, _ = s.Handle(context.Background(), job, webapitest.NewFetcher()); len(res.Next) != 1 {
		t.Errorf("abstracts already `uses`: %d follow-ups, want only the next page", len(res.Next))
	}

	// The fulltext job, pointed at a local copy of the PDF.
	pdf := demoworld.PaperPDF("Online and Distance Learning Research", []demoworld.PaperSection{
		{Heading: "3 Method", Text: "We analyse 1,200 articles indexed in Scopus between 1990 and 2021."}})
	var seen []*http.Request
	host := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		seen = append(seen, r)
		rw.Header().Set("Content-Type", "application/pdf")
		_, _ = rw.Write(pdf)
	}))
	defer host.Close()
	j := fts[0]
	j.URL = host.URL + "/article/download/897/604"
	got, err := s.Handle(context.Background(), j, webapitest.NewFetcher())
	if err != nil || len(got.Artifacts) != 1 {
		t.Fatalf("fulltext job: %v, %+v", err, got)
	}
	if _, ok := got.Artifacts[0].FullText.(*manuscript.Document); !ok || len(seen) != 1 ||
		strings.Contains(seen[0].URL.String(), "oa-secret") || seen[0].Header.Get("Accept") != "application/pdf" {
		t.Errorf("fulltext: attached %T, requests %v", got.Artifacts[0].FullText, seen)
	}
	if r := s.DefaultRates()[Name+"/fulltext"]; r.PerSecond != fulltext.RatePerSecond || r.Burst != 1 {
		t.Errorf("full-text bucket %+v", r)
	}
}

func mapValues(m map[string]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// Full-text jobs come after the next page among a page's follow-ups: when the run's job budget
// runs short (the worker keeps the first follow-ups), it drops full texts, not the listing's pages.
func TestFullTextJobsComeAfterTheNextPage(t *testing.T) {
	srv, _ := replay(t, "works_filter_cites_cursor_first_page_2025.json")
	s := newSource(t, srv.URL, nil)
	s.UseJudge(func(*artifact.Artifact) []extract.Finding { return nil })
	res, err := s.Handle(context.Background(), s.citesJob("ms-celeb-1m", []string{"W3046863325"}), webapitest.NewFetcher())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Next) != 3 || res.Next[0].Kind != KindCites || res.Next[1].Kind != KindFullText || res.Next[2].Kind != KindFullText {
		t.Fatalf("follow-ups %+v, want the next page then 2 full texts", res.Next)
	}
}
