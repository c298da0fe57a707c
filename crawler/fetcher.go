package crawler

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gocolly/colly/v2"

	"github.com/afterlife-watch/afterlife/configs"
)

// FetcherOptions bound and tune an HTTPFetcher. Zero values take the defaults below.
type FetcherOptions struct {
	// UserAgent overrides "Afterlife/<Version> (+<contact>)".
	UserAgent string
	Version   string
	Cache     Cache // validators for conditional requests; nil: none
	Logger    *slog.Logger

	MaxBody         int64         // bytes on the wire per response (default DefaultMaxBody, 16 MiB)
	MaxDecompressed int64         // bytes after gzip decoding (default DefaultMaxBody: a worker's share of the memory budget)
	MaxRedirects    int           // default 5
	Timeout         time.Duration // whole request incl. body (default configs.DefaultRequestTimeout)
	DialTimeout     time.Duration // default 10s

	// MaxAttempts bounds tries per request after 429/5xx/network errors (default 4).
	MaxAttempts int
	// BaseBackoff is the first backoff (default 1s); MaxWait caps any single wait, including a
	// Retry-After: a server asking for longer makes the request fail instead (default 60s).
	BaseBackoff time.Duration
	MaxWait     time.Duration

	// Observer, when set, is told about every request and rate-limit wait (metrics).
	Observer Observer
	// Resolver, when set, resolves host names for the dialer (tests: a hostile DNS server). The
	// guard checks the address the dialer connects to, whatever the resolver answered.
	Resolver *net.Resolver
	// Limiter, when set, replaces the in-process per-source and per-host buckets with a limiter
	// shared by every worker (distributed mode: *redisq.Limiter). Each attempt, retries included,
	// takes its slots on it right before going out; a 429/503 holds the host and source on it.
	Limiter Limiter

	// Record, when set, wraps the transport the fetcher sends through — bounded, gzip already
	// decoded — so it sees every exchange (retries and robots.txt included) as the adapters get it:
	// `afterlife scan --record` puts a cassette there (crawler/cassette). Conditional requests are
	// off while recording (Cache is not used), so the cassettes hold every body and replay into
	// any data directory.
	Record func(http.RoundTripper) http.RoundTripper
	// Replay, when set, answers every request in place of the network (`afterlife scan --replay`:
	// a cassette). No connection is ever dialled, so the dial guard has nothing to check; the
	// fetcher's bounds, decoding and counters still apply. Nothing is waited for: no rate bucket,
	// no backoff, no Retry-After within MaxWait (a longer one still fails the request with a
	// RetryAfterError, as it did when recorded). Conditional requests are off, as with Record.
	// Sources that reach the network outside the fetcher ask Offline and must not.
	Replay http.RoundTripper
}

func (o *FetcherOptions) defaults() {
	if o.MaxBody <= 0 {
		o.MaxBody = DefaultMaxBody
	}
	if o.MaxDecompressed <= 0 {
		o.MaxDecompressed = DefaultMaxBody
	}
	if o.MaxRedirects <= 0 {
		o.MaxRedirects = 5
	}
	if o.Timeout <= 0 {
		o.Timeout = configs.DefaultRequestTimeout
	}
	if o.DialTimeout <= 0 {
		o.DialTimeout = 10 * time.Second
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 4
	}
	if o.BaseBackoff <= 0 {
		o.BaseBackoff = time.Second
	}
	if o.MaxWait <= 0 {
		o.MaxWait = 60 * time.Second
	}
	if o.Version == "" {
		o.Version = "dev"
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
}

// UserAgent builds the User-Agent that names the tool and a contact.
func UserAgent(version, contact string) string {
	if contact == "" {
		return "Afterlife/" + version
	}
	return "Afterlife/" + version + " (+" + contact + ")"
}

// Counters is what one source's requests cost.
type Counters struct {
	Requests      int64 // HTTP requests sent (each retry and robots.txt fetch counts)
	WireBytes     int64 // response body bytes read off the wire (compressed size)
	Cached        int64 // answered 304 Not Modified and served from the validator cache
	Errors        int64 // fetches that failed: network, refused, too large, retries exhausted
	Retries       int64 // waits after 429/5xx/network errors
	RobotsBlocked int64
}

// Sub returns c - o.
func (c Counters) Sub(o Counters) Counters {
	return Counters{c.Requests - o.Requests, c.WireBytes - o.WireBytes, c.Cached - o.Cached,
		c.Errors - o.Errors, c.Retries - o.Retries, c.RobotsBlocked - o.RobotsBlocked}
}

type counters struct{ requests, wire, cached, errors, retries, robots atomic.Int64 }

// HTTPFetcher is the polite Fetcher: colly v2 underneath, per-host and per-source token buckets,
// Retry-After and backoff, robots.txt for pages, conditional requests, bounded bodies, redirects
// and time, and a dial guard against internal addresses. Safe for concurrent use.
type HTTPFetcher struct {
	opts       FetcherOptions
	ua         string
	politeOff  bool
	base       *colly.Collector
	collectors sync.Pool // *pooledCollector: clones of base, one request at a time each
	lim        *limiters
	robots     *robotsCache
	srcRate    map[string]configs.SourceConfig
	mu         sync.Mutex
	stats      map[string]*counters
	hostRateOf map[string]float64 // host -> fastest configured source rate on it
	inflight   inFlight           // per-source concurrency caps (SourceLimits.MaxInFlight)
}

// NewFetcher builds a fetcher for a watch plan.
func NewFetcher(w *configs.Watch, opts FetcherOptions) (*HTTPFetcher, error) {
	opts.defaults()
	if w == nil {
		w = &configs.Watch{}
	}
	ua := opts.UserAgent
	if ua == "" {
		ua = w.UserAgent
	}
	if ua == "" {
		ua = UserAgent(opts.Version, w.Contact)
	}
	if opts.Record != nil || opts.Replay != nil {
		opts.Cache = nil // a cassette must hold every body: no 304 answered from a local cache
	}
	var network http.RoundTripper = opts.Replay
	if network == nil {
		guard := Guard{AllowLoopback: w.AllowLoopback, AllowPrivate: w.AllowPrivate}
		dialer := guard.Dialer(opts.DialTimeout)
		if opts.Resolver != nil {
			dialer.Resolver = opts.Resolver
		}
		network = &http.Transport{
			Proxy:                 nil, // a proxy would bypass the dial guard
			DialContext:           dialer.DialContext,
			TLSHandshakeTimeout:   10 * time.Second,
			ResponseHeaderTimeout: opts.Timeout,
			MaxIdleConnsPerHost:   4,
			IdleConnTimeout:       90 * time.Second,
			DisableCompression:    true, // meteredTransport decodes gzip with a bound
			ForceAttemptHTTP2:     true,
		}
	}
	var transport http.RoundTripper = &meteredTransport{base: network, maxWire: opts.MaxBody, maxDecoded: opts.MaxDecompressed}
	if opts.Record != nil {
		transport = opts.Record(transport)
	}
	client := &http.Client{
		Transport: transport,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) > opts.MaxRedirects {
				return fmt.Errorf("%w: more than %d", ErrTooManyRedirects, opts.MaxRedirects)
			}
			if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
				return fmt.Errorf("redirect to %q: only http(s) is followed", req.URL.Scheme)
			}
			if req.URL.Host != via[len(via)-1].URL.Host {
				req.Header.Del("Authorization")
			}
			return nil
		},
	}
	c := colly.NewCollector(
		colly.UserAgent(ua),
		colly.AllowURLRevisit(),        // the frontier owns dedup
		colly.ParseHTTPErrorResponse(), // every status comes back as a response
		colly.IgnoreRobotsTxt(),        // robots.txt is ours: rate-limited, guarded, deferred on 5xx
		colly.MaxBodySize(int(opts.MaxDecompressed)+1),
	)
	c.SetClient(client)
	c.SetRequestTimeout(opts.Timeout)
	c.DisableCookies()

	f := &HTTPFetcher{opts: opts, ua: ua, politeOff: w.PolitenessOff || opts.Replay != nil, base: c, lim: newLimiters(),
		robots: newRobotsCache(), srcRate: map[string]configs.SourceConfig{}, stats: map[string]*counters{},
		hostRateOf: map[string]float64{}}
	for name, sc := range w.Sources {
		f.srcRate[name] = sc
		if sc.Rate > 0 {
			f.lim.set("src:"+name, sc.Rate, sc.Burst)
		}
		if u, err := url.Parse(sc.BaseURL); err == nil && u.Host != "" {
			r := sc.Rate
			if r <= 0 {
				r = DefaultSourceRate
			}
			if r > f.hostRateOf[u.Host] {
				f.hostRateOf[u.Host] = r
				b := sc.Burst
				if b < DefaultHostBurst {
					b = DefaultHostBurst
				}
				f.lim.set("host:"+u.Host, r, b)
			}
		}
	}
	return f, nil
}

// Offline reports whether the fetcher answers from recordings (FetcherOptions.Replay): a source
// must then reach nothing outside it (UDP trackers, announces). See IsOffline.
func (f *HTTPFetcher) Offline() bool { return f.opts.Replay != nil }

// pause waits d, or not at all when replaying: recorded answers need no waiting.
func (f *HTTPFetcher) pause(ctx context.Context, d time.Duration) error {
	if f.opts.Replay != nil {
		return ctx.Err()
	}
	return sleep(ctx, d)
}

// UserAgentString is the User-Agent the fetcher sends.
func (f *HTTPFetcher) UserAgentString() string { return f.ua }

// SetRate sets the documented rate of a source (key = source name) or of a sub-bucket (key = a
// Request.RateKey such as "github/search-code"). A rate set in the watch config for the source wins
// over documented defaults, for the source and its sub-buckets alike.
func (f *HTTPFetcher) SetRate(key string, perSecond float64, burst int) {
	src := key
	if i := strings.IndexByte(key, '/'); i > 0 {
		src = key[:i]
	}
	if sc, ok := f.srcRate[src]; ok && sc.Rate > 0 {
		return
	}
	if perSecond > 0 {
		f.lim.set("src:"+key, perSecond, burst)
		f.raiseHost(src, perSecond, burst)
	}
}

// raiseHost lets the host bucket of source's base_url go as fast as the fastest of the source's
// buckets: the host bucket only bounds the sum, and a sub-bucket faster than the source's default
// (Hugging Face's resolver) must not be held to the default's rate by it.
func (f *HTTPFetcher) raiseHost(source string, perSecond float64, burst int) {
	u, err := url.Parse(f.srcRate[source].BaseURL)
	if err != nil || u.Host == "" {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if perSecond > f.hostRateOf[u.Host] {
		f.hostRateOf[u.Host] = perSecond
		f.lim.set("host:"+u.Host, perSecond, max(burst, DefaultHostBurst))
	}
}

// bucketKey is the one rate bucket a request waits on besides its host: its sub-bucket
// (Request.RateKey) when it has one, else its source's default bucket. A sub-bucket is a separate
// budget at the service (GitHub search vs core, Hugging Face resolver vs API): waiting on the
// default bucket too would hold anonymous GitHub search to the 60/hour core rate.
func bucketKey(source, rateKey string) string {
	if rateKey != "" {
		return "src:" + rateKey
	}
	return "src:" + source
}

func (f *HTTPFetcher) counters(source string) *counters {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.stats[source]
	if !ok {
		c = &counters{}
		f.stats[source] = c
	}
	return c
}

// Snapshot returns every source's counters so far.
func (f *HTTPFetcher) Snapshot() map[string]Counters {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[string]Counters, len(f.stats))
	for k, c := range f.stats {
		out[k] = Counters{c.requests.Load(), c.wire.Load(), c.cached.Load(), c.errors.Load(), c.retries.Load(), c.robots.Load()}
	}
	return out
}

// waitTurn waits for the request's own bucket (its sub-bucket, else the source's default bucket;
// see bucketKey) and the host bucket: the shared Limiter's when set, else the in-process ones.
// The returned func reports the attempt answered (call it once the response or the failure is in).
func (f *HTTPFetcher) waitTurn(ctx context.Context, source, rateKey, host string) (func(), error) {
	if f.politeOff {
		return func() {}, nil
	}
	if f.opts.Limiter != nil {
		return f.sharedTurn(ctx, source, rateKey, host)
	}
	sc := f.srcRate[source]
	if err := f.lim.get(bucketKey(source, rateKey), orRate(sc.Rate), orBurst(sc.Burst)).wait(ctx); err != nil {
		return nil, err
	}
	return func() {}, f.lim.get("host:"+host, DefaultHostRate, DefaultHostBurst).wait(ctx)
}

func orRate(r float64) float64 {
	if r > 0 {
		return r
	}
	return DefaultSourceRate
}

func orBurst(b int) int {
	if b > 0 {
		return b
	}
	return DefaultSourceBurst
}

// Fetch performs req politely. Any HTTP status comes back as a Response; network failures,
// refusals, bounds and exhausted retries are errors.
func (f *HTTPFetcher) Fetch(ctx context.Context, req Request) (*Response, error) {
	start := time.Now()
	st := f.counters(req.Source)
	u, err := url.Parse(req.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		st.errors.Add(1)
		return nil, &StatusError{URL: req.URL, Msg: "not an http(s) URL"}
	}
	method := req.Method
	if method == "" {
		method = http.MethodGet
	}
	// Secrets in the query (an API key) stay out of logs, errors and cache keys.
	secrets := secretValues(u, req.Redact)
	cacheKey := req.URL
	if len(secrets) > 0 {
		cacheKey = RedactURL(req.URL, req.Redact...)
	}
	wireMax, decodedMax := f.bodyLimits(req)
	// The stored copy: its validators make the request conditional, and with FreshFor a young
	// enough copy answers without any request.
	var cached CachedResponse
	haveCached := false
	if f.opts.Cache != nil && method == http.MethodGet && !req.NoConditional {
		c, ok, err := f.opts.Cache.Lookup(ctx, cacheKey)
		if err != nil {
			f.logFor(req).Warn("validator cache lookup failed", "url", RedactURL(req.URL, req.Redact...), "err", err)
		} else if ok && (c.ETag != "" || c.LastModified != "") {
			cached, haveCached = c, true
		}
	}
	if haveCached && req.FreshFor > 0 && cached.Status >= 200 && cached.Status < 300 && !cached.Stored.IsZero() && time.Since(cached.Stored) < req.FreshFor {
		st.cached.Add(1)
		h := http.Header{}
		if cached.ContentType != "" {
			h.Set("Content-Type", cached.ContentType)
		}
		return &Response{URL: req.URL, Status: cached.Status, Header: h, Body: cached.Body, FromCache: true, Elapsed: time.Since(start)}, nil
	}
	if req.Robots {
		err := f.robots.allowed(ctx, u, f.ua, func(ctx context.Context, ru string) (int, []byte, error) {
			r, err := f.attempts(ctx, f.logFor(req), req.Source, "", u.Host, http.MethodGet, ru, http.Header{}, nil, st, f.opts.MaxBody, robotsMaxBody, nil)
			if err != nil {
				return 0, nil, err
			}
			return r.Status, r.Body, nil
		}, func(host string, d time.Duration) {
			if d > MaxCrawlDelay {
				d = MaxCrawlDelay
			}
			f.lim.slowTo("host:"+host, 1/d.Seconds())
		})
		if err != nil {
			if errors.Is(err, ErrRobotsDisallowed) {
				st.robots.Add(1)
			} else {
				st.errors.Add(1)
			}
			return nil, err
		}
	}
	hdr := http.Header{}
	for k, v := range req.Header {
		hdr[k] = append([]string(nil), v...)
	}
	hdr.Set("User-Agent", f.ua)
	if haveCached {
		if cached.ETag != "" {
			hdr.Set("If-None-Match", cached.ETag)
		}
		if cached.LastModified != "" {
			hdr.Set("If-Modified-Since", cached.LastModified)
		}
	}
	resp, err := f.attempts(ctx, f.logFor(req), req.Source, req.RateKey, u.Host, method, req.URL, hdr, req.Body, st, wireMax, decodedMax, req.Redact)
	if err != nil {
		st.errors.Add(1)
		return nil, redactErr(err, secrets, req.Redact)
	}
	resp.Elapsed = time.Since(start)
	if resp.Status == http.StatusNotModified && haveCached {
		st.cached.Add(1)
		resp.FromCache = true
		resp.Status = cached.Status
		resp.Body = cached.Body
		if cached.ContentType != "" && resp.Header.Get("Content-Type") == "" {
			resp.Header.Set("Content-Type", cached.ContentType)
		}
		return resp, nil
	}
	if f.opts.Cache != nil && method == http.MethodGet && resp.Status >= 200 && resp.Status < 300 {
		et, lm := resp.Header.Get("ETag"), resp.Header.Get("Last-Modified")
		if et != "" || lm != "" {
			err := f.opts.Cache.Store(ctx, cacheKey, CachedResponse{ETag: et, LastModified: lm, Status: resp.Status,
				ContentType: resp.Header.Get("Content-Type"), Body: resp.Body, Stored: time.Now()})
			if err != nil {
				f.logFor(req).Warn("validator cache store failed", "url", RedactURL(req.URL, req.Redact...), "err", err)
			}
		}
	}
	return resp, nil
}

// attempts sends one request, retrying after 429/503/5xx/network errors with Retry-After or
// exponential backoff and jitter, bounded in count and in each wait.
func (f *HTTPFetcher) attempts(ctx context.Context, log *slog.Logger, source, rateKey, host, method, rawURL string, hdr http.Header,
	body []byte, st *counters, maxWire, maxBody int64, redact []string) (*Response, error) {
	var wire int64
	for attempt := 1; ; attempt++ {
		waitStart := time.Now()
		var release, answered func()
		var err error
		if f.opts.Limiter != nil {
			// Shared slots are taken last, right before the request goes out.
			if release, err = f.inflight.acquire(ctx, source, f.maxInFlight(source)); err != nil {
				return nil, fmt.Errorf("%s %s: waiting for a connection slot: %w", method, rawURL, err)
			}
			if answered, err = f.waitTurn(ctx, source, rateKey, host); err != nil {
				release()
				return nil, fmt.Errorf("%s %s: waiting for rate limit: %w", method, rawURL, err)
			}
		} else {
			if answered, err = f.waitTurn(ctx, source, rateKey, host); err != nil {
				return nil, fmt.Errorf("%s %s: waiting for rate limit: %w", method, rawURL, err)
			}
			if release, err = f.inflight.acquire(ctx, source, f.maxInFlight(source)); err != nil {
				return nil, fmt.Errorf("%s %s: waiting for a connection slot: %w", method, rawURL, err)
			}
		}
		if waited := time.Since(waitStart); waited > time.Millisecond && f.opts.Observer != nil {
			f.opts.Observer.ObserveRateWait(source, waited)
		}
		st.requests.Add(1)
		sent := time.Now()
		resp, n, err := f.once(ctx, method, rawURL, hdr, body, maxWire, maxBody)
		answered()
		release()
		if f.opts.Observer != nil {
			status := 0
			if resp != nil {
				status = resp.Status
			}
			f.opts.Observer.ObserveRequest(source, host, status, n, time.Since(sent), err)
		}
		wire += n
		st.wire.Add(n)
		if err != nil {
			if ctx.Err() != nil || !transientNetErr(err) || attempt >= f.opts.MaxAttempts {
				if attempt > 1 {
					return nil, fmt.Errorf("%s %s: gave up after %d attempts: %w", method, rawURL, attempt, err)
				}
				return nil, fmt.Errorf("%s %s: %w", method, rawURL, err)
			}
			st.retries.Add(1)
			backoff := Backoff(attempt, f.opts.BaseBackoff, f.opts.MaxWait)
			if f.opts.Observer != nil {
				f.opts.Observer.ObserveRateWait(source, backoff)
			}
			if err := f.pause(ctx, backoff); err != nil {
				return nil, err
			}
			continue
		}
		resp.WireBytes, resp.Attempts = wire, attempt
		if !retryable(resp.Status) {
			return resp, nil
		}
		wait, hasRA := retryAfter(resp.Header, time.Now())
		if hasRA && wait > f.opts.MaxWait {
			return nil, &RetryAfterError{StatusError: &StatusError{URL: rawURL, Status: resp.Status,
				Msg: fmt.Sprintf("Retry-After %s exceeds the fetcher's %s wait cap", wait.Round(time.Second), f.opts.MaxWait)}, Wait: wait}
		}
		if attempt >= f.opts.MaxAttempts {
			return nil, &StatusError{URL: rawURL, Status: resp.Status, Msg: fmt.Sprintf("gave up after %d attempts", attempt)}
		}
		if !hasRA {
			wait = Backoff(attempt, f.opts.BaseBackoff, f.opts.MaxWait)
		}
		if resp.Status == http.StatusTooManyRequests || resp.Status == http.StatusServiceUnavailable {
			// The server asked to slow down: hold the request's own bucket, and the host unless
			// the request is in a sub-bucket (a search limit says nothing of the core budget).
			until := time.Now().Add(wait)
			if rateKey == "" {
				f.lim.get("host:"+host, DefaultHostRate, DefaultHostBurst).hold(until)
			}
			sc := f.srcRate[source]
			f.lim.get(bucketKey(source, rateKey), orRate(sc.Rate), orBurst(sc.Burst)).hold(until)
			if f.opts.Limiter != nil {
				f.sharedHold(ctx, source, rateKey, host, until)
			}
		}
		log.Debug("retrying after status", "source", source, "url", RedactURL(rawURL, redact...), "status", resp.Status,
			"attempt", attempt, "wait", wait)
		st.retries.Add(1)
		if f.opts.Observer != nil {
			f.opts.Observer.ObserveRateWait(source, wait)
		}
		if err := f.pause(ctx, wait); err != nil {
			return nil, err
		}
	}
}

// bodyLimits is req's response-size bound on the wire and decoded: Request.MaxBody, else the
// watch config's sources.NAME.max_body, else the adapter's SourceLimits, else the defaults. A
// raised wire bound raises the decoded bound with it.
func (f *HTTPFetcher) bodyLimits(req Request) (wire, decoded int64) {
	l := req.MaxBody
	if l <= 0 {
		l = f.srcRate[req.Source].MaxBody
	}
	if l <= 0 {
		l = LimitsOf(req.Source).MaxBody
	}
	if l <= 0 {
		return f.opts.MaxBody, f.opts.MaxDecompressed
	}
	return l, max(l, f.opts.MaxDecompressed)
}

// MaxInFlight is source's concurrency cap: the watch config's, else the adapter's (0: none). The
// run loop claims no more jobs of a source than it may have requests in flight.
func (f *HTTPFetcher) MaxInFlight(source string) int { return f.maxInFlight(source) }

// maxInFlight is source's concurrency cap: the watch config's, else the adapter's (0: none).
func (f *HTTPFetcher) maxInFlight(source string) int {
	if n := f.srcRate[source].MaxInFlight; n > 0 {
		return n
	}
	return LimitsOf(source).MaxInFlight
}

// once sends exactly one request through colly.
func (f *HTTPFetcher) once(ctx context.Context, method, rawURL string, hdr http.Header, body []byte, maxWire, maxBody int64) (*Response, int64, error) {
	var wire atomic.Int64
	ctx, cancel := context.WithTimeout(ctx, f.opts.Timeout)
	defer cancel()
	p := f.collector()
	defer f.release(p)
	c := p.c
	c.Context = withWireCounter(ctx, &wire)
	c.MaxBodySize = int(f.opts.MaxDecompressed) + 1
	if maxWire != f.opts.MaxBody || maxBody > f.opts.MaxDecompressed {
		c.Context = withBodyLimits(c.Context, maxWire, max(maxBody, f.opts.MaxDecompressed))
		c.MaxBodySize = int(max(maxBody, f.opts.MaxDecompressed)) + 1
	}
	var rd io.Reader
	if len(body) > 0 {
		rd = bytes.NewReader(body)
	}
	h := hdr.Clone()
	err := c.Request(method, rawURL, rd, nil, h)
	got := p.got
	if err != nil {
		return nil, wire.Load(), err
	}
	if got == nil {
		return nil, wire.Load(), fmt.Errorf("%s %s: no response", method, rawURL)
	}
	if int64(len(got.Body)) > maxBody {
		return nil, wire.Load(), fmt.Errorf("%w: %d bytes, limit %d", ErrBodyTooLarge, len(got.Body), maxBody)
	}
	out := &Response{URL: got.Request.URL.String(), Status: got.StatusCode, Body: got.Body, Header: http.Header{}}
	if got.Headers != nil {
		out.Header = *got.Headers // this response's own map (colly points at http.Response.Header): no copy needed
	}
	return out, wire.Load(), nil
}

// pooledCollector is a clone of the base collector with its response callback registered once,
// reused by one request at a time: the request's context (cancellation, wire counter, body
// limits) goes in Context, the response comes back in got. No collector is cloned per request.
type pooledCollector struct {
	c   *colly.Collector
	got *colly.Response
}

func (f *HTTPFetcher) collector() *pooledCollector {
	if p, ok := f.collectors.Get().(*pooledCollector); ok {
		return p
	}
	p := &pooledCollector{c: f.base.Clone()}
	p.c.OnResponse(func(r *colly.Response) { p.got = r })
	return p
}

// release drops what the request left in p (its context, its response) and pools it.
func (f *HTTPFetcher) release(p *pooledCollector) {
	p.got = nil
	p.c.Context = context.Background()
	f.collectors.Put(p)
}

// RetryAfterError is a response that asked to be retried later than the fetcher waits in line
// (Retry-After beyond MaxWait): the job should come back after Wait, through the frontier.
type RetryAfterError struct {
	*StatusError
	Wait time.Duration
}

// RetryAfter is how long the server asked to wait.
func (e *RetryAfterError) RetryAfter() time.Duration { return e.Wait }

// Unwrap exposes the StatusError.
func (e *RetryAfterError) Unwrap() error { return e.StatusError }

// transientNetErr reports network failures worth retrying at once (timeouts, resets), as opposed
// to refusals by the guard, bounds, unknown hosts, bad URLs and refused connections (a host that is
// down stays down for a while: the job is retried later through the frontier instead).
func transientNetErr(err error) bool {
	if errors.Is(err, ErrBlockedAddress) || errors.Is(err, ErrBodyTooLarge) || errors.Is(err, ErrTooManyRedirects) ||
		errors.Is(err, context.Canceled) || errors.Is(err, syscall.ECONNREFUSED) {
		return false
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return dnsErr.IsTemporary || dnsErr.IsTimeout
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	var op *net.OpError
	if errors.As(err, &op) {
		return true
	}
	s := err.Error()
	return strings.Contains(s, "connection reset") || strings.Contains(s, "EOF")
}

// Permanent reports errors that retrying the same job will not fix: 4xx statuses, the dial guard,
// robots.txt, size and redirect bounds, malformed URLs, unknown hosts, and what a replay cannot
// answer (ErrOffline, ErrNotRecorded).
func Permanent(err error) bool {
	var se *StatusError
	if errors.As(err, &se) {
		return se.Permanent() || se.Status == 0
	}
	if errors.Is(err, ErrBlockedAddress) || errors.Is(err, ErrRobotsDisallowed) || errors.Is(err, ErrBodyTooLarge) ||
		errors.Is(err, ErrTooManyRedirects) || errors.Is(err, ErrOffline) || errors.Is(err, ErrNotRecorded) {
		return true
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) && dnsErr.IsNotFound {
		return true
	}
	return false
}
