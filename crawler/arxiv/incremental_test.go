package arxiv

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/afterlife-watch/afterlife/configs"
	"github.com/afterlife-watch/afterlife/crawler"
	"github.com/afterlife-watch/afterlife/crawler/webapi"
	"github.com/afterlife-watch/afterlife/crawler/webapi/webapitest"
)

// A filtered plan (only what changed since the last run) sends the full plan's queries sorted by
// lastUpdatedDate, without the date in the URL, and marks them as not complete listings.
func TestPlanIncrementalSortsByLastUpdate(t *testing.T) {
	s := newSource(t, "https://export.arxiv.org/api", 3)
	d := &configs.Dataset{ID: "ms-celeb-1m", Name: "MS-Celeb-1M", Aliases: []string{"MS1M", "MSCeleb"}}
	full, err := s.PlanIncremental(context.Background(), []*configs.Dataset{d}, crawler.Incremental{})
	if err != nil {
		t.Fatal(err)
	}
	since := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	inc, err := s.PlanIncremental(context.Background(), []*configs.Dataset{d}, crawler.Incremental{Since: since})
	if err != nil {
		t.Fatal(err)
	}
	if len(inc) != len(full) || len(inc) == 0 {
		t.Fatalf("filtered plan has %d jobs, full %d", len(inc), len(full))
	}
	for i, j := range inc {
		if !strings.Contains(j.URL, "sortBy=lastUpdatedDate") || strings.Contains(j.URL, "2026") || j.URL == full[i].URL {
			t.Errorf("filtered job URL %s", j.URL)
		}
		if j.Meta[metaSince] != "2026-03-01" || !webapi.Partial(j.Meta, 0) {
			t.Errorf("filtered job meta %v", j.Meta)
		}
	}
}

// On a real recorded answer (query_search_all_testing_start0_max10_2026.xml, entries' <updated>
// from 2012 to 2025), a filtered search keeps the entries updated since the last run and stops
// at the first older one: no next page and no complete listing.
func TestHandleFilteredSearchStopsAtTheFirstOlderEntry(t *testing.T) {
	srv, _ := replay(t)
	s := newSource(t, srv.URL+"/api", 5)
	job := s.searchJobSorted("x", "all:testing", 0, "lastUpdatedDate")
	srv.Route(strings.TrimPrefix(job.URL, srv.URL), "query_search_all_testing_start0_max10_2026.xml")
	for _, tc := range []struct {
		since string
		want  []string
		next  int
	}{
		{"2021-01-01", []string{"arxiv:2202.12139", "arxiv:2405.13786"}, 0}, // the third (2020-07-16) is older
		{"2010-01-01", nil, 1}, // nothing older on the page: all 10, and the next page
	} {
		j := job
		j.Meta = webapi.CopyMeta(webapi.MarkPartial(j.Meta, true), metaSince, tc.since)
		res, err := s.Handle(context.Background(), j, webapitest.NewFetcher())
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, a := range res.Artifacts {
			got = append(got, a.ID)
		}
		if tc.want != nil && strings.Join(got, " ") != strings.Join(tc.want, " ") || tc.want == nil && len(got) != 10 {
			t.Errorf("since %s: artifacts %v, want %v", tc.since, got, tc.want)
		}
		if len(res.Next) != tc.next || res.Listing != nil {
			t.Errorf("since %s: next %d (want %d), listing %v", tc.since, len(res.Next), tc.next, res.Listing)
		}
	}
}
