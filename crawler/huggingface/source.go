// Package huggingface is the Hugging Face Hub source adapter: model and dataset search (by name,
// by dataset:, arxiv: and base_model: tags), model and dataset info with file sizes, and model and
// dataset cards (README.md with YAML front matter).
package huggingface

import (
	"context"
	"net/url"
	"strconv"
	"strings"

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
	DefaultBaseURL  = "https://huggingface.co"
	DefaultPageSize = 100
	DefaultMaxPages = 3
	DefaultDepth    = 2
	// MaxTextBytes bounds the card text kept in an artifact.
	MaxTextBytes = 512 << 10
)

func init() { crawler.Register(Name, New) }

// Source is the Hugging Face adapter.
type Source struct {
	base     string
	pageSize int
	maxPages int
	depth    int // how many generations of base_model children to follow
	token    string
	// cardPath is "resolve" (default, resolver bucket, higher limits) or "raw".
	cardPath string
	// datasetFilters turns the filter=dataset:<alias> queries on (default on).
	datasetFilters bool
}

// New builds the adapter. Options: lineage_depth (int, default 2), card_path (resolve|raw),
// dataset_filters (true|false).
func New(cfg configs.SourceConfig, env crawler.Env) (crawler.Source, error) {
	c, err := webapi.ParseCommon(Name, cfg, env, webapi.Defaults{BaseURL: DefaultBaseURL, PageSize: DefaultPageSize,
		MaxPages: DefaultMaxPages, TokenEnv: "HF_TOKEN"})
	if err != nil {
		return nil, err
	}
	s := &Source{base: c.Base, pageSize: c.PageSize, maxPages: c.MaxPages, token: c.Token}
	if s.depth, err = webapi.NonNegative(Name, cfg, "lineage_depth", DefaultDepth); err != nil {
		return nil, err
	}
	if s.cardPath, err = webapi.Choice(Name, cfg, "card_path", "resolve", "raw"); err != nil {
		return nil, err
	}
	if s.datasetFilters, err = webapi.Bool(Name, cfg, "dataset_filters", true); err != nil {
		return nil, err
	}
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

// Plan implements crawler.Source: per dataset, name searches over models and datasets for each
// alias and derivative name, filter=dataset:<alias> for id-like aliases, filter=arxiv:<id> for its
// papers, the known models' info and their children (filter=base_model:<id>).
func (s *Source) Plan(ctx context.Context, datasets []*configs.Dataset) ([]crawler.Job, error) {
	var plan webapi.Plan
	add := func(j crawler.Job) { plan.Add(j) }
	for _, d := range datasets {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		for _, term := range webapi.Terms(d, 3) {
			slug := webapi.Slug(term)
			// search= matches repo ids: phrases of four words or more never occur in one.
			if len(slug) < 3 || len(strings.Fields(term)) > 3 {
				continue
			}
			add(s.searchJob(KindSearchModels, d.ID, "search", slug, 0))
			add(s.searchJob(KindSearchDatasets, d.ID, "search", slug, 0))
			// filter=dataset:<id> only for what can be a dataset id: never a file name or domain.
			if s.datasetFilters && slug == term && webapi.DatasetIDCandidate(term) {
				add(s.searchJob(KindSearchModels, d.ID, "filter", "dataset:"+term, 0))
			}
		}
		for _, id := range webapi.ArXivIDs(d) {
			add(s.searchJob(KindSearchModels, d.ID, "filter", "arxiv:"+id, 0))
			add(s.searchJob(KindSearchDatasets, d.ID, "filter", "arxiv:"+id, 0))
		}
		for _, m := range webapi.HubModelIDs(d) {
			add(s.infoJob(KindModelInfo, d.ID, m, 0))
			if s.depth > 0 {
				add(s.searchJob(KindSearchModels, d.ID, "filter", "base_model:"+m, 1))
			}
		}
	}
	jobs := plan.Jobs()
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

// searchJob builds a list query: param is "search" or "filter".
func (s *Source) searchJob(kind, dataset, param, value string, depth int) crawler.Job {
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
	u := s.base + path + "?" + q.Encode()
	scope := Name + ":" + kind + ":" + param + "=" + value
	meta := map[string]string{webapi.MetaScope: scope}
	if depth > 0 {
		meta[webapi.MetaDepth] = strconv.Itoa(depth)
	}
	return crawler.Job{ID: crawler.Key(Name, kind, u), Source: Name, Kind: kind, URL: u, Dataset: dataset, Meta: meta}
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
