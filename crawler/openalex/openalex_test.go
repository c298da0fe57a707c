package openalex

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/afterlife-watch/afterlife/configs"
	"github.com/afterlife-watch/afterlife/crawler"
	"github.com/afterlife-watch/afterlife/crawler/webapi"
	"github.com/afterlife-watch/afterlife/crawler/webapi/webapitest"
)

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParsePageRecorded(t *testing.T) {
	cases := []struct {
		file     string
		count    int64
		works    int
		cursor   string
		groups   int
		firstWID string
	}{
		{"works_filter_cites_cursor_first_page_2025.json", 5, 5, "IlsnLUluZmluaXR5JywgMCwgJ2h0dHBzOi8vb3BlbmFsZXgub3JnL1c3MTA0NzI4MTM1J10i", 0, "W4311043552"},
		{"works_filter_cites_per_page1_2025.json", 5, 1, "", 0, "W4311043552"},
		{"works_filter_openalex_ids_per_page1_2025.json", 2, 1, "", 0, "W3046863325"},
		{"works_filter_title_abstract_search_cursor_page1_TRIMMED_2026.json", 429, 8, "IlsyLjU2NjE4ODgsIDEyMzA3NjgwMDAwMDAsICdodHRwczovL29wZW5hbGV4Lm9yZy9XMjc4OTQ3MzM4NSddIg==", 0, "W4235089722"},
		{"works_filter_title_abstract_search_select_ids_2026.json", 145616, 1, "", 0, "W2162348455"},
		{"works_group_by_type_2026.json", 145616, 0, "InN1cHBsZW1lbnRhcnktbWF0ZXJpYWxzIg==", 18, ""},
		{"works_cursor_exhausted_empty_page_2025.json", 2, 0, "", 0, ""},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			p, err := ParsePage(fixture(t, c.file))
			if err != nil {
				t.Fatal(err)
			}
			if p.Count != c.count || len(p.Works) != c.works || p.NextCursor != c.cursor || p.Groups != c.groups {
				t.Fatalf("count %d works %d cursor %q groups %d", p.Count, len(p.Works), p.NextCursor, p.Groups)
			}
			if c.works > 0 && p.Works[0].WID() != c.firstWID {
				t.Fatalf("first WID %q", p.Works[0].WID())
			}
			for i := range p.Works {
				a := p.Works[i].Artifact()
				if err := a.Validate(); err != nil {
					t.Errorf("%s: %v", a.ID, err)
				}
			}
		})
	}
}

func TestWorkArtifact(t *testing.T) {
	p, err := ParsePage(fixture(t, "works_filter_cites_cursor_first_page_2025.json"))
	if err != nil {
		t.Fatal(err)
	}
	a := p.Works[0].Artifact()
	if a.ID != "openalex:W4311043552" || a.URL != "https://openalex.org/W4311043552" || a.Published != "2022-11-30" || a.Kind != "paper" {
		t.Fatalf("artifact %+v", a)
	}
	if !strings.HasPrefix(a.Title, "Online and Distance Learning Research in The Last 30 Years") {
		t.Errorf("title %q", a.Title)
	}
	if !strings.HasPrefix(a.Text, "Learning systems in emergencies, can be implemented by making online-based learning or distance learning. This study") {
		t.Errorf("abstract rebuilt as %q", a.Text[:min(len(a.Text), 120)])
	}
	tags := strings.Join(a.Tags, ",")
	for _, want := range []string{"doi:10.36312/esaintika.v6i3.897", "type:article", "keyword:Online learning"} {
		if !strings.Contains(tags, want) {
			t.Errorf("tags %s lack %s", tags, want)
		}
	}
}

func TestParseWorkSingleton(t *testing.T) {
	w, err := ParseWork(fixture(t, "work_singleton_W2162348455_2026.json"))
	if err != nil {
		t.Fatal(err)
	}
	a := w.Artifact()
	if a.ID != "openalex:W2162348455" || a.Title != "Biodiversity hotspots for conservation priorities" || a.Published != "2000-02-01" {
		t.Fatalf("artifact %+v", a)
	}
	if w.DOIName() != "10.1038/35002501" {
		t.Errorf("doi %q", w.DOIName())
	}
	for _, bad := range []string{`{"error":"x"}`, `[]`, `{"id":"https://openalex.org/A123"}`, `not json`} {
		if _, err := ParseWork([]byte(bad)); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

func TestParsePageRejectsErrorBodies(t *testing.T) {
	for _, f := range []string{"works_400_invalid_filter_field_2026.json", "work_400_invalid_select_field_2026.json", "rate_limit_endpoint_401_bad_key_2026.json"} {
		if _, err := ParsePage(fixture(t, f)); err == nil {
			t.Errorf("%s parsed as a page", f)
		}
	}
}

func newSource(t *testing.T, base string, env map[string]string) *Source {
	t.Helper()
	s, err := New(configs.SourceConfig{BaseURL: base, MaxPages: 3, PageSize: 200}, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	return s.(*Source)
}

// replay serves one recorded body (with its recorded status and headers) for every request and
// records the query strings it saw.
func replay(t *testing.T, name string) (*httptest.Server, *[]url.Values) {
	recs := webapitest.Load(t, "testdata")
	rec := webapitest.Find(t, recs, name)
	var mu sync.Mutex
	var seen []url.Values
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.URL.Query())
		mu.Unlock()
		webapitest.Write(rw, rec)
	}))
	t.Cleanup(srv.Close)
	return srv, &seen
}

func TestHandleCitesPagesAndListing(t *testing.T) {
	srv, seen := replay(t, "works_filter_cites_cursor_first_page_2025.json")
	s := newSource(t, srv.URL, nil)
	job := s.citesJob("ms-celeb-1m", []string{"W3046863325", "W3045921891"})
	res, err := s.Handle(context.Background(), job, webapitest.NewFetcher())
	if err != nil {
		t.Fatal(err)
	}
	if q := (*seen)[0]; q.Get("filter") != "cites:W3046863325|W3045921891" || q.Get("cursor") != "*" || q.Get("per_page") != "200" {
		t.Fatalf("query %v", q)
	}
	if len(res.Artifacts) != 5 || len(res.Next) != 1 || res.Listing != nil {
		t.Fatalf("artifacts %d next %d listing %v", len(res.Artifacts), len(res.Next), res.Listing)
	}
	if tags := strings.Join(res.Artifacts[0].Tags, ","); !strings.Contains(tags, "cites-dataset:ms-celeb-1m") || !strings.Contains(tags, "cites:openalex:W3045921891") {
		t.Errorf("tags %s", tags)
	}
	nu, _ := url.Parse(res.Next[0].URL)
	if nu.Query().Get("cursor") != "IlsnLUluZmluaXR5JywgMCwgJ2h0dHBzOi8vb3BlbmFsZXgub3JnL1c3MTA0NzI4MTM1J10i" || res.Next[0].Page != 1 {
		t.Fatalf("next %+v", res.Next[0])
	}
	// The next page is the recorded exhausted cursor: a complete listing of all 5 + 0 ids.
	srv2, _ := replay(t, "works_cursor_exhausted_empty_page_2025.json")
	next := res.Next[0]
	next.URL = strings.Replace(next.URL, srv.URL, srv2.URL, 1)
	res2, err := s.Handle(context.Background(), next, webapitest.NewFetcher())
	if err != nil {
		t.Fatal(err)
	}
	if res2.Listing == nil || len(res2.Listing.IDs) != 5 || res2.Listing.Scope != job.Meta[webapi.MetaScope] || len(res2.Next) != 0 {
		t.Fatalf("listing %+v next %v", res2.Listing, res2.Next)
	}
}

func TestHandleErrorsRecorded(t *testing.T) {
	for _, c := range []struct {
		file    string
		status  int
		msgPart string
	}{
		{"works_400_invalid_filter_field_2026.json", 400, "DOESNTEXIST is not a valid field"},
		{"work_400_invalid_select_field_2026.json", 400, "DOESNTEXIST is not a valid select field"},
	} {
		srv, _ := replay(t, c.file)
		s := newSource(t, srv.URL, nil)
		_, err := s.Handle(context.Background(), s.searchJob("x", `"x"`), webapitest.NewFetcher())
		var se *crawler.StatusError
		if !errors.As(err, &se) || se.Status != c.status || !se.Permanent() || !strings.Contains(se.Msg, c.msgPart) {
			t.Errorf("%s: err = %v", c.file, err)
		}
	}
	// 401 (bad key): the job is skipped with a note, not retried.
	srv, _ := replay(t, "rate_limit_endpoint_401_bad_key_2026.json")
	s := newSource(t, srv.URL, map[string]string{"OPENALEX_API_KEY": "k-123"})
	res, err := s.Handle(context.Background(), s.searchJob("x", `"x"`), webapitest.NewFetcher())
	if err != nil || len(res.Notes) != 1 || !strings.Contains(res.Notes[0], "OPENALEX_API_KEY rejected") {
		t.Fatalf("401: err %v notes %v", err, res.Notes)
	}
}

// No 404 or 429 was recorded for OpenAlex; these bodies follow its documented error shape.
func TestHandleGoneAndRateLimited(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/works/W") {
			rw.WriteHeader(404)
			fmt.Fprint(rw, `{"error":"404 Not Found","message":"The requested URL was not found on the server."}`)
			return
		}
		rw.Header().Set("Retry-After", "2")
		rw.WriteHeader(429)
		fmt.Fprint(rw, `{"error":"Rate limit exceeded","message":"daily budget exhausted"}`)
	}))
	defer srv.Close()
	s := newSource(t, srv.URL, nil)
	job, ok := s.Recheck("openalex:W9912000101")
	if !ok {
		t.Fatal("recheck refused")
	}
	res, err := s.Handle(context.Background(), job, webapitest.NewFetcher())
	if err != nil || len(res.Gone) != 1 || res.Gone[0] != "openalex:W9912000101" {
		t.Fatalf("gone: %v %v", err, res.Gone)
	}
	_, err = s.Handle(context.Background(), s.searchJob("x", `"x"`), webapitest.NewFetcher())
	var se *crawler.StatusError
	if !errors.As(err, &se) || se.Permanent() || se.Status != 429 || !strings.Contains(se.Msg, "retry after 2s") {
		t.Fatalf("429: %v", err)
	}
}

// The key is sent to the server but kept out of job URLs, errors and notes.
func TestAPIKeyNeverLeaks(t *testing.T) {
	const key = "sekret-KEY-42"
	var got string
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		got = r.URL.Query().Get("api_key")
		rw.WriteHeader(400)
		// A server that echoes the key it was given in its error message.
		fmt.Fprintf(rw, `{"error":"bad","message":"key %s cannot run %s"}`, got, r.URL.Query().Get("search"))
	}))
	defer srv.Close()
	s := newSource(t, srv.URL, map[string]string{"OPENALEX_API_KEY": key})
	reg := &configs.Dataset{ID: "d", Name: "Some Dataset", Papers: []configs.Paper{{Title: "A Paper", ArXiv: "1607.08221"}}}
	jobs, err := s.Plan(context.Background(), []*configs.Dataset{reg})
	if err != nil || len(jobs) < 2 {
		t.Fatalf("plan: %v %d", err, len(jobs))
	}
	for _, j := range jobs {
		if strings.Contains(j.URL, key) || strings.Contains(fmt.Sprint(j.Meta), key) {
			t.Fatalf("key in job %+v", j)
		}
	}
	_, err = s.Handle(context.Background(), jobs[0], webapitest.NewFetcher())
	if got != key {
		t.Fatalf("server saw api_key %q", got)
	}
	if err == nil || strings.Contains(err.Error(), key) || !strings.Contains(err.Error(), "<redacted>") {
		t.Fatalf("error %v", err)
	}
	// 429: the rate-limit error names the job URL, not the fetched one.
	srv429 := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rw.WriteHeader(429)
		fmt.Fprintf(rw, `{"error":"Rate limit exceeded","message":"budget of key %s exhausted"}`, r.URL.Query().Get("api_key"))
	}))
	defer srv429.Close()
	s429 := newSource(t, srv429.URL, map[string]string{"OPENALEX_API_KEY": key})
	_, err = s429.Handle(context.Background(), s429.searchJob("x", `"x"`), webapitest.NewFetcher())
	var se *crawler.StatusError
	if !errors.As(err, &se) || se.Permanent() || strings.Contains(err.Error(), key) || !strings.Contains(err.Error(), "budget of key <redacted> exhausted") {
		t.Fatalf("429 error %v", err)
	}
	// Transport failure: the fetcher's error names the URL with the key.
	srv.Close()
	_, err = s.Handle(context.Background(), jobs[0], webapitest.NewFetcher())
	if err == nil || strings.Contains(err.Error(), key) {
		t.Fatalf("transport error leaks the key: %v", err)
	}
	// Without a key the plan says what anonymous access means.
	anon := newSource(t, srv.URL, nil)
	jobs, _ = anon.Plan(context.Background(), []*configs.Dataset{reg})
	if !strings.Contains(jobs[0].Meta[metaNotes], "no OPENALEX_API_KEY") {
		t.Fatalf("no anonymous note: %v", jobs[0].Meta)
	}
}

// A paper without a W id is resolved through its arXiv DOI, then its title.
func TestResolveFallsBackToTitle(t *testing.T) {
	var paths []string
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		paths = append(paths, r.URL.Path+"?"+r.URL.Query().Get("filter"))
		switch {
		case strings.HasPrefix(r.URL.Path, "/works/doi:"):
			rw.WriteHeader(404)
			fmt.Fprint(rw, `{"error":"404 Not Found"}`)
		case r.URL.Path == "/works":
			fmt.Fprint(rw, `{"meta":{"count":2,"per_page":5},"results":[
			 {"id":"https://openalex.org/W1","title":"MS-Celeb-1M: a review"},
			 {"id":"https://openalex.org/W9900000001","title":"MS-Celeb-1M: A Dataset and Benchmark for Large-Scale Face Recognition"}]}`)
		}
	}))
	defer srv.Close()
	s := newSource(t, srv.URL, nil)
	d := &configs.Dataset{ID: "ms-celeb-1m", Papers: []configs.Paper{{Title: "MS-Celeb-1M: A Dataset and Benchmark for Large-Scale Face Recognition", ArXiv: "1607.08221"}}}
	job, ok := s.resolveJob(d.ID, d.Papers[0])
	if !ok {
		t.Fatal("no resolve job")
	}
	f := webapitest.NewFetcher()
	var cites *crawler.Job
	for i := 0; i < 3 && cites == nil; i++ {
		res, err := s.Handle(context.Background(), job, f)
		if err != nil || len(res.Next) != 1 {
			t.Fatalf("step %d: %v %+v", i, err, res)
		}
		if res.Next[0].Kind == KindCites {
			cites = &res.Next[0]
		}
		job = res.Next[0]
	}
	if cites == nil || cites.Meta[metaCites] != "W9900000001" {
		t.Fatalf("cites job %+v (requests %v)", cites, paths)
	}
	if paths[0] != "/works/doi:10.48550/arxiv.1607.08221?" || !strings.HasPrefix(paths[1], "/works?title.search:MS-Celeb-1M A Dataset") {
		t.Fatalf("requests %v", paths)
	}
}

func TestPlanFromRegistry(t *testing.T) {
	reg, err := configs.LoadRegistry("")
	if err != nil {
		t.Fatal(err)
	}
	s := newSource(t, "https://api.openalex.org", map[string]string{"OPENALEX_API_KEY": "k"})
	jobs, err := s.Plan(context.Background(), reg.Retracted())
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, j := range jobs {
		kinds[j.Kind]++
		if j.Meta[metaNotes] != "" {
			t.Errorf("note with a key: %v", j.Meta)
		}
	}
	if kinds[KindSearch] < len(reg.Retracted()) || kinds[KindResolve] == 0 {
		t.Fatalf("kinds %v", kinds)
	}
}

func FuzzParsePage(f *testing.F) {
	for _, n := range []string{"works_filter_cites_per_page1_2025.json", "works_group_by_type_2026.json", "works_cursor_exhausted_empty_page_2025.json"} {
		f.Add(fixture(f, n))
	}
	f.Add([]byte(`{"meta":{},"results":[{"id":"W1","abstract_inverted_index":{"a":[0,999999999],"b":[-1,1]}}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParsePage(b)
		if err != nil {
			return
		}
		for i := range p.Works {
			if p.Works[i].WID() == "" {
				continue
			}
			a := p.Works[i].Artifact()
			if err := a.Validate(); err != nil {
				t.Fatal(err)
			}
		}
	})
}

func FuzzParseWork(f *testing.F) {
	f.Add(fixture(f, "work_singleton_W2162348455_2026.json"))
	f.Fuzz(func(t *testing.T, b []byte) {
		w, err := ParseWork(b)
		if err != nil {
			return
		}
		if a := w.Artifact(); a.Validate() != nil || !strings.HasPrefix(a.ID, "openalex:W") {
			t.Fatalf("bad artifact %+v", a)
		}
	})
}

// Every recorded response, replayed with its recorded status and headers through Handle: list pages
// through a search job, the singleton through a recheck, 400s permanent, the 401 a note.
func TestHandleEveryRecording(t *testing.T) {
	recs := webapitest.Load(t, "testdata")
	if len(recs) != 11 {
		t.Fatalf("%d recordings, want the 11 recorded OpenAlex responses", len(recs))
	}
	for _, rec := range recs {
		t.Run(rec.Name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) { webapitest.Write(rw, rec) }))
			defer srv.Close()
			s := newSource(t, srv.URL, nil)
			job := s.searchJob("d", `"x"`)
			single := strings.HasPrefix(rec.Name, "work_singleton")
			if single {
				job, _ = s.Recheck("openalex:W2162348455")
			}
			res, err := s.Handle(context.Background(), job, webapitest.NewFetcher())
			var se *crawler.StatusError
			switch {
			case rec.Meta.Status == 200 && single:
				if err != nil || len(res.Artifacts) != 1 || res.Artifacts[0].ID != "openalex:W2162348455" {
					t.Fatalf("%v %+v", err, res)
				}
			case rec.Meta.Status == 200:
				p, perr := ParsePage(rec.Body)
				if err != nil || perr != nil || len(res.Artifacts) != len(p.Works) {
					t.Fatalf("%v %v: %d artifacts", err, perr, len(res.Artifacts))
				}
				if (p.NextCursor == "" || len(p.Works) == 0) != (res.Listing != nil) {
					t.Fatalf("cursor %q works %d listing %v", p.NextCursor, len(p.Works), res.Listing)
				}
			case rec.Meta.Status == 400:
				if !errors.As(err, &se) || !se.Permanent() {
					t.Fatalf("err %v", err)
				}
			case rec.Meta.Status == 401:
				if err != nil || len(res.Notes) == 0 || !strings.Contains(res.Notes[len(res.Notes)-1], "needs an API key") {
					t.Fatalf("%v %v", err, res.Notes)
				}
			default:
				t.Fatalf("unexpected recorded status %d", rec.Meta.Status)
			}
		})
	}
}

// The select list must only name fields OpenAlex accepts (the recorded 400 lists them): one typo
// would turn every list call into a 400.
func TestSelectFieldsAreValid(t *testing.T) {
	var body struct{ Message string }
	if err := json.Unmarshal(fixture(t, "work_400_invalid_select_field_2026.json"), &body); err != nil {
		t.Fatal(err)
	}
	_, list, ok := strings.Cut(body.Message, "Valid fields for select are:")
	if !ok {
		t.Fatalf("message %q", body.Message)
	}
	valid := map[string]bool{}
	for _, f := range strings.Split(strings.TrimSuffix(strings.TrimSpace(list), "."), ",") {
		valid[strings.TrimSpace(f)] = true
	}
	for _, f := range strings.Split(selectFields, ",") {
		if !valid[f] {
			t.Errorf("select field %q is not valid", f)
		}
	}
}

// With page_size left 0 (the embedded watch plan), OpenAlex is asked for 200 works a call, its
// documented maximum: a quarter of the calls of 50, and list calls are what the daily budget pays.
func TestDefaultPageSizeIsTheDocumentedMaximum(t *testing.T) {
	s, err := New(configs.SourceConfig{}, func(string) string { return "key" })
	if err != nil {
		t.Fatal(err)
	}
	jobs, err := s.Plan(context.Background(), []*configs.Dataset{{ID: "megaface", Name: "MegaFace", Aliases: []string{"MegaFace"},
		Papers: []configs.Paper{{OpenAlexID: "W2162348455"}}}})
	if err != nil || len(jobs) < 2 {
		t.Fatalf("%v %v", jobs, err)
	}
	for _, j := range jobs {
		u, err := url.Parse(j.URL)
		if err != nil || u.Query().Get("per_page") != "200" {
			t.Errorf("%s %s: per_page %q, want 200", j.Kind, j.URL, u.Query().Get("per_page"))
		}
	}
}

// Without a key on OpenAlex's own API, the plan stays within the anonymous budget: no works
// searches ($1 per 1,000 calls against $0.01 a day), citation lists and DOI look-ups kept, and the
// note says what was skipped and why. Elsewhere (the demo world, a mirror) everything is planned.
func TestWithoutKeyPlanFitsAnonymousBudget(t *testing.T) {
	reg, err := configs.LoadRegistry("")
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(configs.SourceConfig{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	jobs, err := s.Plan(context.Background(), reg.Retracted())
	if err != nil || len(jobs) == 0 {
		t.Fatalf("%v %v", jobs, err)
	}
	kinds := map[string]int{}
	for _, j := range jobs {
		kinds[j.Kind]++
	}
	if kinds[KindSearch] != 0 || kinds[KindCites]+kinds[KindResolve] == 0 {
		t.Errorf("kinds %v", kinds)
	}
	// Worst case: each resolve ends in a title filter (its DOI steps are free singletons) and
	// plans a citation list of at most max_pages pages: within the anonymous 100 list calls a day.
	if calls := (kinds[KindCites]+kinds[KindResolve])*DefaultMaxPages + kinds[KindResolve]; calls > 100 {
		t.Errorf("worst case %d list calls", calls)
	}
	if n := jobs[0].Meta[metaNotes]; !strings.Contains(n, "works searches skipped") || !strings.Contains(n, "no OPENALEX_API_KEY") {
		t.Errorf("note %q", n)
	}
	demo, _ := New(configs.SourceConfig{BaseURL: "http://127.0.0.1:1/openalex"}, nil)
	jobs, _ = demo.Plan(context.Background(), reg.Retracted())
	if !slices.ContainsFunc(jobs, func(j crawler.Job) bool { return j.Kind == KindSearch }) {
		t.Error("no searches planned on a non-OpenAlex base URL")
	}
}
