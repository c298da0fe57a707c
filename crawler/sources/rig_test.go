package sources_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/afterlife-watch/afterlife/configs"
	"github.com/afterlife-watch/afterlife/crawler"
	"github.com/afterlife-watch/afterlife/crawler/httpcache"
	"github.com/afterlife-watch/afterlife/internal/demoworld"
)

// fetcherRig is the demo world served on 127.0.0.1 with the real fetcher (politeness off, validator
// cache on disk) pointed at it, as the through-the-fetcher tests of every adapter use it.
type fetcherRig struct {
	reg     *configs.Registry
	watch   *configs.Watch
	fetcher *crawler.HTTPFetcher
	ctx     context.Context
	planted []demoworld.Planted
	world   *demoworld.World
}

func newFetcherRig(t *testing.T) *fetcherRig {
	t.Helper()
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
	t.Cleanup(func() { srv.Close() })
	cache, err := httpcache.Open(filepath.Join(t.TempDir(), "cache.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cache.Close() })
	watch := srv.WatchConfig()
	watch.PolitenessOff = true
	f, err := crawler.NewFetcher(watch, crawler.FetcherOptions{Cache: cache, Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	planted, err := demoworld.LoadPlanted()
	if err != nil {
		t.Fatal(err)
	}
	return &fetcherRig{reg: reg, watch: watch, fetcher: f, ctx: ctx, planted: planted, world: world}
}
