package sources_test

import (
	"strings"
	"testing"

	"github.com/afterlife-watch/afterlife/crawler"
	_ "github.com/afterlife-watch/afterlife/crawler/sources"
	"github.com/afterlife-watch/afterlife/crawler/webapi/webapitest"
)

// The arXiv, OpenAlex, Semantic Scholar and Academic Torrents adapters through the real fetcher
// (validator cache on disk) against the demo world: every planted artifact of epoch 1 is found, the
// documented default rates are exposed, anonymous access is noted, and a re-scan of the unchanged
// world costs at most 5% of the first scan's bytes.
func TestPaperAndTorrentAdaptersFindPlantedAfterlifeThroughRealFetcher(t *testing.T) {
	rig := newFetcherRig(t)
	reg, watch, f, ctx, planted := rig.reg, rig.watch, rig.fetcher, rig.ctx, rig.planted
	// Documented defaults, per source (requests per second).
	rates := map[string]float64{"arxiv": 1.0 / 3, "openalex": 10, "semanticscholar": 1, "academictorrents": 0.5}
	notes := map[string]string{"openalex": "no OPENALEX_API_KEY", "semanticscholar": "no S2_API_KEY", "academictorrents": "matched"}
	for _, name := range []string{"arxiv", "openalex", "semanticscholar", "academictorrents"} {
		t.Run(name, func(t *testing.T) {
			factory, ok := crawler.Factory(name)
			if !ok {
				t.Fatalf("%s not registered", name)
			}
			src, err := factory(watch.Sources[name], func(string) string { return "" })
			if err != nil {
				t.Fatal(err)
			}
			h, ok := src.(crawler.Rater)
			if !ok {
				t.Fatal("no documented default rate (crawler.Rater)")
			}
			dr := h.DefaultRates()[name]
			if r, b := dr.PerSecond, dr.Burst; r < rates[name]*0.999 || r > rates[name]*1.001 || b != 1 && name != "openalex" {
				t.Errorf("default rate %v burst %d", r, b)
			}
			if dr.Doc == "" {
				t.Error("no documented source for the default rate (crawler.Rate.Doc)")
			}
			before := f.Snapshot()[name]
			first, err := webapitest.Crawl(ctx, src, f, reg.Retracted(), 5000)
			if err != nil || len(first.Errors) > 0 {
				t.Fatalf("%v %v", err, first.Errors)
			}
			mid := f.Snapshot()[name]
			n := 0
			for _, p := range planted {
				if p.Source == name && p.InEpoch(1) {
					n++
					if _, ok := first.Artifacts[p.ID]; !ok {
						t.Errorf("planted %s not found", p.ID)
					}
				}
			}
			if n == 0 {
				t.Fatal("nothing planted")
			}
			second, err := webapitest.Crawl(ctx, src, f, reg.Retracted(), 5000)
			if err != nil || len(second.Errors) > 0 {
				t.Fatalf("re-scan: %v %v", err, second.Errors)
			}
			after := f.Snapshot()[name]
			scan1, scan2 := mid.Sub(before), after.Sub(mid)
			for id, a := range first.Artifacts {
				if b, ok := second.Artifacts[id]; !ok || b.Text != a.Text || len(b.Files) != len(a.Files) {
					t.Errorf("%s differs when parsed from the cache", id)
				}
			}
			t.Logf("%s: first scan %d requests %d bytes; re-scan %d requests %d bytes, %d answered 304",
				name, scan1.Requests, scan1.WireBytes, scan2.Requests, scan2.WireBytes, scan2.Cached)
			if scan1.Requests == 0 || scan2.Cached == 0 || scan2.WireBytes > scan1.WireBytes/20 {
				t.Errorf("re-scan cost %d bytes of %d (%d of %d requests answered 304)", scan2.WireBytes, scan1.WireBytes, scan2.Cached, scan2.Requests)
			}
			if want := notes[name]; want != "" && !strings.Contains(strings.Join(first.Notes, "\n"), want) {
				t.Errorf("notes %q lack %q", first.Notes, want)
			}
		})
	}
}
