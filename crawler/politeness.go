package crawler

import (
	"context"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Rate is a documented default rate limit for one bucket of a source: the bucket is a rate key
// (Request.RateKey), and the key equal to the source's name is its default bucket.
type Rate struct {
	PerSecond float64 // sustained requests per second
	Burst     int     // bucket size
	Doc       string  // where the number comes from
}

// Rater is implemented by adapters that document their sources' rate limits, per bucket. The
// fetcher builds its buckets from them when the watch config leaves rate at 0.
type Rater interface {
	DefaultRates() map[string]Rate
}

// RatesOf returns a source's documented rates by bucket (nil when it documents none).
func RatesOf(src Source) map[string]Rate {
	if h, ok := src.(Rater); ok {
		return h.DefaultRates()
	}
	return nil
}

// Default politeness when neither the watch config nor the adapter says otherwise.
const (
	DefaultSourceRate  = 2.0 // requests per second per source
	DefaultSourceBurst = 2
	DefaultHostRate    = 2.0 // requests per second per host not named by any source's base_url
	DefaultHostBurst   = 2
	// MaxCrawlDelay caps how far a robots.txt Crawl-delay may slow a host.
	MaxCrawlDelay = 30 * time.Second
)

// bucket is a token bucket plus a "not before" time set by Retry-After / backoff, so one 429 slows
// every worker using the bucket, not only the one that saw it.
type bucket struct {
	lim *rate.Limiter
	mu  sync.Mutex
	nb  time.Time
}

func (b *bucket) hold(until time.Time) {
	b.mu.Lock()
	if until.After(b.nb) {
		b.nb = until
	}
	b.mu.Unlock()
}

func (b *bucket) wait(ctx context.Context) error {
	b.mu.Lock()
	nb := b.nb
	b.mu.Unlock()
	if d := time.Until(nb); d > 0 {
		if err := sleep(ctx, d); err != nil {
			return err
		}
	}
	return b.lim.Wait(ctx)
}

// limiters holds the per-source, per-rate-key and per-host buckets.
type limiters struct {
	mu      sync.Mutex
	buckets map[string]*bucket
	rates   map[string]rate.Limit // configured rate per key ("src:huggingface", "host:example.org")
	bursts  map[string]int
}

func newLimiters() *limiters {
	return &limiters{buckets: map[string]*bucket{}, rates: map[string]rate.Limit{}, bursts: map[string]int{}}
}

// set configures the rate of key (creating or updating its bucket).
func (l *limiters) set(key string, perSecond float64, burst int) {
	if burst < 1 {
		burst = 1
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.rates[key] = rate.Limit(perSecond)
	l.bursts[key] = burst
	if b, ok := l.buckets[key]; ok {
		b.lim.SetLimit(rate.Limit(perSecond))
		b.lim.SetBurst(burst)
	}
}

// get returns key's bucket, created with fallback rate and burst when key was never configured.
func (l *limiters) get(key string, fallback float64, fallbackBurst int) *bucket {
	l.mu.Lock()
	defer l.mu.Unlock()
	if b, ok := l.buckets[key]; ok {
		return b
	}
	r, ok := l.rates[key]
	burst := l.bursts[key]
	if !ok {
		r, burst = rate.Limit(fallback), fallbackBurst
	}
	if burst < 1 {
		burst = 1
	}
	b := &bucket{lim: rate.NewLimiter(r, burst)}
	l.buckets[key] = b
	return b
}

// slowTo lowers key's rate to at most perSecond (a robots.txt Crawl-delay never speeds a host up).
func (l *limiters) slowTo(key string, perSecond float64) {
	b := l.get(key, DefaultHostRate, DefaultHostBurst)
	if b.lim.Limit() > rate.Limit(perSecond) {
		b.lim.SetLimit(rate.Limit(perSecond))
		b.lim.SetBurst(1)
	}
}

// retryAfter parses a Retry-After header (delta seconds or an HTTP date).
func retryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if n, err := strconv.Atoi(v); err == nil {
		if n < 0 {
			n = 0
		}
		return time.Duration(n) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		d := t.Sub(now)
		if d < 0 {
			d = 0
		}
		return d, true
	}
	return 0, false
}

// Backoff is exponential backoff with ±50% jitter: base·2^(attempt-1), capped at max.
func Backoff(attempt int, base, max time.Duration) time.Duration {
	if attempt < 1 {
		attempt = 1
	}
	d := base
	for i := 1; i < attempt && d < max; i++ {
		d *= 2
	}
	if d > max {
		d = max
	}
	j := time.Duration(float64(d) * (0.5 + rand.Float64()))
	if j > max {
		j = max
	}
	return j
}

// retryable reports statuses worth retrying after a wait.
func retryable(status int) bool {
	switch status {
	case http.StatusTooManyRequests, http.StatusServiceUnavailable, http.StatusRequestTimeout,
		http.StatusInternalServerError, http.StatusBadGateway, http.StatusGatewayTimeout:
		return true
	}
	return false
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
