package kaggle

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/afterlife-watch/afterlife/configs"
	"github.com/afterlife-watch/afterlife/crawler"
	"github.com/afterlife-watch/afterlife/crawler/webapi"
	"github.com/afterlife-watch/afterlife/crawler/webapi/webapitest"
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

// fields is kagglesdk's JSON field names per type (testdata/kagglesdk_fields.json, extracted from
// the client's source).
func fields(t *testing.T) map[string][]string {
	t.Helper()
	var doc struct {
		Fields map[string][]string `json:"fields"`
	}
	if err := json.Unmarshal(read(t, "kagglesdk_fields.json"), &doc); err != nil || len(doc.Fields["ApiDataset"]) == 0 {
		t.Fatalf("kagglesdk_fields.json: %v", err)
	}
	return doc.Fields
}

// rpcServer emulates Kaggle's RPC endpoint as the official client talks to it (kagglesdk's
// kaggle_http_client.py): POST /api/v1/datasets.DatasetApiService/<Method> with a JSON body whose
// fields the request type knows, credentials in Authorization, errors as a JSON "code" (also
// with HTTP 200, as the client's own test server does). It answers with the bodies in testdata
// (see testdata/README.md for which are client test data and which are synthetic).
type rpcServer struct {
	mu     sync.Mutex
	calls  []string // "Method body"
	auth   []string
	badReq []string
}

func newRPCServer(t *testing.T) (*rpcServer, *httptest.Server) {
	fl := fields(t)
	rs := &rpcServer{}
	reqType := map[string]string{MethodList: "ApiListDatasetsRequest", MethodGet: "ApiGetDatasetRequest", MethodListFiles: "ApiListDatasetFilesRequest"}
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		method, ok := strings.CutPrefix(r.URL.Path, "/api/v1/"+Service+"/")
		body, _ := io.ReadAll(r.Body)
		rs.mu.Lock()
		rs.calls = append(rs.calls, method+" "+string(body))
		rs.auth = append(rs.auth, r.Header.Get("Authorization"))
		rs.mu.Unlock()
		var req map[string]any
		if !ok || r.Method != http.MethodPost || reqType[method] == "" || r.Header.Get("Content-Type") != "application/json" || json.Unmarshal(body, &req) != nil {
			rs.mu.Lock()
			rs.badReq = append(rs.badReq, r.Method+" "+r.URL.Path+" "+string(body))
			rs.mu.Unlock()
			rw.WriteHeader(404)
			rw.Write(read(t, "error_404_kagglehub_stub.json"))
			return
		}
		for k := range req {
			if !slices.Contains(fl[reqType[method]], k) {
				rs.mu.Lock()
				rs.badReq = append(rs.badReq, method+": unknown field "+k)
				rs.mu.Unlock()
			}
		}
		if r.Header.Get("Authorization") == "" {
			rw.Write(read(t, "error_code401_in_200_kagglehub_stub.json"))
			return
		}
		ref := fmt.Sprint(req["ownerSlug"]) + "/" + fmt.Sprint(req["datasetSlug"])
		name := ""
		switch method {
		case MethodList:
			if req["page"] == 1.0 {
				name = "listdatasets_search_page1.json"
			} else {
				fmt.Fprint(rw, "{}") // kagglesdk leaves an empty list out
				return
			}
		case MethodGet:
			name = map[string]string{"cctv-archive/towncentre-video": "getdataset_view.json",
				"sarahjeffreson/featured-spotify-artiststracks-with-metadata": "getdataset_kagglehub_stub.json"}[ref]
		case MethodListFiles:
			if ref == "cctv-archive/towncentre-video" {
				name = map[any]string{nil: "listdatasetfiles.json", "CAEQAA": "listdatasetfiles_page2.json"}[req["pageToken"]]
			}
		}
		if name == "" {
			rw.WriteHeader(404)
			rw.Write(read(t, "error_404_kagglehub_stub.json"))
			return
		}
		rw.Header().Set("Content-Type", "application/json")
		rw.Write(read(t, name))
	}))
	t.Cleanup(srv.Close)
	return rs, srv
}

// The synthetic answers use only field names the official client's types have.
func TestTestdataBodiesUseClientFieldNames(t *testing.T) {
	fl := fields(t)
	check := func(file, typ string, obj map[string]any) {
		for k := range obj {
			if !slices.Contains(fl[typ], k) {
				t.Errorf("%s: %q is not a field of %s", file, k, typ)
			}
		}
	}
	var list map[string]any
	json.Unmarshal(read(t, "listdatasets_search_page1.json"), &list)
	check("listdatasets_search_page1.json", "ApiListDatasetsResponse", list)
	for _, d := range list["datasets"].([]any) {
		check("listdatasets_search_page1.json", "ApiDataset", d.(map[string]any))
	}
	for _, f := range []string{"getdataset_view.json", "getdataset_kagglehub_stub.json"} {
		var d map[string]any
		json.Unmarshal(read(t, f), &d)
		check(f, "ApiDataset", d)
		vs, _ := d["versions"].([]any)
		for _, v := range vs {
			check(f, "ApiDatasetVersion", v.(map[string]any))
		}
		tags, _ := d["tags"].([]any)
		for _, v := range tags {
			check(f, "ApiCategory", v.(map[string]any))
		}
	}
	for _, f := range []string{"listdatasetfiles.json", "listdatasetfiles_page2.json"} {
		var d map[string]any
		json.Unmarshal(read(t, f), &d)
		check(f, "ApiListDatasetFilesResponse", d)
		for _, x := range d["datasetFiles"].([]any) {
			check(f, "ApiDatasetFile", x.(map[string]any))
		}
	}
}

// Searches, views and file lists go to the RPC routes the official client calls, with the bodies
// it sends, and their answers become complete artifacts.
func TestRPCRoutesBodiesAndAnswers(t *testing.T) {
	rs, srv := newRPCServer(t)
	s := newSource(t, srv.URL, map[string]string{"KAGGLE_USERNAME": "alice", "KAGGLE_KEY": "k3y"})
	d := &configs.Dataset{ID: "oxford-town-centre", Name: "Oxford Town Centre", Aliases: []string{"TownCentre"}}
	got, err := webapitest.Crawl(ctx(t), s, webapitest.NewFetcher(), []*configs.Dataset{d}, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs.badReq) > 0 {
		t.Fatalf("requests the client would not send: %v", rs.badReq)
	}
	for _, a := range rs.auth {
		if a != "Basic "+base64.StdEncoding.EncodeToString([]byte("alice:k3y")) {
			t.Fatalf("auth %q", a)
		}
	}
	// Byte for byte what `kaggle datasets list -s TownCentre -p 1` posts (kagglesdk to_dict).
	if !slices.Contains(rs.calls, `ListDatasets {"tagIds":"","search":"TownCentre","user":"","page":1}`) ||
		!slices.Contains(rs.calls, `GetDataset {"ownerSlug":"cctv-archive","datasetSlug":"towncentre-video"}`) ||
		!slices.Contains(rs.calls, `ListDatasetFiles {"ownerSlug":"cctv-archive","datasetSlug":"towncentre-video","pageToken":"CAEQAA","pageSize":20}`) {
		t.Errorf("calls %v", rs.calls)
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
	// The item with a broken ref is skipped; the third item's GetDataset answers 404 → gone.
	if !slices.Equal(got.Gone, []string{"kaggle:dataset:someone/town-centre-stills"}) {
		t.Errorf("gone %v", got.Gone)
	}
	// 3 items, fewer than a page: complete listings, one per search term.
	if len(got.Listings) != 2 || !slices.Equal(got.Listings[0].IDs, []string{"kaggle:dataset:cctv-archive/towncentre-video", "kaggle:dataset:someone/town-centre-stills"}) {
		t.Errorf("listings %+v", got.Listings)
	}
	if notes := strings.Join(got.Notes, "\n"); !strings.Contains(notes, VerificationNote) {
		t.Errorf("the run does not say which routes are unverified: %s", notes)
	}
	for _, r := range []string{"alice", "k3y"} {
		for _, j := range []string{fmt.Sprint(got.Notes), fmt.Sprint(got.Errors)} {
			if strings.Contains(j, r) {
				t.Error("credential leaked")
			}
		}
	}
}

// GetDataset answered as the client's own test server answers it (no ref, ownerName and title
// only) still gives the dataset asked for.
func TestGetDatasetClientStubAnswer(t *testing.T) {
	_, srv := newRPCServer(t)
	s := newSource(t, srv.URL, map[string]string{"KAGGLE_API_TOKEN": "KGAT_x"})
	res, err := s.Handle(ctx(t), s.ViewJob("d", "sarahjeffreson/featured-spotify-artiststracks-with-metadata"), webapitest.NewFetcher())
	if err != nil || len(res.Next) != 1 || res.Next[0].Kind != KindFiles {
		t.Fatalf("%+v %v", res, err)
	}
	a, err := webapi.DecodeArtifact(res.Next[0].Meta[webapi.MetaArtifact])
	if err != nil || a.ID != "kaggle:dataset:sarahjeffreson/featured-spotify-artiststracks-with-metadata" || a.Title != "featured-spotify-artiststracks-with-metadata" {
		t.Errorf("%+v %v", a, err)
	}
	// The file list of an unknown dataset is the stub's JSON 404: the artifact is kept without files.
	res, err = s.Handle(ctx(t), res.Next[0], webapitest.NewFetcher())
	if err != nil || len(res.Artifacts) != 1 {
		t.Errorf("%+v %v", res, err)
	}
}

// Without credentials on Kaggle's own API nothing is sent: one job carries the reason (the
// official client lists datasets only when authenticated) and the verification note.
func TestWithoutCredentialsKaggleIsSkippedWithReason(t *testing.T) {
	s := newSource(t, "", nil)
	if s.base != "https://api.kaggle.com" || s.rpcURL(MethodList) != "https://api.kaggle.com/v1/datasets.DatasetApiService/ListDatasets" {
		t.Fatalf("%s %s", s.base, s.rpcURL(MethodList))
	}
	ds := []*configs.Dataset{{ID: "a", Aliases: []string{"TownCentre", "Oxford Town Centre"}}, {ID: "b", Aliases: []string{"DukeMTMC"}}}
	jobs, err := s.Plan(ctx(t), ds)
	if err != nil || len(jobs) != 1 || jobs[0].Kind != KindSkipped {
		t.Fatalf("%+v %v", jobs, err)
	}
	res, err := s.Handle(ctx(t), jobs[0], failFetcher{t})
	notes := strings.Join(res.Notes, "\n")
	if err != nil || !strings.Contains(notes, "kaggle: 3 dataset searches skipped: no KAGGLE_API_TOKEN") || !strings.Contains(notes, VerificationNote) {
		t.Errorf("%q %v", notes, err)
	}
	// The legacy site host is taken as Kaggle's API.
	if s := newSource(t, "https://www.kaggle.com", nil); s.base != "https://api.kaggle.com" || s.anonymous != anonymousSkip {
		t.Errorf("www.kaggle.com: %+v", s)
	}
	if _, err := New(configs.SourceConfig{Options: map[string]string{"anonymous": "maybe"}}, nil); err == nil {
		t.Error("bad option accepted")
	}
}

type failFetcher struct{ t *testing.T }

func (f failFetcher) Fetch(context.Context, crawler.Request) (*crawler.Response, error) {
	f.t.Error("a request was sent")
	return nil, errors.New("no requests")
}

func TestAnonymousProbe(t *testing.T) {
	// On a server other than Kaggle's, the first search probes; the client-stub answer to missing
	// credentials ({"code": 401} with HTTP 200) skips the rest with one note.
	_, srv := newRPCServer(t)
	s := newSource(t, srv.URL, nil)
	ds := []*configs.Dataset{{ID: "a", Aliases: []string{"TownCentre", "Oxford Town Centre"}}, {ID: "b", Aliases: []string{"DukeMTMC"}}}
	jobs, err := s.Plan(ctx(t), ds)
	if err != nil || len(jobs) != 1 || jobs[0].Kind != KindProbe {
		t.Fatalf("%+v %v", jobs, err)
	}
	res, err := s.Handle(ctx(t), jobs[0], webapitest.NewFetcher())
	if err != nil || len(res.Next) != 0 || len(res.Notes) != 2 || !strings.Contains(res.Notes[1], "3 dataset searches skipped") {
		t.Errorf("%+v %v", res, err)
	}
	// Where anonymous access works, the probe plans the rest.
	open := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) { fmt.Fprint(rw, `{"datasets":[]}`) }))
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
		t.Error("an answer that is not a ListDatasets answer was accepted")
	}
	// An error code in a 200 body is that error (kagglesdk raises on it whatever the status).
	_, err = run(search, answer{200, `{"code":429,"message":"Too many requests"}`, nil})
	if !errors.As(err, &se) || se.Status != 429 {
		t.Errorf("code 429 in a 200 body: %v", err)
	}
	if res, err := run(s.ViewJob("d", "a/b"), answer{200, `{"code":"404","message":"not found"}`, nil}); err != nil || !slices.Equal(res.Gone, []string{"kaggle:dataset:a/b"}) {
		t.Errorf("code 404 in a 200 body: %v %v", res.Gone, err)
	}
	if r := s.request(search); r.Header["Authorization"][0] != "Bearer KGAT_secret" || strings.Contains(search.URL+search.Meta[metaBody], "KGAT") || r.Method != "POST" {
		t.Errorf("%+v", r)
	}
	if _, err := New(configs.SourceConfig{}, func(k string) string { return map[string]string{"KAGGLE_USERNAME": "u"}[k] }); err == nil {
		t.Error("half credentials accepted")
	}
}

func FuzzParseDataset(f *testing.F) {
	for _, n := range []string{"getdataset_view.json", "getdataset_kagglehub_stub.json", "listdatasets_search_page1.json", "listdatasetfiles.json"} {
		b, _ := os.ReadFile(filepath.Join("testdata", n))
		f.Add(b)
	}
	s := &Source{base: "https://api.kaggle.com", web: "https://www.kaggle.com"}
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
