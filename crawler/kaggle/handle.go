package kaggle

import (
	"context"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/afterlife-watch/afterlife/crawler"
	"github.com/afterlife-watch/afterlife/crawler/webapi"
)

// Handle implements crawler.Source.
func (s *Source) Handle(ctx context.Context, job crawler.Job, f crawler.Fetcher) (crawler.Result, error) {
	var res crawler.Result
	resp, err := f.Fetch(ctx, s.request(job.URL))
	if err != nil {
		return res, fmt.Errorf("kaggle %s: %w", job.Kind, err)
	}
	switch c := webapi.Classify(resp); {
	case c == webapi.OK:
	case c == webapi.Unauthorized || (c == webapi.Forbidden && !s.authed()):
		switch {
		case s.authed():
			res.Notes = append(res.Notes, "kaggle: credentials rejected (HTTP 401): skipped "+job.Kind)
		case job.Kind == KindProbe:
			n := 1 + len(strings.Split(job.Meta[metaQueries], "\n"))
			res.Notes = append(res.Notes, fmt.Sprintf("kaggle: %d dataset searches skipped: Kaggle requires KAGGLE_USERNAME/KAGGLE_KEY (HTTP %d)", n, resp.Status))
		default:
			res.Notes = append(res.Notes, fmt.Sprintf("kaggle: %s needs KAGGLE_USERNAME/KAGGLE_KEY (HTTP %d): skipped", job.Kind, resp.Status))
		}
		return res, nil
	case c == webapi.Gone && job.Kind == KindView:
		res.Gone = append(res.Gone, job.Meta[webapi.MetaID])
		return res, nil
	case c == webapi.Gone && job.Kind == KindFiles:
		return res, s.emitCarried(job, &res)
	case c == webapi.RateLimited:
		return res, webapi.RateLimitError(resp, time.Now())
	default:
		return res, webapi.StatusErr(resp)
	}
	switch job.Kind {
	case KindProbe:
		// Anonymous access works here: plan the rest.
		for _, line := range strings.Split(job.Meta[metaQueries], "\n") {
			if ds, term, ok := strings.Cut(line, "\t"); ok && term != "" {
				j := s.searchJob(ds, term)
				j.RunID = job.RunID
				res.Next = append(res.Next, j)
			}
		}
		err = s.handleSearch(job, resp, &res)
	case KindSearch:
		err = s.handleSearch(job, resp, &res)
	case KindView:
		var d *Dataset
		if d, err = ParseDataset(resp.Body); err == nil {
			a := s.Artifact(d)
			u := s.base + "/api/v1/datasets/list/" + escapeRef(d.Ref)
			j := crawler.Job{ID: crawler.Key(Name, KindFiles, u), RunID: job.RunID, Source: Name, Kind: KindFiles, URL: u, Dataset: job.Dataset,
				Meta: map[string]string{webapi.MetaID: a.ID, webapi.MetaArtifact: webapi.EncodeArtifact(a)}}
			res.Next = append(res.Next, j)
		}
	case KindFiles:
		err = s.handleFiles(job, resp, &res)
	default:
		err = fmt.Errorf("unknown job kind %q", job.Kind)
	}
	if err != nil {
		err = fmt.Errorf("kaggle %s %s%s: %w", job.Kind, job.Meta[webapi.MetaScope], job.Meta[webapi.MetaID], err)
	}
	return res, err
}

func (s *Source) emitCarried(job crawler.Job, res *crawler.Result) error {
	a, err := webapi.DecodeArtifact(job.Meta[webapi.MetaArtifact])
	if err != nil {
		return err
	}
	res.Artifacts = append(res.Artifacts, a)
	return nil
}

func (s *Source) handleSearch(job crawler.Job, resp *crawler.Response, res *crawler.Result) error {
	ds, err := ParseList(resp.Body)
	if err != nil {
		return err
	}
	var ids []string
	for _, d := range ds {
		ids = append(ids, "kaggle:dataset:"+d.Ref)
		j := s.ViewJob(job.Dataset, d.Ref)
		j.RunID = job.RunID
		res.Next = append(res.Next, j)
	}
	// The list endpoint has no links: a full page means there may be another.
	switch {
	case len(ds) >= PageSize && job.Page+1 < s.maxPages:
		n := s.searchPage(job.Dataset, job.Meta["term"], job.Page+2)
		n.RunID, n.Meta = job.RunID, webapi.WithSeen(n.Meta, append(webapi.Seen(job.Meta), ids...))
		res.Next = append(res.Next, n)
	case len(ds) < PageSize:
		all := append(webapi.Seen(job.Meta), ids...)
		sort.Strings(all)
		res.Listing = &crawler.Listing{Scope: job.Meta[webapi.MetaScope], IDs: all}
	}
	return nil
}

func (s *Source) handleFiles(job crawler.Job, resp *crawler.Response, res *crawler.Result) error {
	a, err := webapi.DecodeArtifact(job.Meta[webapi.MetaArtifact])
	if err != nil {
		return err
	}
	fl, err := ParseFiles(resp.Body)
	if err != nil {
		res.Artifacts = append(res.Artifacts, a)
		res.Notes = append(res.Notes, fmt.Sprintf("kaggle: file list of %s: %v", a.ID, err))
		return nil
	}
	have := map[string]bool{}
	for _, f := range a.Files {
		have[f.Path] = true
	}
	for _, f := range files(fl.DatasetFiles) {
		if !have[f.Path] {
			a.Files = append(a.Files, f)
		}
	}
	if fl.NextPageToken != "" && len(a.Files) < webapi.MaxCarriedFiles {
		u, _ := url.Parse(job.URL)
		q := u.Query()
		q.Set("pageToken", fl.NextPageToken)
		u.RawQuery = q.Encode()
		j := crawler.Job{ID: crawler.Key(Name, KindFiles, u.String()), RunID: job.RunID, Source: Name, Kind: KindFiles, URL: u.String(),
			Dataset: job.Dataset, Meta: map[string]string{webapi.MetaID: a.ID, webapi.MetaArtifact: webapi.EncodeArtifact(a)}}
		res.Next = append(res.Next, j)
		return nil
	}
	res.Artifacts = append(res.Artifacts, a)
	return nil
}
