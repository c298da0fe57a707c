// Package arxiv is the arXiv API source adapter: searches of titles and abstracts (ti:/abs:) for a
// dataset's names and its derivatives' names, paged with start/max_results against the feed's
// opensearch totals, and id_list look-ups to recheck a known paper. It parses both the 2016-era and
// the 2026 Atom feed formats.
package arxiv

import (
	"context"
	"errors"
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
const Name = artifact.SourceArXiv

// Job kinds.
const (
	KindSearch = "search" // search_query over ti:/abs:, paged
	KindPaper  = "paper"  // id_list look-up of one known paper (recheck: empty feed => gone)
	// KindFullText fetches the PDF (<host>/pdf/<id>, on the API's host) of a matched paper whose
	// abstract does not already say it uses the dataset (crawler/fulltext), in arXiv's bucket.
	KindFullText = fulltext.Kind
)

// Defaults used when the watch config leaves them 0.
const (
	DefaultBaseURL  = "https://export.arxiv.org/api"
	DefaultPageSize = 100 // the API allows up to 2,000 per call
	DefaultMaxPages = 3
	// MaxPageSize is the API's documented cap per call.
	MaxPageSize = 2000
	// TermsPerQuery bounds how many names are OR-ed into one search_query.
	TermsPerQuery = 6
	// MinTermLen drops names too short to search for ("MF2" is fine, "Duke" is not searched alone).
	MinTermLen = 4
)

// DefaultRate is arXiv's documented limit (API Terms of Use): no more than one request every three
// seconds, on a single connection, for all legacy APIs combined.
const (
	DefaultRatePerSecond = 1.0 / 3
	DefaultBurst         = 1
)

func init() {
	crawler.Register(Name, New)
	// arXiv's API terms: "no more than one request every three seconds" over a single connection.
	crawler.SetSourceLimits(Name, crawler.SourceLimits{MaxInFlight: 1})
}

// Source is the arXiv adapter.
type Source struct {
	fulltext.Gate // the run's matcher, for the full-text jobs
	base          string
	pageSize      int
	maxPages      int
	sortBy        string
}

// New builds the adapter. Options: sort_by (relevance | lastUpdatedDate | submittedDate, default
// submittedDate, newest first).
func New(cfg configs.SourceConfig, env crawler.Env) (crawler.Source, error) {
	c, err := webapi.ParseCommon(Name, cfg, env, webapi.Defaults{BaseURL: DefaultBaseURL, PageSize: DefaultPageSize,
		MaxPageSize: MaxPageSize, MaxPages: DefaultMaxPages})
	if err != nil {
		return nil, err
	}
	sortBy, err := webapi.Choice(Name, cfg, "sort_by", "submittedDate", "relevance", "lastUpdatedDate")
	if err != nil {
		return nil, err
	}
	return &Source{base: c.Base, pageSize: c.PageSize, maxPages: c.MaxPages, sortBy: sortBy}, nil
}

// Name implements crawler.Source.
func (s *Source) Name() string { return Name }

// DefaultRates implements crawler.Rater.
func (s *Source) DefaultRates() map[string]crawler.Rate {
	return map[string]crawler.Rate{Name: {PerSecond: DefaultRatePerSecond, Burst: DefaultBurst,
		Doc: "arXiv API Terms of Use: 1 request / 3 s, one connection at a time"}}
}

// queryStripper strips the characters arXiv's query syntax reserves from a term.
var queryStripper = strings.NewReplacer(`"`, "")

// SearchTerms returns the names of d the adapter searches arXiv for: webapi.PhraseTerms (aliases,
// name and the names of derivatives that carry the data, at least MinTermLen long, without file
// names and path-like ids), the filter the paper sources share.
func SearchTerms(d *configs.Dataset) []string {
	return webapi.PhraseTerms(d, MinTermLen, queryStripper)
}

// Query builds the search_query for a group of names: each name as a phrase in the title or the
// abstract, OR-ed together.
func Query(terms []string) string {
	parts := make([]string, 0, 2*len(terms))
	for _, t := range terms {
		parts = append(parts, `ti:"`+t+`"`, `abs:"`+t+`"`)
	}
	return strings.Join(parts, " OR ")
}

// Plan implements crawler.Source: per dataset, search_query jobs over ti:/abs: for its names in
// groups of TermsPerQuery.
func (s *Source) Plan(ctx context.Context, datasets []*configs.Dataset) ([]crawler.Job, error) {
	var plan webapi.Plan
	for _, d := range datasets {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		terms := SearchTerms(d)
		for i := 0; i < len(terms); i += TermsPerQuery {
			end := min(i+TermsPerQuery, len(terms))
			j := s.searchJob(d.ID, Query(terms[i:end]), 0)
			plan.Add(j)
		}
	}
	jobs := plan.Jobs()
	return jobs, nil
}

func (s *Source) searchJob(dataset, query string, start int) crawler.Job {
	q := url.Values{}
	q.Set("search_query", query)
	q.Set("start", strconv.Itoa(start))
	q.Set("max_results", strconv.Itoa(s.pageSize))
	q.Set("sortBy", s.sortBy)
	q.Set("sortOrder", "descending")
	u := s.base + "/query?" + q.Encode()
	return crawler.Job{ID: crawler.Key(Name, KindSearch, u), Source: Name, Kind: KindSearch, URL: u, Dataset: dataset,
		Meta: map[string]string{webapi.MetaScope: Name + ":search_query=" + query}}
}

// Recheck returns a job that looks up one known paper (arxiv:<id>); an empty answer marks it gone.
func (s *Source) Recheck(artifactID string) (crawler.Job, bool) {
	id, ok := strings.CutPrefix(artifactID, "arxiv:")
	if !ok || id == "" {
		return crawler.Job{}, false
	}
	q := url.Values{}
	q.Set("id_list", id)
	q.Set("max_results", "1")
	u := s.base + "/query?" + q.Encode()
	return crawler.Job{ID: crawler.Key(Name, KindPaper, u), Source: Name, Kind: KindPaper, URL: u,
		Meta: map[string]string{webapi.MetaID: artifactID}}, true
}

// Handle implements crawler.Source.
func (s *Source) Handle(ctx context.Context, job crawler.Job, f crawler.Fetcher) (crawler.Result, error) {
	var res crawler.Result
	if job.Kind == KindFullText {
		return fulltext.Handle(ctx, job, f) // a request of this source: 1 per 3 s, one connection
	}
	if job.Kind != KindSearch && job.Kind != KindPaper {
		return res, fmt.Errorf("arxiv: unknown job kind %q", job.Kind)
	}
	resp, err := f.Fetch(ctx, crawler.Request{Source: Name, URL: job.URL,
		Header: map[string][]string{"Accept": {"application/atom+xml"}}})
	if err != nil {
		return res, fmt.Errorf("arxiv %s: %w", job.Kind, err)
	}
	switch class := webapi.Classify(resp); class {
	case webapi.OK:
	case webapi.RateLimited:
		return res, webapi.RateLimitError(resp, time.Now())
	case webapi.Gone:
		if job.Kind == KindPaper {
			res.Gone = append(res.Gone, job.Meta[webapi.MetaID])
			return res, nil
		}
		return res, webapi.StatusErr(resp)
	default:
		// arXiv answers a bad query with HTTP 400 and an error feed: carry its message.
		e := webapi.StatusErr(resp)
		var apiErr *APIError
		if _, perr := ParseFeed(resp.Body); errors.As(perr, &apiErr) {
			e.Msg = apiErr.Message
		}
		return res, e
	}
	feed, err := ParseFeed(resp.Body)
	if err != nil {
		var apiErr *APIError
		if errors.As(err, &apiErr) {
			// An error feed with a 2xx status: the query is bad, retrying will not help.
			return res, &crawler.StatusError{URL: job.URL, Status: 400, Msg: apiErr.Message}
		}
		return res, fmt.Errorf("arxiv %s %s: %w", job.Kind, job.URL, err)
	}
	asked := s.pageSize
	if job.Kind == KindPaper {
		asked = 1
	}
	got := len(feed.Entries)
	var cut int
	if feed.Entries, cut = webapi.CapPage(feed.Entries, asked); cut > 0 {
		res.Notes = append(res.Notes, webapi.CapNote(Name, job.Kind, job.Meta[webapi.MetaScope], got, asked))
	}
	partial := webapi.Partial(job.Meta, cut)
	ids := make([]string, 0, len(feed.Entries))
	for _, e := range feed.Entries {
		a := e.Artifact()
		ids = append(ids, a.ID)
		res.Artifacts = append(res.Artifacts, a)
	}
	if job.Kind == KindPaper {
		if len(feed.Entries) == 0 && job.Meta[webapi.MetaID] != "" {
			res.Gone = append(res.Gone, job.Meta[webapi.MetaID])
		}
		return res, nil
	}
	next := feed.StartIndex + len(feed.Entries)
	switch {
	case len(feed.Entries) > 0 && next < feed.TotalResults && job.Page+1 < s.maxPages:
		u, err := withStart(job.URL, next)
		if err != nil {
			return res, err
		}
		res.Next = append(res.Next, crawler.Job{ID: crawler.Key(Name, KindSearch, u), RunID: job.RunID, Source: Name,
			Kind: KindSearch, URL: u, Dataset: job.Dataset, Page: job.Page + 1, Meta: webapi.MarkPartial(webapi.WithSeen(job.Meta, ids), partial)})
	case next >= feed.TotalResults && !partial:
		res.Listing = &crawler.Listing{Scope: job.Meta[webapi.MetaScope], IDs: append(webapi.Seen(job.Meta), ids...)}
	}
	// After the next page: a job budget that runs short drops full texts, not pages of a listing.
	s.AddJobs(&res, job, func(a *artifact.Artifact) string { return s.PDFURL(a.ID) })
	return res, nil
}

// PDFURL is where the PDF of a paper (arxiv:<id>) is fetched: /pdf/<id> on the API's host
// (export.arxiv.org, the host arXiv asks programs to use), or "" for another id.
func (s *Source) PDFURL(artifactID string) string {
	id, ok := strings.CutPrefix(artifactID, "arxiv:")
	if !ok || id == "" {
		return ""
	}
	return strings.TrimSuffix(strings.TrimSuffix(s.base, "/"), "/api") + "/pdf/" + id
}

// withStart returns u with its start parameter set to n.
func withStart(u string, n int) (string, error) {
	p, err := url.Parse(u)
	if err != nil {
		return "", fmt.Errorf("arxiv: next page of %s: %w", u, err)
	}
	q := p.Query()
	q.Set("start", strconv.Itoa(n))
	p.RawQuery = q.Encode()
	return p.String(), nil
}
