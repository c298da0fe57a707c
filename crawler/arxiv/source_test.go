package arxiv

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/afterlife-watch/afterlife/configs"
	"github.com/afterlife-watch/afterlife/crawler"
	"github.com/afterlife-watch/afterlife/crawler/webapi"
	"github.com/afterlife-watch/afterlife/crawler/webapi/webapitest"
)

func newSource(t *testing.T, base string, maxPages int) *Source {
	t.Helper()
	s, err := New(configs.SourceConfig{BaseURL: base, MaxPages: maxPages, PageSize: 10}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s.(*Source)
}

func TestPlanFromRegistry(t *testing.T) {
	reg, err := configs.LoadRegistry("")
	if err != nil {
		t.Fatal(err)
	}
	d, ok := reg.Get("ms-celeb-1m")
	if !ok {
		t.Fatal("embedded registry has no ms-celeb-1m")
	}
	s := newSource(t, "https://export.arxiv.org/api", 3)
	jobs, err := s.Plan(context.Background(), []*configs.Dataset{d})
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs) == 0 {
		t.Fatal("no jobs")
	}
	var all []string
	for _, j := range jobs {
		u, err := url.Parse(j.URL)
		if err != nil {
			t.Fatal(err)
		}
		q := u.Query()
		if u.Path != "/api/query" || q.Get("start") != "0" || q.Get("max_results") != "10" || q.Get("sortBy") != "submittedDate" {
			t.Errorf("job url %s", j.URL)
		}
		if j.Kind != KindSearch || j.Dataset != "ms-celeb-1m" || j.Meta[webapi.MetaScope] == "" {
			t.Errorf("job %+v", j)
		}
		all = append(all, q.Get("search_query"))
	}
	joined := strings.Join(all, " OR ")
	for _, want := range []string{`abs:"MS-Celeb-1M"`, `ti:"MS-Celeb-1M"`, `abs:"MS1MV2"`, `abs:"faces_emore"`, `abs:"MS1M-RetinaFace"`} {
		if !strings.Contains(joined, want) {
			t.Errorf("queries %q lack %s", joined, want)
		}
	}
	if n := strings.Count(strings.ToLower(joined), `abs:"msceleb"`); n != 1 {
		t.Errorf("MSCeleb/msceleb searched %d times, want once (case-insensitive dedup)", n)
	}
}

func TestSearchTermsDropFileNames(t *testing.T) {
	d := &configs.Dataset{ID: "books3", Name: "Books3", Aliases: []string{"Books3", "the_pile_books3", "books3.tar.gz", "defunct-datasets/the_pile_books3", "B3"}}
	got := strings.Join(SearchTerms(d), "|")
	if got != "Books3|the_pile_books3" {
		t.Fatalf("terms = %s", got)
	}
}

func replay(t *testing.T) (*webapitest.Server, []webapitest.Recording) {
	recs := webapitest.Load(t, "testdata")
	return webapitest.Serve(t, recs), recs
}

func TestHandleSearchFollowsPagesToMaxPages(t *testing.T) {
	srv, _ := replay(t)
	s := newSource(t, srv.URL+"/api", 2)
	job := s.searchJob("ms-celeb-1m", "all:testing", 0)
	srv.Route(strings.TrimPrefix(job.URL, srv.URL), "query_search_all_testing_start0_max10_2026.xml")
	f := webapitest.NewFetcher()
	res, err := s.Handle(context.Background(), job, f)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Artifacts) != 10 || res.Artifacts[0].ID != "arxiv:2202.12139" {
		t.Fatalf("artifacts = %d, first %v", len(res.Artifacts), res.Artifacts)
	}
	if len(res.Next) != 1 || res.Listing != nil {
		t.Fatalf("next = %+v listing %+v", res.Next, res.Listing)
	}
	next := res.Next[0]
	u, _ := url.Parse(next.URL)
	if u.Query().Get("start") != "10" || next.Page != 1 || u.Query().Get("search_query") != "all:testing" {
		t.Fatalf("next job = %+v", next)
	}
	if got := webapi.Seen(next.Meta); len(got) != 10 {
		t.Fatalf("seen = %v", got)
	}
	srv.Route(strings.TrimPrefix(next.URL, srv.URL), "query_search_all_testing_start10_max10_2026.xml")
	res2, err := s.Handle(context.Background(), next, f)
	if err != nil {
		t.Fatal(err)
	}
	if len(res2.Artifacts) != 10 || res2.Artifacts[0].ID != "arxiv:2403.16981" {
		t.Fatalf("page 2 artifacts = %v", res2.Artifacts)
	}
	// max_pages=2 reached with 214,881 results left: no more pages, and no claim of a complete listing.
	if len(res2.Next) != 0 || res2.Listing != nil {
		t.Fatalf("page 2 next = %v listing = %v", res2.Next, res2.Listing)
	}
}

func TestHandleCompleteListing(t *testing.T) {
	srv, _ := replay(t)
	s := newSource(t, srv.URL+"/api", 3)
	job := s.searchJob("x", "au:del_maestro AND ti:checkerboard", 0)
	srv.Route(strings.TrimPrefix(job.URL, srv.URL), "query_search_au_ti_2016_old_format.xml")
	res, err := s.Handle(context.Background(), job, webapitest.NewFetcher())
	if err != nil {
		t.Fatal(err)
	}
	if res.Listing == nil || len(res.Listing.IDs) != 1 || res.Listing.IDs[0] != "arxiv:cond-mat/0603029" || res.Listing.Scope != job.Meta[webapi.MetaScope] {
		t.Fatalf("listing = %+v", res.Listing)
	}
}

func TestRecheck(t *testing.T) {
	srv, _ := replay(t)
	s := newSource(t, srv.URL+"/api", 3)
	for _, tc := range []struct {
		id, fixture string
		gone        bool
	}{
		{"arxiv:0000.0000", "query_id_list_unknown_id_empty_feed_2026.xml", true},
		{"arxiv:1605.08386", "query_id_list_single_2026.xml", false},
	} {
		job, ok := s.Recheck(tc.id)
		if !ok || job.Kind != KindPaper {
			t.Fatalf("recheck %s: %v %+v", tc.id, ok, job)
		}
		srv.Route(strings.TrimPrefix(job.URL, srv.URL), tc.fixture)
		res, err := s.Handle(context.Background(), job, webapitest.NewFetcher())
		if err != nil {
			t.Fatal(err)
		}
		if tc.gone != (len(res.Gone) == 1 && res.Gone[0] == tc.id) {
			t.Errorf("%s: gone = %v", tc.id, res.Gone)
		}
		if !tc.gone && (len(res.Artifacts) != 1 || res.Artifacts[0].ID != tc.id) {
			t.Errorf("%s: artifacts = %v", tc.id, res.Artifacts)
		}
	}
	if _, ok := s.Recheck("s2:CorpusId:1"); ok {
		t.Error("recheck accepted a foreign id")
	}
}

// The recorded 400 error feed is a permanent error that carries arXiv's message.
func TestHandleBadRequestIsPermanent(t *testing.T) {
	srv, _ := replay(t)
	s := newSource(t, srv.URL+"/api", 3)
	job, _ := s.Recheck("arxiv:abc")
	srv.Route(strings.TrimPrefix(job.URL, srv.URL), "query_id_list_malformed_id_400_error_feed_2026.xml")
	_, err := s.Handle(context.Background(), job, webapitest.NewFetcher())
	var se *crawler.StatusError
	if !errors.As(err, &se) || se.Status != 400 || !se.Permanent() || !strings.Contains(se.Msg, "incorrect id format for abc") {
		t.Fatalf("err = %v", err)
	}
}

// No 429/503 was recorded for arXiv; these answers are synthetic (arXiv sends 503 with Retry-After
// when it throttles). Both must be retryable errors.
func TestHandleThrottledIsRetryable(t *testing.T) {
	for _, status := range []int{http.StatusTooManyRequests, http.StatusServiceUnavailable} {
		srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			rw.Header().Set("Retry-After", "7")
			http.Error(rw, "Rate exceeded.", status)
		}))
		s := newSource(t, srv.URL+"/api", 3)
		_, err := s.Handle(context.Background(), s.searchJob("x", "all:x", 0), webapitest.NewFetcher())
		srv.Close()
		var se *crawler.StatusError
		if !errors.As(err, &se) || se.Permanent() {
			t.Fatalf("HTTP %d: err = %v, want a retryable StatusError", status, err)
		}
	}
}

func TestDefaultRate(t *testing.T) {
	s := newSource(t, "", 0)
	dr := s.DefaultRates()[Name]
	r, b := dr.PerSecond, dr.Burst
	if r*3 < 0.999 || r*3 > 1.001 || b != 1 {
		t.Fatalf("rate %v burst %d", r, b)
	}
	if s.base != DefaultBaseURL || s.maxPages != DefaultMaxPages {
		t.Fatalf("defaults %+v", s)
	}
	if _, err := New(configs.SourceConfig{Options: map[string]string{"sort_by": "nonsense"}}, nil); err == nil {
		t.Fatal("bad sort_by accepted")
	}
}

// Every recorded response, replayed with its recorded status and headers through Handle: 200 feeds
// parse (id_list answers as rechecks, searches as searches), the 400 error feed is permanent.
func TestHandleEveryRecording(t *testing.T) {
	recs := webapitest.Load(t, "testdata")
	if len(recs) != 10 {
		t.Fatalf("%d recordings, want the 10 recorded arXiv responses", len(recs))
	}
	for _, rec := range recs {
		t.Run(rec.Name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) { webapitest.Write(rw, rec) }))
			defer srv.Close()
			s := newSource(t, srv.URL+"/api", 3)
			job := s.searchJob("d", "all:x", 0)
			if strings.Contains(rec.Meta.URL, "id_list=") && !strings.Contains(rec.Meta.URL, "id_list=&") {
				job, _ = s.Recheck("arxiv:1605.08386")
			}
			res, err := s.Handle(context.Background(), job, webapitest.NewFetcher())
			switch rec.Meta.Status {
			case 200:
				if err != nil {
					t.Fatal(err)
				}
				f, _ := ParseFeed(rec.Body)
				if len(res.Artifacts) != len(f.Entries) {
					t.Fatalf("%d artifacts for %d entries", len(res.Artifacts), len(f.Entries))
				}
				if job.Kind == KindPaper && (len(f.Entries) == 0) != (len(res.Gone) == 1) {
					t.Fatalf("gone %v for %d entries", res.Gone, len(f.Entries))
				}
			case 400:
				var se *crawler.StatusError
				if !errors.As(err, &se) || !se.Permanent() {
					t.Fatalf("err %v", err)
				}
			default:
				t.Fatalf("unexpected recorded status %d", rec.Meta.Status)
			}
		})
	}
}

// arXiv uses the paper sources' shared term filter (webapi.PhraseTerms): over the embedded
// registry it searches no file name (books3.tar.gz.index.sqlite, which arXiv's own copy of the
// filter let through) and no derivative the registry says carries no data (pile-uncopyrighted).
func TestSearchTermsAreTheSharedPhraseTerms(t *testing.T) {
	reg, err := configs.LoadRegistry("")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range reg.Retracted() {
		got := SearchTerms(d)
		if want := webapi.PhraseTerms(d, MinTermLen, strings.NewReplacer(`"`, "")); !slices.Equal(got, want) {
			t.Errorf("%s: %v, shared filter %v", d.ID, got, want)
		}
		for _, term := range got {
			if strings.HasSuffix(term, ".sqlite") || strings.EqualFold(term, "pile-uncopyrighted") || strings.HasPrefix(term, "CIFAR") {
				t.Errorf("%s: searches %q", d.ID, term)
			}
		}
	}
}
