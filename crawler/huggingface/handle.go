package huggingface

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/afterlife-watch/afterlife/crawler"
	"github.com/afterlife-watch/afterlife/crawler/webapi"
)

// Handle implements crawler.Source.
func (s *Source) Handle(ctx context.Context, job crawler.Job, f crawler.Fetcher) (crawler.Result, error) {
	var res crawler.Result
	if n := job.Meta["notes"]; n != "" {
		res.Notes = append(res.Notes, strings.Split(n, "\n")...)
	}
	rateKey := ""
	if job.Kind == KindModelCard || job.Kind == KindDatasetCard {
		rateKey = RateResolve
	}
	resp, err := f.Fetch(ctx, s.request(job.URL, rateKey))
	if err != nil {
		return res, fmt.Errorf("huggingface %s: %w", job.Kind, err)
	}
	if resp.Status == http.StatusBadRequest && job.Meta[metaCounts] != "" {
		return s.withoutCounts(job, resp, res)
	}
	if done, err := s.status(job, resp, &res); done {
		return res, err
	}
	switch job.Kind {
	case KindSearchModels, KindSearchDatasets:
		err = s.handleSearch(job, resp, &res)
	case KindChangedModels, KindChangedDatasets:
		err = s.handleChanged(job, resp, &res)
	case KindModelInfo, KindDatasetInfo:
		err = s.handleInfo(job, resp, &res)
	case KindModelCard, KindDatasetCard:
		err = s.handleCard(job, resp, &res)
	default:
		err = fmt.Errorf("huggingface: unknown job kind %q", job.Kind)
	}
	return res, err
}

// status turns a non-OK response into the right result. done is true when the job is finished.
func (s *Source) status(job crawler.Job, resp *crawler.Response, res *crawler.Result) (bool, error) {
	class := webapi.Classify(resp)
	if class == webapi.OK {
		return false, nil
	}
	isCard := job.Kind == KindModelCard || job.Kind == KindDatasetCard
	isDetail := job.Kind == KindModelInfo || job.Kind == KindDatasetInfo
	errCode := resp.Header.Get("X-Error-Code")
	notFound := class == webapi.Gone || errCode == "RepoNotFound" ||
		(class == webapi.Unauthorized && strings.Contains(strings.ToLower(webapi.ErrorMessage(resp.Body)), "not found"))
	switch {
	case isCard && errCode == "RepoNotFound":
		// Deleted between its info and its card.
		res.Gone = append(res.Gone, job.Meta[webapi.MetaID])
		return true, nil
	case isCard && (class == webapi.Gone || class == webapi.Unauthorized || class == webapi.Forbidden):
		// The repo exists (its info came back); only the card is missing or gated: keep the
		// artifact without text.
		a, err := webapi.DecodeArtifact(job.Meta[webapi.MetaArtifact])
		if err != nil {
			return true, err
		}
		if class != webapi.Gone || errCode == "GatedRepo" {
			res.Notes = append(res.Notes, fmt.Sprintf("huggingface: card of %s skipped: HTTP %d (gated or private)", a.ID, resp.Status))
		}
		res.Artifacts = append(res.Artifacts, a)
		return true, nil
	case isDetail && notFound:
		res.Gone = append(res.Gone, job.Meta[webapi.MetaID])
		return true, nil
	case class == webapi.Unauthorized:
		if s.token != "" {
			res.Notes = append(res.Notes, fmt.Sprintf("huggingface: HF_TOKEN rejected (HTTP 401) for %s: skipped", job.Kind))
		} else {
			res.Notes = append(res.Notes, fmt.Sprintf("huggingface: %s needs authentication (HTTP 401): skipped, set HF_TOKEN", job.Kind))
		}
		return true, nil
	case class == webapi.Forbidden && errCode == "GatedRepo":
		res.Notes = append(res.Notes, fmt.Sprintf("huggingface: %s is gated: skipped", job.Meta[webapi.MetaID]))
		return true, nil
	case class == webapi.RateLimited:
		return true, webapi.RateLimitError(resp, time.Now())
	case class == webapi.Gone:
		// A list endpoint that 404s: the query path is wrong for this server; permanent.
		return true, webapi.StatusErr(resp)
	}
	return true, webapi.StatusErr(resp)
}

// withoutCounts answers a lineage query the Hub refused (HTTP 400) for its
// expand=childrenModelCount: counts are switched off for this process and the same query is
// asked again without them (its hits are then all searched for children).
func (s *Source) withoutCounts(job crawler.Job, resp *crawler.Response, res crawler.Result) (crawler.Result, error) {
	if s.childCounts.Swap(false) {
		res.Notes = append(res.Notes, fmt.Sprintf("huggingface: the Hub refused expand=childrenModelCount on a model list (HTTP 400: %s): "+
			"lineage is listed without pruning (every child searched for children)", webapi.ErrorMessage(resp.Body)))
	}
	u, err := url.Parse(job.URL)
	if err != nil {
		return res, fmt.Errorf("huggingface %s: %w", job.Kind, err)
	}
	q := u.Query()
	var keep []string
	for _, f := range q["expand"] {
		if f != "childrenModelCount" {
			keep = append(keep, f)
		}
	}
	q["expand"] = keep
	u.RawQuery = q.Encode()
	next := job
	next.ID, next.URL, next.Attempt = crawler.Key(Name, job.Kind, u.String()), u.String(), 0
	next.Meta = webapi.CopyMeta(job.Meta)
	delete(next.Meta, metaCounts)
	res.Next = append(res.Next, next)
	return res, nil
}

func (s *Source) handleSearch(job crawler.Job, resp *crawler.Response, res *crawler.Result) error {
	isDataset := job.Kind == KindSearchDatasets
	items, err := ParseList(resp.Body, isDataset)
	if err != nil {
		return fmt.Errorf("huggingface %s %s: %w", job.Kind, job.Meta[webapi.MetaScope], err)
	}
	got := len(items)
	items, cut := webapi.CapPage(items, s.pageSize)
	if cut > 0 {
		res.Notes = append(res.Notes, webapi.CapNote(Name, job.Kind, job.Meta[webapi.MetaScope], got, s.pageSize))
	}
	partial := webapi.Partial(job.Meta, cut)
	depth, _ := strconv.Atoi(job.Meta[webapi.MetaDepth])
	lineage := job.Meta[metaLineage] != ""
	var since time.Time
	if v := job.Meta[metaSince]; v != "" {
		if since, err = time.Parse(time.RFC3339, v); err != nil {
			return fmt.Errorf("huggingface %s: bad %s %q: %w", job.Kind, metaSince, v, err)
		}
	}
	older := false // an incremental query reached repos unchanged since its time
	ids := make([]string, 0, len(items))
	for _, it := range items {
		changed := true
		if !since.IsZero() {
			if t, err := time.Parse(time.RFC3339, it.LastModified); err == nil && t.Before(since) {
				changed, older = false, true
			}
		}
		a := s.Artifact(it, isDataset)
		ids = append(ids, a.ID)
		switch {
		case lineage:
			// The listing names the base model (tags, cardData): a sighting without info or card.
			res.Artifacts = append(res.Artifacts, a)
			// Children: where the Hub counts some, or where it gave no count. An incremental
			// run descends only into what changed (a full listing covers the rest).
			if depth > 0 && depth < s.depth && changed && (!it.ChildrenModelCount.Known || it.ChildrenModelCount.Total > 0) {
				expect := -1
				if it.ChildrenModelCount.Known {
					expect = it.ChildrenModelCount.Total
				}
				c := s.lineageJob(job.Dataset, it.ID, depth+1, expect, job.Meta[metaSince])
				c.RunID = job.RunID
				res.Next = append(res.Next, c)
			}
		case !changed:
			// Unchanged since the last run: its sighting is refreshed by the re-checks.
		case isDataset:
			// A dataset repo may be a copy: its info gives file sizes, its card may describe it.
			j := s.infoJob(KindDatasetInfo, job.Dataset, it.ID, 0)
			j.RunID = job.RunID
			res.Next = append(res.Next, j)
		default:
			// A model found by name or tag: its card decides (it may name the data only in prose,
			// or say it was not trained on it). The listing already has its tags and files.
			res.Next = append(res.Next, s.cardJob(job, a, it.ID, false))
		}
	}
	next := webapi.Links(resp.Header, resp.URL)["next"]
	switch {
	case next != "" && !older && webapi.SameHost(job.URL, next):
		nj := crawler.Job{ID: crawler.Key(Name, job.Kind, next), RunID: job.RunID, Source: Name,
			Kind: job.Kind, URL: next, Dataset: job.Dataset, Page: job.Page + 1, Meta: webapi.MarkPartial(job.Meta, partial)}
		if since.IsZero() {
			nj.Meta = webapi.WithSeen(nj.Meta, ids)
		}
		res.Next = append(res.Next, nj)
	case next == "" && !partial && since.IsZero():
		all := append(webapi.Seen(job.Meta), ids...)
		res.Listing = &crawler.Listing{Scope: job.Meta[webapi.MetaScope], IDs: all}
		if e, err := strconv.Atoi(job.Meta[metaExpect]); err == nil && e >= 0 && len(all) < e {
			res.Notes = append(res.Notes, fmt.Sprintf("huggingface: %s listed %d models; the Hub counts %d children (the rest private, gated or not yet indexed)",
				job.Meta[webapi.MetaScope], len(all), e))
		}
	}
	return nil
}

func (s *Source) handleInfo(job crawler.Job, resp *crawler.Response, res *crawler.Result) error {
	isDataset := job.Kind == KindDatasetInfo
	info, err := ParseInfo(resp.Body)
	if err != nil {
		return fmt.Errorf("huggingface %s %s: %w", job.Kind, job.Meta[webapi.MetaID], err)
	}
	a := s.Artifact(info, isDataset)
	if info.hasSibling("README.md") || len(info.Siblings) == 0 {
		res.Next = append(res.Next, s.cardJob(job, a, info.ID, isDataset))
		return nil
	}
	res.Artifacts = append(res.Artifacts, a)
	return nil
}

func (s *Source) handleCard(job crawler.Job, resp *crawler.Response, res *crawler.Result) error {
	a, err := webapi.DecodeArtifact(job.Meta[webapi.MetaArtifact])
	if err != nil {
		return fmt.Errorf("huggingface %s: %w", job.Kind, err)
	}
	ct := resp.Header.Get("Content-Type")
	if resp.Status == http.StatusOK && strings.HasPrefix(ct, "text/html") {
		// A login or error page instead of the file: keep the artifact without text.
		res.Notes = append(res.Notes, fmt.Sprintf("huggingface: card of %s came back as HTML: ignored", a.ID))
		res.Artifacts = append(res.Artifacts, a)
		return nil
	}
	ApplyCard(&a, resp.Body)
	res.Artifacts = append(res.Artifacts, a)
	return nil
}
