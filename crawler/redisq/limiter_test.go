package redisq

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/afterlife-watch/afterlife/configs"
	"github.com/afterlife-watch/afterlife/crawler"
	"github.com/afterlife-watch/afterlife/internal/redistest"
)

// recorder is an HTTP server that notes when each request arrived.
type recorder struct {
	mu    sync.Mutex
	times []time.Time
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	r.times = append(r.times, time.Now())
	r.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprint(w, `{"ok":true}`)
}

// maxInWindow is the most requests the server saw in any window of length win (half-open).
func maxInWindow(times []time.Time, win time.Duration) int {
	ts := append([]time.Time(nil), times...)
	sort.Slice(ts, func(i, j int) bool { return ts[i].Before(ts[j]) })
	best, j := 0, 0
	for i := range ts {
		for ts[i].Sub(ts[j]) >= win {
			j++
		}
		best = max(best, i-j+1)
	}
	return best
}

// Issue test 4: four workers (each its own Redis connection, frontier and HTTP fetcher, as in four
// processes) share one host limited to 5 requests/s; the server measures no 1-second window with
// more than 5 requests.
func TestFourWorkersStayInsideHostLimit(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	ctx := testCtx(t)
	rec := &recorder{}
	hs := httptest.NewServer(rec)
	defer hs.Close()

	const rate, n, workers = 5.0, 30, 4
	watch := &configs.Watch{Contact: "test", AllowLoopback: true, Sources: map[string]configs.SourceConfig{
		"demo": {Enabled: true, BaseURL: hs.URL, Rate: rate, Burst: 1},
	}}
	prefix := freshPrefix()
	cfg := Config{Prefix: prefix, LeaseTimeout: time.Minute, Heartbeat: true}
	seed := NewFrontier(srv.Client(t), cfg)
	defer seed.Close()
	var jobs []crawler.Job
	for i := 0; i < n; i++ {
		u := fmt.Sprintf("%s/item/%d", hs.URL, i)
		jobs = append(jobs, crawler.Job{ID: crawler.Key("demo", "item", u), RunID: "r", Source: "demo", Kind: "item", URL: u})
	}
	if _, err := seed.Enqueue(ctx, jobs...); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		rdb := srv.Client(t)
		f := NewFrontier(rdb, cfg)
		defer f.Close()
		fetch, err := crawler.NewFetcher(watch, crawler.FetcherOptions{Limiter: NewLimiter(rdb, LimiterConfig{Prefix: prefix})})
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				ls, err := f.Claim(ctx, "r", "w", 1)
				if err != nil || len(ls) == 0 {
					if err != nil {
						t.Error(err)
					}
					return
				}
				resp, err := fetch.Fetch(ctx, crawler.Request{Source: "demo", URL: ls[0].Job.URL})
				if err != nil || resp.Status != 200 {
					t.Errorf("fetch %s: %v %v", ls[0].Job.URL, resp, err)
				}
				if err := f.Ack(ctx, ls[0]); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	rec.mu.Lock()
	times := rec.times
	rec.mu.Unlock()
	if len(times) != n {
		t.Fatalf("server saw %d requests, want %d", len(times), n)
	}
	if m := maxInWindow(times, time.Second); m > int(rate) {
		t.Fatalf("server saw %d requests within one second; the limit is %v/s", m, rate)
	}
	// And the limit is used, not undershot by a wide margin: n requests need ≈ (n-1)/rate seconds.
	if min := time.Duration(float64(n-1) / rate * float64(time.Second)); elapsed < min {
		t.Fatalf("%d requests took %v, less than the %v the limit allows", n, elapsed, min)
	}
	t.Logf("%d requests by %d workers in %v (%.2f req/s, limit %v/s)", n, workers, elapsed.Round(time.Millisecond), float64(n)/elapsed.Seconds(), rate)
}

// Hold (Retry-After) stops a key for every worker; Reserve with a bounded wait books nothing.
func TestLimiterHoldAndBoundedWait(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	ctx := testCtx(t)
	lim := NewLimiter(srv.Client(t), LimiterConfig{Prefix: freshPrefix()})
	other := NewLimiter(srv.Client(t), LimiterConfig{Prefix: lim.k.prefix})
	if err := lim.Hold(ctx, "host:x", time.Now().Add(2*time.Second)); err != nil {
		t.Fatal(err)
	}
	wait, ok, err := other.Reserve(ctx, "host:x", 100, 1, 100*time.Millisecond)
	if err != nil || ok || wait < time.Second {
		t.Fatalf("reserve during a 2s hold with maxWait 100ms = %v, %v, %v; want not booked, wait ≥ 1s", wait, ok, err)
	}
	wait, ok, err = other.Reserve(ctx, "host:x", 100, 1, -1)
	if err != nil || !ok || wait < time.Second || wait > 2*time.Second {
		t.Fatalf("reserve during hold = %v, %v, %v; want booked at the end of the hold", wait, ok, err)
	}
	// Burst 3 at 1/s: three at once, the fourth a second later.
	for i := 0; i < 3; i++ {
		if w, ok, err := lim.Reserve(ctx, "src:y", 1, 3, -1); err != nil || !ok || w > 50*time.Millisecond {
			t.Fatalf("burst request %d waits %v (%v %v)", i, w, ok, err)
		}
	}
	if w, _, _ := lim.Reserve(ctx, "src:y", 1, 3, -1); w < 900*time.Millisecond {
		t.Fatalf("fourth request after a burst of 3 at 1/s waits %v, want ≈1s", w)
	}
	cctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if err := lim.Wait(cctx, "src:y", 1, 3); err == nil {
		t.Fatal("Wait with a deadline before the next slot succeeded")
	}
}
