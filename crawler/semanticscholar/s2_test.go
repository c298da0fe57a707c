package semanticscholar

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
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

func TestParseListRecorded(t *testing.T) {
	cases := []struct {
		file          string
		total         int64
		offset, next  int
		items         int
		tokenPrefix   string
		firstID       string
		firstTitlePre string
	}{
		{"graph_v1_paper_search_turing_all_fields.json", 67113, 0, 100, 100, "", "s2:CorpusId:246411325", "Using DeepSpeed and Megatron to Train Megatron-Turing NLG 530B"},
		{"graph_v1_paper_search_turing_fields_title.json", 70499, 0, 100, 100, "", "s2:paper:7cbc2a7843411a1768ab762930707af0a3c33a19", "Using DeepSpeed"},
		{"graph_v1_paper_search_turing_offset100.json", 70498, 100, 200, 100, "", "s2:paper:ac7a3d2983b75bd4f44903892a5df295a0f859ff", "How to Run Turing Machines on Encrypted Data"},
		{"graph_v1_paper_search_bulk_kubernetes.json", 2674, 0, 0, 1000, "PCOKWVSKJJGM4TWNJNI3", "s2:paper:0018ce3db8f9957b520d6b7e0cec84abfa230e1c", "Kubernetes Cluster for Automating"},
		{"graph_v1_paper_search_no_results.json", 0, 0, 0, 0, "", "", ""},
		{"graph_v1_paper_citations_page1.json", 0, 0, 100, 100, "", "s2:paper:344e7fb2000d9063cbc9deb550e46946bafe3c90", "We’ve got you covered!"},
		{"graph_v1_paper_citations_page2.json", 0, 100, 200, 100, "", "s2:paper:d2cf531ca1def873cca053f79b6721fda7fff758", "The Migration Response to Food Insecurity"},
		{"graph_v1_paper_citations_lastpage.json", 0, 1800, 0, 81, "", "s2:paper:57ca0060418e8a4d972905f3cfbae330b111f21e", "POVERTY LINES"},
		{"graph_v1_paper_references_page1.json", 0, 0, 50, 50, "", "s2:paper:e945ca4fdcf45b1a118f1462db7afa12629a131f", "Group lending or individual lending?"},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			l, err := ParseList(fixture(t, c.file))
			if err != nil {
				t.Fatal(err)
			}
			if l.Total != c.total || l.Offset != c.offset || l.Next != c.next || len(l.Items) != c.items || !strings.HasPrefix(l.Token, c.tokenPrefix) {
				t.Fatalf("total %d offset %d next %d items %d token %.20q", l.Total, l.Offset, l.Next, len(l.Items), l.Token)
			}
			if c.tokenPrefix == "" && l.Token != "" {
				t.Fatalf("unexpected token %q", l.Token)
			}
			if c.items == 0 {
				return
			}
			a := l.Items[0].Target().Artifact(nil)
			if a.ID != c.firstID || !strings.HasPrefix(a.Title, c.firstTitlePre) {
				t.Fatalf("first = %s %q", a.ID, a.Title)
			}
			for i := range l.Items {
				if l.Items[i].Target().ArtifactID() == "" {
					continue // S2 lists citing papers it cannot resolve with paperId null
				}
				if a := l.Items[i].Target().Artifact(&l.Items[i]); a.Validate() != nil {
					t.Fatalf("item %d: %v", i, a.Validate())
				}
			}
		})
	}
}

func TestSearchArtifactFields(t *testing.T) {
	l, err := ParseList(fixture(t, "graph_v1_paper_search_turing_all_fields.json"))
	if err != nil {
		t.Fatal(err)
	}
	a := l.Items[0].Target().Artifact(nil)
	if a.Published != "2022-01-28" || a.URL != "https://www.semanticscholar.org/paper/7cbc2a7843411a1768ab762930707af0a3c33a19" ||
		!strings.HasPrefix(a.Text, "Pretrained general-purpose language models can achieve state-of-the-art accuraci") {
		t.Fatalf("artifact %+v", a)
	}
	if tags := strings.Join(a.Tags, ","); !strings.Contains(tags, "arxiv:2201.11990") {
		t.Errorf("tags %s", tags)
	}
}

// The recorded citation object (one element of /citations data[]) carries contexts and intents:
// they end up in the text and the tags. The envelope around it is ours.
func TestCitationContextsInText(t *testing.T) {
	body := `{"offset":0,"data":[` + string(fixture(t, "citation_object_with_contexts_intents.json")) + `]}`
	l, err := ParseList([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	it := &l.Items[0]
	a := it.Target().Artifact(it)
	if a.ID != "s2:CorpusId:254723237" || a.Title != "Learning to Throw With a Handful of Samples Using Decision Transformers" || a.Published != "2023-02-01" {
		t.Fatalf("artifact %+v", a)
	}
	if !strings.HasPrefix(a.Text, "Throwing objects by a robot extends its reach") {
		t.Errorf("abstract missing: %.80q", a.Text)
	}
	for _, want := range []string{
		"\n\nCitation contexts:\n- ",
		"- RP is implemented by fixing the release position at a fixed angle of 45◦ as in [4].",
		"- In a more recent study, a robot has learned to rapidly pick-up and throw objects based on image observations [4].",
	} {
		if !strings.Contains(a.Text, want) {
			t.Errorf("text lacks %q", want)
		}
	}
	tags := strings.Join(a.Tags, ",")
	for _, want := range []string{"intent:result", "intent:background", "intent:methodology", "influential-citation", "doi:10.1109/lra.2022.3229266"} {
		if !strings.Contains(tags, want) {
			t.Errorf("tags %s lack %s", tags, want)
		}
	}
}

func TestReferenceObjectAndSingletons(t *testing.T) {
	l, err := ParseList([]byte(`{"offset":0,"data":[` + string(fixture(t, "reference_object.json")) + `]}`))
	if err != nil {
		t.Fatal(err)
	}
	if a := l.Items[0].Target().Artifact(&l.Items[0]); a.ID != "s2:CorpusId:1981188" || !strings.Contains(a.Text, "Directed generative models have gained in popularity") {
		t.Fatalf("reference artifact %+v", a)
	}
	p, err := ParsePaper(fixture(t, "graph_v1_paper_by_doi_fields_title.json"))
	if err != nil || p.Title != "Computing Machinery and Intelligence" || p.ArtifactID() != "s2:paper:2d5673caa9e6af3a7b82a43f19ee920992db07ad" {
		t.Fatalf("paper %+v %v", p, err)
	}
	b, err := ParseBatch(fixture(t, "graph_v1_paper_batch_post.json"))
	if err != nil || len(b) != 3 || b[0].PaperID != "c31c87c591a25c64fbaa82e8ac6a81831b6ac7ce" {
		t.Fatalf("batch %v %v", b, err)
	}
	for _, f := range []string{"graph_v1_paper_bad_fields_400.json", "graph_v1_paper_not_found_404.json"} {
		if _, err := ParseList(fixture(t, f)); err == nil {
			t.Errorf("%s parsed as a list", f)
		}
		if _, err := ParsePaper(fixture(t, f)); err == nil {
			t.Errorf("%s parsed as a paper", f)
		}
	}
}

func newSource(t *testing.T, base string, env map[string]string, opts map[string]string) *Source {
	t.Helper()
	s, err := New(configs.SourceConfig{BaseURL: base, MaxPages: 3, PageSize: 100, Options: opts}, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	return s.(*Source)
}

// serve answers every request with one recorded response and records the requests.
func serve(t *testing.T, name string) (*httptest.Server, func() []*http.Request) {
	rec := webapitest.Find(t, webapitest.Load(t, "testdata"), name)
	var mu sync.Mutex
	var reqs []*http.Request
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		mu.Lock()
		reqs = append(reqs, r)
		mu.Unlock()
		webapitest.Write(rw, rec)
	}))
	t.Cleanup(srv.Close)
	return srv, func() []*http.Request { mu.Lock(); defer mu.Unlock(); return append([]*http.Request(nil), reqs...) }
}

func TestHandleCitationsPaging(t *testing.T) {
	srv, reqs := serve(t, "graph_v1_paper_citations_page1.json")
	s := newSource(t, srv.URL, map[string]string{"S2_API_KEY": "s2-key"}, nil)
	job := s.citationsJob("ms-celeb-1m", "CorpusId:2908606", "MS-Celeb-1M: A Dataset and Benchmark for Large-Scale Face Recognition")
	res, err := s.Handle(context.Background(), job, webapitest.NewFetcher())
	if err != nil {
		t.Fatal(err)
	}
	r := reqs()[0]
	if r.URL.Path != "/paper/CorpusId:2908606/citations" || r.Header.Get("X-Api-Key") != "s2-key" ||
		!strings.Contains(r.URL.Query().Get("fields"), "contexts") || !strings.Contains(r.URL.Query().Get("fields"), "intents") {
		t.Fatalf("request %s headers %v", r.URL, r.Header)
	}
	if len(res.Artifacts) != 100 || len(res.Next) != 1 || res.Listing != nil {
		t.Fatalf("artifacts %d next %d listing %v", len(res.Artifacts), len(res.Next), res.Listing)
	}
	if tags := strings.Join(res.Artifacts[0].Tags, ","); !strings.Contains(tags, "cites-dataset:ms-celeb-1m") || !strings.Contains(tags, "cites:s2:CorpusId:2908606") {
		t.Errorf("tags %s", tags)
	}
	nu, _ := url.Parse(res.Next[0].URL)
	if nu.Query().Get("offset") != "100" || res.Next[0].Page != 1 || len(webapi.Seen(res.Next[0].Meta)) != 100 {
		t.Fatalf("next %+v", res.Next[0])
	}
	// The recorded last page (no next): a complete listing (81 items, 4 with paperId null skipped).
	srv2, _ := serve(t, "graph_v1_paper_citations_lastpage.json")
	last := res.Next[0]
	last.URL = strings.Replace(last.URL, srv.URL, srv2.URL, 1)
	res2, err := s.Handle(context.Background(), last, webapitest.NewFetcher())
	if err != nil || res2.Listing == nil || len(res2.Listing.IDs) != 177 || len(res2.Next) != 0 {
		t.Fatalf("last page: %v listing %+v", err, res2.Listing)
	}
}

func TestHandleBulkToken(t *testing.T) {
	srv, reqs := serve(t, "graph_v1_paper_search_bulk_kubernetes.json")
	s := newSource(t, srv.URL, nil, nil)
	job := s.bulkJob("books3", `"Books3" | "the_pile_books3"`)
	res, err := s.Handle(context.Background(), job, webapitest.NewFetcher())
	if err != nil {
		t.Fatal(err)
	}
	if q := reqs()[0].URL.Query(); q.Get("query") != `"Books3" | "the_pile_books3"` || reqs()[0].Header.Get("X-Api-Key") != "" {
		t.Fatalf("query %v", q)
	}
	if len(res.Artifacts) != 1000 || len(res.Next) != 1 {
		t.Fatalf("artifacts %d next %d", len(res.Artifacts), len(res.Next))
	}
	nu, _ := url.Parse(res.Next[0].URL)
	if !strings.HasPrefix(nu.Query().Get("token"), "PCOKWVSKJJGM4TWNJNI3") {
		t.Fatalf("next %s", res.Next[0].URL)
	}
}

func TestHandleRelevanceSearchAndEmpty(t *testing.T) {
	srv, _ := serve(t, "graph_v1_paper_search_no_results.json")
	s := newSource(t, srv.URL, nil, map[string]string{"search": "relevance"})
	jobs, err := s.Plan(context.Background(), []*configs.Dataset{{ID: "megaface", Name: "MegaFace", Aliases: []string{"MegaFace Challenge"}}})
	if err != nil || len(jobs) != 2 || jobs[0].Kind != KindSearch {
		t.Fatalf("plan %v %+v", err, jobs)
	}
	res, err := s.Handle(context.Background(), jobs[0], webapitest.NewFetcher())
	if err != nil || len(res.Artifacts) != 0 || res.Listing == nil || len(res.Listing.IDs) != 0 {
		t.Fatalf("empty search: %v %+v", err, res)
	}
	if len(res.Notes) != 1 || !strings.Contains(res.Notes[0], "no S2_API_KEY") {
		t.Fatalf("notes %v", res.Notes)
	}
}

func TestHandleErrorsRecorded(t *testing.T) {
	// 400: permanent, with S2's message.
	srv, _ := serve(t, "graph_v1_paper_bad_fields_400.json")
	s := newSource(t, srv.URL, nil, nil)
	_, err := s.Handle(context.Background(), s.bulkJob("x", `"x"`), webapitest.NewFetcher())
	var se *crawler.StatusError
	if !errors.As(err, &se) || se.Status != 400 || !se.Permanent() || se.Msg != "Unrecognized or unsupported fields: [unknown]" {
		t.Fatalf("400: %v", err)
	}
	// 404 on a paper recheck: gone. 404 on the citations of a dataset paper: a note, no retry.
	srv404, _ := serve(t, "graph_v1_paper_not_found_404.json")
	s = newSource(t, srv404.URL, nil, nil)
	job, ok := s.Recheck("s2:CorpusId:931550472")
	if !ok {
		t.Fatal("recheck refused")
	}
	res, err := s.Handle(context.Background(), job, webapitest.NewFetcher())
	if err != nil || len(res.Gone) != 1 || res.Gone[0] != "s2:CorpusId:931550472" {
		t.Fatalf("gone: %v %+v", err, res)
	}
	res, err = s.Handle(context.Background(), s.citationsJob("d", "CorpusId:0", "T"), webapitest.NewFetcher())
	if err != nil || len(res.Notes) != 1 || !strings.Contains(res.Notes[0], "Paper with id 0 not found") {
		t.Fatalf("citations 404: %v %v", err, res.Notes)
	}
	if _, ok := s.Recheck("s2:CorpusId:abc"); ok {
		t.Error("recheck accepted a bad id")
	}
}

// No 429 was recorded (S2 sends them bare, without rate-limit headers); it must be retryable.
func TestHandleRateLimited(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rw.WriteHeader(429)
		fmt.Fprint(rw, `{"message": "Too Many Requests. Please wait and try again or apply for a key for higher rate limits."}`)
	}))
	defer srv.Close()
	s := newSource(t, srv.URL, nil, nil)
	_, err := s.Handle(context.Background(), s.bulkJob("x", `"x"`), webapitest.NewFetcher())
	var se *crawler.StatusError
	if !errors.As(err, &se) || se.Permanent() || se.Status != 429 {
		t.Fatalf("429: %v", err)
	}
}

func TestPlanFromRegistry(t *testing.T) {
	reg, err := configs.LoadRegistry("")
	if err != nil {
		t.Fatal(err)
	}
	s := newSource(t, "https://api.semanticscholar.org/graph/v1", nil, nil)
	jobs, err := s.Plan(context.Background(), reg.Retracted())
	if err != nil {
		t.Fatal(err)
	}
	var cites []string
	for _, j := range jobs {
		if j.Kind == KindCitations {
			u, _ := url.Parse(j.URL)
			cites = append(cites, u.Path)
		}
	}
	all := strings.Join(cites, " ")
	for _, want := range []string{"/graph/v1/paper/CorpusId:2908606/citations", "/graph/v1/paper/CorpusId:7811489/citations", "/graph/v1/paper/ARXIV:1701.07717/citations"} {
		if !strings.Contains(all, want) {
			t.Errorf("citations jobs %s lack %s", all, want)
		}
	}
}

func FuzzParseList(f *testing.F) {
	for _, n := range []string{"graph_v1_paper_citations_lastpage.json", "graph_v1_paper_search_no_results.json", "reference_object.json"} {
		f.Add(fixture(f, n))
	}
	f.Add([]byte(`{"offset":0,"data":[{"citingPaper":{"externalIds":{"CorpusId":"12"}},"contexts":["a"]}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		l, err := ParseList(b)
		if err != nil {
			return
		}
		for i := range l.Items {
			p := l.Items[i].Target()
			if p.ArtifactID() == "" {
				continue
			}
			if a := p.Artifact(&l.Items[i]); a.Validate() != nil {
				t.Fatal(a.Validate())
			}
		}
	})
}

func FuzzParsePaper(f *testing.F) {
	f.Add(fixture(f, "graph_v1_paper_by_doi_fields_title.json"))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParsePaper(b)
		if err != nil {
			return
		}
		if a := p.Artifact(nil); a.Validate() != nil {
			t.Fatal(a.Validate())
		}
	})
}

// Every recorded response, replayed with its recorded status and headers through Handle. The two
// single data[] elements (status none) and the POST /paper/batch answer are not answers to any job
// the adapter sends; they are parsed in TestCitationContextsInText and TestReferenceObjectAndSingletons.
func TestHandleEveryRecording(t *testing.T) {
	recs := webapitest.Load(t, "testdata")
	if len(recs) != 15 {
		t.Fatalf("%d recordings, want the 15 recorded S2 responses", len(recs))
	}
	for _, rec := range recs {
		t.Run(rec.Name, func(t *testing.T) {
			if rec.Meta.Status == 0 || strings.Contains(rec.Name, "batch_post") {
				return
			}
			srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) { webapitest.Write(rw, rec) }))
			defer srv.Close()
			s := newSource(t, srv.URL, nil, nil)
			var job crawler.Job
			switch {
			case strings.Contains(rec.Name, "citations") || strings.Contains(rec.Name, "references"):
				job = s.citationsJob("d", "CorpusId:1", "T")
			case strings.Contains(rec.Name, "bulk"):
				job = s.bulkJob("d", `"x"`)
			case strings.Contains(rec.Name, "search"):
				job = s.searchJob("d", "x")
			default:
				job, _ = s.Recheck("s2:CorpusId:1")
			}
			res, err := s.Handle(context.Background(), job, webapitest.NewFetcher())
			var se *crawler.StatusError
			switch rec.Meta.Status {
			case 200:
				if err != nil || (len(res.Artifacts) == 0 && res.Listing == nil) {
					t.Fatalf("%v %+v", err, res)
				}
			case 400:
				if !errors.As(err, &se) || !se.Permanent() {
					t.Fatalf("err %v", err)
				}
			case 404:
				if err != nil || len(res.Gone) != 1 {
					t.Fatalf("%v %+v", err, res)
				}
			default:
				t.Fatalf("unexpected recorded status %d", rec.Meta.Status)
			}
		})
	}
}

func FuzzParseBatch(f *testing.F) {
	f.Add(fixture(f, "graph_v1_paper_batch_post.json"))
	f.Add([]byte(`[null,{"paperId":"x","corpusId":5}]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		ps, err := ParseBatch(b)
		if err != nil {
			return
		}
		for _, p := range ps {
			if p == nil || p.ArtifactID() == "" {
				continue
			}
			if a := p.Artifact(nil); a.Validate() != nil {
				t.Fatal(a.Validate())
			}
		}
	})
}
