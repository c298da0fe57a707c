package monitor

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/afterlife-watch/afterlife/crawler"
	"github.com/afterlife-watch/afterlife/crawler/frontier"
	"github.com/afterlife-watch/afterlife/extract"
)

// emptySettleCounter counts the Settles a pool sends to a real frontier.
type emptySettleCounter struct {
	*frontier.Frontier
	n atomic.Int64
}

func (s *emptySettleCounter) Settle(ctx context.Context, runID, worker string, acks []crawler.Ack, want crawler.Want) ([]crawler.Lease, []crawler.AckResult, error) {
	s.n.Add(1)
	return s.Frontier.Settle(ctx, runID, worker, acks, want)
}

// Workers with nothing to do while another handles the run's last job sleep (backing off) until
// something changes; they do not settle again and again. An empty Settle (nothing acked, nothing
// claimed) used to wake every idle worker, the one that sent it included, so idle workers spun
// through empty transactions for as long as the job ran. Here one job of four workers' run is held
// at the server until the pool has sent 100 Settles or 300 ms have passed; the idle workers'
// backoff (10, 20, 40, … ms) allows about five Settles each in that time.
func TestIdleWorkersDoNotSpinOnEmptySettles(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	fr := &emptySettleCounter{Frontier: openFrontier(t, frontier.Options{MaxAttempts: 3})}
	var during atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/slow/list" {
			return
		}
		at := fr.n.Load()
		give := time.After(300 * time.Millisecond)
		for fr.n.Load()-at < 100 {
			select {
			case <-give:
				during.Store(fr.n.Load() - at)
				return
			case <-time.After(time.Millisecond):
			}
		}
		during.Store(fr.n.Load() - at)
	}))
	defer srv.Close()
	runID := poolRun(ctx, t, fr, &fakeSource{name: "slow", base: srv.URL + "/slow"}, nil)
	if st, _ := fr.Stats(ctx, runID); st != (crawler.FrontierStats{Done: 2}) {
		t.Fatalf("frontier after the run: %+v, want the list and its item done", st)
	}
	if n := during.Load(); n >= 50 {
		t.Fatalf("%d Settles while three idle workers waited for one job; want a few (their backoff)", n)
	}
	t.Logf("%d Settles while the job was held, %d in all", during.Load(), fr.n.Load())
}

// poolRun begins a run of the one source src on fr (a real frontier, wrapped to count calls) and
// crawls it to the end with four workers (politeness off) and observer obs (may be nil); it
// returns the run's ID.
func poolRun(ctx context.Context, t *testing.T, fr Frontier, src *fakeSource, obs *observer) string {
	t.Helper()
	srcs := map[string]crawler.Source{src.name: src}
	w := loopbackWatch(src.name)
	w.PolitenessOff = true
	fetcher, err := crawler.NewFetcher(w, crawler.FetcherOptions{})
	if err != nil {
		t.Fatal(err)
	}
	store := newMemStore()
	co := &Coordinator{Store: store, Frontier: fr, Sources: Sources{Active: srcs}, Datasets: testRegistry(t).Retracted()}
	runID, _, err := co.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	err = Pool(ctx, runID, 4, Worker{Name: "t", Frontier: fr, Fetcher: fetcher, Sources: srcs, Observer: obs,
		Matcher: extract.New(testRegistry(t)), Recorder: store, Stats: NewStats(fetcher), ExitWhenDrained: true})
	if err != nil {
		t.Fatal(err)
	}
	return runID
}

// statsCounter counts Stats calls (concurrent ones too) on a real frontier.
type statsCounter struct {
	*frontier.Frontier
	n atomic.Int64
}

func (s *statsCounter) Stats(ctx context.Context, runID string) (crawler.FrontierStats, error) {
	s.n.Add(1)
	return s.Frontier.Stats(ctx, runID)
}

// Workers that find the run drained count its jobs for an observer only: without one, none of
// the four counts the run's jobs on its way out (each was four COUNTs on the frontier's one
// connection at the very end of a run).
func TestDrainedWorkersCountJobsOnlyForAnObserver(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	for _, observed := range []bool{false, true} {
		fr := &statsCounter{Frontier: openFrontier(t, frontier.Options{MaxAttempts: 3})}
		var obs *observer
		if observed {
			obs = newObserver(&queueObserver{})
		}
		runID := poolRun(ctx, t, fr, &fakeSource{name: "s", base: srv.URL + "/s", n: 5}, obs)
		if st, _ := fr.Frontier.Stats(ctx, runID); st != (crawler.FrontierStats{Done: 6}) {
			t.Fatalf("frontier after the run: %+v", st)
		}
		switch n := fr.n.Load(); {
		case !observed && n != 0:
			t.Fatalf("no observer: %d Stats calls, want none", n)
		case observed && n == 0:
			t.Fatal("with an observer: no Stats call; the final counts are not observed")
		}
	}
}

// queueObserver is an Observer that keeps nothing.
type queueObserver struct{}

func (queueObserver) JobDone(string, string, bool, time.Duration) {}
func (queueObserver) Findings(string, []extract.Finding)          {}
func (queueObserver) RunFinished(string, time.Duration)           {}
func (queueObserver) Queue(string, crawler.FrontierStats)         {}
