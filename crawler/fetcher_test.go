package crawler_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/afterlife-watch/afterlife/configs"
	"github.com/afterlife-watch/afterlife/crawler"
	"github.com/afterlife-watch/afterlife/crawler/httpcache"
)

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return c
}

// watchFor is a watch plan naming one source "t" at srv, loopback allowed (httptest is 127.0.0.1).
func watchFor(srv *httptest.Server, rate float64, burst int) *configs.Watch {
	return &configs.Watch{Contact: "mailto:ops@example.org", AllowLoopback: true,
		Sources: map[string]configs.SourceConfig{"t": {Enabled: true, BaseURL: srv.URL, Rate: rate, Burst: burst}}}
}

func newFetcher(t *testing.T, w *configs.Watch, o crawler.FetcherOptions) *crawler.HTTPFetcher {
	t.Helper()
	if o.BaseBackoff == 0 {
		o.BaseBackoff = 20 * time.Millisecond
	}
	o.Version = "1.2.3"
	f, err := crawler.NewFetcher(w, o)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestFetchHonoursRetryAfterOn429(t *testing.T) {
	var mu sync.Mutex
	var times []time.Time
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		times = append(times, time.Now())
		n := len(times)
		mu.Unlock()
		if n == 1 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			fmt.Fprint(w, "slow down")
			return
		}
		fmt.Fprint(w, `{"ok":true}`)
	}))
	defer srv.Close()
	f := newFetcher(t, watchFor(srv, 100, 10), crawler.FetcherOptions{})
	resp, err := f.Fetch(ctx(t), crawler.Request{Source: "t", URL: srv.URL + "/api"})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != 200 || string(resp.Body) != `{"ok":true}` || resp.Attempts != 2 {
		t.Fatalf("resp = %d %q after %d attempts, want 200 after 2", resp.Status, resp.Body, resp.Attempts)
	}
	if gap := times[1].Sub(times[0]); gap < 900*time.Millisecond {
		t.Fatalf("second request came %s after the 429, Retry-After said 1s", gap)
	}
	if resp.WireBytes != int64(len("slow down")+len(`{"ok":true}`)) {
		t.Fatalf("WireBytes = %d, want both bodies counted", resp.WireBytes)
	}
	c := f.Snapshot()["t"]
	if c.Requests != 2 || c.Retries != 1 || c.Errors != 0 {
		t.Fatalf("counters = %+v", c)
	}
}

func TestFetchBacksOffOn5xxThenGivesUp(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.WriteHeader(http.StatusBadGateway)
	}))
	defer srv.Close()
	f := newFetcher(t, watchFor(srv, 100, 10), crawler.FetcherOptions{MaxAttempts: 3})
	_, err := f.Fetch(ctx(t), crawler.Request{Source: "t", URL: srv.URL + "/x"})
	var se *crawler.StatusError
	if !errors.As(err, &se) || se.Status != 502 || se.Permanent() {
		t.Fatalf("err = %v, want a transient StatusError 502", err)
	}
	if hits.Load() != 3 {
		t.Fatalf("server saw %d requests, want MaxAttempts=3", hits.Load())
	}
	if c := f.Snapshot()["t"]; c.Errors != 1 || c.Requests != 3 || c.Retries != 2 {
		t.Fatalf("counters = %+v", c)
	}
}

func TestFetchRefusesRetryAfterBeyondCap(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Retry-After", "3600")
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	f := newFetcher(t, watchFor(srv, 100, 10), crawler.FetcherOptions{MaxWait: 5 * time.Second})
	start := time.Now()
	_, err := f.Fetch(ctx(t), crawler.Request{Source: "t", URL: srv.URL + "/x"})
	if err == nil || !strings.Contains(err.Error(), "Retry-After") {
		t.Fatalf("err = %v, want a Retry-After cap error", err)
	}
	if hits.Load() != 1 || time.Since(start) > 4*time.Second {
		t.Fatalf("waited or retried: %d requests in %s", hits.Load(), time.Since(start))
	}
}

func TestFetchConditionalRequestsServeCachedBodyOn304(t *testing.T) {
	var conditional atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/etag":
			if r.Header.Get("If-None-Match") == `"v1"` {
				conditional.Add(1)
				w.WriteHeader(http.StatusNotModified)
				return
			}
			w.Header().Set("ETag", `"v1"`)
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"id":"etag-body"}`)
		case "/lm":
			lm := "Wed, 21 Oct 2015 07:28:00 GMT"
			if r.Header.Get("If-Modified-Since") == lm {
				conditional.Add(1)
				w.WriteHeader(http.StatusNotModified)
				return
			}
			w.Header().Set("Last-Modified", lm)
			fmt.Fprint(w, "lm-body")
		}
	}))
	defer srv.Close()
	cache, err := httpcache.Open(filepath.Join(t.TempDir(), "http.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer cache.Close()
	f := newFetcher(t, watchFor(srv, 100, 10), crawler.FetcherOptions{Cache: cache})
	for _, tc := range []struct{ path, body string }{{"/etag", `{"id":"etag-body"}`}, {"/lm", "lm-body"}} {
		first, err := f.Fetch(ctx(t), crawler.Request{Source: "t", URL: srv.URL + tc.path})
		if err != nil || first.FromCache || string(first.Body) != tc.body || first.WireBytes != int64(len(tc.body)) {
			t.Fatalf("%s first: %+v, %v", tc.path, first, err)
		}
		second, err := f.Fetch(ctx(t), crawler.Request{Source: "t", URL: srv.URL + tc.path})
		if err != nil {
			t.Fatal(err)
		}
		if !second.FromCache || second.Status != 200 || string(second.Body) != tc.body || second.WireBytes != 0 || !second.OK() {
			t.Fatalf("%s second: FromCache=%v status=%d body=%q wire=%d", tc.path, second.FromCache, second.Status, second.Body, second.WireBytes)
		}
		// NoConditional asks for a full response.
		third, err := f.Fetch(ctx(t), crawler.Request{Source: "t", URL: srv.URL + tc.path, NoConditional: true})
		if err != nil || third.FromCache {
			t.Fatalf("%s NoConditional: FromCache=%v err=%v", tc.path, third.FromCache, err)
		}
	}
	if conditional.Load() != 2 {
		t.Fatalf("server answered %d conditional requests, want 2", conditional.Load())
	}
	if c := f.Snapshot()["t"]; c.Cached != 2 || c.Requests != 6 {
		t.Fatalf("counters = %+v, want 2 cached of 6 requests", c)
	}
}

func TestFetchBoundsBodySize(t *testing.T) {
	big := bytes.Repeat([]byte("a"), 300<<10)
	var bomb bytes.Buffer
	zw := gzip.NewWriter(&bomb)
	zw.Write(bytes.Repeat([]byte{0}, 8<<20)) // 8 MiB of zeros, a few KiB on the wire
	zw.Close()
	var small bytes.Buffer
	zw = gzip.NewWriter(&small)
	zw.Write([]byte(strings.Repeat("hello ", 1000)))
	zw.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/big":
			w.Write(big)
		case "/big-chunked":
			w.(http.Flusher).Flush() // no Content-Length: the bound must hold while reading
			w.Write(big)
		case "/bomb":
			w.Header().Set("Content-Encoding", "gzip")
			w.Write(bomb.Bytes())
		case "/gzip":
			w.Header().Set("Content-Encoding", "gzip")
			w.Write(small.Bytes())
		}
	}))
	defer srv.Close()
	f := newFetcher(t, watchFor(srv, 100, 10), crawler.FetcherOptions{MaxBody: 100 << 10, MaxDecompressed: 1 << 20})
	for _, p := range []string{"/big", "/big-chunked", "/bomb"} {
		_, err := f.Fetch(ctx(t), crawler.Request{Source: "t", URL: srv.URL + p})
		if !errors.Is(err, crawler.ErrBodyTooLarge) {
			t.Fatalf("%s: err = %v, want ErrBodyTooLarge", p, err)
		}
		if !crawler.Permanent(err) {
			t.Fatalf("%s: a too-large body should be permanent", p)
		}
	}
	resp, err := f.Fetch(ctx(t), crawler.Request{Source: "t", URL: srv.URL + "/gzip"})
	if err != nil {
		t.Fatal(err)
	}
	if string(resp.Body) != strings.Repeat("hello ", 1000) {
		t.Fatalf("gzip body not decoded: %d bytes", len(resp.Body))
	}
	if resp.WireBytes != int64(small.Len()) {
		t.Fatalf("WireBytes = %d, want the compressed size %d", resp.WireBytes, small.Len())
	}
}

func TestFetchBoundsRedirects(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := hits.Add(1)
		if r.URL.Path == "/three" {
			http.Redirect(w, r, "/two", http.StatusFound)
			return
		}
		if r.URL.Path == "/two" {
			http.Redirect(w, r, "/final", http.StatusFound)
			return
		}
		if r.URL.Path == "/final" {
			fmt.Fprint(w, "final")
			return
		}
		http.Redirect(w, r, fmt.Sprintf("/loop/%d", n), http.StatusFound)
	}))
	defer srv.Close()
	f := newFetcher(t, watchFor(srv, 1000, 100), crawler.FetcherOptions{MaxRedirects: 4})
	resp, err := f.Fetch(ctx(t), crawler.Request{Source: "t", URL: srv.URL + "/three"})
	if err != nil || string(resp.Body) != "final" || !strings.HasSuffix(resp.URL, "/final") {
		t.Fatalf("two redirects: %v %v", resp, err)
	}
	hits.Store(0)
	_, err = f.Fetch(ctx(t), crawler.Request{Source: "t", URL: srv.URL + "/loop/0"})
	if !errors.Is(err, crawler.ErrTooManyRedirects) {
		t.Fatalf("err = %v, want ErrTooManyRedirects", err)
	}
	if hits.Load() != 5 {
		t.Fatalf("server saw %d requests, want 1 + 4 redirects", hits.Load())
	}
}

func TestFetchGuardRefusesLoopbackUnlessAllowed(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		fmt.Fprint(w, "internal")
	}))
	defer srv.Close()
	w := watchFor(srv, 100, 10)
	w.AllowLoopback = false
	f := newFetcher(t, w, crawler.FetcherOptions{})
	// By IP and by a name that resolves to loopback: the guard checks the resolved address.
	port := srv.URL[strings.LastIndex(srv.URL, ":"):]
	for _, u := range []string{srv.URL + "/x", "http://localhost" + port + "/x"} {
		_, err := f.Fetch(ctx(t), crawler.Request{Source: "t", URL: u})
		if !errors.Is(err, crawler.ErrBlockedAddress) || !crawler.Permanent(err) {
			t.Fatalf("%s: err = %v, want a permanent ErrBlockedAddress", u, err)
		}
	}
	if hits.Load() != 0 {
		t.Fatalf("guarded fetch reached the server %d times", hits.Load())
	}
	w.AllowLoopback = true
	f = newFetcher(t, w, crawler.FetcherOptions{})
	resp, err := f.Fetch(ctx(t), crawler.Request{Source: "t", URL: srv.URL + "/x"})
	if err != nil || string(resp.Body) != "internal" {
		t.Fatalf("allowed loopback: %v, %v", resp, err)
	}
}

func TestGuardAddressClasses(t *testing.T) {
	open := crawler.Guard{AllowLoopback: true, AllowPrivate: true}
	closed := crawler.Guard{}
	for _, tc := range []struct {
		ip             string
		closedOK, open bool
	}{
		{"93.184.216.34", true, true},
		{"2606:4700::6810:85e5", true, true},
		{"127.0.0.1", false, true},
		{"::1", false, true},
		{"::ffff:127.0.0.1", false, true},
		{"10.1.2.3", false, true},
		{"172.16.0.1", false, true},
		{"192.168.1.1", false, true},
		{"100.64.0.1", false, true},
		{"fd12::1", false, true},
		{"169.254.169.254", false, false}, // cloud metadata: never
		{"169.254.1.1", false, false},     // link-local: never
		{"fe80::1", false, false},
		{"fd00:ec2::254", false, false},
		{"100.100.100.200", false, false},
		{"0.0.0.0", false, false},
		{"224.0.0.1", false, false},
	} {
		ip := netip.MustParseAddr(tc.ip)
		if got := closed.Check(ip) == nil; got != tc.closedOK {
			t.Errorf("default guard, %s: allowed=%v, want %v", tc.ip, got, tc.closedOK)
		}
		if got := open.Check(ip) == nil; got != tc.open {
			t.Errorf("allow-all guard, %s: allowed=%v, want %v", tc.ip, got, tc.open)
		}
	}
}

func TestFetchRobotsTxtForPagesOnly(t *testing.T) {
	var robotsHits atomic.Int64
	var uas sync.Map
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		uas.Store(r.Header.Get("User-Agent"), true)
		if r.URL.Path == "/robots.txt" {
			robotsHits.Add(1)
			fmt.Fprint(w, "User-agent: Afterlife\nDisallow: /private\n\nUser-agent: *\nDisallow: /\n")
			return
		}
		fmt.Fprint(w, "page "+r.URL.Path)
	}))
	defer srv.Close()
	f := newFetcher(t, watchFor(srv, 100, 10), crawler.FetcherOptions{})
	_, err := f.Fetch(ctx(t), crawler.Request{Source: "t", URL: srv.URL + "/private/page", Robots: true})
	if !errors.Is(err, crawler.ErrRobotsDisallowed) || !crawler.Permanent(err) {
		t.Fatalf("err = %v, want ErrRobotsDisallowed", err)
	}
	resp, err := f.Fetch(ctx(t), crawler.Request{Source: "t", URL: srv.URL + "/public", Robots: true})
	if err != nil || string(resp.Body) != "page /public" {
		t.Fatalf("allowed page: %v %v", resp, err)
	}
	// API endpoints are exempt.
	resp, err = f.Fetch(ctx(t), crawler.Request{Source: "t", URL: srv.URL + "/private/api"})
	if err != nil || resp.Status != 200 {
		t.Fatalf("API request under a disallowed path: %v %v", resp, err)
	}
	if robotsHits.Load() != 1 {
		t.Fatalf("robots.txt fetched %d times, want once (cached)", robotsHits.Load())
	}
	if c := f.Snapshot()["t"]; c.RobotsBlocked != 1 {
		t.Fatalf("counters = %+v, want 1 robots-blocked", c)
	}
	want := "Afterlife/1.2.3 (+mailto:ops@example.org)"
	n := 0
	uas.Range(func(k, _ any) bool {
		n++
		if k.(string) != want {
			t.Errorf("User-Agent %q, want %q", k, want)
		}
		return true
	})
	if n != 1 {
		t.Fatalf("%d distinct User-Agents", n)
	}
}

func TestFetchRobots5xxDefersHost(t *testing.T) {
	var pages atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/robots.txt" {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		pages.Add(1)
	}))
	defer srv.Close()
	f := newFetcher(t, watchFor(srv, 100, 10), crawler.FetcherOptions{MaxAttempts: 1})
	_, err := f.Fetch(ctx(t), crawler.Request{Source: "t", URL: srv.URL + "/page", Robots: true})
	if err == nil || crawler.Permanent(err) {
		t.Fatalf("err = %v, want a transient robots error", err)
	}
	if pages.Load() != 0 {
		t.Fatal("page fetched although robots.txt could not be read")
	}
}

func TestFetchPerSourceRateLimit(t *testing.T) {
	var mu sync.Mutex
	var times []time.Time
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		times = append(times, time.Now())
		mu.Unlock()
	}))
	defer srv.Close()
	f := newFetcher(t, watchFor(srv, 10, 1), crawler.FetcherOptions{}) // 10/s, burst 1
	var wg sync.WaitGroup
	for i := 0; i < 6; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			if _, err := f.Fetch(ctx(t), crawler.Request{Source: "t", URL: fmt.Sprintf("%s/%d", srv.URL, i)}); err != nil {
				t.Error(err)
			}
		}(i)
	}
	wg.Wait()
	// 6 requests at 10/s with burst 1 span at least 5 intervals of 100ms, whatever the concurrency.
	if span := times[len(times)-1].Sub(times[0]); span < 450*time.Millisecond {
		t.Fatalf("6 requests spanned %s, the 10/s bucket allows no less than 500ms", span)
	}
}

func TestFetchRejectsNonHTTPURLs(t *testing.T) {
	f := newFetcher(t, &configs.Watch{}, crawler.FetcherOptions{})
	for _, u := range []string{"file:///etc/passwd", "gopher://x", "not a url", ""} {
		if _, err := f.Fetch(ctx(t), crawler.Request{Source: "t", URL: u}); err == nil || !crawler.Permanent(err) {
			t.Fatalf("%q: err = %v, want a permanent error", u, err)
		}
	}
}

// A documented rate for a sub-bucket (RateKey) slows only requests with that key, and a rate set
// in the watch config for the source wins over documented defaults.
func TestFetchSubBucketRates(t *testing.T) {
	var mu sync.Mutex
	times := map[string][]time.Time{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		k := strings.Split(r.URL.Path, "/")[1]
		times[k] = append(times[k], time.Now())
		mu.Unlock()
	}))
	defer srv.Close()
	w := watchFor(srv, 1000, 100)
	w.Sources["documented"] = configs.SourceConfig{Enabled: true, BaseURL: srv.URL} // no rate in the config
	f := newFetcher(t, w, crawler.FetcherOptions{})
	f.SetRate("t/slow", 2, 1)          // ignored: the config sets t's rate
	f.SetRate("documented", 1000, 100) // the documented default for the source
	f.SetRate("documented/slow", 5, 1) // and a slower sub-bucket
	get := func(path, source, key string) {
		if _, err := f.Fetch(ctx(t), crawler.Request{Source: source, RateKey: key, URL: srv.URL + path}); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 4; i++ {
		get("/configured", "t", "t/slow")
		get("/sub", "documented", "documented/slow")
		get("/plain", "documented", "")
	}
	span := func(k string) time.Duration { return times[k][len(times[k])-1].Sub(times[k][0]) }
	if d := span("sub"); d < 550*time.Millisecond {
		t.Fatalf("4 requests in a 5/s sub-bucket spanned %s, want ≥ 600ms", d)
	}
	if d := span("configured"); d > 1200*time.Millisecond && d > 2*span("sub") {
		t.Fatalf("the config's rate did not override the documented sub-bucket: %s", d)
	}
}

// Concurrent page fetches of one host read robots.txt once and all wait for it.
func TestFetchRobotsLoadedOnceUnderConcurrency(t *testing.T) {
	var robotsHits, pages atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/robots.txt" {
			robotsHits.Add(1)
			time.Sleep(50 * time.Millisecond) // a slow robots.txt: the other requests must wait for it
			fmt.Fprint(w, "User-agent: *\nDisallow: /no\n")
			return
		}
		pages.Add(1)
	}))
	defer srv.Close()
	f := newFetcher(t, watchFor(srv, 1000, 100), crawler.FetcherOptions{})
	var wg sync.WaitGroup
	var blocked atomic.Int64
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			p := fmt.Sprintf("/yes/%d", i)
			if i%2 == 1 {
				p = fmt.Sprintf("/no/%d", i)
			}
			_, err := f.Fetch(ctx(t), crawler.Request{Source: "t", URL: srv.URL + p, Robots: true})
			if errors.Is(err, crawler.ErrRobotsDisallowed) {
				blocked.Add(1)
			} else if err != nil {
				t.Error(err)
			}
		}(i)
	}
	wg.Wait()
	if robotsHits.Load() != 1 || pages.Load() != 4 || blocked.Load() != 4 {
		t.Fatalf("robots.txt fetched %d times, %d pages fetched, %d blocked; want 1, 4, 4", robotsHits.Load(), pages.Load(), blocked.Load())
	}
}

// Requests reuse pooled collectors: a request's own larger body bound must not carry over to the
// next request on the same collector, nor the default bound hold back the next larger one.
func TestFetchBodyBoundsDoNotLeakBetweenRequests(t *testing.T) {
	huge := bytes.Repeat([]byte("b"), 1500<<10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(huge) }))
	defer srv.Close()
	f := newFetcher(t, watchFor(srv, 1000, 100), crawler.FetcherOptions{MaxBody: 100 << 10, MaxDecompressed: 1 << 20})
	for i := 0; i < 4; i++ { // sequential: each request takes the collector the previous one put back
		resp, err := f.Fetch(ctx(t), crawler.Request{Source: "t", URL: srv.URL + "/raised", MaxBody: 2 << 20})
		if err != nil || len(resp.Body) != len(huge) {
			t.Fatalf("round %d, raised bound: %v", i, err)
		}
		if _, err := f.Fetch(ctx(t), crawler.Request{Source: "t", URL: srv.URL + "/default"}); !errors.Is(err, crawler.ErrBodyTooLarge) {
			t.Fatalf("round %d, default bound after a raised one: err = %v, want ErrBodyTooLarge", i, err)
		}
	}
}

// A request with FreshFor is answered from a stored copy younger than that without sending
// anything (a paper's PDF: read once, not re-asked each run); an older copy, or a request without
// FreshFor, asks the server (conditionally).
func TestFetchFreshForAnswersFromTheCacheWithoutARequest(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.Header.Get("If-None-Match") == `"pdf1"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", `"pdf1"`)
		w.Header().Set("Content-Type", "application/pdf")
		fmt.Fprint(w, "%PDF-1.4 body")
	}))
	defer srv.Close()
	cache, err := httpcache.Open(filepath.Join(t.TempDir(), "http.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer cache.Close()
	f := newFetcher(t, watchFor(srv, 100, 10), crawler.FetcherOptions{Cache: cache})
	get := func(fresh time.Duration) *crawler.Response {
		t.Helper()
		r, err := f.Fetch(ctx(t), crawler.Request{Source: "t", URL: srv.URL + "/paper.pdf", FreshFor: fresh})
		if err != nil || r.Status != 200 || string(r.Body) != "%PDF-1.4 body" {
			t.Fatalf("fetch (FreshFor %s): %+v, %v", fresh, r, err)
		}
		return r
	}
	if r := get(time.Hour); r.FromCache || hits.Load() != 1 {
		t.Fatalf("first fetch: FromCache=%v, %d requests", r.FromCache, hits.Load())
	}
	for range 3 {
		if r := get(time.Hour); !r.FromCache || r.Header.Get("Content-Type") != "application/pdf" {
			t.Fatalf("fresh copy not used: FromCache=%v, type %q", r.FromCache, r.Header.Get("Content-Type"))
		}
	}
	if hits.Load() != 1 {
		t.Fatalf("%d requests for a copy fresh for an hour, want 1", hits.Load())
	}
	if r := get(0); !r.FromCache || hits.Load() != 2 { // no FreshFor: a conditional request, 304
		t.Fatalf("without FreshFor: FromCache=%v, %d requests, want a 304 (2)", r.FromCache, hits.Load())
	}
	if r := get(time.Nanosecond); !r.FromCache || hits.Load() != 3 { // stale: asked again
		t.Fatalf("stale copy: FromCache=%v, %d requests, want 3", r.FromCache, hits.Load())
	}
	if c := f.Snapshot()["t"]; c.Requests != 3 || c.Cached != 5 {
		t.Fatalf("counters = %+v, want 3 requests, 5 answered from the cache", c)
	}
}
