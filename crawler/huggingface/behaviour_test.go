package huggingface

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/afterlife-watch/afterlife/artifact"
	"github.com/afterlife-watch/afterlife/configs"
	"github.com/afterlife-watch/afterlife/crawler"
	"github.com/afterlife-watch/afterlife/crawler/webapi"
	"github.com/afterlife-watch/afterlife/crawler/webapi/webapitest"
)

// List endpoints: no raw list response was ever recorded (SOURCES.md), so this SYNTHETIC list
// wraps the recorded model objects in a JSON array, paged with the Hub's Link rel="next" cursor.
func TestSearchPaginationAndListing(t *testing.T) {
	recs := webapitest.Load(t, "testdata")
	var objs []string
	for _, n := range []string{"api_models_google-bert_bert-base-uncased.json", "api_models_deepset_roberta-base-squad2.json",
		"api_models_google_flan-t5-xxl.json", "api_models_stabilityai_stable-diffusion-2-1.json", "api_models_sentence-transformers_all-MiniLM-L6-v2.json"} {
		objs = append(objs, string(webapitest.Find(t, recs, n).Body))
	}
	var pages atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		pages.Add(1)
		if r.URL.Path != "/api/models" || r.URL.Query().Get("search") != "bert" || r.URL.Query().Get("limit") != "2" {
			http.Error(rw, "unexpected "+r.URL.String(), 400)
			return
		}
		start := 0
		fmt.Sscan(r.URL.Query().Get("cursor"), &start)
		end := min(start+2, len(objs))
		if end < len(objs) {
			rw.Header().Set("Link", fmt.Sprintf(`<http://%s/api/models?search=bert&limit=2&cursor=%d>; rel="next"`, r.Host, end))
		}
		rw.Header().Set("Content-Type", "application/json")
		fmt.Fprint(rw, "["+strings.Join(objs[start:end], ",")+"]")
	}))
	defer srv.Close()

	run := func(maxPages int) (ids []string, listing *crawler.Listing, cardJobs int) {
		src, _ := New(configs.SourceConfig{BaseURL: srv.URL, PageSize: 2, MaxPages: maxPages}, nil)
		s := src.(*Source)
		queue := []crawler.Job{s.searchJob(KindSearchModels, "test", "search", "bert", "")}
		f := webapitest.NewFetcher()
		for len(queue) > 0 {
			j := queue[0]
			queue = queue[1:]
			res, err := s.Handle(ctx(t), j, f)
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range res.Next {
				if n.Kind == KindSearchModels {
					if n.Page != j.Page+1 {
						t.Errorf("next page %d after %d", n.Page, j.Page)
					}
					queue = append(queue, n)
				} else {
					if n.Kind != KindModelCard {
						t.Errorf("a model hit of a name search got a %s job, want its card only", n.Kind)
					}
					cardJobs++
					ids = append(ids, n.Meta[webapi.MetaID])
				}
			}
			if res.Listing != nil {
				listing = res.Listing
			}
		}
		return
	}
	ids, listing, cards := run(5)
	want := []string{"hf:model:google-bert/bert-base-uncased", "hf:model:deepset/roberta-base-squad2", "hf:model:google/flan-t5-xxl",
		"hf:model:stabilityai/stable-diffusion-2-1", "hf:model:sentence-transformers/all-MiniLM-L6-v2"}
	if !slices.Equal(ids, want) || cards != 5 {
		t.Errorf("card jobs for %v", ids)
	}
	if listing == nil || !slices.Equal(listing.IDs, want) || listing.Scope != "huggingface:search-models:search=bert" {
		t.Errorf("listing %+v", listing)
	}
	// The watch config's max_pages does not cut a Hub listing short: it is read to its end (3
	// pages) and is a complete listing.
	pages.Store(0)
	ids, listing, _ = run(2)
	if len(ids) != 5 || listing == nil || pages.Load() != 3 {
		t.Errorf("max_pages 2: %v listing %+v after %d pages", ids, listing, pages.Load())
	}
}

// Error answers, in the Hub's format ({"error": ...} + X-Error-Code; SYNTHETIC: none was recorded).
func TestErrorBehaviour(t *testing.T) {
	type answer struct {
		status int
		code   string
		body   string
		hdr    map[string]string
	}
	var cur atomic.Pointer[answer]
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		a := cur.Load()
		for k, v := range a.hdr {
			rw.Header().Set(k, v)
		}
		if a.code != "" {
			rw.Header().Set("X-Error-Code", a.code)
		}
		rw.WriteHeader(a.status)
		fmt.Fprint(rw, a.body)
	}))
	defer srv.Close()
	anon := newSource(t, srv.URL, nil, nil)
	authed := newSource(t, srv.URL, map[string]string{"HF_TOKEN": "hf_SECRETtoken123"}, nil)
	info := anon.infoJob(KindModelInfo, "ms-celeb-1m", "gone-org/arcface", 0)
	search := anon.searchJob(KindSearchModels, "ms-celeb-1m", "search", "MS1MV3", "")
	card := anon.cardJob(crawler.Job{}, artifact.Artifact{ID: "hf:model:o/gated", Source: Name, Kind: artifact.KindModel, Title: "o/gated"}, "o/gated", false)

	cases := []struct {
		name  string
		src   *Source
		job   crawler.Job
		ans   answer
		check func(t *testing.T, res crawler.Result, err error)
	}{
		{"404 on model info is gone", anon, info, answer{404, "RepoNotFound", `{"error":"Repository not found"}`, nil},
			func(t *testing.T, res crawler.Result, err error) {
				if err != nil || !slices.Equal(res.Gone, []string{"hf:model:gone-org/arcface"}) {
					t.Errorf("gone %v err %v", res.Gone, err)
				}
			}},
		{"410 on model info is gone", anon, info, answer{410, "", `{"error":"gone"}`, nil},
			func(t *testing.T, res crawler.Result, err error) {
				if err != nil || len(res.Gone) != 1 {
					t.Errorf("gone %v err %v", res.Gone, err)
				}
			}},
		{"anonymous 401 RepoNotFound is gone", anon, info, answer{401, "RepoNotFound", `{"error":"Repository not found"}`, nil},
			func(t *testing.T, res crawler.Result, err error) {
				if err != nil || len(res.Gone) != 1 {
					t.Errorf("gone %v err %v", res.Gone, err)
				}
			}},
		{"401 with a token: token rejected, skipped", authed, search, answer{401, "", `{"error":"Invalid credentials in Authorization header"}`, nil},
			func(t *testing.T, res crawler.Result, err error) {
				if err != nil || len(res.Notes) != 1 || !strings.Contains(res.Notes[0], "HF_TOKEN rejected") || len(res.Next) != 0 {
					t.Errorf("notes %v err %v", res.Notes, err)
				}
				if strings.Contains(strings.Join(res.Notes, " "), "SECRET") {
					t.Error("token leaked into a note")
				}
			}},
		{"gated card: artifact kept without text, noted", anon, card, answer{401, "GatedRepo", `{"error":"Access to model o/gated is restricted."}`, nil},
			func(t *testing.T, res crawler.Result, err error) {
				if err != nil || len(res.Artifacts) != 1 || res.Artifacts[0].ID != "hf:model:o/gated" || res.Artifacts[0].Text != "" || len(res.Notes) != 1 {
					t.Errorf("res %+v err %v", res, err)
				}
			}},
		{"card of a repo deleted meanwhile: gone", anon, card, answer{404, "RepoNotFound", `{"error":"Repository not found"}`, nil},
			func(t *testing.T, res crawler.Result, err error) {
				if err != nil || len(res.Artifacts) != 0 || !slices.Equal(res.Gone, []string{"hf:model:o/gated"}) {
					t.Errorf("res %+v err %v", res, err)
				}
			}},
		{"missing card: artifact kept, no note", anon, card, answer{404, "EntryNotFound", `{"error":"Entry not found"}`, nil},
			func(t *testing.T, res crawler.Result, err error) {
				if err != nil || len(res.Artifacts) != 1 || len(res.Notes) != 0 || len(res.Gone) != 0 {
					t.Errorf("res %+v err %v", res, err)
				}
			}},
		{"429 is a retryable error with the wait", anon, search, answer{429, "", "Too Many Requests", map[string]string{"RateLimit": `"api";r=0;t=117`}},
			func(t *testing.T, res crawler.Result, err error) {
				var se *crawler.StatusError
				if !errors.As(err, &se) || se.Status != 429 || se.Permanent() || !strings.Contains(se.Msg, "retry after 117s") {
					t.Errorf("err %v", err)
				}
			}},
		{"400 is a permanent error for the query", anon, search, answer{400, "", `{"error":"Invalid filter"}`, nil},
			func(t *testing.T, res crawler.Result, err error) {
				var se *crawler.StatusError
				if !errors.As(err, &se) || !se.Permanent() || se.Msg != "Invalid filter" {
					t.Errorf("err %v", err)
				}
			}},
		{"422 is a permanent error for the query", anon, search, answer{422, "", `{"error":"bad sort"}`, nil},
			func(t *testing.T, res crawler.Result, err error) {
				var se *crawler.StatusError
				if !errors.As(err, &se) || !se.Permanent() {
					t.Errorf("err %v", err)
				}
			}},
		{"503 is retryable", anon, search, answer{503, "", "upstream", nil},
			func(t *testing.T, res crawler.Result, err error) {
				var se *crawler.StatusError
				if !errors.As(err, &se) || se.Permanent() {
					t.Errorf("err %v", err)
				}
			}},
		{"200 with a broken body is an error, not an empty result", anon, search, answer{200, "", `{"not":"a list"}`, nil},
			func(t *testing.T, res crawler.Result, err error) {
				if err == nil || res.Listing != nil {
					t.Errorf("res %+v err %v", res, err)
				}
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cur.Store(&c.ans)
			f := webapitest.NewFetcher()
			res, err := c.src.Handle(ctx(t), c.job, f)
			c.check(t, res, err)
			if err != nil && strings.Contains(err.Error(), "SECRET") {
				t.Error("token leaked into an error")
			}
		})
	}
}

// A 304 re-request returns the cached body and parses the same.
func TestNotModifiedUsesCache(t *testing.T) {
	body := webapitest.Find(t, webapitest.Load(t, "testdata"), "api_models_google-bert_bert-base-uncased.json").Body
	var n304 atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("ETag", `W/"1144-0lLZ4rZ6fR3gbhjw06/nTxkknu0"`)
		if r.Header.Get("If-None-Match") == `W/"1144-0lLZ4rZ6fR3gbhjw06/nTxkknu0"` {
			n304.Add(1)
			rw.WriteHeader(304)
			return
		}
		rw.Write(body)
	}))
	defer srv.Close()
	src := newSource(t, srv.URL, nil, nil)
	f := webapitest.NewFetcher()
	job := src.infoJob(KindModelInfo, "t", "google-bert/bert-base-uncased", 0)
	first, err := src.Handle(ctx(t), job, f)
	if err != nil {
		t.Fatal(err)
	}
	second, err := src.Handle(ctx(t), job, f)
	if err != nil {
		t.Fatal(err)
	}
	if n304.Load() != 1 || first.Next[0].Meta[webapi.MetaArtifact] != second.Next[0].Meta[webapi.MetaArtifact] {
		t.Errorf("304s %d; artifacts differ", n304.Load())
	}
}

func TestTokenGoesInHeaderOnly(t *testing.T) {
	var auth atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		auth.Store(r.Header.Get("Authorization"))
		if strings.Contains(r.URL.String(), "hf_") {
			t.Errorf("token in URL %s", r.URL)
		}
		fmt.Fprint(rw, "[]")
	}))
	defer srv.Close()
	src := newSource(t, srv.URL, map[string]string{"HF_TOKEN": "hf_abc"}, nil)
	jobs, err := src.Plan(ctx(t), []*configs.Dataset{{ID: "x", Aliases: []string{"faces_emore"}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range jobs {
		if strings.Contains(j.URL, "hf_abc") || strings.Contains(fmt.Sprint(j.Meta), "hf_abc") {
			t.Fatalf("token in job %+v", j)
		}
	}
	if _, err := src.Handle(ctx(t), jobs[0], webapitest.NewFetcher()); err != nil {
		t.Fatal(err)
	}
	if auth.Load() != "Bearer hf_abc" {
		t.Errorf("Authorization %q", auth.Load())
	}
	anon := newSource(t, srv.URL, nil, nil)
	jobs, _ = anon.Plan(ctx(t), []*configs.Dataset{{ID: "x", Aliases: []string{"faces_emore"}}})
	res, _ := anon.Handle(ctx(t), jobs[0], webapitest.NewFetcher())
	if auth.Load() != "" || len(res.Notes) == 0 || !strings.Contains(res.Notes[0], "no HF_TOKEN") {
		t.Errorf("anonymous: auth %q notes %v", auth.Load(), res.Notes)
	}
}

func TestPlan(t *testing.T) {
	src := newSource(t, "https://huggingface.co", nil, nil)
	d := &configs.Dataset{ID: "books3", Name: "Books3", Aliases: []string{"Books3", "the_pile_books3", "Tiny Images", "ab", "all of bibliotik in plain .txt form"},
		Derivatives: []configs.Derivative{{ID: "the-pile", Name: "The Pile", Aliases: []string{"EleutherAI/pile"}, CarriesData: true}},
		KnownModels: []configs.KnownModel{{ID: "EleutherAI/gpt-j-6b"}, {Name: "runwayml/stable-diffusion-v1-5 (mirrors: stable-diffusion-v1-5/stable-diffusion-v1-5)"}},
		Papers:      []configs.Paper{{Title: "The Pile", ArXiv: "2101.00027"}}}
	jobs, err := src.Plan(ctx(t), []*configs.Dataset{d})
	if err != nil {
		t.Fatal(err)
	}
	var urls []string
	for _, j := range jobs {
		if j.Dataset != "books3" || j.Source != Name {
			t.Errorf("job %+v", j)
		}
		urls = append(urls, strings.TrimPrefix(j.URL, "https://huggingface.co"))
	}
	for _, w := range []string{
		"/api/models?cardData=true&full=true&limit=2&search=Books3",
		"/api/datasets?full=true&limit=2&search=Books3",
		"/api/models?cardData=true&filter=dataset%3Athe_pile_books3&full=true&limit=2",
		"/api/models?cardData=true&full=true&limit=2&search=Tiny-Images",
		"/api/models?cardData=true&filter=dataset%3AEleutherAI%2Fpile&full=true&limit=2",
		"/api/models?cardData=true&filter=arxiv%3A2101.00027&full=true&limit=2",
		"/api/datasets?filter=arxiv%3A2101.00027&full=true&limit=2",
		"/api/models/EleutherAI/gpt-j-6b?blobs=true",
		"/api/models?expand=author&expand=cardData&expand=childrenModelCount&expand=createdAt&expand=disabled&expand=downloads&expand=gated&expand=lastModified&expand=library_name&expand=likes&expand=pipeline_tag&expand=private&expand=sha&expand=siblings&expand=tags&filter=base_model%3AEleutherAI%2Fgpt-j-6b&limit=2",
		"/api/models?expand=author&expand=cardData&expand=childrenModelCount&expand=createdAt&expand=disabled&expand=downloads&expand=gated&expand=lastModified&expand=library_name&expand=likes&expand=pipeline_tag&expand=private&expand=sha&expand=siblings&expand=tags&filter=base_model%3Astable-diffusion-v1-5%2Fstable-diffusion-v1-5&limit=2",
		"/api/models?expand=author&expand=cardData&expand=childrenModelCount&expand=createdAt&expand=disabled&expand=downloads&expand=gated&expand=lastModified&expand=library_name&expand=likes&expand=pipeline_tag&expand=private&expand=sha&expand=siblings&expand=tags&filter=base_model%3Arunwayml%2Fstable-diffusion-v1-5&limit=2",
	} {
		if !slices.Contains(urls, w) {
			t.Errorf("plan lacks %s", w)
		}
	}
	for _, u := range urls {
		// the_pile_books3 holds Books3: its search hits are a subset of Books3's (search= matches
		// a substring of the id, case-insensitively); its dataset: tag filter stays.
		if strings.Contains(u, "search=ab&") || strings.Contains(u, "dataset%3ATiny") || strings.Contains(u, "bibliotik") || strings.Contains(u, "search=the_pile_books3") {
			t.Errorf("plan has %s", u)
		}
	}
	// Search and filter on the same alias, case-insensitive dedup: Books3 appears once per kind.
	n := 0
	for _, u := range urls {
		if strings.Contains(strings.ToLower(u), "search=books3") {
			n++
		}
	}
	if n != 2 {
		t.Errorf("%d Books3 name searches, want 2 (models, datasets)", n)
	}
}

func TestBadOptions(t *testing.T) {
	for _, o := range []map[string]string{{"lineage_depth": "-1"}, {"card_path": "blob"}, {"dataset_filters": "maybe"}} {
		if _, err := New(configs.SourceConfig{Options: o}, nil); err == nil {
			t.Errorf("%v accepted", o)
		}
	}
}

// Over the embedded registry, filter=dataset: is asked only for what can be a dataset id: never
// for a file name (books3.tar.gz) or a domain (msceleb.org, vision.cs.duke.edu/DukeMTMC), which
// can never be tags and only cost a request each.
func TestPlanDatasetFiltersOnlyForDatasetIDs(t *testing.T) {
	reg, err := configs.LoadRegistry("")
	if err != nil {
		t.Fatal(err)
	}
	src := newSource(t, "https://huggingface.co", nil, nil)
	jobs, err := src.Plan(ctx(t), reg.Retracted())
	if err != nil {
		t.Fatal(err)
	}
	var filters []string
	for _, j := range jobs {
		if v, ok := strings.CutPrefix(j.Meta[webapi.MetaScope], Name+":"+KindSearchModels+":filter=dataset:"); ok {
			filters = append(filters, v)
		}
	}
	for _, f := range filters {
		if !webapi.DatasetIDCandidate(f) {
			t.Errorf("filter=dataset:%s planned", f)
		}
	}
	for _, bad := range []string{"books3.tar.gz", "msceleb.org", "vision.cs.duke.edu/DukeMTMC", "tiny_images.bin", "TownCentreXVID.avi"} {
		if slices.Contains(filters, bad) {
			t.Errorf("filter=dataset:%s planned", bad)
		}
	}
	for _, good := range []string{"the_pile_books3", "faces_emore"} {
		if !slices.Contains(filters, good) {
			t.Errorf("filter=dataset:%s not planned (of %d filters)", good, len(filters))
		}
	}
}
