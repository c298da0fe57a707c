package github

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/afterlife-watch/afterlife/configs"
	"github.com/afterlife-watch/afterlife/crawler/webapi/webapitest"
)

// capServer emulates GitHub's /search/issues on 127.0.0.1 as documented and as the recordings
// show it: 422 "Query must include 'is:issue' or 'is:pull-request'" without one of them, at most
// 1,000 results per query (422 past that window), created: ranges, Link rel="next". Its items
// are the recorded search_issues_2022.json item with the number, title, body and created_at
// varied, so the parser sees GitHub's real item shape.
type capServer struct {
	t        *testing.T
	template map[string]any
	issues   []time.Time // created_at of issue i+1
	prs      []time.Time
	mu       sync.Mutex
	queries  []string
	rejected int
}

func newCapServer(t *testing.T, issues, prs []time.Time) (*capServer, *httptest.Server) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "search_issues_2022.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rec struct {
		Items []map[string]any `json:"items"`
	}
	if err := json.Unmarshal(b, &rec); err != nil || len(rec.Items) == 0 {
		t.Fatalf("recorded search: %v", err)
	}
	cs := &capServer{t: t, template: rec.Items[0], issues: issues, prs: prs}
	srv := httptest.NewServer(http.HandlerFunc(cs.serve))
	t.Cleanup(srv.Close)
	return cs, srv
}

func (cs *capServer) fail(rw http.ResponseWriter, msg string) {
	cs.mu.Lock()
	cs.rejected++
	cs.mu.Unlock()
	rw.Header().Set("Content-Type", "application/json; charset=utf-8")
	rw.WriteHeader(http.StatusUnprocessableEntity)
	_ = json.NewEncoder(rw).Encode(map[string]any{"message": msg,
		"documentation_url": "https://docs.github.com/rest/search/search#search-issues-and-pull-requests", "status": "422"})
}

func (cs *capServer) serve(rw http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/rate_limit" {
		_, _ = rw.Write([]byte(`{"resources":{"core":{"limit":60,"remaining":60},"search":{"limit":10,"remaining":10}}}`))
		return
	}
	if r.URL.Path != "/search/issues" {
		rw.Header().Set("Content-Type", "application/json; charset=utf-8")
		_, _ = rw.Write([]byte(`{"total_count":0,"incomplete_results":false,"items":[]}`))
		return
	}
	q := r.URL.Query().Get("q")
	cs.mu.Lock()
	cs.queries = append(cs.queries, q)
	cs.mu.Unlock()
	var pool []time.Time
	kind := "issues"
	switch {
	case strings.Contains(q, "is:issue"):
		pool = cs.issues
	case strings.Contains(q, "is:pull-request"):
		pool, kind = cs.prs, "pull"
	default:
		cs.fail(rw, "Query must include 'is:issue' or 'is:pull-request'")
		return
	}
	var lo, hi time.Time
	for _, tok := range strings.Fields(q) {
		v, ok := strings.CutPrefix(tok, "created:")
		if !ok {
			continue
		}
		r, ok := parseRange("created:" + v)
		if !ok {
			cs.fail(rw, "Validation Failed")
			return
		}
		lo, hi = r.lo, r.hi
	}
	var match []int
	for i, c := range pool {
		d := c.Truncate(day)
		if (lo.IsZero() || !d.Before(lo)) && (hi.IsZero() || !d.After(hi)) {
			match = append(match, i+1)
		}
	}
	per, _ := strconv.Atoi(r.URL.Query().Get("per_page"))
	if per <= 0 {
		per = 30
	}
	page, _ := strconv.Atoi(r.URL.Query().Get("page"))
	if page <= 0 {
		page = 1
	}
	if page*per > MaxResults {
		cs.fail(rw, "Cannot access beyond the first 1000 results, or the search is too broad.")
		return
	}
	window := min(len(match), MaxResults)
	start, end := min((page-1)*per, window), min(page*per, window)
	var items []map[string]any
	for _, i := range match[start:end] {
		n := i
		if kind == "pull" {
			n += 100000 // issues and pull requests share a repository's numbers
		}
		it := map[string]any{}
		for k, v := range cs.template {
			it[k] = v
		}
		repo := "https://api.github.com/repos/dataset-mirrors/ms1m"
		it["number"] = n
		it["id"] = 1000000 + n
		it["title"] = fmt.Sprintf("MS-Celeb-1M mirror request %d", n)
		it["body"] = "Where can I still download MS1MV2?"
		it["repository_url"] = repo
		it["html_url"] = fmt.Sprintf("https://github.com/dataset-mirrors/ms1m/%s/%d", kind, n)
		it["created_at"] = pool[i-1].Format(time.RFC3339)
		it["comments"] = 0
		if kind == "pull" {
			it["pull_request"] = map[string]any{"url": fmt.Sprintf("%s/pulls/%d", repo, n)}
		}
		items = append(items, it)
	}
	if end < window {
		v := r.URL.Query()
		v.Set("page", strconv.Itoa(page+1))
		rw.Header().Set("Link", fmt.Sprintf(`<http://%s/search/issues?%s>; rel="next"`, r.Host, v.Encode()))
	}
	rw.Header().Set("Content-Type", "application/json; charset=utf-8")
	rw.Header().Set("Cache-Control", "no-cache")
	_ = json.NewEncoder(rw).Encode(map[string]any{"total_count": len(match), "incomplete_results": false, "items": items})
}

// spread returns n creation times from 2014 to 2025, a third of them on 2023-05-17 (for
// n = 3600, that day alone holds more than one query can return).
func spread(n int) []time.Time {
	var out []time.Time
	base := time.Date(2014, 3, 1, 9, 0, 0, 0, time.UTC)
	burst := time.Date(2023, 5, 17, 0, 0, 0, 0, time.UTC)
	for i := range n {
		switch {
		case i%3 == 0:
			out = append(out, burst.Add(time.Duration(i)*time.Second))
		default:
			out = append(out, base.Add(time.Duration(i)*37*time.Hour))
		}
	}
	return out
}

// Every issue and pull request behind a query with more than 1,000 results is read: the query
// carries is:issue / is:pull-request (GitHub answers 422 without), and is split by created:
// ranges until each part is under the cap. Only a single day with more than 1,000 results stays
// capped, and says so.
func TestIssueSearchSplitByCreatedUntilUnderCap(t *testing.T) {
	issues := spread(3600) // 1,200 on 2023-05-17
	prs := spread(900)
	cs, srv := newCapServer(t, issues, prs)
	src := newSource(t, srv.URL, nil, configs.SourceConfig{PageSize: 100, MaxPages: 10, Options: map[string]string{"details": "never"}})
	d := &configs.Dataset{ID: "ms-celeb-1m", Name: "MS-Celeb-1M"}
	got, err := webapitest.Crawl(ctx(t), src, webapitest.NewFetcher(), []*configs.Dataset{d}, 5000)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Errors) > 0 || cs.rejected > 0 {
		t.Fatalf("%d rejected by the server; errors %v", cs.rejected, got.Errors[:min(3, len(got.Errors))])
	}
	for _, q := range cs.queries {
		if !strings.Contains(q, "is:issue") && !strings.Contains(q, "is:pull-request") {
			t.Errorf("query without is:issue / is:pull-request: %q", q)
		}
	}
	var nIssues, nPRs int
	for id, a := range got.Artifacts {
		if slices.Contains(a.Tags, "pull-request") {
			nPRs++
		} else if strings.HasPrefix(id, "gh:issue:") {
			nIssues++
		}
	}
	// Everything is read but what a single day holds beyond 1,000.
	perDay := map[time.Time]int{}
	for _, c := range issues {
		perDay[c.Truncate(day)]++
	}
	burst := perDay[time.Date(2023, 5, 17, 0, 0, 0, 0, time.UTC)]
	if burst <= MaxResults || len(perDay) < 100 {
		t.Fatalf("test data: %d on the burst day, %d days", burst, len(perDay))
	}
	if nPRs != 900 || nIssues != 3600-(burst-MaxResults) {
		t.Errorf("read %d issues (want %d) and %d pull requests (want 900)", nIssues, 3600-(burst-MaxResults), nPRs)
	}
	notes := strings.Join(got.Notes, "\n")
	if !strings.Contains(notes, fmt.Sprintf("%d results created on one day exceed GitHub's 1000-result cap", burst)) {
		t.Errorf("capped day not noted: %s", notes)
	}
	// Complete listings: every part but the capped day lists what it read, and the parts are
	// disjoint, so together they name every id read.
	listed := map[string]int{}
	for _, l := range got.Listings {
		for _, id := range l.IDs {
			listed[id]++
		}
	}
	if len(listed) != nIssues+nPRs-1000 {
		t.Errorf("%d ids in complete listings, want %d (all but the capped day's 1,000)", len(listed), nIssues+nPRs-1000)
	}
	for id, n := range listed {
		if n != 1 {
			t.Errorf("%s listed %d times: parts overlap", id, n)
		}
	}
}

// The recorded issue search answer read through a query that carries is:issue.
func TestIssueSearchRecordedAnswerWithIsIssue(t *testing.T) {
	recs := webapitest.Load(t, "testdata")
	srv := webapitest.Serve(t, recs)
	src := newSource(t, srv.URL, nil, configs.SourceConfig{})
	var rec webapitest.Recording
	for _, r := range recs {
		if r.Name == "search_issues_2022.json" {
			rec = r
		}
	}
	res, err := replayJob(t, src, srv, rec, KindSearchIssues, nil)
	if err != nil || len(res.Artifacts) != 2 {
		t.Fatalf("%v %v", err, ids(res.Artifacts))
	}
}

// Split points are stable from day to day (first of a year, then of a month) and the halves
// cover the range without overlap.
func TestCreatedRangeHalvesAreStableAndDisjoint(t *testing.T) {
	now1 := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	now2 := now1.AddDate(0, 0, 1)
	a1, b1, _ := dateRange{}.halves(now1)
	a2, b2, _ := dateRange{}.halves(now2)
	if a1 != a2 || b1 != b2 || a1.qualifier() != "created:<=2016-12-31" || b1.qualifier() != "created:>=2017-01-01" {
		t.Errorf("first split %q %q / next day %q %q", a1.qualifier(), b1.qualifier(), a2.qualifier(), b2.qualifier())
	}
	r := dateRange{lo: time.Date(2023, 5, 1, 0, 0, 0, 0, time.UTC), hi: time.Date(2023, 5, 31, 0, 0, 0, 0, time.UTC)}
	n := 0
	for {
		a, b, ok := r.halves(now1)
		if !ok {
			break
		}
		if !a.hi.Add(day).Equal(b.lo) || a.lo != r.lo || b.hi != r.hi {
			t.Fatalf("%v split into %v and %v", r, a, b)
		}
		r = b
		n++
		if n > 40 {
			t.Fatal("bisection does not end")
		}
	}
	if r.lo != r.hi {
		t.Errorf("stopped at %v, not one day", r)
	}
	if back, ok := parseRange(r.qualifier()); !ok || back != r {
		t.Errorf("round trip %v -> %q -> %v", r, r.qualifier(), back)
	}
}
