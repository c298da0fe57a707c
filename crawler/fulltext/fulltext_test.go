package fulltext_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/afterlife-watch/afterlife/artifact"
	"github.com/afterlife-watch/afterlife/configs"
	"github.com/afterlife-watch/afterlife/crawler"
	"github.com/afterlife-watch/afterlife/crawler/fulltext"
	"github.com/afterlife-watch/afterlife/crawler/httpcache"
	"github.com/afterlife-watch/afterlife/extract"
	"github.com/afterlife-watch/afterlife/internal/demoworld"
	"github.com/afterlife-watch/afterlife/manuscript"
)

var paper = artifact.Artifact{ID: "openalex:W1", Source: "openalex", Kind: "paper", URL: "https://openalex.org/W1",
	Title: "Variance-Adaptive Angular Margins", Text: "We adapt the margin of each class to its variance.", Published: "2024-03-19",
	Tags: []string{"cites-dataset:ms-celeb-1m"}}

var goodPDF = demoworld.PaperPDF(paper.Title, []demoworld.PaperSection{
	{Heading: "1 Introduction", Text: "Margins differ by class."},
	{Heading: "4 Experiments", Text: "We train all our models on MS1MV2, a cleaned version of MS-Celeb-1M, for 20 epochs."},
})

// kidsContainSelf is a 600-byte PDF whose page tree lists itself among its kids (the loop the
// manuscript reader refuses instead of walking for ever).
func kidsContainSelf() []byte {
	objs := []string{"<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [2 0 R 3 0 R] /Count 2 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
		"<< /Length 60 >>\nstream\nBT /F1 12 Tf 72 720 Td (We train on MS1MV2 for twenty epochs.) Tj ET\nendstream",
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"}
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n")
	offs := make([]int, len(objs))
	for i, o := range objs {
		offs[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	x := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, o := range offs {
		fmt.Fprintf(&b, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, x)
	return b.Bytes()
}

// pdfServer serves the paths of a small paper host and counts requests per path.
type pdfServer struct {
	*httptest.Server
	mu   sync.Mutex
	hits map[string]int
	n304 map[string]int
}

func newPDFServer(t *testing.T) *pdfServer {
	s := &pdfServer{hits: map[string]int{}, n304: map[string]int{}}
	big := append([]byte("%PDF-1.4\n"), bytes.Repeat([]byte("% padding\n"), fulltext.MaxPDFBytes/10+1)...)
	s.Server = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.hits[r.URL.Path]++
		s.mu.Unlock()
		serve := func(ctype string, body []byte) {
			rw.Header().Set("Content-Type", ctype)
			rw.Header().Set("ETag", `"v1"`)
			if r.Header.Get("If-None-Match") == `"v1"` {
				s.mu.Lock()
				s.n304[r.URL.Path]++
				s.mu.Unlock()
				rw.WriteHeader(http.StatusNotModified)
				return
			}
			_, _ = rw.Write(body)
		}
		switch r.URL.Path {
		case "/robots.txt":
			fmt.Fprint(rw, "User-agent: *\nDisallow: /private/\n")
		case "/good.pdf", "/private/good.pdf":
			serve("application/pdf", goodPDF)
		case "/loop.pdf":
			serve("application/pdf", kidsContainSelf())
		case "/big.pdf":
			serve("application/pdf", big)
		case "/landing.pdf":
			serve("text/html", []byte("<html><body>Download the PDF from our reader.</body></html>"))
		case "/busy.pdf":
			rw.Header().Set("Retry-After", "3600")
			rw.WriteHeader(http.StatusTooManyRequests)
		default:
			http.NotFound(rw, r)
		}
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *pdfServer) count(path string) (int, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits[path], s.n304[path]
}

// politeFetcher is the crawler's fetcher (robots.txt, byte bounds, validator cache), with the
// rate buckets off.
func politeFetcher(t *testing.T) *crawler.HTTPFetcher {
	t.Helper()
	cache, err := httpcache.Open(filepath.Join(t.TempDir(), "cache.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cache.Close() })
	f, err := crawler.NewFetcher(&configs.Watch{AllowLoopback: true, PolitenessOff: true}, crawler.FetcherOptions{Cache: cache, Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func job(t *testing.T, u string) crawler.Job {
	t.Helper()
	j, err := fulltext.Job("openalex", paper, u, "ms-celeb-1m", "run1")
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// A readable PDF comes back attached to the paper (tagged with its URL), the run's matcher decides
// `uses` on it with full-text evidence, and fetching it again within PDFFreshFor sends no request
// at all: the stored copy reads the same (a paper's full text is fetched once, not once a run).
func TestHandleAttachesTheFullTextAndReadsItOnce(t *testing.T) {
	srv := newPDFServer(t)
	f := politeFetcher(t)
	reg, err := configs.LoadRegistry("")
	if err != nil {
		t.Fatal(err)
	}
	m := manuscript.NewChecker(reg).WithFullText(extract.New(reg))
	for i := 0; i < 2; i++ {
		res, err := fulltext.Handle(context.Background(), job(t, srv.URL+"/good.pdf"), f)
		if err != nil || len(res.Artifacts) != 1 || len(res.Notes) != 0 {
			t.Fatalf("fetch %d: %v, %d artifacts, notes %v", i+1, err, len(res.Artifacts), res.Notes)
		}
		a := res.Artifacts[0]
		if a.ID != paper.ID || a.Text != paper.Text || !strings.Contains(strings.Join(a.Tags, " "), "fulltext:pdf") {
			t.Fatalf("fetch %d: artifact %+v", i+1, a)
		}
		var uses bool
		for _, fd := range m.Match(&a) {
			if fd.Dataset == "ms-celeb-1m" && fd.Relation == extract.Uses && fd.Evidence[0].Field == "fulltext" &&
				strings.HasSuffix(fd.Evidence[0].Detail, "(full text: "+srv.URL+"/good.pdf)") {
				uses = true
			}
		}
		if !uses {
			t.Errorf("fetch %d: the full text does not make the paper `uses`", i+1)
		}
	}
	if hits, n304 := srv.count("/good.pdf"); hits != 1 || n304 != 0 {
		t.Errorf("good.pdf asked %d times, %d answered 304; want once, in full", hits, n304)
	}
	if c := f.Snapshot()["openalex"]; c.Cached != 1 {
		t.Errorf("fetcher counters %+v, want 1 served from the cache", c)
	}
}

// What cannot be read is a note and no artifact, never an error that would retry the job: no
// PDF there, an HTML page, a PDF over the byte bound (cut off on the wire), a page tree that loops,
// a path robots.txt disallows. A rate limit is an error: the job comes back later.
func TestHandleSkipsWhatCannotBeReadWithANote(t *testing.T) {
	srv := newPDFServer(t)
	f := politeFetcher(t)
	for path, want := range map[string]string{
		"/missing.pdf":      "HTTP 404",
		"/landing.pdf":      "is not a PDF (text/html)",
		"/big.pdf":          fmt.Sprintf("PDF over %d bytes", fulltext.MaxPDFBytes),
		"/loop.pdf":         "page tree",
		"/private/good.pdf": "robots.txt disallows",
	} {
		res, err := fulltext.Handle(context.Background(), job(t, srv.URL+path), f)
		if err != nil || len(res.Artifacts) != 0 || len(res.Notes) != 1 || !strings.Contains(res.Notes[0], want) ||
			!strings.Contains(res.Notes[0], "openalex:W1") {
			t.Errorf("%s: err %v, %d artifacts, notes %q; want one note saying %q", path, err, len(res.Artifacts), res.Notes, want)
		}
	}
	if hits, _ := srv.count("/private/good.pdf"); hits != 0 {
		t.Errorf("a path robots.txt disallows was fetched %d times", hits)
	}
	_, err := fulltext.Handle(context.Background(), job(t, srv.URL+"/busy.pdf"), f)
	if err == nil || crawler.Permanent(err) {
		t.Errorf("429: err %v, want a retryable error", err)
	}
}

// recorder is a Fetcher that records the requests it is asked for and answers 404.
type recorder struct{ reqs []crawler.Request }

func (r *recorder) Fetch(_ context.Context, req crawler.Request) (*crawler.Response, error) {
	r.reqs = append(r.reqs, req)
	return &crawler.Response{URL: req.URL, Status: http.StatusNotFound, Header: http.Header{}}, nil
}

// A PDF on arXiv is a request of the arxiv source (its one-per-3-s bucket and single connection)
// whoever listed the paper; elsewhere it waits in the listing source's full-text bucket. Every PDF
// request is a page request (robots.txt applies) bounded to MaxPDFBytes.
func TestArXivPDFsShareArXivsLimits(t *testing.T) {
	for _, c := range []struct{ source, link, url, reqSource, rateKey string }{
		{"openalex", "https://arxiv.org/pdf/2101.00001v2", "https://export.arxiv.org/pdf/2101.00001v2", "arxiv", ""},
		{"semanticscholar", "http://arxiv.org/abs/hep-th/9901001", "https://export.arxiv.org/pdf/hep-th/9901001", "arxiv", ""},
		{"arxiv", "https://export.arxiv.org/pdf/2101.00001", "https://export.arxiv.org/pdf/2101.00001", "arxiv", ""},
		{"openalex", "https://www.temjournal.com/content/113/x.pdf", "https://www.temjournal.com/content/113/x.pdf", "openalex", "openalex/fulltext"},
	} {
		u, ok := fulltext.PDFURL(c.link)
		if !ok || u != c.url {
			t.Errorf("PDFURL(%q) = %q, %v; want %q", c.link, u, ok, c.url)
			continue
		}
		j, err := fulltext.Job(c.source, paper, u, "", "")
		if err != nil {
			t.Fatal(err)
		}
		rec := &recorder{}
		if _, err := fulltext.Handle(context.Background(), j, rec); err != nil || len(rec.reqs) != 1 {
			t.Fatalf("%s: %v, %d requests", u, err, len(rec.reqs))
		}
		r := rec.reqs[0]
		if r.Source != c.reqSource || r.RateKey != c.rateKey || !r.Robots || r.MaxBody != fulltext.MaxPDFBytes || r.URL != c.url {
			t.Errorf("%s listed by %s: request %+v", u, c.source, r)
		}
	}
	for _, src := range []string{"openalex", "semanticscholar"} {
		if r := fulltext.Rates(src)["arxiv"]; r.PerSecond != 1.0/3 || r.Burst != 1 {
			t.Errorf("%s declares arXiv's bucket as %+v, want 1 request / 3 s", src, r)
		}
	}
	if l := crawler.LimitsOf("arxiv"); l.MaxInFlight != 1 {
		t.Errorf("arXiv connections: %+v, want one at a time", l)
	}
	for _, bad := range []string{"ftp://arxiv.org/pdf/1", "javascript:alert(1)", "/relative.pdf", ""} {
		if _, ok := fulltext.PDFURL(bad); ok {
			t.Errorf("PDFURL(%q) accepted", bad)
		}
	}
}

// A paper's full text is wanted when it is matched (a citation of a dataset's paper, or a text in
// which the matcher finds a dataset) and its abstract does not already say `uses` of every dataset
// it is matched for; never without a judge.
func TestWantOnlyMatchedPapersWithoutUsesInTheAbstract(t *testing.T) {
	f := func(ds string, rel extract.Relation, context bool) extract.Finding {
		return extract.Finding{Dataset: ds, Relation: rel, Context: context}
	}
	search := paper
	search.Tags = nil
	for _, c := range []struct {
		name  string
		a     artifact.Artifact
		found []extract.Finding
		want  bool
	}{
		{"citation, abstract silent", paper, nil, true},
		{"citation, abstract uses the cited dataset", paper, []extract.Finding{f("ms-celeb-1m", extract.Uses, false)}, false},
		{"citation, abstract uses another dataset", paper, []extract.Finding{f("megaface", extract.Uses, false)}, true},
		{"search hit the matcher finds nothing in", search, nil, false},
		{"search hit, context finding only", search, []extract.Finding{f("megaface", extract.Mention, true)}, false},
		{"search hit, mention", search, []extract.Finding{f("megaface", extract.Mention, false)}, true},
		{"search hit, uses", search, []extract.Finding{f("megaface", extract.Uses, false), f("megaface", extract.Mention, false)}, false},
	} {
		var g fulltext.Gate
		if g.Want(&c.a) {
			t.Errorf("%s: wanted without a judge", c.name)
		}
		found := c.found
		g.UseJudge(func(*artifact.Artifact) []extract.Finding { return found })
		if got := g.Want(&c.a); got != c.want {
			t.Errorf("%s: Want = %v", c.name, got)
		}
	}
}
