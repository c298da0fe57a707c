package webapitest

import (
	"context"
	"testing"

	"github.com/afterlife-watch/afterlife/configs"
	"github.com/afterlife-watch/afterlife/crawler"
	"github.com/afterlife-watch/afterlife/crawler/webapi"
	"github.com/afterlife-watch/afterlife/internal/demoworld"
)

// DemoCrawled is one adapter's complete crawl of a demo world (DemoCrawl).
type DemoCrawled struct {
	World   *demoworld.World // its request counters: Requests, RouteCounts, Minimum
	Fetcher *Fetcher         // every request the adapter sent
	Result  *Crawled
	Known   []string // the Hub model ids the registry names (demoworld.Minimum's argument)
}

// DemoCrawl serves a demo world at scale on 127.0.0.1, builds the source called name with mk from
// the world's own watch config, crawls it over every registry dataset to the end and stops the
// world. It fails the test on a crawl error and on a planted artifact of that source not found.
func DemoCrawl(t testing.TB, scale int, name string, mk func(configs.SourceConfig, crawler.Env) (crawler.Source, error)) DemoCrawled {
	t.Helper()
	w, err := demoworld.New(demoworld.Options{Scale: scale})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := demoworld.Start(w, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	src, err := mk(srv.WatchConfig().Sources[name], func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	reg, err := configs.LoadRegistry("")
	if err != nil {
		t.Fatal(err)
	}
	out := DemoCrawled{World: w, Fetcher: NewFetcher()}
	var ds []*configs.Dataset
	for i := range reg.Datasets {
		ds = append(ds, &reg.Datasets[i])
		out.Known = append(out.Known, webapi.HubModelIDs(&reg.Datasets[i])...)
	}
	out.Result, err = Crawl(context.Background(), src, out.Fetcher, ds, 1_000_000)
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Result.Errors) > 0 {
		t.Fatalf("errors: %v", out.Result.Errors[:min(5, len(out.Result.Errors))])
	}
	for _, p := range w.All(1) {
		if p.Source == name {
			if _, ok := out.Result.Artifacts[p.ID]; !ok {
				t.Fatalf("%s not found", p.ID)
			}
		}
	}
	return out
}
