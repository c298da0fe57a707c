package github

import (
	"context"
	"strings"
	"testing"

	"github.com/afterlife-watch/afterlife/configs"
	"github.com/afterlife-watch/afterlife/crawler/webapi/webapitest"
	"github.com/afterlife-watch/afterlife/internal/demoworld"
)

// Against the demo world with 2,500 look-alike repositories matching "MegaFace" (more than the
// 1,000 results GitHub serves per search, which the demo world enforces with GitHub's 422): the
// repository search is split by created: ranges until every part is under the cap, and every one
// of the 2,500 is listed.
func TestRepoSearchOverTheCapIsSplitAgainstTheDemoWorld(t *testing.T) {
	const crowd = 2500
	w, err := demoworld.New(demoworld.Options{GitHubCrowd: crowd})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := demoworld.Start(w, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	sc := srv.WatchConfig().Sources[Name]
	sc.PageSize, sc.MaxPages = 100, 10 // 1,000 per part: what GitHub serves of one search
	src, err := New(sc, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	reg, err := configs.LoadRegistry("")
	if err != nil {
		t.Fatal(err)
	}
	d, ok := reg.Get("megaface")
	if !ok {
		t.Fatal("no megaface in the registry")
	}
	res, err := webapitest.Crawl(context.Background(), src, webapitest.NewFetcher(), []*configs.Dataset{d}, 20000)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range res.Errors {
		if strings.Contains(e.Error(), "1000") || strings.Contains(e.Error(), "422") {
			t.Fatalf("a search went past the cap: %v", e)
		}
	}
	found := 0
	for id := range res.Artifacts {
		if strings.Contains(id, "/megaface-eval-") {
			found++
		}
	}
	if found != crowd {
		t.Fatalf("found %d of the %d look-alike repositories; a search over the cap was cut", found, crowd)
	}
	parts := 0
	for _, l := range res.Listings {
		if strings.Contains(l.Scope, "created") {
			parts++
			if len(l.IDs) >= 1000 {
				t.Errorf("listing %s has %d ids: a part at the cap", l.Scope, len(l.IDs))
			}
		}
	}
	if parts < 3 {
		t.Fatalf("%d created: listings; 2,500 results need at least 3 parts under the cap", parts)
	}
	t.Logf("%d look-alikes found in %d created: parts", found, parts)
}
