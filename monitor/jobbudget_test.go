package monitor

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/afterlife-watch/afterlife/crawler"
	"github.com/afterlife-watch/afterlife/crawler/frontier"
	"github.com/afterlife-watch/afterlife/extract"
)

// A listing that turns into 3,000 follow-up jobs (a flooded search page) costs at most the
// source's job budget of requests, and the source's message says how many were dropped.
func TestFloodedListingStopsAtTheSourcesJobBudget(t *testing.T) {
	testJobBudget(t, 100)
}

func testJobBudget(t *testing.T, budget int) {
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) { rw.Write([]byte("ok")) }))
	defer srv.Close()
	const hits = 3000
	src := &fakeSource{name: "flood", base: srv.URL, n: hits}
	srcs := map[string]crawler.Source{"flood": src}
	w := loopbackWatch("flood")
	w.PolitenessOff = true // a 127.0.0.1 server: the host bucket (2/s) would only slow the test
	fetcher, err := crawler.NewFetcher(w, crawler.FetcherOptions{})
	if err != nil {
		t.Fatal(err)
	}
	store := newMemStore()
	fr := openFrontier(t, frontier.Options{MaxAttempts: 1})
	ctx := context.Background()
	co := &Coordinator{Store: store, Frontier: fr, Sources: Sources{Active: srcs}, Datasets: testRegistry(t).Retracted()}
	runID, _, err := co.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	stats := NewStats(fetcher)
	if err := Pool(ctx, runID, 4, Worker{Frontier: fr, Fetcher: fetcher, Sources: srcs, Matcher: extract.New(testRegistry(t)),
		Recorder: store, Stats: stats, ExitWhenDrained: true, MaxJobsPerSource: budget}); err != nil {
		t.Fatal(err)
	}
	if got := fetcher.Snapshot()["flood"].Requests; got > int64(1+budget) {
		t.Fatalf("%d requests for a listing of %d hits, want at most 1 + the budget of %d", got, hits, budget)
	}
	if got := fetcher.Snapshot()["flood"].Requests; got != int64(1+budget) {
		t.Fatalf("%d requests, want the listing and exactly the %d budgeted follow-ups", got, budget)
	}
	// 3,000 item jobs and one duplicate: the budget took 100, the rest were dropped and counted.
	if got := stats.Dropped("flood"); got != hits+1-budget {
		t.Fatalf("dropped %d follow-ups, want %d", got, hits+1-budget)
	}
	run, err := co.Finish(ctx, runID)
	if err != nil {
		t.Fatal(err)
	}
	msg := run.Sources[0].Message
	if !strings.Contains(msg, "job budget reached: 100 follow-up jobs enqueued, 2901 dropped (max 100 per source per run)") {
		t.Fatalf("source message %q does not report the budget", msg)
	}
}
