// Package kaggle is the Kaggle datasets source adapter. It speaks the RPC API the official client
// calls today (kaggle-cli 1.8.x through kagglesdk; checked against their source, see
// docs/sources.md): POST https://api.kaggle.com/v1/datasets.DatasetApiService/{ListDatasets,
// GetDataset,ListDatasetFiles} with a JSON body, credentials as a Bearer token (KAGGLE_API_TOKEN)
// or HTTP Basic (KAGGLE_USERNAME + KAGGLE_KEY). The legacy REST routes (/api/v1/datasets/list…)
// the client no longer calls are not used.
//
// What could be verified and how: the routes, request bodies and response field names come from
// the client's source (kagglesdk's dataset_api_service types); GetDataset's answer and the
// "code in a 200 body" error form also from the client's own test server (kagglehub
// tests/server_stubs). No answer of ListDatasets or ListDatasetFiles was ever recorded: every run
// says so in its notes.
package kaggle

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/afterlife-watch/afterlife/artifact"
	"github.com/afterlife-watch/afterlife/configs"
	"github.com/afterlife-watch/afterlife/crawler"
	"github.com/afterlife-watch/afterlife/crawler/webapi"
)

// Name is the source's name.
const Name = artifact.SourceKaggle

// Job kinds.
const (
	KindProbe   = "probe"   // the first search without credentials, on a server other than Kaggle's
	KindSkipped = "skipped" // no credentials for Kaggle's API: no request, the reason as a note
	KindSearch  = "search"  // ListDatasets
	KindView    = "view"    // GetDataset
	KindFiles   = "files"   // ListDatasetFiles
)

// RPC service and methods (kagglesdk datasets/services/dataset_api_service.py).
const (
	Service          = "datasets.DatasetApiService"
	MethodList       = "ListDatasets"
	MethodGet        = "GetDataset"
	MethodListFiles  = "ListDatasetFiles"
	prodHost         = "api.kaggle.com"
	webBase          = "https://www.kaggle.com"
	metaBody         = "body" // the JSON request body of an RPC job
	filesPageSize    = 20     // the CLI's default page size for `datasets files`
	anonymousSkip    = "skip"
	anonymousProbe   = "probe"
	VerificationNote = "kaggle: ListDatasets and ListDatasetFiles follow the official client's source (kagglesdk as vendored in kaggle-cli 1.8.0.3, 2025-11-24; kaggle-cli 1.8.4 calls the same): no recorded answer exists, their parsing is unverified against a live response"
)

// Defaults.
const (
	DefaultBaseURL  = "https://" + prodHost
	DefaultMaxPages = 3
	// PageSize is what ListDatasets returns per page (the CLI pages by number and sends no size).
	PageSize     = 20
	MaxTextBytes = 512 << 10
	metaQueries  = "queries"
)

func init() { crawler.Register(Name, New) }

// Source is the Kaggle adapter.
type Source struct {
	base      string // API endpoint (https://api.kaggle.com)
	rpcPrefix string // "/v1" on Kaggle's API host, "/api/v1" elsewhere (as kagglesdk builds URLs)
	web       string // where dataset pages are (https://www.kaggle.com)
	maxPages  int
	user      string
	key       string
	token     string // KAGGLE_API_TOKEN (Bearer)
	anonymous string // skip | probe: what to do without credentials
}

// New builds the adapter. Credentials: KAGGLE_API_TOKEN (Bearer), or KAGGLE_USERNAME + KAGGLE_KEY
// (HTTP Basic, as in ~/.kaggle/kaggle.json). Options: anonymous = skip | probe — without
// credentials, skip the source with a note (default on Kaggle's own API: its official client
// lets only `datasets download` and `datasets files` run logged out, not `datasets list`) or probe
// with one search and go on if it is answered (default on any other base_url: a mirror, a proxy,
// the demo world).
func New(cfg configs.SourceConfig, env crawler.Env) (crawler.Source, error) {
	s := &Source{base: strings.TrimRight(cfg.BaseURL, "/"), maxPages: cfg.MaxPages}
	if s.base == "" {
		s.base = DefaultBaseURL
	}
	u, err := url.Parse(s.base)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("kaggle: base_url %q is not a URL", cfg.BaseURL)
	}
	if h := strings.ToLower(u.Host); h == "www.kaggle.com" || h == "kaggle.com" {
		// The site's host, where the legacy REST API lives: the client's API host is api.kaggle.com.
		s.base, u.Host = DefaultBaseURL, prodHost
	}
	s.base = strings.TrimSuffix(s.base, "/api/v1")
	s.rpcPrefix, s.web = "/api/v1", s.base
	if strings.EqualFold(u.Host, prodHost) {
		s.rpcPrefix, s.web = "/v1", webBase
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
	switch v := cfg.Options["anonymous"]; v {
	case "":
		s.anonymous = anonymousProbe
		if strings.EqualFold(u.Host, prodHost) {
			s.anonymous = anonymousSkip
		}
	case anonymousSkip, anonymousProbe:
		s.anonymous = v
	default:
		return nil, fmt.Errorf("kaggle: options.anonymous: %q is not skip or probe", v)
	}
	return s, nil
}

// Name implements crawler.Source.
func (s *Source) Name() string { return Name }

func (s *Source) authed() bool { return s.token != "" || s.user != "" }

// DefaultRates: Kaggle publishes no limits (429 on abuse); Afterlife stays at 30 requests/minute.
func (s *Source) DefaultRates() map[string]crawler.Rate {
	return map[string]crawler.Rate{Name: webapi.PerWindow(30, 60, 2, "Kaggle: no published limit; 30 requests/minute chosen to stay polite")}
}

// Plan implements crawler.Source: PlanIncremental with the zero plan (list everything).
func (s *Source) Plan(ctx context.Context, datasets []*configs.Dataset) ([]crawler.Job, error) {
	return s.PlanIncremental(ctx, datasets, crawler.Incremental{})
}

// PlanIncremental implements crawler.IncrementalPlanner: one ListDatasets search per name of
// each dataset (Kaggle's search takes one phrase). A filtered plan (only what changed since
// inc.Since) sorts each search by last update (SortUpdated) and reads it down to the first
// dataset whose lastUpdated is before inc.Since: only changed datasets get their GetDataset and
// ListDatasetFiles, and an unchanged world costs one request per name (Kaggle's RPC is POST:
// no 304s, every answer is paid in full). A filtered listing is never complete (no
// crawler.Listing), so gone detection waits for the next full listing. Without credentials on Kaggle's API the searches are skipped: one job
// that sends nothing carries the reason. Without credentials elsewhere only the first search is
// planned, as a probe carrying the rest: if it is answered 401 the others are skipped with a note.
// The first job always carries the note saying which routes are unverified.
func (s *Source) PlanIncremental(ctx context.Context, datasets []*configs.Dataset, inc crawler.Incremental) ([]crawler.Job, error) {
	var jobs []crawler.Job
	seen := map[string]bool{}
	since := ""
	if inc.Filtered() {
		since = inc.Since.UTC().Format(time.RFC3339Nano)
	}
	for _, d := range datasets {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		for _, t := range webapi.Terms(d, 3) {
			j := s.searchJob(d.ID, t)
			if since != "" {
				j = s.searchPageSince(d.ID, t, 1, since)
			}
			if !seen[strings.ToLower(j.ID)] {
				seen[strings.ToLower(j.ID)] = true
				jobs = append(jobs, j)
			}
		}
	}
	if len(jobs) == 0 {
		return nil, nil
	}
	switch {
	case s.authed():
	case s.anonymous == anonymousSkip:
		u := s.base + "/"
		jobs = []crawler.Job{{ID: crawler.Key(Name, KindSkipped, u), Source: Name, Kind: KindSkipped, URL: u,
			Meta: map[string]string{"notes": fmt.Sprintf("kaggle: %d dataset searches skipped: no KAGGLE_API_TOKEN (or KAGGLE_USERNAME/KAGGLE_KEY); Kaggle's official client lists datasets only when authenticated", len(jobs))}}}
	default:
		probe := jobs[0]
		probe.Kind = KindProbe
		probe.ID = crawler.Key(Name, KindProbe, probe.URL+" "+probe.Meta[metaBody])
		var rest []string
		for _, j := range jobs[1:] {
			rest = append(rest, j.Dataset+"\t"+j.Meta["term"])
		}
		probe.Meta = webapi.CopyMeta(probe.Meta, metaQueries, strings.Join(rest, "\n"))
		jobs = []crawler.Job{probe}
	}
	notes := VerificationNote
	if since != "" {
		notes += "\nkaggle: only what changed since " + inc.Since.UTC().Format(time.RFC3339) +
			": searches sorted by last update (DATASET_SORT_BY_UPDATED), read down to then; a full listing, which reports what went, comes on the full-listing cadence"
	}
	if n := jobs[0].Meta["notes"]; n != "" {
		notes = n + "\n" + notes
	}
	jobs[0].Meta = webapi.CopyMeta(jobs[0].Meta, "notes", notes)
	return jobs, nil
}

// rpcURL is the URL of a DatasetApiService method.
func (s *Source) rpcURL(method string) string {
	return s.base + s.rpcPrefix + "/" + Service + "/" + method
}

// rpcJob is a POST job: its id names the body too (the URL is the same for every search).
func (s *Source) rpcJob(kind, method, dataset string, body any, meta map[string]string) crawler.Job {
	b, _ := json.Marshal(body)
	u := s.rpcURL(method)
	if meta == nil {
		meta = map[string]string{}
	}
	meta[metaBody] = string(b)
	return crawler.Job{ID: crawler.Key(Name, kind, u+" "+string(b)), Source: Name, Kind: kind, URL: u, Dataset: dataset, Meta: meta}
}

// listRequest is the body the CLI sends for `kaggle datasets list -s TERM -p PAGE`
// (ApiListDatasetsRequest with its defaults left out, as kagglesdk's to_dict does).
type listRequest struct {
	// SortBy is DatasetSortBy by name, as kagglesdk serializes enums; left out (the default,
	// DATASET_SORT_BY_HOTTEST) in a full listing, so its bodies and job ids are as before.
	SortBy string `json:"sortBy,omitempty"`
	TagIDs string `json:"tagIds"`
	Search string `json:"search"`
	User   string `json:"user"`
	Page   int    `json:"page"`
}

// SortUpdated is kagglesdk's DatasetSortBy.DATASET_SORT_BY_UPDATED (= 2, in
// kagglesdk/datasets/types/dataset_enums.py; `kaggle datasets list --sort-by updated` sends it):
// datasets most recently updated first.
const SortUpdated = "DATASET_SORT_BY_UPDATED"

// metaSince marks a search that lists only what changed: datasets whose lastUpdated is before
// it (RFC 3339) did not change since the last run.
const metaSince = "since"

// slugRequest is ApiGetDatasetRequest, and with the paging fields ApiListDatasetFilesRequest.
type slugRequest struct {
	OwnerSlug   string `json:"ownerSlug"`
	DatasetSlug string `json:"datasetSlug"`
	PageToken   string `json:"pageToken,omitempty"`
	PageSize    int    `json:"pageSize,omitempty"`
}

func (s *Source) searchJob(dataset, term string) crawler.Job {
	return s.searchPage(dataset, term, 1)
}

func (s *Source) searchPage(dataset, term string, page int) crawler.Job {
	return s.searchPageSince(dataset, term, page, "")
}

// searchPageSince is a search page; with since, sorted by last update and marked as listing only
// what changed since then.
func (s *Source) searchPageSince(dataset, term string, page int, since string) crawler.Job {
	req := listRequest{Search: term, Page: page}
	meta := map[string]string{webapi.MetaScope: Name + ":search:" + term, "term": term}
	if since != "" {
		req.SortBy = SortUpdated
		meta[metaSince] = since
		meta = webapi.MarkPartial(meta, true)
	}
	j := s.rpcJob(KindSearch, MethodList, dataset, req, meta)
	j.Page = page - 1
	return j
}

// ViewJob is the detail job of one dataset (404 → gone).
func (s *Source) ViewJob(dataset, ref string) crawler.Job {
	o, sl, _ := strings.Cut(ref, "/")
	return s.rpcJob(KindView, MethodGet, dataset, slugRequest{OwnerSlug: o, DatasetSlug: sl},
		map[string]string{webapi.MetaID: "kaggle:dataset:" + ref})
}

func (s *Source) filesJob(parent crawler.Job, a artifact.Artifact, pageToken string) crawler.Job {
	o, sl, _ := strings.Cut(strings.TrimPrefix(a.ID, "kaggle:dataset:"), "/")
	j := s.rpcJob(KindFiles, MethodListFiles, parent.Dataset, slugRequest{OwnerSlug: o, DatasetSlug: sl, PageToken: pageToken, PageSize: filesPageSize},
		map[string]string{webapi.MetaID: a.ID, webapi.MetaArtifact: webapi.EncodeArtifact(a)})
	j.RunID = parent.RunID
	return j
}

// request is the job's POST, with credentials in the Authorization header only.
func (s *Source) request(job crawler.Job) crawler.Request {
	r := crawler.Request{Source: Name, URL: job.URL, Method: "POST", Body: []byte(job.Meta[metaBody]),
		Header: map[string][]string{"Accept": {"application/json"}, "Content-Type": {"application/json"}}}
	switch {
	case s.token != "":
		r.Header["Authorization"] = []string{"Bearer " + s.token}
	case s.user != "":
		r.Header["Authorization"] = []string{"Basic " + basic(s.user, s.key)}
	}
	return r
}
