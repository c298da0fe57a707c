package monitor

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/afterlife-watch/afterlife/configs"
	"github.com/afterlife-watch/afterlife/crawler"
	"github.com/afterlife-watch/afterlife/crawler/frontier"
	"github.com/afterlife-watch/afterlife/reports"
)

// slowPlanner is a source whose Plan waits for something (wait) before returning its seed.
type slowPlanner struct {
	fakeSource
	wait func(ctx context.Context) bool
	ok   atomic.Bool // wait returned true
}

func (s *slowPlanner) Plan(ctx context.Context, ds []*configs.Dataset) ([]crawler.Job, error) {
	s.ok.Store(s.wait(ctx))
	return s.fakeSource.Plan(ctx, ds)
}

var registerSeedSources sync.Once

// In embedded mode the workers start before the seeds are planned: a source's seeds are crawled
// while the sources after it (in name order) still plan, and the workers do not take the run for
// drained while seeds are still to come, even when every job enqueued so far is done. Source
// "seedtest-b" plans only once "seedtest-a"'s seed and its follow-ups have all been fetched and
// the frontier holds nothing pending or leased; with the seeds planned before the workers start
// (as before), its Plan would wait for requests that cannot come, and give up.
func TestWorkersCrawlTheFirstSeedsWhileLaterSourcesPlan(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var mu sync.Mutex
	served := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		served[r.URL.Path]++
		mu.Unlock()
		w.Write([]byte("item"))
	}))
	defer srv.Close()
	count := func(prefix string) (n int) {
		mu.Lock()
		defer mu.Unlock()
		for p, c := range served {
			if strings.HasPrefix(p, prefix) {
				n += c
			}
		}
		return n
	}

	dir := t.TempDir()
	st, err := reports.OpenStore(filepath.Join(dir, reports.StoreFile))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	b, err := OpenEmbedded(dir, st)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	fr := b.Frontier.(*frontier.Frontier)

	a := &fakeSource{name: "seedtest-a", base: srv.URL + "/a", n: 3}
	later := &slowPlanner{fakeSource: fakeSource{name: "seedtest-b", base: srv.URL + "/b", n: 2}}
	later.wait = func(ctx context.Context) bool {
		// Wait (bounded, in case the workers never start) for a's list and its 3 items, then for
		// the frontier to have nothing of the run pending or in flight.
		give := time.After(30 * time.Second)
		for {
			if count("/a/") >= 4 {
				if run, open, err := st.OpenRun(ctx); err == nil && open {
					if d, err := fr.Drained(ctx, run.ID); err == nil && d {
						return true
					}
				}
			}
			select {
			case <-give:
				return false
			case <-ctx.Done():
				return false
			case <-time.After(time.Millisecond):
			}
		}
	}
	registerSeedSources.Do(func() {
		crawler.Register("seedtest-a", func(configs.SourceConfig, crawler.Env) (crawler.Source, error) { return a, nil })
		crawler.Register("seedtest-b", func(configs.SourceConfig, crawler.Env) (crawler.Source, error) { return later, nil })
	})
	w := loopbackWatch("seedtest-a", "seedtest-b")
	w.PolitenessOff = true
	res, err := Run(ctx, b, RunConfig{Watch: w, Registry: testRegistry(t), Workers: 3,
		Version: "test", Env: func(string) string { return "" }, RetryBase: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if !later.ok.Load() {
		t.Fatal("seedtest-b planned without seedtest-a's jobs having been crawled: the workers waited for every source's plan")
	}
	if got := count("/b/"); got != 3 {
		t.Fatalf("seedtest-b: %d requests, want its list and 2 items: the workers stopped before its seeds were in", got)
	}
	if got := count("/a/"); got != 4 {
		t.Fatalf("seedtest-a: %d requests, want 4", got)
	}
	if !res.Run.Complete {
		t.Fatalf("run not complete: %+v", res.Run)
	}
	for _, s := range res.Run.Sources {
		if s.Status != StatusOK {
			t.Errorf("source %s: %s %s", s.Name, s.Status, s.Message)
		}
	}
}
