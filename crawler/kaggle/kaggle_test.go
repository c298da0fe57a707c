package kaggle

import (
	"context"
	"encoding/base64"
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

func newSource(t *testing.T, base string, env map[string]string) *Source {
	t.Helper()
	src, err := New(configs.SourceConfig{BaseURL: base, MaxPages: 3}, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	return src.(*Source)
}

func read(t *testing.T, name string) []byte {
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// documentedServer serves the documentation-derived bodies in testdata (see testdata/README.md),
// requiring Basic credentials like Kaggle does.
func documentedServer(t *testing.T, auth *atomic.Value) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		auth.Store(r.Header.Get("Authorization"))
		if r.Header.Get("Authorization") == "" {
			rw.WriteHeader(401)
			rw.Write(read(t, "error_401.json"))
			return
		}
		name := map[string]string{
			"/api/v1/datasets/list":                               "datasets_list_search_page1.json",
			"/api/v1/datasets/view/cctv-archive/towncentre-video": "datasets_view.json",
			"/api/v1/datasets/list/cctv-archive/towncentre-video": "datasets_list_files.json",
		}[r.URL.Path]
		if r.URL.Query().Get("pageToken") == "CAEQAA" {
			name = "datasets_list_files_page2.json"
		}
		if name == "" {
			rw.WriteHeader(404)
			fmt.Fprint(rw, `{"code":404,"message":"Not found"}`)
			return
		}
		rw.Header().Set("Content-Type", "application/json")
		rw.Write(read(t, name))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestDocumentedResponses(t *testing.T) {
	var auth atomic.Value
	srv := documentedServer(t, &auth)
	s := newSource(t, srv.URL, map[string]string{"KAGGLE_USERNAME": "alice", "KAGGLE_KEY": "k3y"})
	d := &configs.Dataset{ID: "oxford-town-centre", Name: "Oxford Town Centre", Aliases: []string{"TownCentre"}}
	got, err := webapitest.Crawl(ctx(t), s, webapitest.NewFetcher(), []*configs.Dataset{d}, 100)
	if err != nil {
		t.Fatal(err)
	}
	if auth.Load() != "Basic "+base64.StdEncoding.EncodeToString([]byte("alice:k3y")) {
		t.Errorf("auth %q", auth.Load())
	}
	a, ok := got.Artifacts["kaggle:dataset:cctv-archive/towncentre-video"]
	if !ok {
		t.Fatalf("artifacts %v errors %v", got.Artifacts, got.Errors)
	}
	if a.Title != "Oxford Town Centre CCTV video" || a.URL != "https://www.kaggle.com/datasets/cctv-archive/towncentre-video" ||
		a.Published != "2021-02-03" || !strings.Contains(a.Text, "TownCentreXVID.avi") || !strings.HasPrefix(a.Text, "Pedestrian tracking video") ||
		!slices.Equal(a.Tags, []string{"video", "tracking", "license:Unknown"}) {
		t.Errorf("%+v", a)
	}
	if len(a.Files) != 2 || a.Files[0].Path != "TownCentreXVID.avi" || *a.Files[0].Size != 341987328 || *a.Files[1].Size != 1632480 {
		t.Errorf("files (two pages of the file list) %+v", a.Files)
	}
	// The item with a broken ref is skipped; the third item's view answers 404 → gone.
	if !slices.Equal(got.Gone, []string{"kaggle:dataset:someone/town-centre-stills"}) {
		t.Errorf("gone %v", got.Gone)
	}
	// 3 items, fewer than a page: complete listings, one per search term.
	if len(got.Listings) != 2 || !slices.Equal(got.Listings[0].IDs, []string{"kaggle:dataset:cctv-archive/towncentre-video", "kaggle:dataset:someone/town-centre-stills"}) {
		t.Errorf("listings %+v", got.Listings)
	}
	for _, r := range []string{"alice", "k3y"} {
		for _, j := range []string{fmt.Sprint(got.Notes), fmt.Sprint(got.Errors)} {
			if strings.Contains(j, r) {
				t.Error("credential leaked")
			}
		}
	}
}

func TestAnonymousProbe(t *testing.T) {
	var auth atomic.Value
	srv := documentedServer(t, &auth)
	s := newSource(t, srv.URL, nil)
	ds := []*configs.Dataset{{ID: "a", Aliases: []string{"TownCentre", "Oxford Town Centre"}}, {ID: "b", Aliases: []string{"DukeMTMC"}}}
	jobs, err := s.Plan(ctx(t), ds)
	if err != nil || len(jobs) != 1 || jobs[0].Kind != KindProbe {
		t.Fatalf("%+v %v", jobs, err)
	}
	res, err := s.Handle(ctx(t), jobs[0], webapitest.NewFetcher())
	if err != nil || len(res.Next) != 0 || len(res.Notes) != 1 || !strings.Contains(res.Notes[0], "3 dataset searches skipped") {
		t.Errorf("%+v %v", res, err)
	}
	// Where anonymous access works (the demo world), the probe plans the rest.
	open := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) { fmt.Fprint(rw, "[]") }))
	defer open.Close()
	s = newSource(t, open.URL, nil)
	jobs, _ = s.Plan(ctx(t), ds)
	res, err = s.Handle(ctx(t), jobs[0], webapitest.NewFetcher())
	var terms []string
	for _, j := range res.Next {
		terms = append(terms, j.Dataset+":"+j.Meta["term"])
	}
	if err != nil || !slices.Equal(terms, []string{"a:Oxford Town Centre", "b:DukeMTMC"}) || res.Listing == nil {
		t.Errorf("next %v listing %v err %v", terms, res.Listing, err)
	}
}

func TestErrors(t *testing.T) {
	type answer struct {
		status int
		body   string
		hdr    map[string]string
	}
	var cur atomic.Pointer[answer]
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		a := cur.Load()
		for k, v := range a.hdr {
			rw.Header().Set(k, v)
		}
		rw.WriteHeader(a.status)
		fmt.Fprint(rw, a.body)
	}))
	defer srv.Close()
	s := newSource(t, srv.URL, map[string]string{"KAGGLE_API_TOKEN": "KGAT_secret"})
	search := s.searchJob("d", "x")
	run := func(j crawler.Job, a answer) (crawler.Result, error) {
		cur.Store(&a)
		return s.Handle(ctx(t), j, webapitest.NewFetcher())
	}
	if res, err := run(search, answer{401, `{"code":401,"message":"Unauthenticated"}`, nil}); err != nil || len(res.Notes) != 1 || !strings.Contains(res.Notes[0], "credentials rejected") {
		t.Errorf("401: %v %v", res.Notes, err)
	}
	_, err := run(search, answer{429, `{"code":429,"message":"Too many requests"}`, map[string]string{"Retry-After": "20"}})
	var se *crawler.StatusError
	if !errors.As(err, &se) || se.Status != 429 || !strings.Contains(se.Msg, "retry after 20s") {
		t.Errorf("429: %v", err)
	}
	_, err = run(search, answer{400, `{"code":400,"message":"Invalid search"}`, nil})
	if !errors.As(err, &se) || !se.Permanent() || se.Msg != "Invalid search" {
		t.Errorf("400: %v", err)
	}
	if _, err := run(search, answer{200, `{"oops":1}`, nil}); err == nil {
		t.Error("a non-array list was accepted")
	}
	if r := s.request(search.URL); r.Header["Authorization"][0] != "Bearer KGAT_secret" || strings.Contains(search.URL, "KGAT") {
		t.Errorf("%+v", r)
	}
	if _, err := New(configs.SourceConfig{}, func(k string) string { return map[string]string{"KAGGLE_USERNAME": "u"}[k] }); err == nil {
		t.Error("half credentials accepted")
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
	s := newSource(t, srv.URL+"/kaggle", nil)
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
		if a.Title != p.Title || a.Published != p.Published || len(a.Files) != len(p.Files) || *a.Files[0].Size != *p.Files[0].Size {
			t.Errorf("%s: %+v", p.ID, a)
		}
	}
	if n < 3 {
		t.Fatalf("%d planted", n)
	}
	world.SetEpoch(2)
	got2, err := webapitest.Crawl(ctx(t), s, f, reg.Retracted(), 5000)
	if err != nil || len(got2.Errors) > 0 {
		t.Fatalf("%v %v", err, got2.Errors)
	}
	if _, ok := got2.Artifacts["kaggle:dataset:reid-datasets/dukemtmc-reid"]; ok {
		t.Error("removed dataset still found")
	}
	if _, ok := got2.Artifacts["kaggle:dataset:vgg-mirror/vggface2-train-subset"]; !ok {
		t.Error("new dataset not found")
	}
	res, err := s.Handle(ctx(t), s.ViewJob("dukemtmc", "reid-datasets/dukemtmc-reid"), f)
	if err != nil || !slices.Equal(res.Gone, []string{"kaggle:dataset:reid-datasets/dukemtmc-reid"}) {
		t.Errorf("%v %v", res.Gone, err)
	}
}

func FuzzParseDataset(f *testing.F) {
	for _, n := range []string{"datasets_view.json", "datasets_list_search_page1.json", "datasets_list_files.json"} {
		b, _ := os.ReadFile(filepath.Join("testdata", n))
		f.Add(b)
	}
	s := &Source{base: "https://www.kaggle.com"}
	f.Fuzz(func(t *testing.T, b []byte) {
		if d, err := ParseDataset(b); err == nil {
			if a := s.Artifact(d); a.Validate() != nil || !strings.HasPrefix(a.ID, "kaggle:dataset:") {
				t.Fatal(a)
			}
		}
		if ds, err := ParseList(b); err == nil {
			for i := range ds {
				if a := s.Artifact(&ds[i]); a.Validate() != nil {
					t.Fatal(a)
				}
			}
		}
		_, _ = ParseFiles(b)
		_ = webapi.ErrorMessage(b)
	})
}
