// Package kaggle is the Kaggle datasets source adapter. It speaks Kaggle's documented REST API
// (the swagger the kaggle CLI was generated from): GET /api/v1/datasets/list?search=&page=,
// GET /api/v1/datasets/view/{owner}/{slug} and GET /api/v1/datasets/list/{owner}/{slug} (files).
// No real Kaggle response was ever recorded (see fixtures/real/SOURCES.md), so the parser follows
// the documented field names (ApiDataset, ApiDatasetFile) and is tested on responses written from
// that documentation, clearly labelled as such.
package kaggle

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/afterlife-watch/afterlife/artifact"
	"github.com/afterlife-watch/afterlife/configs"
	"github.com/afterlife-watch/afterlife/crawler"
	"github.com/afterlife-watch/afterlife/crawler/webapi"
)

// Name is the source's name.
const Name = artifact.SourceKaggle

// Job kinds.
const (
	KindProbe  = "probe"  // the first search without credentials: does anonymous access work here?
	KindSearch = "search" // GET /api/v1/datasets/list?search=
	KindView   = "view"   // GET /api/v1/datasets/view/{owner}/{slug}
	KindFiles  = "files"  // GET /api/v1/datasets/list/{owner}/{slug}
)

// Defaults.
const (
	DefaultBaseURL  = "https://www.kaggle.com"
	DefaultMaxPages = 3
	// PageSize is what the list endpoint returns per page (the CLI's 20; it takes no size).
	PageSize     = 20
	MaxTextBytes = 512 << 10
	metaQueries  = "queries"
)

func init() { crawler.Register(Name, New) }

// Source is the Kaggle adapter.
type Source struct {
	base     string
	maxPages int
	user     string
	key      string
	token    string // KAGGLE_API_TOKEN (new-style bearer tokens)
}

// New builds the adapter. Credentials: KAGGLE_USERNAME + KAGGLE_KEY (HTTP Basic, as in
// ~/.kaggle/kaggle.json) or KAGGLE_API_TOKEN (Bearer).
func New(cfg configs.SourceConfig, env crawler.Env) (crawler.Source, error) {
	s := &Source{base: strings.TrimRight(cfg.BaseURL, "/"), maxPages: cfg.MaxPages}
	if s.base == "" {
		s.base = DefaultBaseURL
	}
	s.base = strings.TrimSuffix(s.base, "/api/v1")
	if u, err := url.Parse(s.base); err != nil || u.Host == "" {
		return nil, fmt.Errorf("kaggle: base_url %q is not a URL", cfg.BaseURL)
	}
	if s.maxPages <= 0 {
		s.maxPages = DefaultMaxPages
	}
	if env != nil {
		s.user, s.key = strings.TrimSpace(env("KAGGLE_USERNAME")), strings.TrimSpace(env("KAGGLE_KEY"))
		s.token = strings.TrimSpace(env("KAGGLE_API_TOKEN"))
	}
	if (s.user == "") != (s.key == "") {
		return nil, fmt.Errorf("kaggle: set both KAGGLE_USERNAME and KAGGLE_KEY, or neither")
	}
	return s, nil
}

// Name implements crawler.Source.
func (s *Source) Name() string { return Name }

func (s *Source) authed() bool { return s.token != "" || s.user != "" }

// DefaultRates: Kaggle publishes no limits (429 on abuse); Afterlife stays at 30 requests/minute.
func (s *Source) DefaultRates() map[string]webapi.Rate {
	return map[string]webapi.Rate{Name: webapi.PerWindow(30, 60, 2, "Kaggle: no published limit; 30 requests/minute chosen to stay polite")}
}

// DefaultRate implements crawler.RateHinter.
func (s *Source) DefaultRate() (float64, int) {
	r := s.DefaultRates()[Name]
	return r.PerSecond, r.Burst
}

// Plan implements crawler.Source: one dataset search per name of each dataset (Kaggle's search
// takes one phrase). Without credentials only the first search is planned, as a probe carrying the
// rest: if Kaggle answers 401 the others are skipped with a note instead of failing one by one.
func (s *Source) Plan(ctx context.Context, datasets []*configs.Dataset) ([]crawler.Job, error) {
	var jobs []crawler.Job
	seen := map[string]bool{}
	for _, d := range datasets {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		for _, t := range webapi.Terms(d, 3) {
			j := s.searchJob(d.ID, t)
			if !seen[strings.ToLower(j.URL)] {
				seen[strings.ToLower(j.URL)] = true
				jobs = append(jobs, j)
			}
		}
	}
	if s.authed() || len(jobs) == 0 {
		return jobs, nil
	}
	probe := jobs[0]
	probe.Kind = KindProbe
	probe.ID = crawler.Key(Name, KindProbe, probe.URL)
	var rest []string
	for _, j := range jobs[1:] {
		rest = append(rest, j.Dataset+"\t"+j.Meta["term"])
	}
	probe.Meta = webapi.CopyMeta(probe.Meta, metaQueries, strings.Join(rest, "\n"))
	return []crawler.Job{probe}, nil
}

func (s *Source) searchJob(dataset, term string) crawler.Job {
	return s.searchPage(dataset, term, 1)
}

func (s *Source) searchPage(dataset, term string, page int) crawler.Job {
	v := url.Values{}
	v.Set("search", term)
	v.Set("page", strconv.Itoa(page))
	u := s.base + "/api/v1/datasets/list?" + v.Encode()
	return crawler.Job{ID: crawler.Key(Name, KindSearch, u), Source: Name, Kind: KindSearch, URL: u, Dataset: dataset, Page: page - 1,
		Meta: map[string]string{webapi.MetaScope: Name + ":search:" + term, "term": term}}
}

// ViewJob is the detail job of one dataset (404 → gone).
func (s *Source) ViewJob(dataset, ref string) crawler.Job {
	u := s.base + "/api/v1/datasets/view/" + escapeRef(ref)
	return crawler.Job{ID: crawler.Key(Name, KindView, u), Source: Name, Kind: KindView, URL: u, Dataset: dataset,
		Meta: map[string]string{webapi.MetaID: "kaggle:dataset:" + ref}}
}

func escapeRef(ref string) string {
	o, sl, _ := strings.Cut(ref, "/")
	return url.PathEscape(o) + "/" + url.PathEscape(sl)
}

func (s *Source) request(u string) crawler.Request {
	r := crawler.Request{Source: Name, URL: u, Header: map[string][]string{"Accept": {"application/json"}}}
	switch {
	case s.token != "":
		r.Header["Authorization"] = []string{"Bearer " + s.token}
	case s.user != "":
		// Basic auth in a header (never user:key@ in the URL).
		r.Header["Authorization"] = []string{"Basic " + basic(s.user, s.key)}
	}
	return r
}
