package monitor

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/afterlife-watch/afterlife/crawler"
	"github.com/afterlife-watch/afterlife/crawler/frontier"
	"github.com/afterlife-watch/afterlife/extract"
)

// An anonymous pool answering 429 to a source's first queries says nothing about whether the
// source is reachable: the breaker must not retire the source for it. The queries the pool keeps
// refusing die after their attempts, the others are done, and the source is degraded (partial),
// not failed.
func TestRateLimitedJobsDoNotRetireTheSourceWhichEndsDegraded(t *testing.T) {
	var hits, limited atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		switch r.URL.Path {
		case "/q/0", "/q/1", "/q/2": // the budget never lets these through in this run
			limited.Add(1)
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusTooManyRequests)
			fmt.Fprint(w, `{"message":"Too Many Requests. Please wait and try again or apply for a key for higher rate limits."}`)
			return
		}
		fmt.Fprint(w, "ok")
	}))
	defer srv.Close()
	src := &fanout{name: "pool", base: srv.URL, seeds: 10}
	fetcher, err := crawler.NewFetcher(loopbackWatch("pool"), crawler.FetcherOptions{MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	store := newMemStore()
	fr := openFrontier(t, frontier.Options{MaxAttempts: 3})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	co := &Coordinator{Store: store, Frontier: fr, Sources: Sources{Active: map[string]crawler.Source{"pool": src}}}
	runID, _, err := co.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// One worker takes the seeds oldest first: the three refused queries come first.
	if err := Pool(ctx, runID, 1, Worker{Frontier: fr, Fetcher: fetcher, Sources: co.Sources.Active,
		Matcher: extract.New(testRegistry(t)), Recorder: store, ExitWhenDrained: true, BreakAfter: 3,
		RetryBase: time.Millisecond, RetryMax: 5 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	run, err := co.Finish(ctx, runID)
	if err != nil {
		t.Fatal(err)
	}
	st := run.Sources[0]
	if st.Status != StatusDegraded || strings.Contains(st.Message, "unreachable") {
		t.Errorf("source = %+v, want degraded (partial), not retired as unreachable", st)
	}
	if fs, _ := fr.Stats(ctx, runID); fs.Done != 7 || fs.Dead != 3 {
		t.Errorf("frontier = %+v, want the 7 queries the pool let through done and the 3 it refused dead", fs)
	}
	if hits.Load() != 16 || limited.Load() != 9 {
		t.Errorf("%d requests (%d refused), want 7 + 3 refused queries × 3 attempts", hits.Load(), limited.Load())
	}
}

// Network failures still open the breaker, however many 429s came before them.
func TestBreakerStillOpensOnNetworkFailuresAfterRateLimits(t *testing.T) {
	ln := httptest.NewServer(http.NotFoundHandler())
	goneURL := ln.URL
	ln.Close()
	src := &fanout{name: "down", base: goneURL, seeds: 20}
	fetcher, _ := crawler.NewFetcher(loopbackWatch("down"), crawler.FetcherOptions{MaxAttempts: 1})
	s := NewStats(fetcher)
	for i := 0; i < 5; i++ {
		s.jobFailed("down", &crawler.StatusError{URL: src.base, Status: http.StatusTooManyRequests})
	}
	if open, _, _ := s.breakerOpen("down", 3); open {
		t.Fatal("five 429s opened the breaker")
	}
	for i := 0; i < 3; i++ {
		s.jobFailed("down", fmt.Errorf("dial: %w", &crawler.StatusError{URL: src.base, Msg: "connection refused"}))
	}
	if open, _, _ := s.breakerOpen("down", 3); !open {
		t.Fatal("three network failures did not open the breaker")
	}
}
