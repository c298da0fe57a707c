package demoworld

import (
	"net/http"
	"regexp"
	"strings"
	"time"
)

// ChangedAt is when a planted artifact last changed, as the source's "updated" / "pushed" dates
// say: an artifact the current epoch added (absent from the epoch before) changed when the world
// entered the epoch; every other artifact last changed on its published date, at clock (the
// time of day a source's handler renders, "10:21:07"). Sources that filter by date (GitHub's
// pushed:/updated: qualifiers) use it, so a scheduled re-scan that asks only for what changed
// since its last run sees exactly what the epoch added.
func (w *World) ChangedAt(p Planted, clock string) time.Time {
	w.mu.RLock()
	e, start := w.epoch, w.epochStart
	w.mu.RUnlock()
	if e > 1 && p.InEpoch(e) && !p.InEpoch(e-1) {
		return start
	}
	t, err := time.Parse("2006-01-02T15:04:05", p.Published+"T"+clock)
	if err != nil {
		return time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	return t
}

// dateFilter is a GitHub search date qualifier (pushed:>=T, updated:>T, created:<=T, A..B).
type dateFilter struct {
	field string // pushed | updated | created
	from  time.Time
	to    time.Time // zero: open
	fromX bool      // exclusive lower bound (>)
	toX   bool      // exclusive upper bound (<)
}

// parseDateFilter reads the value of a date qualifier; ok is false for anything it cannot read
// (GitHub answers 422 for a malformed one; the demo world then ignores it).
func parseDateFilter(field, v string) (dateFilter, bool) {
	f := dateFilter{field: field}
	parse := func(s string) (time.Time, bool) {
		for _, layout := range []string{time.RFC3339, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02"} {
			if t, err := time.Parse(layout, s); err == nil {
				return t, true
			}
		}
		return time.Time{}, false
	}
	switch {
	case strings.HasPrefix(v, ">="):
		t, ok := parse(v[2:])
		f.from = t
		return f, ok
	case strings.HasPrefix(v, ">"):
		t, ok := parse(v[1:])
		f.from, f.fromX = t, true
		return f, ok
	case strings.HasPrefix(v, "<="):
		t, ok := parse(v[2:])
		f.to = t
		return f, ok
	case strings.HasPrefix(v, "<"):
		t, ok := parse(v[1:])
		f.to, f.toX = t, true
		return f, ok
	case strings.Contains(v, ".."):
		a, b, _ := strings.Cut(v, "..")
		ok := true
		if a != "*" {
			f.from, ok = parse(a)
		}
		if b != "*" && ok {
			f.to, ok = parse(b)
		}
		return f, ok
	}
	return f, false
}

// match reports whether t is inside the filter's range.
func (f dateFilter) match(t time.Time) bool {
	if !f.from.IsZero() && (t.Before(f.from) || (f.fromX && t.Equal(f.from))) {
		return false
	}
	if !f.to.IsZero() && (t.After(f.to) || (f.toX && t.Equal(f.to))) {
		return false
	}
	return true
}

// datesMatch applies a GitHub query's date qualifiers: created: is the published date, pushed:
// and updated: are ChangedAt.
func (h *ghHandler) datesMatch(q ghQuery, p Planted) bool {
	clock := ghRepoClock
	if strings.HasPrefix(p.ID, "gh:issue:") {
		clock = ghIssueClock
	}
	for _, f := range q.dates {
		t := h.w.ChangedAt(p, clock)
		if f.field == "created" {
			t = ghCreated(p)
		}
		if !f.match(t) {
			return false
		}
	}
	return true
}

// The times of day ghRepoObject and ghIssueObject render with the published date.
const (
	ghRepoClock  = "10:21:07"
	ghIssueClock = "08:03:51"
)

func ghCreated(p Planted) time.Time {
	t, err := time.Parse("2006-01-02", p.Published)
	if err != nil {
		return time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	return t
}

// repoObject is ghRepoObject with pushed_at / updated_at from ChangedAt.
func (h *ghHandler) repoObject(r *http.Request, p Planted, q ghQuery) map[string]any {
	o := ghRepoObject(r, p, q)
	t := h.w.ChangedAt(p, ghRepoClock).UTC().Format(time.RFC3339)
	o["pushed_at"], o["updated_at"] = t, t
	return o
}

// issueObject is ghIssueObject with updated_at from ChangedAt.
func (h *ghHandler) issueObject(r *http.Request, p Planted) map[string]any {
	o := ghIssueObject(r, p)
	o["updated_at"] = h.w.ChangedAt(p, ghIssueClock).UTC().Format(time.RFC3339)
	return o
}

var ghIssuePathRE = regexp.MustCompile(`^/repos/([^/]+/[^/]+)/issues/(\d+)$`)

// issue answers GET /repos/{o}/{r}/issues/{n} (404 when the epoch does not hold it).
func (h *ghHandler) issue(rw http.ResponseWriter, r *http.Request, full, num string) {
	p, ok := h.w.Find(ghSource, "gh:issue:"+full+"#"+num)
	if !ok {
		ghError(rw, http.StatusNotFound, "Not Found")
		return
	}
	serveJSONCached(rw, r, h.issueObject(r, p))
}
