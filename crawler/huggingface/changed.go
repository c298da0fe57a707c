package huggingface

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/afterlife-watch/afterlife/configs"
	"github.com/afterlife-watch/afterlife/crawler"
	"github.com/afterlife-watch/afterlife/crawler/webapi"
)

// An incremental run lists what changed on the whole Hub since its last run — GET
// /api/models?sort=lastModified&direction=-1 (and /api/datasets), read down to the first repo
// older than that — and matches each changed repo here against the terms the per-query plan would
// have searched: a repo id containing a name (what search= matches), a dataset: or arxiv: tag, a
// base_model: tag naming a known model. On an unchanged Hub that is one page per kind instead of
// one request per planned query. When more changed than changed_max_pages pages hold, the run
// falls back on the per-query plan (each query sorted and read down to the same time).

// Job kinds of the Hub-wide listings of an incremental run.
const (
	KindChangedModels   = "changed-models"
	KindChangedDatasets = "changed-datasets"
)

// metaWatch carries the watched terms (watchSpec, JSON) to the changed listings' pages: a worker
// in another process has no registry of its own.
const metaWatch = "watch"

// watchSpec is what a run watches for, per registry dataset.
type watchSpec struct {
	Datasets []watchDataset `json:"d"`
}

type watchDataset struct {
	ID string `json:"id"`
	// Search are the slugs searched with search= (a substring of the repo id, any case).
	Search []string `json:"s,omitempty"`
	// Tags are the slugs also searched as filter=dataset:<slug>.
	Tags []string `json:"t,omitempty"`
	// ArXiv are the papers' arXiv ids (filter=arxiv:<id>).
	ArXiv []string `json:"a,omitempty"`
	// Models are the known models' hub ids (filter=base_model:<id>).
	Models []string `json:"m,omitempty"`
}

// watchOf builds the spec of the datasets' queries.
func watchOf(ctx context.Context, datasets []*configs.Dataset, datasetFilters bool) (watchSpec, error) {
	var spec watchSpec
	for _, d := range datasets {
		if err := ctx.Err(); err != nil {
			return spec, err
		}
		w := watchDataset{ID: d.ID}
		seen := map[string]bool{}
		for _, term := range webapi.Terms(d, 3) {
			slug := webapi.Slug(term)
			// search= matches repo ids: phrases of four words or more never occur in one.
			if len(slug) < 3 || len(strings.Fields(term)) > 3 || seen[slug] {
				continue
			}
			seen[slug] = true
			w.Search = append(w.Search, slug)
			// filter=dataset:<id> only for what can be a dataset id: never a file name or domain.
			if datasetFilters && slug == term && webapi.DatasetIDCandidate(term) {
				w.Tags = append(w.Tags, slug)
			}
		}
		w.ArXiv = webapi.ArXivIDs(d)
		w.Models = webapi.HubModelIDs(d)
		spec.Datasets = append(spec.Datasets, w)
	}
	return spec, nil
}

// changedJobs are the two Hub-wide listings of an incremental run.
func (s *Source) changedJobs(spec watchSpec, since string) ([]crawler.Job, error) {
	b, err := json.Marshal(spec)
	if err != nil {
		return nil, fmt.Errorf("huggingface: watch spec: %w", err)
	}
	var jobs []crawler.Job
	for _, kind := range []string{KindChangedModels, KindChangedDatasets} {
		q := url.Values{}
		q.Set("sort", "lastModified")
		q.Set("direction", "-1")
		q.Set("limit", strconv.Itoa(s.pageSize))
		meta := map[string]string{metaSince: since, metaWatch: string(b)}
		path := "/api/datasets"
		if kind == KindChangedModels {
			path = "/api/models"
			counts := s.childCounts.Load()
			for _, f := range lineageFields {
				if f != "childrenModelCount" || counts {
					q.Add("expand", f)
				}
			}
			if counts {
				meta[metaCounts] = "1"
			}
		} else {
			q.Set("full", "true")
		}
		u := s.base + path + "?" + q.Encode()
		jobs = append(jobs, crawler.Job{ID: crawler.Key(Name, kind, u), Source: Name, Kind: kind, URL: u, Meta: meta})
	}
	return jobs, nil
}

// handleChanged reads one page of a Hub-wide changed listing.
func (s *Source) handleChanged(job crawler.Job, resp *crawler.Response, res *crawler.Result) error {
	isDataset := job.Kind == KindChangedDatasets
	var spec watchSpec
	if err := json.Unmarshal([]byte(job.Meta[metaWatch]), &spec); err != nil {
		return fmt.Errorf("huggingface %s: watch spec: %w", job.Kind, err)
	}
	since, err := time.Parse(time.RFC3339, job.Meta[metaSince])
	if err != nil {
		return fmt.Errorf("huggingface %s: bad %s %q: %w", job.Kind, metaSince, job.Meta[metaSince], err)
	}
	items, err := ParseList(resp.Body, isDataset)
	if err != nil {
		return fmt.Errorf("huggingface %s: %w", job.Kind, err)
	}
	items, cut := webapi.CapPage(items, s.pageSize)
	if cut > 0 {
		res.Notes = append(res.Notes, webapi.CapNote(Name, job.Kind, "changed since "+job.Meta[metaSince], cut+s.pageSize, s.pageSize))
	}
	// The page is read whole, but of the repos on it older than the last run only what the listing
	// itself decides is sighted (a lineage child from its base_model); their cards and infos are
	// not asked again, and nothing is searched below them. No further page is read.
	older := false
	fresh := make([]bool, len(items))
	for i, it := range items {
		t, err := time.Parse(time.RFC3339, it.LastModified)
		fresh[i] = err != nil || !t.Before(since)
		older = older || !fresh[i]
	}
	// Oldest first: a new model's new base, on the same page, is recorded before it (the matcher's
	// lineage store judges a child by its base's findings).
	for i := len(items) - 1; i >= 0; i-- {
		s.matchChanged(job, spec, items[i], isDataset, fresh[i], res)
	}
	next := webapi.Links(resp.Header, resp.URL)["next"]
	switch {
	case older || next == "":
	case !webapi.SameHost(job.URL, next):
		res.Notes = append(res.Notes, fmt.Sprintf("huggingface: %s: next page on another host ignored", job.Kind))
	case job.Page+1 >= s.changedPages:
		// More changed than the bound: list per query instead (each read down to the same time).
		res.Notes = append(res.Notes, fmt.Sprintf("huggingface: more than %d repos changed since %s: listed per query instead",
			s.changedPages*s.pageSize, job.Meta[metaSince]))
		for _, j := range s.seedJobs(spec, job.Meta[metaSince], !isDataset, isDataset) {
			j.RunID = job.RunID
			res.Next = append(res.Next, j)
		}
	default:
		res.Next = append(res.Next, crawler.Job{ID: crawler.Key(Name, job.Kind, next), RunID: job.RunID, Source: Name,
			Kind: job.Kind, URL: next, Page: job.Page + 1, Meta: job.Meta})
	}
	return nil
}

// matchChanged does for one changed repo what the per-query plan's queries would have done with
// it: a child of a known model is sighted from the listing (and, when it changed since the last
// run, searched for children where the Hub counts some), a model matching a name or a dataset:/arxiv: tag gets its card, a dataset repo
// matching a name or an arxiv: tag its info (then its card). Any other changed model that
// declares a base model is sighted from the listing, for the matcher's lineage store to judge.
func (s *Source) matchChanged(job crawler.Job, spec watchSpec, it *Info, isDataset, fresh bool, res *crawler.Result) {
	id := strings.ToLower(it.ID)
	tags := map[string]bool{}
	for _, t := range it.Tags {
		tags[strings.ToLower(t)] = true
	}
	bases := BaseModels(it.CardData, it.Tags)
	var lineageOf, textOf string // the dataset a lineage or a name/tag match is for
	for _, d := range spec.Datasets {
		if !isDataset && lineageOf == "" {
			for _, m := range d.Models {
				if slices.ContainsFunc(bases, func(b string) bool { return strings.EqualFold(b, m) }) {
					lineageOf = d.ID
				}
			}
		}
		if textOf == "" {
			for _, slug := range d.Search {
				if strings.Contains(id, strings.ToLower(slug)) || (!isDataset && slices.Contains(d.Tags, slug) && tags["dataset:"+strings.ToLower(slug)]) {
					textOf = d.ID
				}
			}
			for _, a := range d.ArXiv {
				if tags["arxiv:"+strings.ToLower(a)] {
					textOf = d.ID
				}
			}
		}
	}
	a := s.Artifact(it, isDataset)
	switch {
	case !fresh && textOf != "":
		// Unchanged since the last run: its card and info were read then and say the same; asking
		// again (a 304 each) would cost a request per repo on the page — at the Hub's page of
		// 1,000, 2,000 of a repeat scan's requests. The re-check sample refreshes such repos.
	case isDataset && textOf != "":
		j := s.infoJob(KindDatasetInfo, textOf, it.ID, 0)
		j.RunID = job.RunID
		res.Next = append(res.Next, j)
	case isDataset:
	case textOf != "":
		cj := s.cardJob(job, a, it.ID, false)
		cj.Dataset = textOf
		res.Next = append(res.Next, cj)
	case lineageOf != "":
		res.Artifacts = append(res.Artifacts, a)
		if fresh && s.depth > 1 && (!it.ChildrenModelCount.Known || it.ChildrenModelCount.Total > 0) {
			expect := -1
			if it.ChildrenModelCount.Known {
				expect = it.ChildrenModelCount.Total
			}
			c := s.lineageJob(lineageOf, it.ID, 2, expect, job.Meta[metaSince])
			c.RunID = job.RunID
			res.Next = append(res.Next, c)
		}
	case len(bases) > 0 && s.changedLineage:
		res.Artifacts = append(res.Artifacts, a)
	}
}
