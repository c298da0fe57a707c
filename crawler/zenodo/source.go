// Package zenodo is the Zenodo source adapter (InvenioRDM REST API, and the pre-2023 legacy
// format): record searches over a dataset's names and known file names, then each hit's record
// with its files.
package zenodo

import (
	"context"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/afterlife-watch/afterlife/artifact"
	"github.com/afterlife-watch/afterlife/configs"
	"github.com/afterlife-watch/afterlife/crawler"
	"github.com/afterlife-watch/afterlife/crawler/webapi"
)

// Name is the source's name.
const Name = artifact.SourceZenodo

// Job kinds.
const (
	KindSearch = "search" // GET /api/records?q=
	KindRecord = "record" // GET /api/records/{id}
)

// Rate keys.
const (
	RateRecords = Name
	RateSearch  = Name + "/search"
)

// Defaults used when the watch config leaves them 0.
const (
	DefaultBaseURL  = "https://zenodo.org"
	DefaultPageSize = 25 // anonymous searches are capped at 25 per page
	DefaultMaxPages = 3
	MaxTextBytes    = 512 << 10
	// termsPerQuery bounds the phrases OR-ed into one query string.
	termsPerQuery = 8
	// filteredTermsPerQuery bounds the phrases OR-ed into one query of a filtered listing (only
	// what changed since the last run): its answers are short, so every watched dataset's names
	// share a few queries instead of one query per dataset and 8 names (issue 16: a re-scan of an
	// unchanged world costs requests, and rate limits count requests).
	filteredTermsPerQuery = 40
)

func init() { crawler.Register(Name, New) }

// Source is the Zenodo adapter.
type Source struct {
	base     string
	pageSize int
	maxPages int
	token    string
	sort     string
}

// New builds the adapter. Options: sort (mostrecent, the default, so new uploads come first; or
// bestmatch). ZENODO_TOKEN is optional (higher limits).
func New(cfg configs.SourceConfig, env crawler.Env) (crawler.Source, error) {
	c, err := webapi.ParseCommon(Name, cfg, env, webapi.Defaults{BaseURL: DefaultBaseURL, PageSize: DefaultPageSize,
		MaxPages: DefaultMaxPages, TokenEnv: "ZENODO_TOKEN"})
	if err != nil {
		return nil, err
	}
	sort, err := webapi.Choice(Name, cfg, "sort", "mostrecent", "bestmatch")
	if err != nil {
		return nil, err
	}
	return &Source{base: strings.TrimSuffix(c.Base, "/api"), pageSize: c.PageSize, maxPages: c.MaxPages, token: c.Token, sort: sort}, nil
}

// Name implements crawler.Source.
func (s *Source) Name() string { return Name }

// DefaultRates: Zenodo's observed and reported limits: searches 30/minute for everyone
// (X-RateLimit-Limit: 30 on /api/records); record requests 60/minute anonymous, 100/minute with a
// token.
func (s *Source) DefaultRates() map[string]crawler.Rate {
	rec := webapi.PerWindow(60, 60, 2, "Zenodo guests: 60 requests/minute")
	if s.token != "" {
		rec = webapi.PerWindow(100, 60, 2, "Zenodo authenticated: 100 requests/minute")
	}
	return map[string]crawler.Rate{
		RateRecords: rec,
		RateSearch:  webapi.PerWindow(30, 60, 1, "Zenodo search: 30 requests/minute (X-RateLimit-Limit: 30)"),
	}
}

// Plan implements crawler.Source: PlanIncremental with the zero plan (list everything).
func (s *Source) Plan(ctx context.Context, datasets []*configs.Dataset) ([]crawler.Job, error) {
	return s.PlanIncremental(ctx, datasets, crawler.Incremental{})
}

// PlanIncremental implements crawler.IncrementalPlanner. A full plan: per dataset, record
// searches whose query string ORs quoted names and known file names (Elasticsearch query
// syntax), newest first. A filtered plan (inc.Filtered: only what changed since inc.Since) ORs
// the names of every dataset into a few queries restricted to records updated since that day:
// `(<names>) AND updated:[YYYY-MM-DD TO *]`. Zenodo's search takes the Elasticsearch query string
// syntax, date ranges included (the "Search guide" of help.zenodo.org: `field:[from TO to]`, `*`
// an open bound), and every record carries its `updated` time (recorded in testdata:
// api_records_search_2023_rdm_format.json, "updated": "2023-08-16T02:26:53.957938+00:00"). A
// filtered listing is never complete (no crawler.Listing: webapi.MarkPartial), so gone detection
// waits for the next full listing; its records are followed as in a full listing.
func (s *Source) PlanIncremental(ctx context.Context, datasets []*configs.Dataset, inc crawler.Incremental) ([]crawler.Job, error) {
	if inc.Filtered() {
		return s.planChanged(ctx, datasets, inc.Since)
	}
	var plan webapi.Plan
	for _, d := range datasets {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		terms := append(webapi.Terms(d, 3), webapi.FileNames(d)...)
		for _, q := range orQueries(terms) {
			j := s.searchJob(d.ID, q)
			plan.Add(j)
		}
	}
	jobs := plan.Jobs()
	if len(jobs) > 0 && s.token == "" {
		jobs[0].Meta = webapi.CopyMeta(jobs[0].Meta, "notes",
			"zenodo: no ZENODO_TOKEN: guest limits (60 requests/min, search 30/min, 25 records a page); nothing skipped, restricted records noted")
	}
	return jobs, nil
}

// planChanged is the filtered plan: every dataset's names in queries of filteredTermsPerQuery,
// each restricted to records updated since the day of since (UTC; the day granularity lists a
// few records twice a day at most, never misses one).
func (s *Source) planChanged(ctx context.Context, datasets []*configs.Dataset, since time.Time) ([]crawler.Job, error) {
	var terms []string
	for _, d := range datasets {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		terms = append(terms, webapi.Terms(d, 3)...)
		terms = append(terms, webapi.FileNames(d)...)
	}
	day := since.UTC().Format("2006-01-02")
	var plan webapi.Plan
	for _, q := range orQueriesN(terms, filteredTermsPerQuery) {
		j := s.searchJob("", "("+q+") AND updated:["+day+" TO *]")
		j.Meta = webapi.MarkPartial(j.Meta, true) // only what changed: not a complete listing
		plan.Add(j)
	}
	jobs := plan.Jobs()
	if len(jobs) > 0 {
		jobs[0].Meta = webapi.CopyMeta(jobs[0].Meta, "notes", "zenodo: listed only records updated since "+day+
			" (updated:[...] filter; a full listing, which reports what went, comes on the full-listing cadence)")
	}
	return jobs, nil
}

// orQueries ORs quoted terms, termsPerQuery at a time, case-insensitively deduplicated.
func orQueries(terms []string) []string { return orQueriesN(terms, termsPerQuery) }

// orQueriesN ORs quoted terms, n at a time, case-insensitively deduplicated.
func orQueriesN(terms []string, n int) []string {
	var out, cur []string
	seen := map[string]bool{}
	for _, t := range terms {
		t = strings.TrimSpace(strings.NewReplacer(`"`, "", `\`, "").Replace(t))
		if t == "" || seen[strings.ToLower(t)] {
			continue
		}
		seen[strings.ToLower(t)] = true
		cur = append(cur, `"`+t+`"`)
		if len(cur) == n {
			out = append(out, strings.Join(cur, " OR "))
			cur = nil
		}
	}
	if len(cur) > 0 {
		out = append(out, strings.Join(cur, " OR "))
	}
	return out
}

func (s *Source) searchJob(dataset, q string) crawler.Job {
	v := url.Values{}
	v.Set("q", q)
	v.Set("size", strconv.Itoa(s.pageSize))
	v.Set("page", "1")
	v.Set("sort", s.sort)
	u := s.base + "/api/records?" + v.Encode()
	return crawler.Job{ID: crawler.Key(Name, KindSearch, u), Source: Name, Kind: KindSearch, URL: u, Dataset: dataset,
		Meta: map[string]string{webapi.MetaScope: Name + ":" + KindSearch + ":" + q}}
}

// RecordJob is the detail job of one record (404/410 → gone).
func (s *Source) RecordJob(dataset, id string) crawler.Job {
	u := s.base + "/api/records/" + url.PathEscape(id)
	return crawler.Job{ID: crawler.Key(Name, KindRecord, u), Source: Name, Kind: KindRecord, URL: u, Dataset: dataset,
		Meta: map[string]string{webapi.MetaID: "zenodo:" + id}}
}

func (s *Source) request(kind, u string) crawler.Request {
	r := crawler.Request{Source: Name, URL: u, Header: map[string][]string{"Accept": {"application/json"}}}
	if kind == KindSearch {
		r.RateKey = RateSearch
	}
	if s.token != "" {
		r.Header["Authorization"] = []string{"Bearer " + s.token}
	}
	return r
}
