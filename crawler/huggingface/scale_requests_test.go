package huggingface

import (
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/afterlife-watch/afterlife/crawler/webapi/webapitest"
	"github.com/afterlife-watch/afterlife/internal/demoworld"
)

// At scale 10 the adapter's requests stay within 1.16x of the fewest that list and decide the
// planted Hub world (demoworld.Minimum, docs/scale.md): one lineage listing per parent (limit=1000:
// a root's 117+ children in one page), no child listing for a leaf, no card for a lineage hit, a
// card for each other model and dataset, an info for each dataset (file sizes), and no name search
// that another term covers: 2,980 requests against 2,583 (1.154). Before (limit=100, every term
// searched) it was 1.250 (3,229: 418 name searches, 7 second lineage pages); the excess
// left is the name searches that find nothing (one per uncovered term, whatever the scale) and the
// known models' info and childless listings.
func TestScaledWorldRequestsNearTheMinimum(t *testing.T) {
	scale := 10
	if s, err := strconv.Atoi(os.Getenv("AFTERLIFE_TEST_SCALE")); err == nil {
		scale = s
	}
	c := webapitest.DemoCrawl(t, scale, Name, New)
	w, f, known := c.World, c.Fetcher, c.Known
	for _, r := range f.Requests {
		if strings.HasPrefix(r.URL.Path, "/huggingface/api/") && r.URL.Query().Get("limit") != "" && r.URL.Query().Get("limit") != "1000" {
			t.Fatalf("listing at limit=%s, not the Hub's largest page: %s", r.URL.Query().Get("limit"), r.URL)
		}
	}
	counts := w.RouteCounts()
	for _, k := range demoworld.RouteKinds(counts) {
		t.Logf("%-45s %6d (%d repeats)", k, counts[k].Requests, counts[k].Repeats)
		if counts[k].Repeats > 0 {
			t.Errorf("%s: %d requests repeated a path and query", k, counts[k].Repeats)
		}
	}
	got, minimum := w.Requests(Name), w.Minimum(1, known)[Name].Total
	ratio := float64(got) / float64(minimum)
	t.Logf("scale %d: %d requests, minimum %d, ratio %.3f", scale, got, minimum, ratio)
	if ratio > 1.16 {
		t.Errorf("ratio %.3f over 1.16", ratio)
	}
}
