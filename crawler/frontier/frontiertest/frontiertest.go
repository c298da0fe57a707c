// Package frontiertest is a conformance suite any crawler.Frontier must pass (the embedded SQLite
// frontier and the Redis one run it). Call Run from a test:
//
//	frontiertest.Run(t, func(t *testing.T) crawler.Frontier { return open(t) },
//		frontiertest.Options{MaxAttempts: 3, Lease: 300 * time.Millisecond})
package frontiertest

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/afterlife-watch/afterlife/crawler"
)

// Options tell the suite how the frontier under test was configured.
type Options struct {
	// MaxAttempts is the number of claims after which Retry sends a job to the dead letters.
	MaxAttempts int
	// Lease is the lease duration the frontier was opened with. The expiry test waits for it, so
	// keep it short, but long enough for a claim and an ack on a loaded machine (1–2s). Where a
	// subtest's claims outlive it, the suite checks the weaker rule that a job is never handed out
	// again while its lease is live. Zero skips the expiry test.
	Lease time.Duration
}

// Run runs every conformance test against fresh frontiers from newFrontier (each test gets its
// own; the suite closes them).
func Run(t *testing.T, newFrontier func(t *testing.T) crawler.Frontier, opts Options) {
	if opts.MaxAttempts <= 0 {
		t.Fatal("frontiertest: Options.MaxAttempts is required")
	}
	open := func(t *testing.T) crawler.Frontier {
		f := newFrontier(t)
		t.Cleanup(func() { _ = f.Close() })
		return f
	}
	t.Run("EnqueueDedupsWithinRun", func(t *testing.T) { testDedup(t, open(t)) })
	t.Run("RunsAreSeparate", func(t *testing.T) { testRunsSeparate(t, open(t)) })
	t.Run("ClaimAckStats", func(t *testing.T) { testClaimAck(t, open(t)) })
	t.Run("JobRoundTrip", func(t *testing.T) { testRoundTrip(t, open(t)) })
	t.Run("NotBeforeHonoured", func(t *testing.T) { testNotBefore(t, open(t)) })
	t.Run("RetryThenDeadLetter", func(t *testing.T) { testDeadLetter(t, open(t), opts.MaxAttempts) })
	t.Run("AckedJobNotReaddedByEnqueue", func(t *testing.T) { testAckedNotReadded(t, open(t)) })
	t.Run("ConcurrentClaimsHandOutEachJobOnce", func(t *testing.T) { testConcurrent(t, open(t)) })
	if opts.Lease > 0 {
		t.Run("ExpiredLeaseIsReclaimed", func(t *testing.T) { testLeaseExpiry(t, open(t), opts.Lease) })
	}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return c
}

func job(run string, i int) crawler.Job {
	u := fmt.Sprintf("https://example.org/item/%d", i)
	return crawler.Job{ID: crawler.Key("test", "item", u), RunID: run, Source: "test", Kind: "item", URL: u}
}

func jobs(run string, n int) []crawler.Job {
	out := make([]crawler.Job, n)
	for i := range out {
		out[i] = job(run, i)
	}
	return out
}

func mustStats(t *testing.T, f crawler.Frontier, run string) crawler.FrontierStats {
	t.Helper()
	s, err := f.Stats(ctx(t), run)
	if err != nil {
		t.Fatalf("Stats: %v", err)
	}
	return s
}

func wantStats(t *testing.T, f crawler.Frontier, run string, want crawler.FrontierStats) {
	t.Helper()
	if got := mustStats(t, f, run); got != want {
		t.Fatalf("Stats(%s) = %+v, want %+v", run, got, want)
	}
}

func claim(t *testing.T, f crawler.Frontier, run, worker string, max int) []crawler.Lease {
	t.Helper()
	ls, err := f.Claim(ctx(t), run, worker, max)
	if err != nil {
		t.Fatalf("Claim: %v", err)
	}
	return ls
}

func testDedup(t *testing.T, f crawler.Frontier) {
	n, err := f.Enqueue(ctx(t), jobs("r1", 5)...)
	if err != nil || n != 5 {
		t.Fatalf("Enqueue 5 new = %d, %v; want 5, nil", n, err)
	}
	n, err = f.Enqueue(ctx(t), append(jobs("r1", 5), job("r1", 7))...)
	if err != nil || n != 1 {
		t.Fatalf("Enqueue 5 old + 1 new = %d, %v; want 1, nil", n, err)
	}
	wantStats(t, f, "r1", crawler.FrontierStats{Pending: 6})
}

func testRunsSeparate(t *testing.T, f crawler.Frontier) {
	if _, err := f.Enqueue(ctx(t), jobs("a", 3)...); err != nil {
		t.Fatal(err)
	}
	if n, err := f.Enqueue(ctx(t), jobs("b", 3)...); err != nil || n != 3 {
		t.Fatalf("same job ids in another run: Enqueue = %d, %v; want 3", n, err)
	}
	ls := claim(t, f, "a", "w", 10)
	if len(ls) != 3 {
		t.Fatalf("Claim(a) = %d leases, want 3", len(ls))
	}
	for _, l := range ls {
		if l.Job.RunID != "a" {
			t.Fatalf("Claim(a) returned a job of run %q", l.Job.RunID)
		}
	}
	wantStats(t, f, "b", crawler.FrontierStats{Pending: 3})
}

func testClaimAck(t *testing.T, f crawler.Frontier) {
	if _, err := f.Enqueue(ctx(t), jobs("r", 4)...); err != nil {
		t.Fatal(err)
	}
	first := claim(t, f, "r", "w1", 3)
	if len(first) != 3 {
		t.Fatalf("Claim max 3 of 4 = %d", len(first))
	}
	second := claim(t, f, "r", "w2", 3)
	if len(second) != 1 {
		t.Fatalf("second Claim = %d leases, want the 1 left", len(second))
	}
	again := claim(t, f, "r", "w3", 3)
	if time.Now().After(first[0].Expires) {
		t.Fatalf("the leases (until %s) expired before the test could check them: open the frontier with a longer lease (Options.Lease)",
			first[0].Expires.Format(time.RFC3339Nano))
	}
	if len(again) != 0 {
		t.Fatalf("Claim with everything leased = %d leases, want 0", len(again))
	}
	wantStats(t, f, "r", crawler.FrontierStats{InFlight: 4})
	seen := map[string]bool{}
	for _, l := range append(first, second...) {
		if seen[l.Job.ID] {
			t.Fatalf("job %s handed out twice", l.Job.ID)
		}
		seen[l.Job.ID] = true
		if l.Job.Attempt != 1 {
			t.Fatalf("first claim of %s has Attempt %d, want 1", l.Job.ID, l.Job.Attempt)
		}
		if l.Token == "" || l.Expires.IsZero() {
			t.Fatalf("lease without token/expiry: %+v", l)
		}
	}
	for _, l := range first {
		if err := f.Ack(ctx(t), l); err != nil {
			t.Fatalf("Ack: %v", err)
		}
	}
	s := mustStats(t, f, "r")
	if s != (crawler.FrontierStats{InFlight: 1, Done: 3}) || s.Drained() {
		t.Fatalf("after 3 acks: %+v (drained %v)", s, s.Drained())
	}
	if err := f.Ack(ctx(t), second[0]); err != nil {
		t.Fatal(err)
	}
	if s := mustStats(t, f, "r"); !s.Drained() || s.Done != 4 {
		t.Fatalf("after all acks: %+v, want drained with 4 done", s)
	}
}

func testRoundTrip(t *testing.T, f crawler.Frontier) {
	j := crawler.Job{ID: "hf|model-info|x", RunID: "r", Source: "huggingface", Kind: "model-info",
		URL: "https://huggingface.co/api/models/org/x?full=true", Dataset: "ms-celeb-1m", Page: 3,
		Meta: map[string]string{"query": "ms1m", "scope": "search:ms1m"}}
	if _, err := f.Enqueue(ctx(t), j); err != nil {
		t.Fatal(err)
	}
	ls := claim(t, f, "r", "w", 1)
	if len(ls) != 1 {
		t.Fatalf("Claim = %d", len(ls))
	}
	g := ls[0].Job
	if g.ID != j.ID || g.RunID != j.RunID || g.Source != j.Source || g.Kind != j.Kind || g.URL != j.URL ||
		g.Dataset != j.Dataset || g.Page != j.Page || g.Meta["query"] != "ms1m" || g.Meta["scope"] != "search:ms1m" {
		t.Fatalf("job did not round-trip:\n got %+v\nwant %+v", g, j)
	}
}

func testNotBefore(t *testing.T, f crawler.Frontier) {
	later := jobs("r", 2)
	later[1].NotBefore = time.Now().Add(time.Hour)
	if _, err := f.Enqueue(ctx(t), later...); err != nil {
		t.Fatal(err)
	}
	ls := claim(t, f, "r", "w", 10)
	if len(ls) != 1 || ls[0].Job.ID != later[0].ID {
		t.Fatalf("Claim = %v, want only the job that is ready", ids(ls))
	}
	// Retry for later: not claimable, still counted as pending (the run is not drained).
	if err := f.Retry(ctx(t), ls[0], time.Now().Add(time.Hour), "503"); err != nil {
		t.Fatalf("Retry: %v", err)
	}
	if ls := claim(t, f, "r", "w", 10); len(ls) != 0 {
		t.Fatalf("Claim with only future jobs = %v, want none", ids(ls))
	}
	s := mustStats(t, f, "r")
	if s.Pending != 2 || s.Drained() {
		t.Fatalf("Stats = %+v, want 2 pending, not drained", s)
	}
}

func testDeadLetter(t *testing.T, f crawler.Frontier, max int) {
	if _, err := f.Enqueue(ctx(t), job("r", 1)); err != nil {
		t.Fatal(err)
	}
	for attempt := 1; attempt <= max; attempt++ {
		ls := claim(t, f, "r", "w", 1)
		if len(ls) != 1 {
			t.Fatalf("attempt %d: Claim = %d leases, want 1", attempt, len(ls))
		}
		if ls[0].Job.Attempt != attempt {
			t.Fatalf("attempt %d: lease says Attempt %d", attempt, ls[0].Job.Attempt)
		}
		if err := f.Retry(ctx(t), ls[0], time.Now().Add(-time.Second), fmt.Sprintf("HTTP 503 (%d)", attempt)); err != nil {
			t.Fatalf("attempt %d: Retry: %v", attempt, err)
		}
	}
	if ls := claim(t, f, "r", "w", 1); len(ls) != 0 {
		t.Fatalf("after %d failed attempts the job was handed out again", max)
	}
	s := mustStats(t, f, "r")
	if s.Dead != 1 || !s.Drained() {
		t.Fatalf("Stats = %+v, want 1 dead and drained", s)
	}
}

func testAckedNotReadded(t *testing.T, f crawler.Frontier) {
	if _, err := f.Enqueue(ctx(t), job("r", 1)); err != nil {
		t.Fatal(err)
	}
	ls := claim(t, f, "r", "w", 1)
	if err := f.Ack(ctx(t), ls[0]); err != nil {
		t.Fatal(err)
	}
	// A worker that re-runs a job after a crash re-enqueues the same follow-ups: no new work.
	if n, err := f.Enqueue(ctx(t), job("r", 1)); err != nil || n != 0 {
		t.Fatalf("Enqueue of a done job = %d, %v; want 0", n, err)
	}
	wantStats(t, f, "r", crawler.FrontierStats{Done: 1})
}

func testConcurrent(t *testing.T, f crawler.Frontier) {
	const n, workers = 60, 6
	if _, err := f.Enqueue(ctx(t), jobs("r", n)...); err != nil {
		t.Fatal(err)
	}
	type handout struct {
		lease    crawler.Lease
		returned time.Time
	}
	var mu sync.Mutex
	got := map[string][]handout{}
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for {
				ls, err := f.Claim(context.Background(), "r", fmt.Sprintf("w%d", w), 2)
				if err != nil {
					errs <- err
					return
				}
				if len(ls) == 0 {
					return
				}
				now := time.Now()
				for _, l := range ls {
					mu.Lock()
					got[l.Job.ID] = append(got[l.Job.ID], handout{l, now})
					mu.Unlock()
					if err := f.Ack(context.Background(), l); err != nil {
						errs <- err
						return
					}
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("worker: %v", err)
	}
	if len(got) != n {
		t.Fatalf("%d distinct jobs handed out, want %d", len(got), n)
	}
	for id, hs := range got {
		// A second handout is only legitimate once the previous lease had expired (a slow
		// machine); handing out a job whose lease is live is the bug this test looks for.
		for i := 1; i < len(hs); i++ {
			if !hs[i].returned.After(hs[i-1].lease.Expires) {
				t.Fatalf("job %s handed out again at %s while its lease ran until %s", id,
					hs[i].returned.Format(time.RFC3339Nano), hs[i-1].lease.Expires.Format(time.RFC3339Nano))
			}
		}
	}
	wantStats(t, f, "r", crawler.FrontierStats{Done: n})
}

func testLeaseExpiry(t *testing.T, f crawler.Frontier, lease time.Duration) {
	if _, err := f.Enqueue(ctx(t), job("r", 1)); err != nil {
		t.Fatal(err)
	}
	dead := claim(t, f, "r", "dead-worker", 1)
	if len(dead) != 1 {
		t.Fatal("no lease")
	}
	// The worker dies. Poll (not sleep) until the lease is handed to someone else.
	deadline := time.Now().Add(lease + 30*time.Second)
	var ls []crawler.Lease
	for time.Now().Before(deadline) {
		if ls = claim(t, f, "r", "live-worker", 1); len(ls) > 0 {
			break
		}
		time.Sleep(lease / 10)
	}
	if len(ls) != 1 || ls[0].Job.ID != dead[0].Job.ID {
		t.Fatalf("expired lease not reclaimed within %s", lease+30*time.Second)
	}
	if ls[0].Job.Attempt != 2 {
		t.Fatalf("reclaimed job Attempt = %d, want 2", ls[0].Job.Attempt)
	}
	if ls[0].Token == dead[0].Token {
		t.Fatal("reclaimed lease reuses the dead worker's token")
	}
	// The dead worker's stale lease cannot push the job around.
	if err := f.Retry(ctx(t), dead[0], time.Now().Add(time.Hour), "stale"); err == nil {
		t.Fatal("Retry with an expired, reclaimed lease succeeded")
	}
	if err := f.Ack(ctx(t), ls[0]); err != nil {
		t.Fatal(err)
	}
	if s := mustStats(t, f, "r"); s.Done != 1 || !s.Drained() {
		t.Fatalf("Stats = %+v, want 1 done, drained", s)
	}
}

func ids(ls []crawler.Lease) []string {
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = l.Job.ID
	}
	sort.Strings(out)
	return out
}
