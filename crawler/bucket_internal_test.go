package crawler

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/afterlife-watch/afterlife/configs"
)

func bucketFetcher(t *testing.T, srv *httptest.Server, o FetcherOptions) *HTTPFetcher {
	t.Helper()
	w := &configs.Watch{AllowLoopback: true, Sources: map[string]configs.SourceConfig{
		"gh": {Enabled: true, BaseURL: srv.URL}, "hf": {Enabled: true, BaseURL: srv.URL + "/hf"}}}
	o.Version, o.BaseBackoff = "test", 10*time.Millisecond
	f, err := NewFetcher(w, o)
	if err != nil {
		t.Fatal(err)
	}
	// Anonymous GitHub: core 60/hour, search 10/minute. Hugging Face: API 500/5 min, resolver 3,000/5 min.
	f.SetRate("gh", 60.0/3600, 1)
	f.SetRate("gh/search", 10.0/60, 1)
	f.SetRate("hf", 500.0/300, 1)
	f.SetRate("hf/resolve", 3000.0/300, 10)
	return f
}

func tokens(f *HTTPFetcher, key string) float64 {
	return f.lim.get(key, DefaultHostRate, DefaultHostBurst).lim.Tokens()
}

// An anonymous GitHub search waits on the search bucket only: the 60/hour core bucket keeps its
// token (today the search also takes the core token, so a second search waits a minute on core).
func TestSubBucketRequestLeavesDefaultBucketAlone(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer srv.Close()
	f := bucketFetcher(t, srv, FetcherOptions{})
	if _, err := f.Fetch(context.Background(), Request{Source: "gh", RateKey: "gh/search", URL: srv.URL + "/search/issues"}); err != nil {
		t.Fatal(err)
	}
	if got := tokens(f, "src:gh"); got < 0.99 {
		t.Errorf("core bucket has %.2f tokens after a search, want its 1 untouched", got)
	}
	if got := tokens(f, "src:gh/search"); got > 0.5 {
		t.Errorf("search bucket has %.2f tokens after a search, want it spent", got)
	}
	// A core request spends the core token and leaves the search bucket as it was.
	before := tokens(f, "src:gh/search")
	if _, err := f.Fetch(context.Background(), Request{Source: "gh", URL: srv.URL + "/rate_limit"}); err != nil {
		t.Fatal(err)
	}
	if tokens(f, "src:gh") > 0.5 || tokens(f, "src:gh/search")-before > 0.1 {
		t.Errorf("core %.2f search %.2f", tokens(f, "src:gh"), tokens(f, "src:gh/search"))
	}
}

// Hugging Face card downloads (resolver bucket, 10/s burst 10) are not held to the API rate: five
// of them spend neither the API bucket nor more than the host bucket allows the resolver.
func TestResolverRequestsRunAtTheResolverRate(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer srv.Close()
	f := bucketFetcher(t, srv, FetcherOptions{})
	host := mustHost(t, srv.URL)
	if lim := f.lim.get("host:"+host, DefaultHostRate, DefaultHostBurst).lim.Limit(); lim < 10 {
		t.Errorf("host bucket %.2f/s, slower than the resolver's 10/s", float64(lim))
	}
	for range 5 {
		if _, err := f.Fetch(context.Background(), Request{Source: "hf", RateKey: "hf/resolve", URL: srv.URL + "/hf/x/resolve/main/README.md"}); err != nil {
			t.Fatal(err)
		}
	}
	if got := tokens(f, "src:hf"); got < 0.99 {
		t.Errorf("API bucket has %.2f tokens after 5 card downloads, want its 1 untouched", got)
	}
	if got := tokens(f, "src:hf/resolve"); got > 5.5 {
		t.Errorf("resolver bucket has %.2f of 10 tokens after 5 downloads", got)
	}
}

// A 429 in a sub-bucket (a card download) holds that bucket, not the source's default bucket nor
// the host.
func TestSubBucket429HoldsOnlyItsBucket(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
		}
	}))
	defer srv.Close()
	f := bucketFetcher(t, srv, FetcherOptions{})
	if _, err := f.Fetch(context.Background(), Request{Source: "hf", RateKey: "hf/resolve", URL: srv.URL + "/hf/x/resolve/main/README.md"}); err != nil {
		t.Fatal(err)
	}
	held := func(key string) bool {
		b := f.lim.get(key, DefaultHostRate, DefaultHostBurst)
		b.mu.Lock()
		defer b.mu.Unlock()
		return !b.nb.IsZero()
	}
	if !held("src:hf/resolve") || held("src:hf") || held("host:"+mustHost(t, srv.URL)) {
		t.Errorf("held: resolver %v API %v host %v", held("src:hf/resolve"), held("src:hf"), held("host:"+mustHost(t, srv.URL)))
	}
}

// recLimiter is a shared Limiter that records the keys each attempt waits on.
type recLimiter struct {
	mu    sync.Mutex
	waits [][]string
	holds []string
}

func (l *recLimiter) Acquire(_ context.Context, slots ...Slot) (func(), error) {
	var keys []string
	for _, s := range slots {
		keys = append(keys, s.Key)
	}
	l.mu.Lock()
	l.waits = append(l.waits, keys)
	l.mu.Unlock()
	return func() {}, nil
}
func (l *recLimiter) Wait(context.Context, string, float64, int) error { return nil }
func (l *recLimiter) Hold(_ context.Context, key string, _ time.Time) error {
	l.mu.Lock()
	l.holds = append(l.holds, key)
	l.mu.Unlock()
	return nil
}

// Through the shared (distributed) limiter too, a sub-bucket request takes a slot of its own
// bucket and the host only.
func TestSharedLimiterSubBucketSlots(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer srv.Close()
	rl := &recLimiter{}
	f := bucketFetcher(t, srv, FetcherOptions{Limiter: rl})
	host := "host:" + mustHost(t, srv.URL)
	f.Fetch(context.Background(), Request{Source: "gh", RateKey: "gh/search", URL: srv.URL + "/search/issues"})
	f.Fetch(context.Background(), Request{Source: "gh", URL: srv.URL + "/rate_limit"})
	if len(rl.waits) != 2 || !slices.Equal(rl.waits[0], []string{"src:gh/search", host}) || !slices.Equal(rl.waits[1], []string{"src:gh", host}) {
		t.Errorf("slots %v", rl.waits)
	}
}

func mustHost(t *testing.T, raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}
