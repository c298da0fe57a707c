package crawler

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// The memory budget of a crawling process is about 128 MiB plus DefaultWorkerMemory per worker
// (docs/operations.md). A worker holds one response at a time, and reading a body costs up to
// readAllFactor times its size while io.ReadAll grows its buffer and the adapter decodes it: so
// one response may be at most DefaultWorkerMemory/readAllFactor bytes — on the wire and, for gzip,
// decoded. The 250:1 ratio check only cuts bombs early; a body compressed 77:1 is held to this
// bound too.
const (
	DefaultWorkerMemory = 64 << 20
	readAllFactor       = 4
	// DefaultMaxBody is the default bound on one response, on the wire and decoded (16 MiB).
	DefaultMaxBody = DefaultWorkerMemory / readAllFactor
)

// SourceLimits are per-source bounds an adapter may declare (SetSourceLimits, from its init) and
// the watch config may override (sources.NAME.max_body, sources.NAME.max_in_flight).
type SourceLimits struct {
	// MaxInFlight caps the source's concurrent requests in one process, whatever the worker count
	// (arXiv asks for one connection at a time). 0: no cap beyond the rate limit.
	MaxInFlight int
	// MaxBody raises (or lowers) the response-size bound for the source, on the wire and decoded
	// (Academic Torrents' database.xml is tens of MB). 0: the fetcher's defaults.
	MaxBody int64
}

var (
	limitsMu      sync.RWMutex
	sourceLimitOf = map[string]SourceLimits{}
)

// SetSourceLimits declares a source's documented limits; adapters call it from init.
func SetSourceLimits(source string, l SourceLimits) {
	limitsMu.Lock()
	sourceLimitOf[source] = l
	limitsMu.Unlock()
}

// LimitsOf returns the limits declared for source.
func LimitsOf(source string) SourceLimits {
	limitsMu.RLock()
	defer limitsMu.RUnlock()
	return sourceLimitOf[source]
}

// inFlight is a per-source semaphore set.
type inFlight struct {
	mu   sync.Mutex
	sems map[string]chan struct{}
}

// acquire takes a slot of source's semaphore (size n) and returns its release. n <= 0: no cap.
func (f *inFlight) acquire(ctx context.Context, source string, n int) (func(), error) {
	if n <= 0 {
		return func() {}, nil
	}
	f.mu.Lock()
	if f.sems == nil {
		f.sems = map[string]chan struct{}{}
	}
	s, ok := f.sems[source]
	if !ok {
		s = make(chan struct{}, n)
		f.sems[source] = s
	}
	f.mu.Unlock()
	select {
	case s <- struct{}{}:
		return func() { <-s }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Observer receives what every request cost; metrics implement it. Methods must be cheap and safe
// for concurrent use. url is redacted.
type Observer interface {
	// ObserveRequest is called once per HTTP request sent (retries included). status is 0 when
	// the request failed without a response (err says why).
	ObserveRequest(source, host string, status int, wireBytes int64, elapsed time.Duration, err error)
	// ObserveRateWait is called when a request waited for a rate limit, Retry-After or backoff.
	ObserveRateWait(source string, waited time.Duration)
}

// logFor is the logger of req: its own (the job's, with run_id and job_id) or the fetcher's.
func (f *HTTPFetcher) logFor(req Request) *slog.Logger {
	if req.Log != nil {
		return req.Log
	}
	return f.opts.Logger
}

// WithLog returns f with every request logged through log (a worker passes its job's logger,
// carrying run_id and job_id), passed explicitly rather than in a context value.
func WithLog(f Fetcher, log *slog.Logger) Fetcher { return logFetcher{f, log} }

type logFetcher struct {
	f   Fetcher
	log *slog.Logger
}

func (l logFetcher) Fetch(ctx context.Context, req Request) (*Response, error) {
	if req.Log == nil {
		req.Log = l.log
	}
	return l.f.Fetch(ctx, req)
}

// BodyCounts is the fetcher's accounting of response bodies being read in this process: bytes
// handed to readers (decoded, for gzip) by reads not yet closed, the peak of that sum since
// ResetBodyCounts, and the most bytes any one read handed out. With every read bounded by its
// decoded bound, Peak stays under the sum of the bounds of the reads in flight: workers ×
// DefaultMaxBody for sources on the defaults (docs/operations.md).
type BodyCounts struct {
	InFlight, Peak, MaxOne int64
	Reads                  int64
}

type bodyMeter struct {
	inFlight, peak, maxOne, reads atomic.Int64
}

var bodies bodyMeter

// BodyStats returns the process's body accounting.
func BodyStats() BodyCounts {
	return BodyCounts{InFlight: bodies.inFlight.Load(), Peak: bodies.peak.Load(), MaxOne: bodies.maxOne.Load(), Reads: bodies.reads.Load()}
}

// ResetBodyCounts starts a new peak (bytes of reads still open stay counted).
func ResetBodyCounts() {
	bodies.peak.Store(bodies.inFlight.Load())
	bodies.maxOne.Store(0)
	bodies.reads.Store(0)
}

// meteredBody counts what its reader hands out into bodies until it is closed.
type meteredBody struct {
	r      io.ReadCloser
	n      atomic.Int64
	closed atomic.Bool
}

func newMeteredBody(r io.ReadCloser) *meteredBody {
	bodies.reads.Add(1)
	return &meteredBody{r: r}
}

func (m *meteredBody) Read(p []byte) (int, error) {
	k, err := m.r.Read(p)
	if k > 0 && !m.closed.Load() {
		storeMax(&bodies.maxOne, m.n.Add(int64(k)))
		storeMax(&bodies.peak, bodies.inFlight.Add(int64(k)))
	}
	return k, err
}

func (m *meteredBody) Close() error {
	if m.closed.CompareAndSwap(false, true) {
		bodies.inFlight.Add(-m.n.Load())
	}
	return m.r.Close()
}
