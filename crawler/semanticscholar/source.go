// Package semanticscholar is the Semantic Scholar Academic Graph source adapter: paper searches for
// a dataset's names (bulk search with boolean OR and token paging by default, or relevance search
// with offset/next), and the citations of the dataset's own papers with their citation contexts
// and intents — the sentences where a citing paper says it trains or evaluates on the dataset.
package semanticscholar

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/afterlife-watch/afterlife/artifact"
	"github.com/afterlife-watch/afterlife/configs"
	"github.com/afterlife-watch/afterlife/crawler"
	"github.com/afterlife-watch/afterlife/crawler/fulltext"
	"github.com/afterlife-watch/afterlife/crawler/webapi"
)

// Name is the source's name.
const Name = artifact.SourceSemanticScholar

// Job kinds.
const (
	KindSearchBulk = "search-bulk" // /paper/search/bulk?query=…&token=…
	KindSearch     = "search"      // /paper/search?query=…&offset=…
	KindCitations  = "citations"   // /paper/{id}/citations?fields=contexts,intents,…
	KindPaper      = "paper"       // /paper/CorpusId:N (recheck: 404 => gone)
	// KindFullText fetches the open-access PDF (openAccessPdf.url) of a matched
	// paper whose abstract and citation contexts do not already say it uses the dataset.
	KindFullText = fulltext.Kind
)

const (
	metaCitedTitle = "cited_title"
	metaCitedID    = "cited_id"
	metaNotes      = "notes"
)

// Defaults used when the watch config leaves them 0.
const (
	DefaultBaseURL  = "https://api.semanticscholar.org/graph/v1"
	DefaultPageSize = 100 // search allows 100, citations 1,000 (contexts make pages heavy)
	DefaultMaxPages = 3
	MaxPageSize     = 1000
	TermsPerQuery   = 6
	MinTermLen      = 4
)

// DefaultRatePerSecond is S2's introductory API-key rate (1 request/s). Anonymous requests share
// one global pool that often answers 429, so the adapter does not go faster without a key either.
const (
	DefaultRatePerSecond = 1.0
	DefaultBurst         = 1
)

// Fields asked for.
const (
	paperFields    = "title,abstract,year,publicationDate,externalIds,corpusId,url,venue,openAccessPdf"
	citationFields = "contexts,intents,isInfluential,title,abstract,year,publicationDate,externalIds,corpusId,url,openAccessPdf"
)

func init() { crawler.Register(Name, New) }

// Source is the Semantic Scholar adapter.
type Source struct {
	fulltext.Gate // the run's matcher, for the full-text jobs
	base          string
	pageSize      int
	maxPages      int
	key           string
	mode          string // "bulk" or "relevance"
}

// New builds the adapter; the key comes from S2_API_KEY. Options: search (bulk | relevance).
func New(cfg configs.SourceConfig, env crawler.Env) (crawler.Source, error) {
	c, err := webapi.ParseCommon(Name, cfg, env, webapi.Defaults{BaseURL: DefaultBaseURL, PageSize: DefaultPageSize,
		MaxPageSize: MaxPageSize, MaxPages: DefaultMaxPages, TokenEnv: "S2_API_KEY"})
	if err != nil {
		return nil, err
	}
	mode, err := webapi.Choice(Name, cfg, "search", "bulk", "relevance")
	if err != nil {
		return nil, err
	}
	return &Source{base: c.Base, pageSize: c.PageSize, maxPages: c.MaxPages, key: c.Token, mode: mode}, nil
}

// Name implements crawler.Source.
func (s *Source) Name() string { return Name }

// DefaultRates implements crawler.Rater.
func (s *Source) DefaultRates() map[string]crawler.Rate {
	doc := "S2 API key: introductory 1 request/s"
	if s.key == "" {
		doc = "S2 anonymous: shared global pool (frequent 429); kept at 1 request/s"
	}
	rates := fulltext.Rates(Name)
	rates[Name] = crawler.Rate{PerSecond: DefaultRatePerSecond, Burst: DefaultBurst, Doc: doc}
	return rates
}

// queryStripper strips the characters the search syntax reserves from a term.
var queryStripper = strings.NewReplacer(`"`, "", "|", " ", "+", " ")

// SearchTerms are the names searched for: aliases, name and derivative names, without file names
// and path-like ids.
func SearchTerms(d *configs.Dataset) []string {
	return webapi.PhraseTerms(d, MinTermLen, queryStripper)
}

// BulkQuery ORs quoted phrases in the bulk search syntax ("a" | "b").
func BulkQuery(terms []string) string {
	q := make([]string, len(terms))
	for i, t := range terms {
		q[i] = `"` + t + `"`
	}
	return strings.Join(q, " | ")
}

// PaperRef returns the id S2 accepts for a registry paper: CorpusId:N, else ARXIV:<id>, else
// DOI:<doi>.
func PaperRef(p configs.Paper) string {
	switch {
	case p.S2CorpusID > 0:
		return "CorpusId:" + strconv.FormatInt(p.S2CorpusID, 10)
	case strings.TrimSpace(p.ArXiv) != "":
		return "ARXIV:" + strings.TrimSpace(p.ArXiv)
	case strings.TrimSpace(p.DOI) != "":
		return "DOI:" + strings.TrimSpace(p.DOI)
	}
	return ""
}

// Plan implements crawler.Source: per dataset, searches for its names and the citations (with
// contexts) of each of its papers.
func (s *Source) Plan(ctx context.Context, datasets []*configs.Dataset) ([]crawler.Job, error) {
	var plan webapi.Plan
	add := func(j crawler.Job) { plan.Add(j) }
	for _, d := range datasets {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		terms := SearchTerms(d)
		if s.mode == "bulk" {
			for i := 0; i < len(terms); i += TermsPerQuery {
				add(s.bulkJob(d.ID, BulkQuery(terms[i:min(i+TermsPerQuery, len(terms))])))
			}
		} else {
			for _, t := range terms {
				add(s.searchJob(d.ID, t))
			}
		}
		for _, p := range d.Papers {
			if ref := PaperRef(p); ref != "" {
				add(s.citationsJob(d.ID, ref, p.Title))
			}
		}
	}
	jobs := plan.Jobs()
	if len(jobs) > 0 && s.key == "" {
		jobs[0].Meta = webapi.CopyMeta(jobs[0].Meta, metaNotes,
			"semanticscholar: no S2_API_KEY: anonymous requests share a global pool and often get 429 (retried with backoff)")
	}
	return jobs, nil
}

// BulkPageSize is what one call of /paper/search/bulk returns at most (documented; no limit parameter).
const BulkPageSize = 1000

func (s *Source) bulkJob(dataset, query string) crawler.Job {
	q := url.Values{"query": {query}, "fields": {paperFields}, "sort": {"publicationDate:desc"}}
	u := s.base + "/paper/search/bulk?" + q.Encode()
	return crawler.Job{ID: crawler.Key(Name, KindSearchBulk, u), Source: Name, Kind: KindSearchBulk, URL: u, Dataset: dataset,
		Meta: map[string]string{webapi.MetaScope: Name + ":bulk:" + query}}
}

func (s *Source) searchJob(dataset, query string) crawler.Job {
	q := url.Values{"query": {query}, "fields": {paperFields}, "offset": {"0"}, "limit": {strconv.Itoa(min(s.pageSize, 100))}}
	u := s.base + "/paper/search?" + q.Encode()
	return crawler.Job{ID: crawler.Key(Name, KindSearch, u), Source: Name, Kind: KindSearch, URL: u, Dataset: dataset,
		Meta: map[string]string{webapi.MetaScope: Name + ":search:" + query}}
}

func (s *Source) citationsJob(dataset, ref, title string) crawler.Job {
	q := url.Values{"fields": {citationFields}, "offset": {"0"}, "limit": {strconv.Itoa(s.pageSize)}}
	u := s.base + "/paper/" + ref + "/citations?" + q.Encode()
	return crawler.Job{ID: jobID(KindCitations, u, dataset), Source: Name, Kind: KindCitations, URL: u, Dataset: dataset,
		Meta: map[string]string{webapi.MetaScope: Name + ":citations:" + ref, metaCitedTitle: title, metaCitedID: ref}}
}

// jobID is a job's dedup key. A citations listing tags what it finds with the dataset it was
// planned for (cites-dataset:<id>), so its id carries the dataset: two datasets listing the same
// paper get one listing each, whatever order their jobs are enqueued in. Searches record the
// same thing whichever dataset asked, so they stay keyed by URL and are shared.
func jobID(kind, u, dataset string) string {
	if kind == KindCitations {
		return webapi.DatasetJobID(Name, kind, u, dataset)
	}
	return crawler.Key(Name, kind, u)
}

// Recheck returns a job that looks up one known paper (s2:CorpusId:N); a 404 marks it gone.
func (s *Source) Recheck(artifactID string) (crawler.Job, bool) {
	n, ok := strings.CutPrefix(artifactID, "s2:CorpusId:")
	if !ok {
		return crawler.Job{}, false
	}
	if _, err := strconv.ParseInt(n, 10, 64); err != nil {
		return crawler.Job{}, false
	}
	u := s.base + "/paper/CorpusId:" + n + "?" + url.Values{"fields": {paperFields}}.Encode()
	return crawler.Job{ID: crawler.Key(Name, KindPaper, u), Source: Name, Kind: KindPaper, URL: u,
		Meta: map[string]string{webapi.MetaID: artifactID}}, true
}

// Handle implements crawler.Source.
func (s *Source) Handle(ctx context.Context, job crawler.Job, f crawler.Fetcher) (crawler.Result, error) {
	var res crawler.Result
	if n := job.Meta[metaNotes]; n != "" {
		res.Notes = append(res.Notes, n)
	}
	switch job.Kind {
	case KindSearchBulk, KindSearch, KindCitations, KindPaper:
	case KindFullText:
		return fulltext.Handle(ctx, job, f) // the PDF host, not the API: no key sent
	default:
		return res, fmt.Errorf("semanticscholar: unknown job kind %q", job.Kind)
	}
	req := crawler.Request{Source: Name, URL: job.URL, Header: map[string][]string{"Accept": {"application/json"}}}
	if s.key != "" {
		req.Header["X-Api-Key"] = []string{s.key}
	}
	resp, err := f.Fetch(ctx, req)
	if err != nil {
		return res, fmt.Errorf("semanticscholar %s: %w", job.Kind, err)
	}
	switch class := webapi.Classify(resp); {
	case class == webapi.OK:
	case class == webapi.Gone && job.Kind == KindPaper:
		res.Gone = append(res.Gone, job.Meta[webapi.MetaID])
		return res, nil
	case class == webapi.Gone && job.Kind == KindCitations:
		res.Notes = append(res.Notes, fmt.Sprintf("semanticscholar: paper %s (%q) of %s not found: its citations skipped (%s)",
			job.Meta[metaCitedID], job.Meta[metaCitedTitle], job.Dataset, webapi.ErrorMessage(resp.Body)))
		return res, nil
	case class == webapi.Unauthorized || class == webapi.Forbidden:
		if s.key != "" {
			res.Notes = append(res.Notes, fmt.Sprintf("semanticscholar: S2_API_KEY rejected (HTTP %d): %s skipped", resp.Status, job.Kind))
			return res, nil
		}
		return res, webapi.StatusErr(resp)
	case class == webapi.RateLimited:
		return res, webapi.RateLimitError(resp, time.Now())
	default:
		return res, webapi.StatusErr(resp)
	}
	if job.Kind == KindPaper {
		p, err := ParsePaper(resp.Body)
		if err != nil {
			return res, fmt.Errorf("semanticscholar %s: %w", job.Meta[webapi.MetaID], err)
		}
		res.Artifacts = append(res.Artifacts, p.Artifact(nil))
		return res, nil
	}
	list, err := ParseList(resp.Body)
	if err != nil {
		return res, fmt.Errorf("semanticscholar %s %s: %w", job.Kind, job.Meta[webapi.MetaScope], err)
	}
	asked := s.pageSize
	if job.Kind == KindSearchBulk {
		asked = BulkPageSize // bulk search takes no limit: it answers up to 1,000 per call
	} else if u, err := url.Parse(job.URL); err == nil {
		if n, err := strconv.Atoi(u.Query().Get("limit")); err == nil && n > 0 && n < asked {
			asked = n
		}
	}
	got := len(list.Items)
	var cut int
	if list.Items, cut = webapi.CapPage(list.Items, asked); cut > 0 {
		res.Notes = append(res.Notes, webapi.CapNote(Name, job.Kind, job.Meta[webapi.MetaScope], got, asked))
	}
	partial := webapi.Partial(job.Meta, cut)
	ids := make([]string, 0, len(list.Items))
	pdfs := map[string]string{}
	for i := range list.Items {
		it := &list.Items[i]
		p := it.Target()
		if p.ArtifactID() == "" {
			continue
		}
		var a artifact.Artifact
		if job.Kind == KindCitations {
			a = p.Artifact(it)
			a.Tags = append(a.Tags, "cites-dataset:"+job.Dataset, "cites:s2:"+job.Meta[metaCitedID])
		} else {
			a = p.Artifact(nil)
		}
		ids = append(ids, a.ID)
		res.Artifacts = append(res.Artifacts, a)
		if u := p.PDFURL(); u != "" {
			pdfs[a.ID] = u
		}
	}
	nextURL := ""
	switch job.Kind {
	case KindSearchBulk:
		if list.Token != "" {
			nextURL = setParam(job.URL, "token", list.Token)
		}
	default:
		if list.Next > list.Offset && len(list.Items) > 0 {
			nextURL = setParam(job.URL, "offset", strconv.Itoa(list.Next))
		}
	}
	switch {
	case nextURL != "" && job.Page+1 < s.maxPages:
		meta := webapi.MarkPartial(webapi.WithSeen(job.Meta, ids), partial)
		delete(meta, metaNotes)
		res.Next = append(res.Next, crawler.Job{ID: jobID(job.Kind, nextURL, job.Dataset), RunID: job.RunID, Source: Name,
			Kind: job.Kind, URL: nextURL, Dataset: job.Dataset, Page: job.Page + 1, Meta: meta})
	case nextURL == "" && !partial:
		res.Listing = &crawler.Listing{Scope: job.Meta[webapi.MetaScope], IDs: append(webapi.Seen(job.Meta), ids...)}
	}
	// After the next page: a job budget that runs short drops full texts, not pages of a listing.
	s.AddJobs(&res, job, func(a *artifact.Artifact) string { return pdfs[a.ID] })
	return res, nil
}

// setParam returns u with query parameter k set to v.
func setParam(u, k, v string) string {
	p, err := url.Parse(u)
	if err != nil {
		return ""
	}
	q := p.Query()
	q.Set(k, v)
	p.RawQuery = q.Encode()
	return p.String()
}
