package github

import (
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/afterlife-watch/afterlife/crawler/webapi/webapitest"
	"github.com/afterlife-watch/afterlife/internal/demoworld"
)

// scaleRatio crawls a scaled demo world with the adapter as the demo configures it and returns
// the requests the world served for GitHub against the world's minimum (demoworld.Minimum).
func scaleRatio(t *testing.T, scale int) (int64, int, *demoworld.World) {
	t.Helper()
	c := webapitest.DemoCrawl(t, scale, Name, New)
	for _, r := range c.Fetcher.Requests {
		if strings.Contains(r.URL.Path, "/search/") && r.URL.Query().Get("per_page") != "100" {
			t.Fatalf("search at per_page=%s, not GitHub's largest page: %s", r.URL.Query().Get("per_page"), r.URL)
		}
	}
	return c.World.Requests(Name), c.World.Minimum(1, c.Known)[Name].Total, c.World
}

// At scale 10 the adapter's requests stay within 1.21x of the fewest that list and decide the
// planted GitHub world (demoworld.Minimum, docs/scale.md): searches at per_page=100 (GitHub's
// largest), one README per repository, one file tree (a search result cannot say whether a
// repository has files: the trees of the 290 repositories without files are most of the excess),
// comments where an issue has some, no request repeated, no term searched that a shorter term's
// search covers. Before (per_page=50, every term) it was 1.247 (2,367 requests against 1,898);
// now 1.204 (2,286). At scale 100: 1.166 (24,180 against 20,732; AFTERLIFE_TEST_SCALE=100, 50 s).
func TestScaledWorldRequestsNearTheMinimum(t *testing.T) {
	scale := 10
	if s, err := strconv.Atoi(os.Getenv("AFTERLIFE_TEST_SCALE")); err == nil {
		scale = s
	}
	got, minimum, w := scaleRatio(t, scale)
	ratio := float64(got) / float64(minimum)
	for _, k := range demoworld.RouteKinds(w.RouteCounts()) {
		if c := w.RouteCounts()[k]; c.Requests > 0 {
			t.Logf("%-45s %6d (%d repeats)", k, c.Requests, c.Repeats)
		}
	}
	t.Logf("scale %d: %d requests, minimum %d, ratio %.3f", scale, got, minimum, ratio)
	for k, c := range w.RouteCounts() {
		if c.Repeats > 0 {
			t.Errorf("%s: %d requests repeated a path and query", k, c.Repeats)
		}
	}
	if ratio > 1.21 {
		t.Errorf("ratio %.3f over 1.21", ratio)
	}
}

// A term is left out of the searches only when a shorter term's words are a run of its words and
// a substring of it: "DukeMTMC" covers "DukeMTMC-reID" (GitHub splits at the hyphen), "MS1M" does
// not cover "MS1MV2" (one word), "Tiny Images" covers "80M Tiny Images" across datasets, and of
// two terms equal but for case one is searched.
func TestCoveredTerms(t *testing.T) {
	got := coveredTerms([][]string{{"DukeMTMC", "DukeMTMC-reID", "MS1M", "MS1MV2", "ms1m"}, {"Tiny Images", "80M Tiny Images", "TinyImages", "Images"}})
	want := map[string]bool{"DukeMTMC-reID": true, "ms1m": true, "80M Tiny Images": true, "Tiny Images": true}
	if len(got) != len(want) {
		t.Errorf("covered %v, want %v", got, want)
	}
	for k := range want {
		if !got[k] {
			t.Errorf("%q not covered (%v)", k, got)
		}
	}
}
