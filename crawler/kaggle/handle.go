package kaggle

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
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
	if job.Kind == KindSkipped {
		return res, nil // nothing is sent: the note says why
	}
	resp, err := f.Fetch(ctx, s.request(job))
	if err != nil {
		return res, fmt.Errorf("kaggle %s: %w", job.Kind, err)
	}
	resp = withBodyCode(resp)
	switch c := webapi.Classify(resp); {
	case c == webapi.OK:
	case c == webapi.Unauthorized || (c == webapi.Forbidden && !s.authed()):
		switch {
		case s.authed():
			res.Notes = append(res.Notes, fmt.Sprintf("kaggle: credentials rejected (HTTP %d): skipped %s", resp.Status, job.Kind))
		case job.Kind == KindProbe:
			n := 1 + len(strings.Split(job.Meta[metaQueries], "\n"))
			res.Notes = append(res.Notes, fmt.Sprintf("kaggle: %d dataset searches skipped: Kaggle requires KAGGLE_API_TOKEN or KAGGLE_USERNAME/KAGGLE_KEY (HTTP %d)", n, resp.Status))
		default:
			res.Notes = append(res.Notes, fmt.Sprintf("kaggle: %s needs KAGGLE_API_TOKEN or KAGGLE_USERNAME/KAGGLE_KEY (HTTP %d): skipped", job.Kind, resp.Status))
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
				j := s.searchPageSince(ds, term, 1, job.Meta[metaSince]) // a filtered plan's probe: filtered too
				j.RunID = job.RunID
				res.Next = append(res.Next, j)
			}
		}
		err = s.handleSearch(job, resp, &res)
	case KindSearch:
		err = s.handleSearch(job, resp, &res)
	case KindView:
		var d *Dataset
		if d, err = ParseDataset(resp.Body); err == nil || errors.Is(err, errNoRef) {
			// GetDataset may leave out what it was asked for (the client's test server answers
			// without ref): the ref is the one requested.
			if d.Ref == "" {
				d.Ref = strings.TrimPrefix(job.Meta[webapi.MetaID], "kaggle:dataset:")
			}
			err = nil
			a := s.Artifact(d)
			res.Next = append(res.Next, s.filesJob(job, a, ""))
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

// withBodyCode applies an error code sent in a 200 body: Kaggle's RPC handlers answer some errors
// as {"code": 401} with HTTP 200 (kagglesdk raises on "code" >= 400 whatever the status; the
// client's test server does it for bad credentials).
func withBodyCode(resp *crawler.Response) *crawler.Response {
	if resp.Status < 200 || resp.Status > 299 || len(resp.Body) == 0 || resp.Body[0] != '{' {
		return resp
	}
	var env struct {
		Code json.RawMessage `json:"code"`
	}
	if json.Unmarshal(resp.Body, &env) != nil || len(env.Code) == 0 {
		return resp
	}
	code, err := strconv.Atoi(strings.Trim(string(env.Code), `"`))
	if err != nil || code < 400 || code > 599 {
		return resp
	}
	out := *resp
	out.Status = code
	return &out
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
	got := len(ds)
	ds, cut := webapi.CapPage(ds, PageSize)
	if cut > 0 {
		res.Notes = append(res.Notes, webapi.CapNote(Name, job.Kind, job.Meta[webapi.MetaScope], got, PageSize))
	}
	partial := webapi.Partial(job.Meta, cut)
	var ids []string
	since, older := job.Meta[metaSince], false
	for _, d := range ds {
		if since != "" && updatedBefore(d.LastUpdated, since) {
			older = true // sorted by last update: the rest did not change since the last run
			break
		}
		ids = append(ids, "kaggle:dataset:"+d.Ref)
		j := s.ViewJob(job.Dataset, d.Ref)
		j.RunID = job.RunID
		res.Next = append(res.Next, j)
	}
	// The list endpoint has no links: a full page means there may be another.
	switch {
	case older:
	case len(ds) >= PageSize && job.Page+1 < s.maxPages:
		n := s.searchPageSince(job.Dataset, job.Meta["term"], job.Page+2, since)
		n.RunID, n.Meta = job.RunID, webapi.MarkPartial(webapi.WithSeen(n.Meta, append(webapi.Seen(job.Meta), ids...)), partial)
		res.Next = append(res.Next, n)
	case len(ds) < PageSize && !partial:
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
		res.Next = append(res.Next, s.filesJob(job, a, fl.NextPageToken))
		return nil
	}
	res.Artifacts = append(res.Artifacts, a)
	return nil
}

// updatedBefore reports whether a dataset's lastUpdated (RFC 3339, "2023-06-14T08:00:00.000Z")
// is before since; an unreadable date counts as changed (the dataset is followed).
func updatedBefore(lastUpdated, since string) bool {
	t, err := time.Parse(time.RFC3339Nano, lastUpdated)
	s, err2 := time.Parse(time.RFC3339Nano, since)
	return err == nil && err2 == nil && t.Before(s)
}
