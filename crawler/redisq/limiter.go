package redisq

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/afterlife-watch/afterlife/crawler"
)

// reserveScript is GCRA with reservations: each caller is given the earliest instant it may send
// (never before the key's hold, set by Retry-After or backoff) and sleeps until then, so workers
// queue for slots instead of polling. Redis's clock decides, so workers on machines with skewed
// clocks still share one schedule.
// KEYS tat hold; ARGV intervalUs burst maxWaitUs. Returns the wait in microseconds, or -(wait)-1
// when the wait would exceed maxWaitUs (nothing is reserved then).
var reserveScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local T, burst, maxWait = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local s = tat - (burst - 1) * T
if s < now then s = now end
local hold = tonumber(redis.call('GET', KEYS[2]) or '0')
if hold > s then s = hold end
local wait = s - now
if maxWait >= 0 and wait > maxWait then return -wait - 1 end
local nt = tat + T
if s + T > nt then nt = s + T end
redis.call('SET', KEYS[1], tostring(nt), 'PX', math.floor((nt - now) / 1000) + 1000)
return wait
`)

// peekScript: like reserveScript but books nothing. KEYS tat hold; ARGV intervalUs burst.
var peekScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local T, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local s = tat - (burst - 1) * T
local hold = tonumber(redis.call('GET', KEYS[2]) or '0')
if hold > s then s = hold end
if s < now then s = now end
return s - now
`)

// floorScript is the floor under the reservations: right before a request goes out it checks, on
// Redis's clock, that fewer than n of the key's requests may have reached the server within the
// last window, and records this one. Each entry's score bounds when its request reached the
// server: the moment it was answered (answerScript), or, while unanswered, grant + lease. Any n+1
// requests then span at least the window as the server sees them, whatever the delay between a
// grant and the server (a starved machine, a slow accept): the last of them was granted only
// after the first was answered, a window later. Entries scored at the grant (lease 0, Wait) bound
// nothing and rely on the margin instead.
// KEYS log; ARGV windowUs n leaseUs member. Returns {0, 0} when committed, else {wait µs,
// 1 if the binding request is still unanswered (its bound may drop: poll) else 0}.
var floorScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local win, n, lease, member = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - win)
local c = redis.call('ZCARD', KEYS[1])
if c >= n then
  local e = redis.call('ZRANGE', KEYS[1], c - n, c - n, 'WITHSCORES')
  local b = tonumber(e[2])
  local wait = b + win - now
  if wait < 1 then wait = 1 end
  if b > now then return {wait, 1} end
  return {wait, 0}
end
redis.call('ZADD', KEYS[1], now + lease, member)
redis.call('PEXPIRE', KEYS[1], math.floor((lease + win) / 1000) + 1000)
return {0, 0}
`)

// answerScript lowers a granted request's bound to now (it was answered, so the server has seen
// it). KEYS log; ARGV member.
var answerScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
return redis.call('ZADD', KEYS[1], 'XX', 'LT', 'CH', now, ARGV[1])
`)

// holdScript pushes a key's hold forward (never back). KEYS hold; ARGV untilUs.
var holdScript = redis.NewScript(`
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
local u = tonumber(ARGV[1])
if u > cur then
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
  local ttl = math.floor((u - now) / 1000) + 1000
  if ttl < 1000 then ttl = 1000 end
  redis.call('SET', KEYS[1], tostring(u), 'PX', ttl)
end
return 1
`)

// Limiter is a rate limiter shared by every worker on one Redis: per host ("host:example.org") and
// per source ("src:huggingface") keys, each with its own rate and burst, so N workers together
// stay inside one host's limit. It implements crawler.AnsweringLimiter (FetcherOptions.Limiter).
type Limiter struct {
	rdb    redis.UniversalClient
	k      keys
	margin float64
	pat    time.Duration
	lease  time.Duration
	id     string
	seq    atomic.Uint64
}

var _ crawler.AnsweringLimiter = (*Limiter)(nil)

// LimiterConfig tunes a Limiter.
type LimiterConfig struct {
	Prefix string
	// Margin spaces reservations this fraction wider than the configured rate (default 0.02), so
	// the floor (counted from when requests were answered) rarely has to hold a request back.
	// With Wait, which learns no answers, it is the only guard against grant-to-server jitter (up
	// to Margin seconds per 1-second window). Negative means none.
	Margin float64
	// Lease bounds how long an unanswered granted request counts as possibly not yet seen by the
	// server (a worker that died mid-request; default 1 minute).
	Lease time.Duration
	// Patience is how long a call keeps retrying while Redis is unreachable (default 2 minutes).
	Patience time.Duration
}

// DefaultMargin is LimiterConfig.Margin's default.
const DefaultMargin = 0.02

// NewLimiter returns a limiter on rdb.
func NewLimiter(rdb redis.UniversalClient, cfg LimiterConfig) *Limiter {
	if cfg.Margin == 0 {
		cfg.Margin = DefaultMargin
	}
	if cfg.Margin < 0 {
		cfg.Margin = 0
	}
	if cfg.Patience <= 0 {
		cfg.Patience = 2 * time.Minute
	}
	if cfg.Lease <= 0 {
		cfg.Lease = time.Minute
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	return &Limiter{rdb: rdb, k: keys{cleanPrefix(cfg.Prefix)}, margin: cfg.Margin, pat: cfg.Patience, lease: cfg.Lease,
		id: hex.EncodeToString(b[:])}
}

// Reserve books the next slot of key at perSecond (burst requests may go back to back) and
// returns how long to wait before sending. A rate ≤ 0 means unlimited. maxWait < 0 means no bound;
// when the slot is further than maxWait nothing is booked and ok is false.
func (l *Limiter) Reserve(ctx context.Context, key string, perSecond float64, burst int, maxWait time.Duration) (wait time.Duration, ok bool, err error) {
	if perSecond <= 0 {
		return 0, true, nil
	}
	if burst < 1 {
		burst = 1
	}
	interval := int64(1e6 / perSecond * (1 + l.margin))
	if interval < 1 {
		interval = 1
	}
	mw := int64(-1)
	if maxWait >= 0 {
		mw = maxWait.Microseconds()
	}
	var us int64
	err = retry(ctx, l.pat, func() error {
		var err error
		us, err = reserveScript.Run(ctx, l.rdb, []string{l.k.rate(key + ":tat"), l.k.rate(key + ":hold")}, interval, burst, mw).Int64()
		return err
	})
	if err != nil {
		return 0, false, fmt.Errorf("redisq: rate limit %s: %w", key, err)
	}
	if us < 0 {
		return time.Duration(-us-1) * time.Microsecond, false, nil
	}
	return time.Duration(us) * time.Microsecond, true, nil
}

// Wait blocks until key allows one more request at perSecond (burst back to back), or ctx ends.
// It learns no answer, so its floor counts from the grant, widened by the margin; Acquire is exact.
func (l *Limiter) Wait(ctx context.Context, key string, perSecond float64, burst int) error {
	_, err := l.take(ctx, []crawler.Slot{{Key: key, PerSecond: perSecond, Burst: burst}}, 0)
	return err
}

// Acquire takes one slot of each key for one request, whose answer the caller reports with
// answered (once, after the response or the failure): then no window as the server measures it
// ever holds more than the limit, whatever the delay between the grant and the server. It books
// every key's next slot, sleeps until the latest, then confirms each on the floor.
func (l *Limiter) Acquire(ctx context.Context, slots ...crawler.Slot) (answered func(), err error) {
	return l.take(ctx, slots, l.lease)
}

// floorOf is the window the floor enforces for a rate: at most n requests per window, n the
// burst or the requests of one second, whichever is more (capped at 1000 entries).
func floorOf(perSecond float64, burst int) (n int, window time.Duration) {
	n = max(burst, int(perSecond), 1)
	n = min(n, 1000)
	return n, time.Duration(float64(n) / perSecond * float64(time.Second))
}

// pollUnanswered is how often a request held back by an unanswered one looks again.
const pollUnanswered = 10 * time.Millisecond

func (l *Limiter) take(ctx context.Context, slots []crawler.Slot, lease time.Duration) (func(), error) {
	noop := func() {}
	maxWait := time.Duration(-1)
	if dl, ok := ctx.Deadline(); ok {
		maxWait = max(time.Until(dl), 0)
	}
	var sleep time.Duration
	live := slots[:0:0]
	for _, s := range slots {
		if s.PerSecond <= 0 {
			continue
		}
		live = append(live, s)
		wait, ok, err := l.Reserve(ctx, s.Key, s.PerSecond, s.Burst, maxWait)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fmt.Errorf("redisq: rate limit %s: next slot in %v, after the deadline: %w", s.Key, wait.Round(time.Millisecond), context.DeadlineExceeded)
		}
		sleep = max(sleep, wait)
	}
	if len(live) == 0 {
		return noop, nil
	}
	if err := sleepCtx(ctx, sleep); err != nil {
		return nil, err
	}
	member := l.id + "-" + strconv.FormatUint(l.seq.Add(1), 36)
	var logs []string
	answer := func() {
		actx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for _, log := range logs {
			err := retry(actx, 10*time.Second, func() error {
				return answerScript.Run(actx, l.rdb, []string{log}, member).Err()
			})
			if err != nil {
				slog.Warn("redisq: could not record a request's answer; its slot counts until the lease ends", "log", log, "err", err)
			}
		}
	}
	for _, s := range live {
		log := l.k.rate(s.Key + ":sent")
		if err := l.floor(ctx, s, log, member, lease); err != nil {
			if lease > 0 {
				answer() // the request will not go out: free the keys already confirmed
			}
			return nil, err
		}
		logs = append(logs, log)
	}
	if lease <= 0 {
		return noop, nil
	}
	return answer, nil
}

// floor confirms one key's slot on the floor, waiting while the key's last window is full.
func (l *Limiter) floor(ctx context.Context, s crawler.Slot, log, member string, lease time.Duration) error {
	n, win := floorOf(s.PerSecond, s.Burst)
	if lease <= 0 {
		win = time.Duration(float64(win) * (1 + l.margin))
	}
	for {
		var res []int64
		err := retry(ctx, l.pat, func() error {
			var err error
			res, err = floorScript.Run(ctx, l.rdb, []string{log}, win.Microseconds(), n, lease.Microseconds(), member).Int64Slice()
			return err
		})
		if err != nil {
			return fmt.Errorf("redisq: rate limit %s: %w", s.Key, err)
		}
		if len(res) != 2 || res[0] <= 0 {
			return nil
		}
		d := time.Duration(res[0]) * time.Microsecond
		if res[1] == 1 {
			d = min(d, pollUnanswered)
		}
		if err := sleepCtx(ctx, d); err != nil {
			return err
		}
	}
}

// Next returns how long until key has a free slot, booking nothing (0 when free now).
func (l *Limiter) Next(ctx context.Context, key string, perSecond float64, burst int) (time.Duration, error) {
	if perSecond <= 0 {
		return 0, nil
	}
	interval := int64(1e6 / perSecond * (1 + l.margin))
	us, err := peekScript.Run(ctx, l.rdb, []string{l.k.rate(key + ":tat"), l.k.rate(key + ":hold")}, max(interval, 1), max(burst, 1)).Int64()
	if err != nil {
		return 0, fmt.Errorf("redisq: rate limit %s: %w", key, err)
	}
	return time.Duration(us) * time.Microsecond, nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Hold stops key until at least until for every worker (Retry-After, backoff after 429/5xx).
func (l *Limiter) Hold(ctx context.Context, key string, until time.Time) error {
	err := retry(ctx, l.pat, func() error {
		return holdScript.Run(ctx, l.rdb, []string{l.k.rate(key + ":hold")}, until.UnixMicro()).Err()
	})
	if err != nil {
		return fmt.Errorf("redisq: hold %s: %w", key, err)
	}
	return nil
}
