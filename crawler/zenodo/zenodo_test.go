package zenodo

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/afterlife-watch/afterlife/artifact"
	"github.com/afterlife-watch/afterlife/configs"
	"github.com/afterlife-watch/afterlife/crawler"
	"github.com/afterlife-watch/afterlife/crawler/webapi"
	"github.com/afterlife-watch/afterlife/crawler/webapi/webapitest"
	"github.com/afterlife-watch/afterlife/internal/demoworld"
)

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return c
}

func newSource(t *testing.T, base string, cfg configs.SourceConfig) *Source {
	t.Helper()
	cfg.BaseURL = base
	src, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return src.(*Source)
}

func TestRecordedResponses(t *testing.T) {
	recs := webapitest.Load(t, "testdata")
	srv := webapitest.Serve(t, recs)
	s := newSource(t, srv.URL, configs.SourceConfig{MaxPages: 5})
	covered := map[string]bool{}
	search := func(name, query string) (crawler.Result, error) {
		covered[name] = true
		path := "/api/records?" + query
		srv.Route(path, name)
		return s.Handle(ctx(t), crawler.Job{Kind: KindSearch, URL: srv.URL + path, Meta: map[string]string{webapi.MetaScope: "zenodo:search:" + name}}, webapitest.NewFetcher())
	}
	record := func(name, id string) (crawler.Result, error) {
		covered[name] = true
		srv.Route("/api/records/"+id, name)
		return s.Handle(ctx(t), s.RecordJob("d", id), webapitest.NewFetcher())
	}
	nextIDs := func(res crawler.Result) (ids []string, more []string) {
		for _, j := range res.Next {
			if j.Kind == KindRecord {
				ids = append(ids, j.Meta[webapi.MetaID])
			} else {
				more = append(more, j.URL)
			}
		}
		return
	}

	t.Run("record by id (2026)", func(t *testing.T) {
		res, err := record("api_record_by_id_etag_2026.json", "13850346")
		if err != nil || len(res.Artifacts) != 1 {
			t.Fatalf("%+v %v", res, err)
		}
		a := res.Artifacts[0]
		if a.ID != "zenodo:13850346" || a.Kind != artifact.KindRecord || !strings.HasPrefix(a.Title, "IPBES Nexus Assessment: Chapter 5.6") ||
			a.URL != "https://zenodo.org/records/13850346" || a.Published != "2026-01-07" || len(a.Files) != 0 {
			t.Errorf("%+v", a)
		}
		if !strings.HasPrefix(a.Text, "Chapter 5.6: Options for delivering sustainable approaches") || strings.Contains(a.Text, "<span") ||
			!strings.Contains(a.Text, "isPartOf: 10.5281/zenodo.13850055") {
			t.Errorf("text %q", a.Text[:200])
		}
		if !slices.Contains(a.Tags, "resource_type:publication") {
			t.Errorf("tags %v", a.Tags)
		}
	})
	t.Run("legacy 2021 search", func(t *testing.T) {
		res, err := search("api_records_search_2021_legacy_format.json", "q=legacy&size=1&page=1")
		if err != nil {
			t.Fatal(err)
		}
		ids, more := nextIDs(res)
		// links.next points at zenodo.org, not this server: not followed, and the listing is incomplete.
		if !slices.Equal(ids, []string{"zenodo:5173799"}) || len(more) != 0 || res.Listing != nil {
			t.Errorf("ids %v more %v listing %v", ids, more, res.Listing)
		}
		rs, _, _ := ParseSearch(webapitest.Find(t, recs, "api_records_search_2021_legacy_format.json").Body)
		a := s.Artifact(rs[0])
		if a.URL != "https://zenodo.org/record/5173799" || len(a.Files) != 1 || a.Files[0].Path != "lexibank/utoaztecan-v1.1.zip" || *a.Files[0].Size != 805940 ||
			!slices.Contains(a.Tags, "cldf:Wordlist") || !strings.Contains(a.Text, "Greenhill, Simon J.") {
			t.Errorf("%+v", a)
		}
	})
	t.Run("RDM 2023 search without links pages by total", func(t *testing.T) {
		res, err := search("api_records_search_2023_rdm_format.json", "q=keywords&size=10&page=1")
		if err != nil {
			t.Fatal(err)
		}
		ids, more := nextIDs(res)
		if len(ids) != 10 || ids[0] != "zenodo:8250015" || ids[9] != "zenodo:8249894" {
			t.Errorf("ids %v", ids)
		}
		if !slices.Equal(more, []string{srv.URL + "/api/records?page=2&q=keywords&size=10"}) {
			t.Errorf("next page %v (29 hits, 10 a page)", more)
		}
	})
	t.Run("search by DOI: one hit, complete listing", func(t *testing.T) {
		res, err := search("api_records_search_by_doi_2023.json", "q=doi&size=10&page=1")
		ids, more := nextIDs(res)
		if err != nil || !slices.Equal(ids, []string{"zenodo:5173799"}) || len(more) != 0 || res.Listing == nil || !slices.Equal(res.Listing.IDs, ids) {
			t.Errorf("%v %v %+v %v", ids, more, res.Listing, err)
		}
	})
	t.Run("community searches (2026)", func(t *testing.T) {
		res, err := search("api_records_search_community_size1_2026.json", "communities=ipbes&size=1&page=1")
		ids, _ := nextIDs(res)
		if err != nil || !slices.Equal(ids, []string{"zenodo:13850346"}) || res.Listing != nil {
			t.Errorf("%v %v", ids, err)
		}
		res, err = search("api_records_search_community_size25_page2_2026.json", "communities=ipbes&size=25&page=2")
		ids, _ = nextIDs(res)
		if err != nil || len(ids) != 25 || ids[0] != "zenodo:17343997" || ids[24] != "zenodo:13913266" {
			t.Errorf("%d ids %v", len(ids), err)
		}
		rs, _, _ := ParseSearch(webapitest.Find(t, recs, "api_records_search_community_size25_page2_2026.json").Body)
		a := s.Artifact(rs[0])
		// publication_date "2024" is not a date; the upload date is used.
		if a.Published != "2025-10-13" || a.Files[0].Path != "Transformative_Change_Assessment_SPM.bib" || *a.Files[0].Size != 944 {
			t.Errorf("%+v", a)
		}
	})
	t.Run("multi-file record", func(t *testing.T) {
		covered["api_records_search_multifile_2023.json"] = true
		rs, page, err := ParseSearch(webapitest.Find(t, recs, "api_records_search_multifile_2023.json").Body)
		if err != nil || len(rs) != 1 || page.Total() != 1 {
			t.Fatal(err)
		}
		a := s.Artifact(rs[0])
		want := []string{"plant_data.tsv", "cinwa-cldf-metadata.json", "lang_data.tsv", "sources_data.bib", "main_data.tsv"}
		var got []string
		for _, f := range a.Files {
			got = append(got, f.Path)
		}
		if a.ID != "zenodo:7085903" || !slices.Equal(got, want) || *a.Files[4].Size != 317589 || a.Published != "2022-09-16" {
			t.Errorf("%+v", a)
		}
	})
	t.Run("a community object is not a record or a search", func(t *testing.T) {
		covered["api_communities_2023.json"] = true
		b := webapitest.Find(t, recs, "api_communities_2023.json").Body
		if _, err := ParseRecord(b); err == nil || !strings.Contains(err.Error(), "not a number") {
			t.Errorf("record: %v", err)
		}
		if _, _, err := ParseSearch(b); err == nil {
			t.Error("search accepted a community")
		}
		res, err := search("api_communities_2023.json", "q=community")
		if err == nil || len(res.Next) != 0 {
			t.Errorf("%+v %v", res, err)
		}
	})
	for _, r := range recs {
		if !covered[r.Name] {
			t.Errorf("recording %s not exercised", r.Name)
		}
	}
}

func TestErrorsAndConditional(t *testing.T) {
	body := webapitest.Find(t, webapitest.Load(t, "testdata"), "api_record_by_id_etag_2026.json").Body
	type answer struct {
		status int
		hdr    map[string]string
		body   string
	}
	var cur atomic.Pointer[answer]
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		a := cur.Load()
		for k, v := range a.hdr {
			rw.Header().Set(k, v)
		}
		if a.status == 200 && r.Header.Get("If-None-Match") == `W/"4"` {
			rw.WriteHeader(304)
			return
		}
		rw.WriteHeader(a.status)
		fmt.Fprint(rw, a.body)
	}))
	defer srv.Close()
	s := newSource(t, srv.URL, configs.SourceConfig{})
	rec := s.RecordJob("d", "99")
	srch := s.searchJob("d", `"x"`)
	run := func(job crawler.Job, a answer, f *webapitest.Fetcher) (crawler.Result, error) {
		cur.Store(&a)
		if f == nil {
			f = webapitest.NewFetcher()
		}
		return s.Handle(ctx(t), job, f)
	}
	if res, err := run(rec, answer{410, nil, `{"status":410,"message":"PID has been deleted."}`}, nil); err != nil || !slices.Equal(res.Gone, []string{"zenodo:99"}) {
		t.Errorf("410: %v %v", res.Gone, err)
	}
	if res, err := run(rec, answer{404, nil, `{"status":404,"message":"The persistent identifier does not exist."}`}, nil); err != nil || len(res.Gone) != 1 {
		t.Errorf("404: %v %v", res.Gone, err)
	}
	_, err := run(srch, answer{429, map[string]string{"Retry-After": "37", "X-RateLimit-Remaining": "0"}, `{"status":429,"message":"Too many requests"}`}, nil)
	var se *crawler.StatusError
	if !errors.As(err, &se) || se.Status != 429 || !strings.Contains(se.Msg, "retry after 37s") {
		t.Errorf("429: %v", err)
	}
	_, err = run(srch, answer{400, nil, `{"status":400,"message":"Page size cannot be greater than 25."}`}, nil)
	if !errors.As(err, &se) || !se.Permanent() || se.Msg != "Page size cannot be greater than 25." {
		t.Errorf("400: %v", err)
	}
	if res, err := run(rec, answer{403, nil, `{"status":403,"message":"Permission denied."}`}, nil); err != nil || len(res.Notes) != 1 {
		t.Errorf("403: %v %v", res, err)
	}
	f := webapitest.NewFetcher()
	first, err := run(rec, answer{200, map[string]string{"ETag": `W/"4"`}, string(body)}, f)
	if err != nil {
		t.Fatal(err)
	}
	second, err := run(rec, answer{200, map[string]string{"ETag": `W/"4"`}, string(body)}, f)
	if err != nil || len(second.Artifacts) != 1 || second.Artifacts[0].Text != first.Artifacts[0].Text || f.LastRequest().Header.Get("If-None-Match") != `W/"4"` {
		t.Errorf("304 re-scan: %v", err)
	}
}

func TestPlan(t *testing.T) {
	s := newSource(t, "https://zenodo.org", configs.SourceConfig{})
	d := &configs.Dataset{ID: "oxford-town-centre", Name: "Oxford Town Centre", Aliases: []string{"Oxford Town Centre", "TownCentre", `Town "Centre"`},
		KnownFiles: []configs.KnownFile{{Name: "TownCentreXVID.avi"}}}
	jobs, err := s.Plan(ctx(t), []*configs.Dataset{d})
	if err != nil || len(jobs) != 1 {
		t.Fatalf("%v %v", jobs, err)
	}
	if jobs[0].URL != `https://zenodo.org/api/records?page=1&q=%22Oxford+Town+Centre%22+OR+%22TownCentre%22+OR+%22Town+Centre%22+OR+%22TownCentreXVID.avi%22&size=25&sort=mostrecent` {
		t.Errorf("%s", jobs[0].URL)
	}
	if r := s.request(KindSearch, jobs[0].URL); r.RateKey != RateSearch {
		t.Errorf("rate key %q", r.RateKey)
	}
}

func TestDemoWorld(t *testing.T) {
	reg, err := configs.LoadRegistry("")
	if err != nil {
		t.Fatal(err)
	}
	world, err := demoworld.New(demoworld.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := demoworld.Start(world, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	s := newSource(t, srv.URL+"/zenodo", configs.SourceConfig{PageSize: 1, MaxPages: 10})
	f := webapitest.NewFetcher()
	got, err := webapitest.Crawl(ctx(t), s, f, reg.Retracted(), 5000)
	if err != nil || len(got.Errors) > 0 {
		t.Fatalf("%v %v", err, got.Errors)
	}
	all, _ := demoworld.LoadPlanted()
	n := 0
	for _, p := range all {
		if p.Source != Name || !p.InEpoch(1) {
			continue
		}
		n++
		a, ok := got.Artifacts[p.ID]
		if !ok {
			t.Errorf("planted %s not found", p.ID)
			continue
		}
		if a.Title != p.Title || a.Published != p.Published || len(a.Files) != len(p.Files) || !strings.Contains(a.Text, strings.SplitN(p.Text, "\n", 2)[0]) {
			t.Errorf("%s: %+v", p.ID, a)
		}
	}
	if n < 3 {
		t.Fatalf("%d planted", n)
	}
	otc := got.Artifacts["zenodo:99481101"]
	if otc.Files[0].Path != "TownCentreXVID.avi" || *otc.Files[0].Size != 341987328 {
		t.Errorf("%+v", otc.Files)
	}
	before := len(f.Requests)
	world.SetEpoch(2)
	got2, err := webapitest.Crawl(ctx(t), s, f, reg.Retracted(), 5000)
	if err != nil || len(got2.Errors) > 0 {
		t.Fatalf("%v %v", err, got2.Errors)
	}
	if _, ok := got2.Artifacts["zenodo:99481102"]; ok {
		t.Error("deleted record still found")
	}
	if _, ok := got2.Artifacts["zenodo:99481105"]; !ok {
		t.Error("new record not found")
	}
	res, err := s.Handle(ctx(t), s.RecordJob("ms-celeb-1m", "99481102"), f)
	if err != nil || !slices.Equal(res.Gone, []string{"zenodo:99481102"}) {
		t.Errorf("deleted record: %v %v", res.Gone, err)
	}
	cond := 0
	for _, r := range f.Requests[before:] {
		if r.Header.Get("If-None-Match") != "" {
			cond++
		}
	}
	if cond == 0 {
		t.Error("re-scan sent no conditional requests")
	}
}

func FuzzParseRecord(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.json")
	for _, n := range files {
		b, _ := os.ReadFile(n)
		f.Add(b)
	}
	s := &Source{base: "https://zenodo.org"}
	f.Fuzz(func(t *testing.T, b []byte) {
		if r, err := ParseRecord(b); err == nil {
			if a := s.Artifact(r); a.Validate() != nil || !strings.HasPrefix(a.ID, "zenodo:") || len(a.Text) > MaxTextBytes {
				t.Fatalf("%+v", a)
			}
		}
		if rs, p, err := ParseSearch(b); err == nil {
			_ = p.Total()
			for _, r := range rs {
				if a := s.Artifact(r); a.Validate() != nil {
					t.Fatal(a)
				}
			}
		}
		_ = HTMLText(string(b))
	})
}
