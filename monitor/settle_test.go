package monitor

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/afterlife-watch/afterlife/configs"
	"github.com/afterlife-watch/afterlife/crawler"
	"github.com/afterlife-watch/afterlife/crawler/frontier"
	"github.com/afterlife-watch/afterlife/extract"
	"github.com/afterlife-watch/afterlife/reports"
)

// settleCounter is the embedded frontier, counting how the worker acks and claims.
type settleCounter struct {
	*frontier.Frontier
	settles, settledAcks, claims, ackEnqueues atomic.Int64
}

func (s *settleCounter) Settle(ctx context.Context, runID, worker string, acks []crawler.Ack, want crawler.Want) ([]crawler.Lease, []crawler.AckResult, error) {
	s.settles.Add(1)
	s.settledAcks.Add(int64(len(acks)))
	return s.Frontier.Settle(ctx, runID, worker, acks, want)
}

func (s *settleCounter) Claim(ctx context.Context, runID, worker string, max int) ([]crawler.Lease, error) {
	s.claims.Add(1)
	return s.Frontier.Claim(ctx, runID, worker, max)
}

func (s *settleCounter) AckEnqueue(ctx context.Context, l crawler.Lease, next ...crawler.Job) (int, error) {
	s.ackEnqueues.Add(1)
	return s.Frontier.AckEnqueue(ctx, l, next...)
}

func itemServer(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "an unrelated model") }))
	t.Cleanup(srv.Close)
	return srv
}

// With a frontier that can settle, a worker acks each handled job (and enqueues its follow-ups)
// together with its next claim: no separate AckEnqueue or Claim round trips, every job done once.
func TestWorkerAcksEachJobWithItsNextClaim(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srv := itemServer(t)
	w := loopbackWatch("fake")
	srcs := map[string]crawler.Source{"fake": &fakeSource{name: "fake", base: srv.URL, n: 8}}
	fr := &settleCounter{Frontier: openFrontier(t, frontier.Options{MaxAttempts: 3})}
	store := newMemStore()
	fetcher, err := crawler.NewFetcher(w, crawler.FetcherOptions{})
	if err != nil {
		t.Fatal(err)
	}
	co := &Coordinator{Store: store, Frontier: fr, Sources: Sources{Active: srcs}, Datasets: testRegistry(t).Retracted()}
	runID, _, err := co.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := Pool(ctx, runID, 2, Worker{Name: "t", Frontier: fr, Fetcher: fetcher, Sources: srcs,
		Matcher: extract.New(testRegistry(t)), Recorder: store, ExitWhenDrained: true}); err != nil {
		t.Fatal(err)
	}
	if st, _ := fr.Stats(ctx, runID); st != (crawler.FrontierStats{Done: 9}) {
		t.Fatalf("frontier %+v, want the listing and its 8 items done", st)
	}
	if n := fr.settledAcks.Load(); n != 9 {
		t.Fatalf("%d acks went through Settle, want 9 (one per job)", n)
	}
	if fr.ackEnqueues.Load() != 0 || fr.claims.Load() != 0 {
		t.Fatalf("%d AckEnqueue and %d Claim calls besides Settle, want none", fr.ackEnqueues.Load(), fr.claims.Load())
	}
	if len(store.records) != 8 {
		t.Fatalf("%d artifacts recorded, want 8", len(store.records))
	}
}

// cancelAfterRecord cancels the worker's context once an artifact is recorded: the job is handled
// and recorded, but the worker stops before its next claim.
type cancelAfterRecord struct {
	*memStore
	once   sync.Once
	cancel context.CancelFunc
}

func (c *cancelAfterRecord) RecordBatch(ctx context.Context, runID string, at time.Time, obs []reports.Observation) ([]reports.RecordResult, error) {
	res, err := c.memStore.RecordBatch(ctx, runID, at, obs)
	c.once.Do(c.cancel)
	return res, err
}

// A worker stopped between a handled job and its next claim still acks that job on its way out:
// the ack that waits for the next claim is not lost.
func TestStoppedWorkerSettlesItsLastAck(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srv := itemServer(t)
	w := loopbackWatch("fake")
	srcs := map[string]crawler.Source{"fake": &fakeSource{name: "fake", base: srv.URL, n: 3}}
	fr := openFrontier(t, frontier.Options{MaxAttempts: 3, Lease: time.Hour})
	wctx, stop := context.WithCancel(ctx)
	defer stop()
	store := &cancelAfterRecord{memStore: newMemStore(), cancel: stop}
	fetcher, err := crawler.NewFetcher(w, crawler.FetcherOptions{})
	if err != nil {
		t.Fatal(err)
	}
	co := &Coordinator{Store: store, Frontier: fr, Sources: Sources{Active: srcs}, Datasets: testRegistry(t).Retracted()}
	runID, _, err := co.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wk := &Worker{Name: "t", Frontier: fr, Fetcher: fetcher, Sources: srcs, Matcher: extract.New(testRegistry(t)), Recorder: store}
	if err := wk.Run(wctx, runID); err == nil {
		t.Fatal("Run returned nil; want the cancellation")
	}
	st, _ := fr.Stats(ctx, runID)
	// The listing and the first item were handled (the item recorded, then the stop): both done,
	// none left leased; the other items wait.
	if st != (crawler.FrontierStats{Done: 2, Pending: 2}) {
		t.Fatalf("frontier %+v, want 2 done (the listing and the recorded item), 2 pending, none leased", st)
	}
}

// cappedFetcher fetches nothing; it says source "slow" may have one request in flight.
type cappedFetcher struct{}

func (cappedFetcher) Fetch(context.Context, crawler.Request) (*crawler.Response, error) {
	return &crawler.Response{Status: 200}, nil
}

func (cappedFetcher) MaxInFlight(source string) int {
	if source == "slow" {
		return 1
	}
	return 0
}

// blockingSource: a "slow" job blocks until release is closed; a "fast" job is done at once.
type blockingSource struct {
	name          string
	release       chan struct{}
	inHand, most  atomic.Int64
	done          atomic.Int64
	fastDoneAfter chan struct{} // closed when want fast jobs are done
	want          int64
}

func (s *blockingSource) Name() string { return s.name }
func (s *blockingSource) Plan(context.Context, []*configs.Dataset) ([]crawler.Job, error) {
	return nil, nil
}

func (s *blockingSource) Handle(ctx context.Context, job crawler.Job, f crawler.Fetcher) (crawler.Result, error) {
	if s.name == "slow" {
		n := s.inHand.Add(1)
		for {
			m := s.most.Load()
			if n <= m || s.most.CompareAndSwap(m, n) {
				break
			}
		}
		defer s.inHand.Add(-1)
		select {
		case <-s.release:
		case <-ctx.Done():
			return crawler.Result{}, ctx.Err()
		}
		return crawler.Result{}, nil
	}
	if s.done.Add(1) == s.want {
		close(s.fastDoneAfter)
	}
	return crawler.Result{}, nil
}

// Workers do not pile up on a source whose in-flight cap is reached: with the one slow job in
// hand, the other slow jobs (queued first) are passed over and the fast ones get done meanwhile.
func TestWorkersPassOverASourceAtItsInFlightCap(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	fr := openFrontier(t, frontier.Options{MaxAttempts: 3, Lease: time.Hour})
	release := make(chan struct{})
	slow := &blockingSource{name: "slow", release: release}
	fast := &blockingSource{name: "fast", want: 5, fastDoneAfter: make(chan struct{})}
	var jobs []crawler.Job
	for i := 0; i < 3; i++ {
		jobs = append(jobs, crawler.Job{ID: fmt.Sprint("slow", i), RunID: "r", Source: "slow", URL: fmt.Sprint("http://127.0.0.1/slow/", i)})
	}
	for i := 0; i < 5; i++ {
		jobs = append(jobs, crawler.Job{ID: fmt.Sprint("fast", i), RunID: "r", Source: "fast", URL: fmt.Sprint("http://127.0.0.1/fast/", i)})
	}
	if _, err := fr.Enqueue(ctx, jobs...); err != nil {
		t.Fatal(err)
	}
	store := newMemStore()
	done := make(chan error, 1)
	go func() {
		done <- Pool(ctx, "r", 3, Worker{Name: "t", Frontier: fr, Fetcher: cappedFetcher{},
			Sources: map[string]crawler.Source{"slow": slow, "fast": fast}, Matcher: extract.New(testRegistry(t)),
			Recorder: store, ExitWhenDrained: true})
	}()
	select {
	case <-fast.fastDoneAfter:
	case <-ctx.Done():
		t.Fatalf("the fast jobs were not done while a slow job was in hand (%d done; %d slow jobs in hand)", fast.done.Load(), slow.inHand.Load())
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if m := slow.most.Load(); m != 1 {
		t.Fatalf("%d slow jobs were in hand at once, want 1 (its cap)", m)
	}
	if st, _ := fr.Stats(ctx, "r"); st != (crawler.FrontierStats{Done: 8}) {
		t.Fatalf("frontier %+v, want all 8 done", st)
	}
}

func TestWakeupEndsEveryWaitOnce(t *testing.T) {
	k := &wakeup{}
	a, b := k.wait(), k.wait()
	select {
	case <-a:
		t.Fatal("closed before any signal")
	default:
	}
	k.signal()
	<-a
	<-b
	c := k.wait()
	select {
	case <-c:
		t.Fatal("a wait taken after the signal is already closed")
	default:
	}
	var none *wakeup
	if none.wait() != nil {
		t.Fatal("a nil wakeup gives a channel")
	}
	none.signal() // no panic
}
