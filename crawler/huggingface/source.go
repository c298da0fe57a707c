// Package huggingface is the Hugging Face Hub source adapter: model and dataset search (by name,
// by dataset:, arxiv: and base_model: tags), model and dataset info with file sizes, and model and
// dataset cards (README.md with YAML front matter).
package huggingface

import (
	"context"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/afterlife-watch/afterlife/artifact"
	"github.com/afterlife-watch/afterlife/configs"
	"github.com/afterlife-watch/afterlife/crawler"
	"github.com/afterlife-watch/afterlife/crawler/webapi"
)

// Name is the source's name.
const Name = artifact.SourceHuggingFace

// Job kinds.
const (
	KindSearchModels   = "search-models"
	KindSearchDatasets = "search-datasets"
	KindModelInfo      = "model-info"
	KindDatasetInfo    = "dataset-info"
	KindModelCard      = "model-card"
	KindDatasetCard    = "dataset-card"
)

// Rate keys: the API bucket and the resolver bucket (README downloads).
const (
	RateAPI     = Name
	RateResolve = Name + "/resolve"
)

// Defaults used when the watch config leaves them 0.
const (
	DefaultBaseURL = "https://huggingface.co"
	// DefaultPageSize is the largest page /api/models and /api/datasets serve (limit=1000): rate
	// limits count requests, and a lineage parent's children fit one page (docs/scale.md).
	DefaultPageSize = 1000
	// MaxPageSize is the Hub's largest limit.
	MaxPageSize = 1000
	// DefaultDepth is how many generations of base_model children are listed: the root's
	// children are generation 1. The Hub's child counts prune empty subtrees, so depth costs
	// requests only where children exist.
	DefaultDepth = 6
	// DefaultChangedPages bounds the Hub-wide listing of what changed since the last run (pages
	// of page_size) before an incremental run plans per query instead.
	DefaultChangedPages = 20
	// MaxTextBytes bounds the card text kept in an artifact.
	MaxTextBytes = 512 << 10
)

func init() { crawler.Register(Name, New) }

// Source is the Hugging Face adapter.
type Source struct {
	base     string
	pageSize int
	depth    int // how many generations of base_model children to follow
	token    string
	// cardPath is "resolve" (default, resolver bucket, higher limits) or "raw".
	cardPath string
	// datasetFilters turns the filter=dataset:<alias> queries on (default on).
	datasetFilters bool
	// changedPages bounds the pages of the Hub-wide "changed since" listing of an incremental
	// run (0: plan per query instead).
	changedPages int
	// changedLineage sights every changed model that declares a base model, for the matcher's
	// lineage store to judge (a new child of an unchanged model in a tainted tree).
	changedLineage bool
	// childCounts asks lineage listings for each model's childrenModelCount (default on); it is
	// switched off for the process when the Hub refuses it (HTTP 400), and every lineage hit is
	// then searched for children.
	childCounts atomic.Bool
}

// New builds the adapter. Options: lineage_depth (int, default 6), card_path (resolve|raw),
// dataset_filters (true|false), child_counts (true|false: ask lineage listings for the Hub's
// childrenModelCount and skip empty subtrees). The watch config's max_pages does not apply:
// every query is listed to its end (a listing cut short could not say what is gone); the run's
// per-source job budget bounds a run instead.
func New(cfg configs.SourceConfig, env crawler.Env) (crawler.Source, error) {
	c, err := webapi.ParseCommon(Name, cfg, env, webapi.Defaults{BaseURL: DefaultBaseURL, PageSize: DefaultPageSize,
		MaxPageSize: MaxPageSize, TokenEnv: "HF_TOKEN"})
	if err != nil {
		return nil, err
	}
	s := &Source{base: c.Base, pageSize: c.PageSize, token: c.Token}
	if s.depth, err = webapi.NonNegative(Name, cfg, "lineage_depth", DefaultDepth); err != nil {
		return nil, err
	}
	if s.cardPath, err = webapi.Choice(Name, cfg, "card_path", "resolve", "raw"); err != nil {
		return nil, err
	}
	if s.datasetFilters, err = webapi.Bool(Name, cfg, "dataset_filters", true); err != nil {
		return nil, err
	}
	if s.changedPages, err = webapi.NonNegative(Name, cfg, "changed_max_pages", DefaultChangedPages); err != nil {
		return nil, err
	}
	if s.changedLineage, err = webapi.Bool(Name, cfg, "changed_lineage", true); err != nil {
		return nil, err
	}
	counts, err := webapi.Bool(Name, cfg, "child_counts", true)
	if err != nil {
		return nil, err
	}
	s.childCounts.Store(counts)
	return s, nil
}

// Name implements crawler.Source.
func (s *Source) Name() string { return Name }

// DefaultRates are Hugging Face's documented limits (hub-docs rate-limits.md, Sept 2025): 5-minute
// fixed windows per bucket; anonymous per IP 500 API / 3,000 resolver requests, a free user's token
// 1,000 / 5,000.
func (s *Source) DefaultRates() map[string]crawler.Rate { return DefaultRates(s.token != "") }

// DefaultRates returns the documented limits with or without a token.
func DefaultRates(token bool) map[string]crawler.Rate {
	if token {
		return map[string]crawler.Rate{
			RateAPI:     webapi.PerWindow(1000, 300, 10, "HF free user: 1,000 API requests / 5 min"),
			RateResolve: webapi.PerWindow(5000, 300, 20, "HF free user: 5,000 resolver requests / 5 min"),
		}
	}
	return map[string]crawler.Rate{
		RateAPI:     webapi.PerWindow(500, 300, 5, "HF anonymous: 500 API requests / 5 min per IP"),
		RateResolve: webapi.PerWindow(3000, 300, 10, "HF anonymous: 3,000 resolver requests / 5 min per IP"),
	}
}

// Plan implements crawler.Source: PlanIncremental with the zero plan (list everything).
func (s *Source) Plan(ctx context.Context, datasets []*configs.Dataset) ([]crawler.Job, error) {
	return s.PlanIncremental(ctx, datasets, crawler.Incremental{})
}

// PlanIncremental implements crawler.IncrementalPlanner. A full plan (inc not filtered): per
// dataset, name searches over models and datasets for each alias and derivative name,
// filter=dataset:<alias> for id-like aliases, filter=arxiv:<id> for its papers, the known models'
// info and their children (filter=base_model:<id>), every query read to its end. A filtered plan (a
// scheduled re-scan since inc.Since) lists what changed on the whole Hub instead: two queries
// sorted by lastModified, newest first, read down to the first repo older than inc.Since, whose
// repos are matched here against the same terms (changed.go); past changed_max_pages it falls back
// on the per-query plan, each query sorted and read the same way. A filtered listing is never
// complete, so it reports no Listing.
func (s *Source) PlanIncremental(ctx context.Context, datasets []*configs.Dataset, inc crawler.Incremental) ([]crawler.Job, error) {
	spec, err := watchOf(ctx, datasets, s.datasetFilters)
	if err != nil {
		return nil, err
	}
	var jobs []crawler.Job
	switch {
	case inc.Filtered() && s.changedPages > 0 && len(spec.Datasets) > 0:
		jobs, err = s.changedJobs(spec, inc.Since.UTC().Format(time.RFC3339))
		if err != nil {
			return nil, err
		}
	case inc.Filtered():
		jobs = s.seedJobs(spec, inc.Since.UTC().Format(time.RFC3339), true, true)
	default:
		jobs = s.seedJobs(spec, "", true, true)
	}
	if len(jobs) > 0 {
		var notes []string
		if s.token == "" {
			notes = append(notes, "huggingface: no HF_TOKEN: anonymous limits (500 API requests / 5 min); gated and private repos' cards skipped")
		}
		if len(notes) > 0 {
			jobs[0].Meta = webapi.CopyMeta(jobs[0].Meta, "notes", strings.Join(notes, "\n"))
		}
	}
	return jobs, nil
}

// seedJobs are the per-query plan of the watched datasets: model queries (name searches,
// dataset: and arxiv: filters, known models' info and children) and/or dataset queries. since
// (RFC 3339, or "") sorts each by lastModified and reads it down to that time.
func (s *Source) seedJobs(spec watchSpec, since string, models, datasets bool) []crawler.Job {
	var plan webapi.Plan
	add := func(j crawler.Job) { plan.Add(j) }
	covered := coveredSearches(spec)
	for _, d := range spec.Datasets {
		for _, slug := range d.Search {
			// A covered term holds another term: that term's listing has every hit of this one.
			search := !covered[slug]
			if models && search {
				add(s.searchJob(KindSearchModels, d.ID, "search", slug, since))
			}
			if datasets && search {
				add(s.searchJob(KindSearchDatasets, d.ID, "search", slug, since))
			}
			if models && slices.Contains(d.Tags, slug) {
				add(s.searchJob(KindSearchModels, d.ID, "filter", "dataset:"+slug, since))
			}
		}
		for _, id := range d.ArXiv {
			if models {
				add(s.searchJob(KindSearchModels, d.ID, "filter", "arxiv:"+id, since))
			}
			if datasets {
				add(s.searchJob(KindSearchDatasets, d.ID, "filter", "arxiv:"+id, since))
			}
		}
		if !models {
			continue
		}
		for _, m := range d.Models {
			// A filtered run leaves the known models' info to the monitor's re-checks.
			if since == "" {
				add(s.infoJob(KindModelInfo, d.ID, m, 0))
			}
			if s.depth > 0 {
				add(s.lineageJob(d.ID, m, 1, -1, since))
			}
		}
	}
	return plan.Jobs()
}

// coveredSearches are the search terms whose every hit another term's search lists: the Hub's
// search= matches a substring of the repo id, case-insensitively, so "ms1mv2" finds a subset of
// what "ms1m" finds (the shorter query is read to its end: nothing is lost, and the matcher judges
// every listed repo against every dataset, whichever query listed it). Of terms equal but for
// case the first is kept.
func coveredSearches(spec watchSpec) map[string]bool {
	var terms []string
	for _, d := range spec.Datasets {
		terms = append(terms, d.Search...)
	}
	covered := map[string]bool{}
	first := map[string]string{}
	for _, t := range terms {
		if _, ok := first[strings.ToLower(t)]; !ok {
			first[strings.ToLower(t)] = t
		}
	}
	for _, t := range terms {
		lt := strings.ToLower(t)
		if first[lt] != t {
			covered[t] = true
			continue
		}
		for lo := range first {
			if lo != lt && strings.Contains(lt, lo) {
				covered[t] = true
				break
			}
		}
	}
	return covered
}

// Job metadata of list queries.
const (
	// metaLineage marks a filter=base_model:<id> query: its hits are sighted from the listing
	// (tags and cardData name the base model) without their info or card.
	metaLineage = "lineage"
	// metaExpect is the number of children the Hub counts for the parent of a lineage query
	// (-1 or absent: unknown); a complete listing that holds fewer is noted.
	metaExpect = "expect"
	// metaSince restricts a query to repos changed since an RFC 3339 time (sort=lastModified,
	// direction=-1, read down to the first older repo): never a complete listing.
	metaSince = "since"
	// metaCounts marks a lineage query that asked for expand=childrenModelCount.
	metaCounts = "counts"
)

// lineageFields are the expand fields of a lineage listing: what an artifact needs (the same as
// full=true&cardData=true gives) plus each model's childrenModelCount. expand replaces full and
// cardData (the Hub refuses them together).
var lineageFields = []string{"author", "cardData", "childrenModelCount", "createdAt", "disabled", "downloads", "gated",
	"lastModified", "library_name", "likes", "pipeline_tag", "private", "sha", "siblings", "tags"}

// searchJob builds a list query: param is "search" or "filter". since (RFC 3339, or "") sorts it
// by lastModified, newest first, for an incremental run.
func (s *Source) searchJob(kind, dataset, param, value, since string) crawler.Job {
	path := "/api/models"
	if kind == KindSearchDatasets {
		path = "/api/datasets"
	}
	q := url.Values{}
	q.Set(param, value)
	q.Set("limit", strconv.Itoa(s.pageSize))
	q.Set("full", "true")
	if kind == KindSearchModels {
		q.Set("cardData", "true")
	}
	meta := map[string]string{webapi.MetaScope: Name + ":" + kind + ":" + param + "=" + value}
	if since != "" {
		q.Set("sort", "lastModified")
		q.Set("direction", "-1")
		meta[metaSince] = since
	}
	u := s.base + path + "?" + q.Encode()
	return crawler.Job{ID: crawler.Key(Name, kind, u), Source: Name, Kind: kind, URL: u, Dataset: dataset, Meta: meta}
}

// lineageJob lists the children of a model (filter=base_model:<parent>) at generation depth.
// expect is the Hub's count of them (-1: unknown).
func (s *Source) lineageJob(dataset, parent string, depth, expect int, since string) crawler.Job {
	q := url.Values{}
	q.Set("filter", "base_model:"+parent)
	q.Set("limit", strconv.Itoa(s.pageSize))
	counts := s.childCounts.Load()
	for _, f := range lineageFields {
		if f == "childrenModelCount" && !counts {
			continue
		}
		q.Add("expand", f)
	}
	meta := map[string]string{
		webapi.MetaScope: Name + ":" + KindSearchModels + ":filter=base_model:" + parent,
		webapi.MetaDepth: strconv.Itoa(depth),
		metaLineage:      "1",
	}
	if counts {
		meta[metaCounts] = "1"
	}
	if expect >= 0 {
		meta[metaExpect] = strconv.Itoa(expect)
	}
	if since != "" {
		q.Set("sort", "lastModified")
		q.Set("direction", "-1")
		meta[metaSince] = since
	}
	u := s.base + "/api/models?" + q.Encode()
	return crawler.Job{ID: crawler.Key(Name, KindSearchModels, u), Source: Name, Kind: KindSearchModels, URL: u, Dataset: dataset, Meta: meta}
}

func (s *Source) infoJob(kind, dataset, repoID string, depth int) crawler.Job {
	path := "/api/models/"
	prefix := "hf:model:"
	if kind == KindDatasetInfo {
		path = "/api/datasets/"
		prefix = "hf:dataset:"
	}
	u := s.base + path + escapeID(repoID) + "?blobs=true"
	meta := map[string]string{webapi.MetaID: prefix + repoID}
	if depth > 0 {
		meta[webapi.MetaDepth] = strconv.Itoa(depth)
	}
	return crawler.Job{ID: crawler.Key(Name, kind, u), Source: Name, Kind: kind, URL: u, Dataset: dataset, Meta: meta}
}

func (s *Source) cardJob(parent crawler.Job, a artifact.Artifact, repoID string, dataset bool) crawler.Job {
	kind, path := KindModelCard, "/"
	if dataset {
		kind, path = KindDatasetCard, "/datasets/"
	}
	u := s.base + path + escapeID(repoID) + "/" + s.cardPath + "/main/README.md"
	meta := map[string]string{webapi.MetaID: a.ID, webapi.MetaArtifact: webapi.EncodeArtifact(a)}
	return crawler.Job{ID: crawler.Key(Name, kind, u), RunID: parent.RunID, Source: Name, Kind: kind, URL: u,
		Dataset: parent.Dataset, Meta: meta}
}

// escapeID escapes each segment of an owner/name id.
func escapeID(id string) string {
	parts := strings.Split(id, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return strings.Join(parts, "/")
}

// PageURL is the public page of a repo.
func (s *Source) PageURL(repoID string, dataset bool) string {
	if dataset {
		return s.base + "/datasets/" + repoID
	}
	return s.base + "/" + repoID
}

func (s *Source) request(u, rateKey string) crawler.Request {
	r := crawler.Request{Source: Name, URL: u, RateKey: rateKey, Header: map[string][]string{"Accept": {"application/json"}}}
	if s.token != "" {
		r.Header["Authorization"] = []string{"Bearer " + s.token}
	}
	return r
}
