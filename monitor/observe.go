package monitor

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/afterlife-watch/afterlife/crawler"
	"github.com/afterlife-watch/afterlife/extract"
)

// Observer is told what workers do; the metrics package implements it. It is passed explicitly
// (RunConfig.Observer), never installed process-wide. Methods must be cheap and safe for
// concurrent use.
type Observer interface {
	// JobDone is called once per handled job: outcome is ok, retry, failed or interrupted.
	JobDone(source, outcome string, redelivered bool, elapsed time.Duration)
	// Findings is called with each artifact's findings.
	Findings(source string, fs []extract.Finding)
	// Queue is the run's frontier counts, sampled every few seconds by a working process.
	Queue(runID string, st crawler.FrontierStats)
	// RunFinished is called when a run is finished by this process.
	RunFinished(runID string, elapsed time.Duration)
}

// queueSampleEvery is how often one process samples the frontier for the queue-depth gauges.
const queueSampleEvery = 2 * time.Second

// observer wraps an optional Observer (nil: nothing is observed) and throttles queue samples
// across the workers that share it.
type observer struct {
	o     Observer
	lastQ atomic.Int64 // unix nanos of the last queue sample
}

func newObserver(o Observer) *observer { return &observer{o: o} }

// observing reports whether anything observes (an Observer was given).
func (ob *observer) observing() bool { return ob != nil && ob.o != nil }

func (ob *observer) job(source, outcome string, redelivered bool, elapsed time.Duration) {
	if ob.observing() {
		ob.o.JobDone(source, outcome, redelivered, elapsed)
	}
}

func (ob *observer) findings(source string, fs []extract.Finding) {
	if ob.observing() && len(fs) > 0 {
		ob.o.Findings(source, fs)
	}
}

func (ob *observer) runFinished(runID string, elapsed time.Duration) {
	if ob.observing() {
		ob.o.RunFinished(runID, elapsed)
	}
}

// queue samples the frontier at most every queueSampleEvery across the workers sharing ob.
func (ob *observer) queue(ctx context.Context, fr crawler.Frontier, runID string) {
	if ob == nil || ob.o == nil {
		return
	}
	now := time.Now().UnixNano()
	last := ob.lastQ.Load()
	if now-last < int64(queueSampleEvery) || !ob.lastQ.CompareAndSwap(last, now) {
		return
	}
	if st, err := fr.Stats(ctx, runID); err == nil {
		ob.o.Queue(runID, st)
	}
}

// queueFinal samples the frontier whatever the throttle says: a run shorter than
// queueSampleEvery still leaves its final counts (done, dead) in the gauges.
func (ob *observer) queueFinal(runID string, st crawler.FrontierStats) {
	if ob.observing() {
		ob.lastQ.Store(time.Now().UnixNano())
		ob.o.Queue(runID, st)
	}
}
