package github

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/afterlife-watch/afterlife/crawler"
	"github.com/afterlife-watch/afterlife/crawler/webapi"
)

// GitHub's search returns at most 1,000 results per query (MaxResults). A repository or issue
// search whose total_count is over that is split in two by a created: date range, and each part
// again, until every part is under the cap, so no result is cut silently. The split points are
// rounded to the first of a year or a month while the range is long, so the parts (and their
// listing scopes) stay the same from one daily run to the next.

// metaCreated holds the created: qualifier a split job added to its query ("" for none).
const metaCreated = "created"

// ghEpoch is the earliest creation date a GitHub object can have (GitHub opened in 2008).
var ghEpoch = time.Date(2007, 10, 1, 0, 0, 0, 0, time.UTC)

const day = 24 * time.Hour

// dateRange is a closed range of days; a zero bound is open.
type dateRange struct{ lo, hi time.Time }

// qualifier is the range as a GitHub created: qualifier ("" when both bounds are open).
func (r dateRange) qualifier() string {
	const f = "2006-01-02"
	switch {
	case r.lo.IsZero() && r.hi.IsZero():
		return ""
	case r.lo.IsZero():
		return "created:<=" + r.hi.Format(f)
	case r.hi.IsZero():
		return "created:>=" + r.lo.Format(f)
	}
	return "created:" + r.lo.Format(f) + ".." + r.hi.Format(f)
}

// parseRange reads a qualifier written by qualifier.
func parseRange(q string) (dateRange, bool) {
	const f = "2006-01-02"
	v, ok := strings.CutPrefix(q, "created:")
	if q == "" {
		return dateRange{}, true
	}
	if !ok {
		return dateRange{}, false
	}
	var r dateRange
	var err error
	switch {
	case strings.HasPrefix(v, "<="):
		r.hi, err = time.Parse(f, v[2:])
	case strings.HasPrefix(v, ">="):
		r.lo, err = time.Parse(f, v[2:])
	default:
		a, b, two := strings.Cut(v, "..")
		if !two {
			return dateRange{}, false
		}
		if r.lo, err = time.Parse(f, a); err == nil {
			r.hi, err = time.Parse(f, b)
		}
	}
	return r, err == nil
}

// halves splits r at a stable point: the first of a year while the range spans more than two
// years, the first of a month while it spans more than two months, else the middle day. ok is
// false when r is one day (it cannot be split).
func (r dateRange) halves(now time.Time) (dateRange, dateRange, bool) {
	lo, hi := r.lo, r.hi
	if lo.IsZero() {
		lo = ghEpoch
	}
	if hi.IsZero() {
		hi = now.UTC().Truncate(day)
	}
	if !hi.After(lo) {
		return r, r, false
	}
	span := hi.Sub(lo)
	mid := lo.Add(span / 2).Truncate(day)
	switch {
	case span > 2*365*day:
		y := mid.Year()
		if mid.YearDay() > 182 {
			y++
		}
		mid = time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC)
	case span > 62*day:
		m := time.Date(mid.Year(), mid.Month(), 1, 0, 0, 0, 0, time.UTC)
		if mid.Day() > 15 {
			m = m.AddDate(0, 1, 0)
		}
		mid = m
	}
	if !mid.After(lo) || mid.After(hi) { // rounding left the range: take the middle day
		mid = lo.Add(span / 2).Truncate(day).Add(day)
		if mid.After(hi) {
			mid = hi
		}
	}
	return dateRange{r.lo, mid.Add(-day)}, dateRange{mid, r.hi}, true
}

// splitSearch replaces an over-cap search (first page, total over MaxResults) by two jobs over the
// halves of its created: range. It returns false when the range is a single day: that part is
// read as far as GitHub allows, with a note.
func (s *Source) splitSearch(job crawler.Job, total int, res *crawler.Result) bool {
	prev := job.Meta[metaCreated]
	r, ok := parseRange(prev)
	if !ok {
		return false
	}
	a, b, ok := r.halves(time.Now())
	if !ok {
		res.Notes = append(res.Notes, fmt.Sprintf("github: %s %s: %d results created on one day exceed GitHub's %d-result cap: only the first %d are readable",
			job.Kind, s.scopeQuery(job), total, MaxResults, MaxResults))
		return false
	}
	u, err := url.Parse(job.URL)
	if err != nil {
		return false
	}
	scope := strings.TrimSpace(strings.TrimSuffix(job.Meta[webapi.MetaScope], " "+prev))
	orig := u.Query() // each part starts from the over-cap query, not from the part before it
	for _, part := range []dateRange{a, b} {
		qual := part.qualifier()
		v := url.Values{}
		for k, vs := range orig {
			v[k] = append([]string(nil), vs...)
		}
		q := v.Get("q")
		if prev != "" {
			q = strings.Replace(q, " "+prev, "", 1)
		}
		v.Set("q", strings.TrimSpace(q)+" "+qual)
		v.Del("page")
		u.RawQuery = v.Encode()
		meta := map[string]string{webapi.MetaScope: scope + " " + qual, metaCreated: qual}
		if since := job.Meta[metaSince]; since != "" {
			meta[metaSince] = since
		}
		res.Next = append(res.Next, crawler.Job{ID: crawler.Key(Name, job.Kind, u.String()), RunID: job.RunID, Source: Name,
			Kind: job.Kind, URL: u.String(), Dataset: job.Dataset, Meta: meta})
	}
	return true
}

// scopeQuery is the query part of a job's listing scope.
func (s *Source) scopeQuery(job crawler.Job) string {
	return strings.TrimPrefix(job.Meta[webapi.MetaScope], Name+":"+job.Kind+":")
}
