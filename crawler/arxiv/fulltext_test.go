package arxiv

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/afterlife-watch/afterlife/artifact"
	"github.com/afterlife-watch/afterlife/configs"
	"github.com/afterlife-watch/afterlife/crawler"
	"github.com/afterlife-watch/afterlife/crawler/fulltext"
	"github.com/afterlife-watch/afterlife/crawler/webapi/webapitest"
	"github.com/afterlife-watch/afterlife/extract"
	"github.com/afterlife-watch/afterlife/internal/demoworld"
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

// Through the crawler's polite fetcher with arXiv's documented rate (no watch-config override), a
// PDF request and a search request of the arxiv source share one bucket: the server sees them at
// least 3 s apart, never two at once.
func TestPDFAndSearchShareArXivsThreeSecondBucket(t *testing.T) {
	var mu sync.Mutex
	var times []time.Time
	inFlight, maxInFlight := 0, 0
	pdf := demoworld.PaperPDF("A paper", []demoworld.PaperSection{{Heading: "4 Experiments", Text: "We train on MS1MV2 for twenty epochs."}})
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		mu.Lock()
		times = append(times, time.Now())
		inFlight++
		maxInFlight = max(maxInFlight, inFlight)
		mu.Unlock()
		defer func() { mu.Lock(); inFlight--; mu.Unlock() }()
		if strings.HasPrefix(r.URL.Path, "/pdf/") {
			rw.Header().Set("Content-Type", "application/pdf")
			_, _ = rw.Write(pdf)
			return
		}
		http.NotFound(rw, r) // robots.txt and the feed: nothing to read
	}))
	defer srv.Close()
	w := &configs.Watch{AllowLoopback: true, Sources: map[string]configs.SourceConfig{Name: {BaseURL: srv.URL + "/api"}}}
	f, err := crawler.NewFetcher(w, crawler.FetcherOptions{Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	s := newSource(t, srv.URL+"/api", 1)
	for k, r := range s.DefaultRates() {
		f.SetRate(k, r.PerSecond, r.Burst)
	}
	j, err := fulltext.Job(Name, artifact.Artifact{ID: "arxiv:2101.00001", Source: Name, Kind: "paper", Title: "A paper"},
		s.PDFURL("arxiv:2101.00001"), "", "")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); _, _ = s.Handle(ctx, j, f) }()
	go func() {
		defer wg.Done()
		_, _ = f.Fetch(ctx, crawler.Request{Source: Name, URL: srv.URL + "/api/query?search_query=x"})
	}()
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	// The PDF's robots.txt, the PDF and the search: three requests in arXiv's bucket.
	if len(times) != 3 || maxInFlight != 1 {
		t.Fatalf("%d requests, at most %d at once; want 3, one at a time", len(times), maxInFlight)
	}
	for i := 1; i < len(times); i++ {
		if gap := times[i].Sub(times[i-1]); gap < 2900*time.Millisecond {
			t.Errorf("requests %d and %d %v apart, want at least 3 s (arXiv API Terms of Use)", i, i+1, gap)
		}
	}
}
