package crawler

import (
	"context"
	"time"
)

// Limiter is a rate limiter shared beyond this process (the distributed mode's Redis limiter,
// redisq.Limiter). Set as FetcherOptions.Limiter it replaces the fetcher's in-process buckets:
// every attempt of every request, retries included, waits on it with the same keys ("src:NAME",
// "src:NAME/SUB", "host:HOST") and rates, and a 429/503 holds the host and the source for all.
type Limiter interface {
	// Wait blocks until key allows one more request at perSecond (burst back to back), or ctx ends.
	Wait(ctx context.Context, key string, perSecond float64, burst int) error
	// Hold stops key until at least until for every user of the limiter.
	Hold(ctx context.Context, key string, until time.Time) error
}

// AnsweringLimiter is a Limiter that also wants to know when each granted request was answered.
// The answer is an upper bound of when the server saw the request, so a limiter can count its
// windows from the server's side and never let jitter between the grant and the server (a
// starved machine, a slow accept) beat a limit. Acquire takes one slot of every key for one
// request (books them all, then confirms them all right before returning); the fetcher calls
// answered once, after the attempt's response (or failure).
type AnsweringLimiter interface {
	Limiter
	Acquire(ctx context.Context, slots ...Slot) (answered func(), err error)
}

// Slot is one key's share of a request: the key and its rate.
type Slot struct {
	Key       string
	PerSecond float64
	Burst     int
}

// limitOf is key's current rate and burst (configured, else the fallback; a robots.txt
// Crawl-delay may have slowed it).
func (l *limiters) limitOf(key string, fallback float64, fallbackBurst int) (float64, int) {
	b := l.get(key, fallback, fallbackBurst)
	return float64(b.lim.Limit()), b.lim.Burst()
}

// sharedTurn waits for the request's own bucket (bucketKey) and the host on the shared limiter.
// The returned func reports the attempt answered to an AnsweringLimiter (call it exactly once).
func (f *HTTPFetcher) sharedTurn(ctx context.Context, source, rateKey, host string) (func(), error) {
	sc := f.srcRate[source]
	var slots []Slot
	key := bucketKey(source, rateKey)
	r, b := f.lim.limitOf(key, orRate(sc.Rate), orBurst(sc.Burst))
	slots = append(slots, Slot{key, r, b})
	r, b = f.lim.limitOf("host:"+host, DefaultHostRate, DefaultHostBurst)
	slots = append(slots, Slot{"host:" + host, r, b})
	if al, ok := f.opts.Limiter.(AnsweringLimiter); ok {
		return al.Acquire(ctx, slots...)
	}
	for _, s := range slots {
		if err := f.opts.Limiter.Wait(ctx, s.Key, s.PerSecond, s.Burst); err != nil {
			return nil, err
		}
	}
	return func() {}, nil
}

// sharedHold holds the request's own bucket, and the host unless it is a sub-bucket's request, on
// the shared limiter (a 429/503).
func (f *HTTPFetcher) sharedHold(ctx context.Context, source, rateKey, host string, until time.Time) {
	keys := []string{bucketKey(source, rateKey)}
	if rateKey == "" {
		keys = append(keys, "host:"+host)
	}
	for _, key := range keys {
		if err := f.opts.Limiter.Hold(ctx, key, until); err != nil {
			f.opts.Logger.Warn("shared rate limit hold failed", "key", key, "err", err)
		}
	}
}
