package sources_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/afterlife-watch/afterlife/configs"
	"github.com/afterlife-watch/afterlife/crawler"
	"github.com/afterlife-watch/afterlife/crawler/demoworld"
	"github.com/afterlife-watch/afterlife/crawler/httpcache"
	_ "github.com/afterlife-watch/afterlife/crawler/sources"
	"github.com/afterlife-watch/afterlife/crawler/webapi"
	"github.com/afterlife-watch/afterlife/crawler/webapi/webapitest"
)

// The Hugging Face, GitHub, Zenodo and Kaggle adapters through the real fetcher (politeness,
// validator cache on disk) against the demo world: the whole planted afterlife of epoch 1 is
// found, and a re-scan of the unchanged world is answered with 304s except where the real service
// cannot be conditional (GitHub search).
func TestPartAThroughRealFetcher(t *testing.T) {
	reg, err := configs.LoadRegistry("")
	if err != nil {
		t.Fatal(err)
	}
	world, err := demoworld.New(demoworld.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := demoworld.Start(world, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	cache, err := httpcache.Open(filepath.Join(t.TempDir(), "cache.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer cache.Close()
	watch := srv.WatchConfig()
	watch.PolitenessOff = true
	f, err := crawler.NewFetcher(watch, crawler.FetcherOptions{Cache: cache, Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	planted, err := demoworld.LoadPlanted()
	if err != nil {
		t.Fatal(err)
	}
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
			if _, ok := src.(crawler.RateHinter); !ok {
				t.Error("no documented default rate (crawler.RateHinter)")
			}
			if r, ok := src.(webapi.Rater); !ok || len(r.DefaultRates()) == 0 {
				t.Error("no documented rate buckets (webapi.Rater)")
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
			if scan1.Requests == 0 || scan2.Cached == 0 {
				t.Errorf("counters %+v %+v", scan1, scan2)
			}
			limit := scan1.WireBytes / 20 // 5%
			if name == "github" {
				limit = scan1.WireBytes // search answers carry no ETag on GitHub
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
