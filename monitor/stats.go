package monitor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/afterlife-watch/afterlife/crawler"
	"github.com/afterlife-watch/afterlife/reports"
)

// SourceProgress is what one process has seen of one source in this run.
type SourceProgress struct {
	Name         string
	Jobs         int64 // jobs handled successfully
	Errors       int64 // failed job attempts
	Artifacts    int64
	NewSightings int64
	Requests     int64
	WireBytes    int64
	Cached       int64
	LastError    string
}

type sourceState struct {
	p           SourceProgress
	unflushed   reports.SourceStat // job-level deltas not yet sent to the recorder
	msgDirty    bool
	notes       []string
	consecutive int // failed jobs since the last success (circuit breaker)
	everOK      bool
	cause       string // the last error that fed the breaker
	broken      bool   // the breaker opened (logged once)
	jobs        int    // follow-up jobs enqueued in this run (the job budget)
	dropped     int    // follow-up jobs dropped over the budget
	budget      int    // the budget (for the message)
}

// StatSink takes a source's counter deltas (every Recorder is one).
type StatSink interface {
	AddSourceStat(ctx context.Context, runID string, delta reports.SourceStat) error
}

// Stats accumulates per-source counters for the workers of one process and flushes deltas to the
// Recorder (AddSourceStat adds, so several processes can report into one run).
type Stats struct {
	// flushMu serialises flushes, so deltas (and the source message, which replaces the stored
	// one) reach the recorder in the order they were taken.
	flushMu   sync.Mutex
	mu        sync.Mutex
	lastFlush time.Time // guarded by mu
	counters  CounterSource
	flushed   map[string]crawler.Counters // fetcher counters already reported
	sources   map[string]*sourceState
	fatal     error // guarded by mu: an error that stops every worker of the process (a full backend)
}

// NewStats tracks job outcomes, and fetch cost when f counts it (CounterSource).
func NewStats(f crawler.Fetcher) *Stats {
	s := &Stats{flushed: map[string]crawler.Counters{}, sources: map[string]*sourceState{}}
	if cs, ok := f.(CounterSource); ok {
		s.counters = cs
	}
	return s
}

func (s *Stats) src(name string) *sourceState {
	st, ok := s.sources[name]
	if !ok {
		st = &sourceState{p: SourceProgress{Name: name}}
		s.sources[name] = st
	}
	return st
}

func (s *Stats) jobDone(source string, artifacts int, notes []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.src(source)
	st.p.Jobs++
	st.p.Artifacts += int64(artifacts)
	st.unflushed.Artifacts += int64(artifacts)
	st.consecutive = 0
	st.everOK = true
	for _, n := range notes {
		if n != "" && !contains(st.notes, n) && len(st.notes) < 10 {
			st.notes = append(st.notes, n)
			st.msgDirty = true
		}
	}
}

// reserveJobs takes up to n follow-up jobs of source's budget (max; <0: none) and returns how many
// it granted. A negative n gives jobs back (duplicates the frontier ignored, a failed enqueue).
func (s *Stats) reserveJobs(source string, n, limit int) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.src(source)
	st.budget = limit
	if n < 0 || limit < 0 {
		st.jobs = st.jobs + n
		if st.jobs < 0 {
			st.jobs = 0
		}
		return n
	}
	if left := limit - st.jobs; n > left {
		n = max(left, 0)
	}
	st.jobs += n
	return n
}

// overBudget counts follow-up jobs dropped over the budget, and reports whether they are the first.
func (s *Stats) overBudget(source string, n int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.src(source)
	first := st.dropped == 0
	st.dropped += n
	st.msgDirty = true
	return first
}

// Dropped is how many follow-up jobs of source were dropped over its job budget in this process.
func (s *Stats) Dropped(source string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.src(source).dropped
}

// setFatal records an error that stops the process's workers; it reports whether it is the first.
func (s *Stats) setFatal(err error) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fatal != nil {
		return false
	}
	s.fatal = err
	return true
}

// Fatal is the error that stopped the process's workers, if any (ErrBackendFull).
func (s *Stats) Fatal() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fatal
}

func (s *Stats) sightings(source string, n int) {
	s.mu.Lock()
	s.src(source).p.NewSightings += int64(n)
	s.mu.Unlock()
}

// jobFailed feeds the circuit breaker, which is for sources that cannot be reached: failures a
// retry might cure elsewhere (network, 5xx, bad responses) count; a 4xx for one item (a model
// deleted since the listing) does not; and a rate limit (429, or any answer saying when to come
// back: a Retry-After, a budget reset) proves the service is there, so it starts the count again.
// A budget-limited source keeps its jobs: those the budget lets through are done, the others end
// as dead letters after their attempts, and the source is degraded (partial), not failed.
func (s *Stats) jobFailed(source string, err error) {
	if RateLimited(err) {
		s.mu.Lock()
		s.src(source).consecutive = 0
		s.mu.Unlock()
		return
	}
	var se *crawler.StatusError
	if errors.As(err, &se) && se.Status >= 400 && se.Status < 500 {
		return
	}
	s.mu.Lock()
	st := s.src(source)
	st.consecutive++
	st.cause = Describe(err)
	s.mu.Unlock()
}

// RateLimited reports an error that is a rate limit: a 429 (crawler.StatusError, webapi's
// RetryError), or any error with a RetryAfter() method (a Retry-After beyond the fetcher's wait,
// an API's budget reset).
func RateLimited(err error) bool {
	var ra interface{ RetryAfter() time.Duration }
	if errors.As(err, &ra) {
		return true
	}
	var se *crawler.StatusError
	return errors.As(err, &se) && se.Status == http.StatusTooManyRequests
}

// breakerOpen reports whether the source's remaining jobs should fail at once, why, and whether
// this is the first time (to log it once).
func (s *Stats) breakerOpen(source string, after int) (open bool, cause string, first bool) {
	if after < 0 {
		return false, "", false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.src(source)
	if st.everOK || st.consecutive < after {
		return false, "", false
	}
	first = !st.broken
	st.broken = true
	return true, st.cause, first
}

func (s *Stats) jobError(source string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.src(source)
	st.p.Errors++
	st.unflushed.Errors++
	st.p.LastError = Describe(err)
	st.msgDirty = true
}

func (s *Stats) invalidArtifact(source string, err error) { s.jobError(source, err) }

// Progress returns a copy of every source's progress, sorted by name.
func (s *Stats) Progress() []SourceProgress {
	s.mu.Lock()
	defer s.mu.Unlock()
	var snap map[string]crawler.Counters
	if s.counters != nil {
		snap = s.counters.Snapshot()
	}
	out := make([]SourceProgress, 0, len(s.sources))
	seen := map[string]bool{}
	for name, st := range s.sources {
		p := st.p
		c := snap[name]
		p.Requests, p.WireBytes, p.Cached = c.Requests, c.WireBytes, c.Cached
		out = append(out, p)
		seen[name] = true
	}
	for name, c := range snap {
		if !seen[name] {
			out = append(out, SourceProgress{Name: name, Requests: c.Requests, WireBytes: c.WireBytes, Cached: c.Cached})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// FlushEvery is how often workers send source counters to the recorder while a run goes on
// (MaybeFlush). Flushing after every job was a store write transaction per job (~7% of the
// pipeline's CPU); Pool and Worker.Run flush once more when they return, so the totals are exact.
const FlushEvery = 250 * time.Millisecond

// MaybeFlush flushes (Flush) when the last flush is at least every old; otherwise the deltas wait
// for a later flush. Whoever runs the workers must Flush once at the end (Pool and Worker.Run do).
func (s *Stats) MaybeFlush(ctx context.Context, rec StatSink, runID string, log *slog.Logger, every time.Duration) {
	s.mu.Lock()
	due := time.Since(s.lastFlush) >= every
	s.mu.Unlock()
	if due {
		s.Flush(ctx, rec, runID, log)
	}
}

// Flush sends the counters gathered since the last flush to rec. A failed flush keeps nothing
// back: the deltas are lost rather than double-counted on the next flush.
func (s *Stats) Flush(ctx context.Context, rec StatSink, runID string, log *slog.Logger) {
	s.flushMu.Lock()
	defer s.flushMu.Unlock()
	s.mu.Lock()
	s.lastFlush = time.Now()
	var snap map[string]crawler.Counters
	if s.counters != nil {
		snap = s.counters.Snapshot()
	}
	deltas := map[string]*reports.SourceStat{}
	get := func(name string) *reports.SourceStat {
		d, ok := deltas[name]
		if !ok {
			d = &reports.SourceStat{Name: name}
			deltas[name] = d
		}
		return d
	}
	for name, c := range snap {
		diff := c.Sub(s.flushed[name])
		if diff.Requests != 0 || diff.WireBytes != 0 || diff.Cached != 0 {
			d := get(name)
			d.Requests, d.Bytes, d.Cached = diff.Requests, diff.WireBytes, diff.Cached
		}
		s.flushed[name] = c
	}
	for name, st := range s.sources {
		u := st.unflushed
		if u.Artifacts != 0 || u.Errors != 0 || st.msgDirty {
			d := get(name)
			d.Artifacts, d.Errors = u.Artifacts, u.Errors
			if st.msgDirty {
				d.Message = message(st)
			}
		}
		st.unflushed = reports.SourceStat{}
		st.msgDirty = false
	}
	s.mu.Unlock()
	names := make([]string, 0, len(deltas))
	for n := range deltas {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if err := rec.AddSourceStat(ctx, runID, *deltas[n]); err != nil && log != nil {
			log.Warn("could not record source stats", "source", n, "err", err)
		}
	}
}

// message is the source's line in the run report: its notes, then its last error.
func message(st *sourceState) string {
	parts := append([]string(nil), st.notes...)
	if st.dropped > 0 {
		parts = append(parts, fmt.Sprintf("job budget reached: %d follow-up jobs enqueued, %d dropped (max %d per source per run)",
			st.jobs, st.dropped, st.budget))
	}
	if st.p.LastError != "" {
		parts = append(parts, "last error: "+st.p.LastError)
	}
	return strings.Join(parts, "; ")
}

// Describe is an error as a report line: the root cause first when it is a known network failure
// (the URL that failed is in the logs), else the error text, on one line and bounded.
func Describe(err error) string {
	var dnsErr *net.DNSError
	var op *net.OpError
	switch {
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		return "no such host " + dnsErr.Name + " (no network, or a wrong base_url)"
	case errors.Is(err, syscall.ECONNREFUSED):
		host := ""
		if errors.As(err, &op) && op.Addr != nil {
			host = " " + op.Addr.String()
		}
		return "connection refused by" + host + " (host down, or no network)"
	case errors.Is(err, crawler.ErrBlockedAddress):
		return oneLine(err.Error())
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return "timeout: " + oneLine(err.Error())
	}
	return oneLine(err.Error())
}

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}
