package redisq

import (
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/afterlife-watch/afterlife/configs"
	"github.com/afterlife-watch/afterlife/crawler"
	"github.com/afterlife-watch/afterlife/internal/redistest"
)

// The floor counts from answers: at 2/s (2 per second), a third request waits until a second
// after the first one was answered, however late that answer comes.
func TestAcquireWaitsForAnswers(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	ctx := testCtx(t)
	lim := NewLimiter(srv.Client(t), LimiterConfig{Prefix: freshPrefix()})
	start := time.Now()
	ansA, err := lim.Acquire(ctx, crawler.Slot{Key: "host:x", PerSecond: 2, Burst: 1})
	if err != nil {
		t.Fatal(err)
	}
	ansB, err := lim.Acquire(ctx, crawler.Slot{Key: "host:x", PerSecond: 2, Burst: 1})
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 450*time.Millisecond {
		t.Fatalf("second request granted after %v, want ≈0.5s", d)
	}
	answered := make(chan time.Time, 1)
	go func() {
		time.Sleep(1500 * time.Millisecond) // a server that sat on request A
		answered <- time.Now()
		ansA()
	}()
	ansC, err := lim.Acquire(ctx, crawler.Slot{Key: "host:x", PerSecond: 2, Burst: 1})
	if err != nil {
		t.Fatal(err)
	}
	granted := time.Now()
	at := <-answered
	if granted.Sub(at) < 950*time.Millisecond {
		t.Fatalf("third request granted %v after the first was answered (%v after start); want ≥ 1s", granted.Sub(at), granted.Sub(start))
	}
	ansB()
	ansC()
	// Wait (no answers) keeps the grant-time floor: after the answers, a burst-free key spaces at the rate.
	if err := lim.Wait(ctx, "host:y", 100, 1); err != nil {
		t.Fatal(err)
	}
}

// jitterListener delays the first read of every connection by up to max, like a starved server
// (or machine) that sees a request long after the client sent it.
type jitterListener struct {
	net.Listener
	max time.Duration
}

func (l jitterListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &jitterConn{Conn: c, delay: time.Duration(rand.Int64N(int64(l.max)))}, nil
}

type jitterConn struct {
	net.Conn
	once  sync.Once
	delay time.Duration
}

func (c *jitterConn) Read(p []byte) (int, error) {
	c.once.Do(func() { time.Sleep(c.delay) })
	return c.Conn.Read(p)
}

// Four workers, one host at 5/s, and a server that sees each request 0–300 ms late (far beyond
// the margin): counted from answers, no 1-second window as the server measures it holds more
// than 5 requests.
func TestHostLimitHoldsUnderServerJitter(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	ctx := testCtx(t)
	rec := &recorder{}
	hs := httptest.NewUnstartedServer(rec)
	hs.Listener = jitterListener{Listener: hs.Listener, max: 300 * time.Millisecond}
	hs.Config.SetKeepAlivesEnabled(false) // every request a new connection, a new delay
	hs.Start()
	defer hs.Close()

	const rate, n, workers = 5.0, 40, 4
	watch := &configs.Watch{Contact: "test", AllowLoopback: true, Sources: map[string]configs.SourceConfig{
		"demo": {Enabled: true, BaseURL: hs.URL, Rate: rate, Burst: 1},
	}}
	prefix := freshPrefix()
	urls := make(chan string, n)
	for i := 0; i < n; i++ {
		urls <- fmt.Sprintf("%s/item/%d", hs.URL, i)
	}
	close(urls)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		rdb := srv.Client(t)
		f, err := crawler.NewFetcher(watch, crawler.FetcherOptions{Limiter: NewLimiter(rdb, LimiterConfig{Prefix: prefix})})
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for u := range urls {
				resp, err := f.Fetch(ctx, crawler.Request{Source: "demo", URL: u})
				if err != nil || resp.Status != http.StatusOK {
					t.Errorf("fetch %s: %v %v", u, resp, err)
				}
			}
		}()
	}
	wg.Wait()
	rec.mu.Lock()
	times := rec.times
	rec.mu.Unlock()
	if len(times) != n {
		t.Fatalf("server saw %d requests, want %d", len(times), n)
	}
	if m := maxInWindow(times, time.Second); m > int(rate) {
		t.Fatalf("server saw %d requests within one second; the limit is %v/s", m, rate)
	}
}

// A 429 with Retry-After in the fetcher holds the host on the shared limiter: another worker's
// fetcher (its own process, its own buckets) waits too.
func TestRetryAfterHoldsEveryWorker(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	ctx := testCtx(t)
	var mu sync.Mutex
	var times []time.Time
	first := true
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		times = append(times, time.Now())
		busy := first
		first = false
		mu.Unlock()
		if busy {
			w.Header().Set("Retry-After", "2")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		fmt.Fprint(w, "ok")
	}))
	defer hs.Close()
	watch := &configs.Watch{Contact: "test", AllowLoopback: true, Sources: map[string]configs.SourceConfig{
		"demo": {Enabled: true, BaseURL: hs.URL, Rate: 50, Burst: 1},
	}}
	prefix := freshPrefix()
	mk := func() *crawler.HTTPFetcher {
		f, err := crawler.NewFetcher(watch, crawler.FetcherOptions{Limiter: NewLimiter(srv.Client(t), LimiterConfig{Prefix: prefix})})
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	a, b := mk(), mk()
	resp, err := a.Fetch(ctx, crawler.Request{Source: "demo", URL: hs.URL + "/a"})
	if err != nil || resp.Status != http.StatusOK || resp.Attempts != 2 {
		t.Fatalf("fetch after 429 = %+v, %v; want 200 on the second attempt", resp, err)
	}
	resp, err = b.Fetch(ctx, crawler.Request{Source: "demo", URL: hs.URL + "/b"})
	if err != nil || resp.Status != http.StatusOK {
		t.Fatalf("other worker's fetch = %+v, %v", resp, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(times) != 3 {
		t.Fatalf("server saw %d requests, want 3", len(times))
	}
	for i, ts := range times[1:] {
		if gap := ts.Sub(times[0]); gap < 1900*time.Millisecond {
			t.Fatalf("request %d came %v after the 429 with Retry-After: 2", i+2, gap)
		}
	}
}
