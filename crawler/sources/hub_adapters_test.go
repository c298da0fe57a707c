package sources_test

import (
	"strings"
	"testing"

	"github.com/afterlife-watch/afterlife/crawler"
	_ "github.com/afterlife-watch/afterlife/crawler/sources"
	"github.com/afterlife-watch/afterlife/crawler/webapi/webapitest"
)

// The Hugging Face, GitHub, Zenodo and Kaggle adapters through the real fetcher (politeness,
// validator cache on disk) against the demo world: the whole planted afterlife of epoch 1 is
// found, and a re-scan of the unchanged world is answered with 304s except where the real service
// cannot be conditional (GitHub search, Kaggle's POST RPC API).
func TestHubAdaptersFindPlantedAfterlifeThroughRealFetcher(t *testing.T) {
	rig := newFetcherRig(t)
	reg, watch, f, ctx, planted := rig.reg, rig.watch, rig.fetcher, rig.ctx, rig.planted
	for _, name := range []string{"huggingface", "github", "zenodo", "kaggle"} {
		t.Run(name, func(t *testing.T) {
			factory, ok := crawler.Factory(name)
			if !ok {
				t.Fatalf("%s not registered", name)
			}
			src, err := factory(watch.Sources[name], func(string) string { return "" })
			if err != nil {
				t.Fatal(err)
			}
			if r, ok := src.(crawler.Rater); !ok || r.DefaultRates()[name].PerSecond <= 0 {
				t.Error("no documented rate for the source's default bucket (crawler.Rater)")
			}
			before := f.Snapshot()[name]
			first, err := webapitest.Crawl(ctx, src, f, reg.Retracted(), 20000)
			if err != nil || len(first.Errors) > 0 {
				t.Fatalf("%v %v", err, first.Errors)
			}
			mid := f.Snapshot()[name]
			for _, p := range planted {
				if p.Source == name && p.InEpoch(1) {
					if _, ok := first.Artifacts[p.ID]; !ok {
						t.Errorf("planted %s not found", p.ID)
					}
				}
			}
			second, err := webapitest.Crawl(ctx, src, f, reg.Retracted(), 20000)
			if err != nil || len(second.Errors) > 0 {
				t.Fatalf("re-scan: %v %v", err, second.Errors)
			}
			after := f.Snapshot()[name]
			scan1, scan2 := mid.Sub(before), after.Sub(mid)
			if len(second.Artifacts) != len(first.Artifacts) {
				t.Errorf("re-scan found %d artifacts, first scan %d", len(second.Artifacts), len(first.Artifacts))
			}
			for id, a := range first.Artifacts {
				if b := second.Artifacts[id]; b.Text != a.Text || len(b.Files) != len(a.Files) {
					t.Errorf("%s differs when parsed from the cache", id)
				}
			}
			t.Logf("%s: first scan %d requests %d bytes; re-scan %d requests %d bytes, %d answered 304",
				name, scan1.Requests, scan1.WireBytes, scan2.Requests, scan2.WireBytes, scan2.Cached)
			// GitHub search answers carry no ETag; Kaggle's API is POST RPC, never conditional.
			unconditional := name == "github" || name == "kaggle"
			if scan1.Requests == 0 || (scan2.Cached == 0 && name != "kaggle") {
				t.Errorf("counters %+v %+v", scan1, scan2)
			}
			limit := scan1.WireBytes / 20 // 5%
			if unconditional {
				limit = scan1.WireBytes
			}
			if scan2.WireBytes > limit {
				t.Errorf("re-scan cost %d bytes of %d", scan2.WireBytes, scan1.WireBytes)
			}
			// Without tokens each adapter says what it skipped.
			want := map[string]string{"huggingface": "no HF_TOKEN", "github": "code search skipped: no GITHUB_TOKEN"}[name]
			if notes := strings.Join(first.Notes, "\n"); want != "" && !strings.Contains(notes, want) {
				t.Errorf("notes %q lack %q", notes, want)
			}
		})
	}
}
