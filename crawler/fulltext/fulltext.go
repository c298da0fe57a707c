// Package fulltext is the full-text step of the paper sources (arXiv, OpenAlex, Semantic Scholar):
// for a paper a source already matched — a citation of a dataset's paper, a search hit the run's
// matcher finds a dataset in — whose abstract does not already say it uses the dataset, the source
// plans one follow-up job that fetches the paper's open-access PDF through the crawler's fetcher
// (rate buckets, robots.txt, validator cache, byte bounds) and reads it with the manuscript
// reader. The paper comes back with its full text attached (artifact.FullText), and the run's
// matcher (manuscript.FullTextMatcher) decides uses / studies / mention on it. See
// docs/sources-papers.md, "Full text".
package fulltext

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/afterlife-watch/afterlife/artifact"
	"github.com/afterlife-watch/afterlife/crawler"
	"github.com/afterlife-watch/afterlife/crawler/webapi"
	"github.com/afterlife-watch/afterlife/extract"
	"github.com/afterlife-watch/afterlife/manuscript"
)

// Kind is the job kind of a full-text fetch, the same in every paper source.
const Kind = "fulltext"

// MaxPDFBytes bounds one PDF, on the wire and decoded: a worker's share of the memory budget
// (crawler.DefaultMaxBody, 16 MiB), well inside the manuscript reader's own file bound
// (manuscript.DefaultMaxFileSize). A larger PDF is skipped with a note; the abstract decides.
const MaxPDFBytes = crawler.DefaultMaxBody

// PDFFreshFor is how long a PDF read once answers from the validator cache without a request
// (crawler.Request.FreshFor): a paper's full text is fetched once, not asked again (304) on every
// run — at scale 100 those re-asks were half of a repeat scan's requests. After it, one
// conditional request. A new version of a paper has a new URL (arXiv's vN, a new OA link).
const PDFFreshFor = 90 * 24 * time.Hour

// Rate of a source's full-text bucket (RateKey "<source>/fulltext") for PDFs on hosts other than
// arXiv: one request per second per source, and the fetcher's per-host bucket (2/s, slowed by a
// robots.txt Crawl-delay) on top. PDFs on arXiv go through the arxiv source's own bucket instead
// (ArXivSource).
const (
	RatePerSecond = 1.0
	RateBurst     = 1
)

// ArXivSource is the source whose limits every arXiv request shares: a PDF on arxiv.org is
// fetched from export.arxiv.org (the host arXiv asks programs to use) as a request of the arxiv
// source, whichever paper site listed it, so it waits in arXiv's one-request-per-3-s bucket and
// takes its single connection (crawler.SourceLimits.MaxInFlight 1).
const ArXivSource = artifact.SourceArXiv

// Meta keys of a full-text job.
const (
	metaPaper = "paper" // the paper artifact as the listing produced it (JSON)
)

// Judge is the run's matcher: a paper source asks it whether a paper it listed is matched and
// whether its abstract already says `uses`.
type Judge func(a *artifact.Artifact) []extract.Finding

// Aware is implemented by the paper sources; the run hands them its matcher before the workers
// start (monitor). A source that was never handed one plans no full-text jobs.
type Aware interface{ UseJudge(Judge) }

// Gate holds a source's judge; the paper sources embed it.
type Gate struct {
	mu    sync.RWMutex
	judge Judge
}

// UseJudge implements Aware.
func (g *Gate) UseJudge(j Judge) {
	g.mu.Lock()
	g.judge = j
	g.mu.Unlock()
}

// Want reports whether the paper's full text is worth fetching: the paper is matched — a
// citation of a dataset's paper (tag cites-dataset:<id>) or a text in which the judge finds a
// dataset — and the abstract does not already give `uses` for every dataset it is matched for.
func (g *Gate) Want(a *artifact.Artifact) bool {
	g.mu.RLock()
	j := g.judge
	g.mu.RUnlock()
	if j == nil || a.Kind != artifact.KindPaper {
		return false
	}
	matched := map[string]bool{}
	for _, t := range a.Tags {
		if d, ok := strings.CutPrefix(t, "cites-dataset:"); ok && d != "" {
			matched[d] = true
		}
	}
	uses := map[string]bool{}
	for _, f := range j(a) {
		if f.Context {
			continue
		}
		matched[f.Dataset] = true
		if f.Relation == extract.Uses {
			uses[f.Dataset] = true
		}
	}
	for d := range matched {
		if !uses[d] {
			return true
		}
	}
	return false
}

// PDFURL returns the URL a PDF link is fetched from and whether it is fetched at all: http(s)
// only; an arXiv link (arxiv.org/pdf/ID or /abs/ID) is fetched from export.arxiv.org/pdf/ID.
func PDFURL(raw string) (string, bool) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", false
	}
	if IsArXiv(u.Host) {
		u.Scheme, u.Host = "https", "export.arxiv.org"
		if rest, ok := strings.CutPrefix(u.Path, "/abs/"); ok {
			u.Path = "/pdf/" + rest
		}
		u.RawQuery, u.Fragment = "", ""
	}
	return u.String(), true
}

// IsArXiv reports whether host is one of arXiv's.
func IsArXiv(host string) bool {
	h := strings.ToLower(host)
	if i := strings.LastIndexByte(h, ':'); i >= 0 && !strings.Contains(h[i:], "]") {
		h = h[:i]
	}
	return h == "arxiv.org" || h == "www.arxiv.org" || h == "export.arxiv.org"
}

// Job plans the full-text fetch of paper from pdfURL, for source. Its id is the paper's, so a
// paper's PDF is fetched at most once per run however many listings find it.
func Job(source string, paper artifact.Artifact, pdfURL, dataset, runID string) (crawler.Job, error) {
	paper.Expect, paper.FullText = nil, nil
	b, err := json.Marshal(paper)
	if err != nil {
		return crawler.Job{}, fmt.Errorf("fulltext job for %s: %w", paper.ID, err)
	}
	return crawler.Job{ID: crawler.Key(source, Kind, paper.ID), RunID: runID, Source: source, Kind: Kind, URL: pdfURL,
		Dataset: dataset, Meta: map[string]string{metaPaper: string(b)}}, nil
}

// AddJobs adds to res the full-text job of each listed paper that Want and that has a PDF link
// (pdfOf: the link the listing gave for the paper, "" for none).
func (g *Gate) AddJobs(res *crawler.Result, job crawler.Job, pdfOf func(a *artifact.Artifact) string) {
	for i := range res.Artifacts {
		a := &res.Artifacts[i]
		link := pdfOf(a)
		if link == "" {
			continue
		}
		u, ok := PDFURL(link)
		if !ok || !g.Want(a) {
			continue
		}
		j, err := Job(job.Source, *a, u, job.Dataset, job.RunID)
		if err != nil {
			res.Notes = append(res.Notes, err.Error())
			continue
		}
		res.Next = append(res.Next, j)
	}
}

// Handle performs a full-text job: it fetches the PDF politely and, when it reads, returns the
// paper with its full text attached (named by its URL) and tagged fulltext:pdf. What cannot be read — no PDF there
// (404/410, 401/403, an HTML page), a PDF over MaxPDFBytes, robots.txt saying no, an encrypted,
// scanned or broken PDF — is a note, not an error: the abstract decides, and the job is not
// retried. Rate limits and server errors are errors (the job is retried later).
func Handle(ctx context.Context, job crawler.Job, f crawler.Fetcher) (crawler.Result, error) {
	var res crawler.Result
	var paper artifact.Artifact
	if err := json.Unmarshal([]byte(job.Meta[metaPaper]), &paper); err != nil || paper.ID == "" {
		return res, &crawler.StatusError{URL: job.URL, Msg: fmt.Sprintf("fulltext job without its paper (%v)", err)}
	}
	req := crawler.Request{Source: job.Source, URL: job.URL, Robots: true, MaxBody: MaxPDFBytes, FreshFor: PDFFreshFor,
		Header: map[string][]string{"Accept": {"application/pdf"}}}
	if u, err := url.Parse(job.URL); job.Source == ArXivSource || (err == nil && IsArXiv(u.Host)) {
		req.Source = ArXivSource // arXiv's bucket and single connection, whoever listed the paper
	} else {
		req.RateKey = job.Source + "/fulltext"
	}
	skip := func(why string) (crawler.Result, error) {
		res.Notes = append(res.Notes, fmt.Sprintf("%s: full text of %s not read (%s): its abstract decides", job.Source, paper.ID, why))
		return res, nil
	}
	resp, err := f.Fetch(ctx, req)
	if err != nil {
		switch {
		case errors.Is(err, crawler.ErrBodyTooLarge):
			return skip(fmt.Sprintf("PDF over %d bytes", MaxPDFBytes))
		case errors.Is(err, crawler.ErrRobotsDisallowed):
			return skip("robots.txt disallows " + job.URL)
		}
		return res, fmt.Errorf("%s fulltext %s: %w", job.Source, paper.ID, err)
	}
	switch webapi.Classify(resp) {
	case webapi.OK:
	case webapi.Gone, webapi.Unauthorized, webapi.Forbidden, webapi.Invalid, webapi.Other:
		return skip(fmt.Sprintf("HTTP %d at %s", resp.Status, job.URL))
	case webapi.RateLimited:
		return res, webapi.RateLimitError(resp, time.Now())
	default:
		return res, &crawler.StatusError{URL: job.URL, Status: resp.Status, Msg: "fetching the full text"}
	}
	if !bytes.HasPrefix(resp.Body, []byte("%PDF-")) {
		return skip(fmt.Sprintf("%s is not a PDF (%s)", job.URL, resp.Header.Get("Content-Type")))
	}
	doc, err := manuscript.ReadPDF(ctx, job.URL, bytes.NewReader(resp.Body), int64(len(resp.Body)))
	if err != nil {
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
		return skip(err.Error())
	}
	paper.FullText = doc
	// The tag says the full text was read; the URL (which may name anything) stays out of the
	// tags the matcher reads, and is in the evidence instead (the document's name).
	paper.Tags = append(paper.Tags, "fulltext:pdf")
	res.Artifacts = append(res.Artifacts, paper)
	return res, nil
}

// ArXivRate is arXiv's documented limit (API Terms of Use: one request every 3 s, one connection,
// all machine access together). The arxiv adapter declares the same for its own bucket.
const ArXivRate = 1.0 / 3

func init() {
	// PDFs on arXiv are requests of the arxiv source whichever adapter plans them: one connection.
	crawler.SetSourceLimits(ArXivSource, crawler.SourceLimits{MaxInFlight: 1})
}

// Rates are the buckets a paper source declares beside its own (crawler.Rater): its full-text
// bucket, and — for the other paper sites — the arxiv bucket its arXiv PDFs wait in, so that it is
// held to arXiv's rate even when the arxiv source itself is not in the watch plan.
func Rates(source string) map[string]crawler.Rate {
	r := map[string]crawler.Rate{source + "/fulltext": {PerSecond: RatePerSecond, Burst: RateBurst,
		Doc: "open-access PDFs on hosts other than arXiv: 1 request/s per source, plus each host's bucket and robots.txt"}}
	if source != ArXivSource {
		r[ArXivSource] = crawler.Rate{PerSecond: ArXivRate, Burst: 1,
			Doc: "PDFs on arXiv, in arXiv's bucket: API Terms of Use, 1 request / 3 s, one connection"}
	}
	return r
}
