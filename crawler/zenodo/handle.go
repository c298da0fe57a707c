package zenodo

import (
	"context"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"time"

	"github.com/afterlife-watch/afterlife/crawler"
	"github.com/afterlife-watch/afterlife/crawler/webapi"
)

// Handle implements crawler.Source.
func (s *Source) Handle(ctx context.Context, job crawler.Job, f crawler.Fetcher) (crawler.Result, error) {
	var res crawler.Result
	if n := job.Meta["notes"]; n != "" {
		res.Notes = append(res.Notes, n)
	}
	resp, err := f.Fetch(ctx, s.request(job.Kind, job.URL))
	if err != nil {
		return res, fmt.Errorf("zenodo %s: %w", job.Kind, err)
	}
	switch c := webapi.Classify(resp); {
	case c == webapi.OK:
	case c == webapi.Gone && job.Kind == KindRecord:
		res.Gone = append(res.Gone, job.Meta[webapi.MetaID])
		return res, nil
	case c == webapi.RateLimited:
		return res, webapi.RateLimitError(resp, time.Now())
	case c == webapi.Unauthorized || c == webapi.Forbidden:
		if s.token != "" && c == webapi.Unauthorized {
			res.Notes = append(res.Notes, "zenodo: ZENODO_TOKEN rejected (HTTP 401): skipped "+job.Kind)
		} else {
			// Restricted or embargoed records answer 403 to guests.
			res.Notes = append(res.Notes, fmt.Sprintf("zenodo: %s %s not accessible (HTTP %d): %s", job.Kind, job.Meta[webapi.MetaID], resp.Status, webapi.ErrorMessage(resp.Body)))
		}
		return res, nil
	default:
		return res, webapi.StatusErr(resp)
	}
	switch job.Kind {
	case KindSearch:
		err = s.handleSearch(job, resp, &res)
	case KindRecord:
		var r *Record
		if r, err = ParseRecord(resp.Body); err == nil {
			res.Artifacts = append(res.Artifacts, s.Artifact(r))
		}
	default:
		err = fmt.Errorf("unknown job kind %q", job.Kind)
	}
	if err != nil {
		err = fmt.Errorf("zenodo %s %s%s: %w", job.Kind, job.Meta[webapi.MetaScope], job.Meta[webapi.MetaID], err)
	}
	return res, err
}

func (s *Source) handleSearch(job crawler.Job, resp *crawler.Response, res *crawler.Result) error {
	recs, page, err := ParseSearch(resp.Body)
	if err != nil {
		return err
	}
	got := len(recs)
	recs, cut := webapi.CapPage(recs, s.pageSize)
	if cut > 0 {
		res.Notes = append(res.Notes, webapi.CapNote(Name, job.Kind, job.Meta[webapi.MetaScope], got, s.pageSize))
	}
	partial := webapi.Partial(job.Meta, cut)
	var ids []string
	since := job.Meta[metaSince]
	for _, r := range recs {
		id, _ := r.RecordID()
		ids = append(ids, "zenodo:"+id)
		if since != "" && updatedBefore(r.Updated, since) {
			// Unchanged since the last run: the hit is the record (PlanIncremental).
			res.Artifacts = append(res.Artifacts, s.Artifact(r))
			continue
		}
		j := s.RecordJob(job.Dataset, id)
		j.RunID = job.RunID
		res.Next = append(res.Next, j)
	}
	next := page.Links["next"]
	if next == "" && len(page.Links) == 0 && len(recs) > 0 {
		// Some stored responses lack links: compute the next page from page/size and the total.
		next = nextPage(job.URL, page.Total())
	}
	switch {
	case next != "" && job.Page+1 < s.maxPages && webapi.SameHost(job.URL, next):
		res.Next = append(res.Next, crawler.Job{ID: crawler.Key(Name, KindSearch, next), RunID: job.RunID, Source: Name, Kind: KindSearch,
			URL: next, Dataset: job.Dataset, Page: job.Page + 1, Meta: webapi.MarkPartial(webapi.WithSeen(job.Meta, ids), partial)})
	case next == "" && !partial:
		all := append(webapi.Seen(job.Meta), ids...)
		sort.Strings(all)
		res.Listing = &crawler.Listing{Scope: job.Meta[webapi.MetaScope], IDs: all}
	}
	return nil
}

// nextPage returns the URL of the page after u, or "" when total is reached.
func nextPage(u string, total int) string {
	p, err := url.Parse(u)
	if err != nil {
		return ""
	}
	q := p.Query()
	page, _ := strconv.Atoi(q.Get("page"))
	size, _ := strconv.Atoi(q.Get("size"))
	if page <= 0 {
		page = 1
	}
	if size <= 0 || page*size >= total {
		return ""
	}
	q.Set("page", strconv.Itoa(page+1))
	p.RawQuery = q.Encode()
	return p.String()
}

// updatedBefore reports whether a record's updated time (RFC 3339) is before since; an
// unreadable time counts as changed (the record is fetched).
func updatedBefore(updated, since string) bool {
	t, err := time.Parse(time.RFC3339Nano, updated)
	s, err2 := time.Parse(time.RFC3339Nano, since)
	return err == nil && err2 == nil && t.Before(s)
}
