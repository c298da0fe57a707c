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

// metaSince marks a search of a run that lists only what changed: hits whose `updated` is
// before it (RFC 3339) are taken from the search answer, without their record request.
const metaSince = "since"

// PlanIncremental implements crawler.IncrementalPlanner: per dataset, record searches whose
// query string ORs quoted names and known file names (Elasticsearch query syntax), newest first.
// A filtered plan (inc.Filtered: only what changed since inc.Since) sends the same searches, so
// an unchanged page is a 304 and the listing stays complete (gone detection works), but follows
// with a record request only the hits updated since inc.Since: every hit carries the record and
// its `updated` time (recorded: api_records_search_2023_rdm_format.json, "updated":
// "2023-08-16T02:26:53.957938+00:00"), so an unchanged record's artifact is read from the hit.
// (Zenodo's query string also takes `updated:[YYYY-MM-DD TO *]`, and the demo world serves it,
// but a date in the URL makes every run's first answer a paid one: on a small world more bytes
// than the 304s it replaces, TestRedisRescanOfUnchangedWorldIsIncremental.)
func (s *Source) PlanIncremental(ctx context.Context, datasets []*configs.Dataset, inc crawler.Incremental) ([]crawler.Job, error) {
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
	if inc.Filtered() {
		since := inc.Since.UTC().Format(time.RFC3339Nano)
		for i := range jobs {
			jobs[i].Meta = webapi.CopyMeta(jobs[i].Meta, metaSince, since)
		}
		if len(jobs) > 0 {
			jobs[0].Meta = webapi.CopyMeta(jobs[0].Meta, "notes", "zenodo: only what changed since "+inc.Since.UTC().Format(time.RFC3339)+
				": records fetched only when updated since then, the others read from the search hits")
		}
	}
	if len(jobs) > 0 && s.token == "" {
		jobs[0].Meta = webapi.CopyMeta(jobs[0].Meta, "notes",
			"zenodo: no ZENODO_TOKEN: guest limits (60 requests/min, search 30/min, 25 records a page); nothing skipped, restricted records noted")
	}
	return jobs, nil
}

// orQueries ORs quoted terms, termsPerQuery at a time, case-insensitively deduplicated.
func orQueries(terms []string) []string { return orQueriesN(terms, termsPerQuery) }

// unquote drops the characters that would break a quoted term. Built once: a Replacer builds its
// tables on first use, and building one per term was most of the allocations of planning a run.
var unquote = strings.NewReplacer(`"`, "", `\`, "")

// orQueriesN ORs quoted terms, n at a time, case-insensitively deduplicated.
func orQueriesN(terms []string, n int) []string {
	var out, cur []string
	seen := map[string]bool{}
	for _, t := range terms {
		t = strings.TrimSpace(unquote.Replace(t))
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
