package monitor

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/afterlife-watch/afterlife/crawler"
	"github.com/afterlife-watch/afterlife/extract"
)

// Observer is told what workers do; the metrics package implements it. Methods must be cheap and
// safe for concurrent use.
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

var (
	obsMu    sync.RWMutex
	observer Observer
	lastQ    atomic.Int64 // unix nanos of the last queue sample
)

// SetObserver installs the process-wide observer (nil removes it).
func SetObserver(o Observer) {
	obsMu.Lock()
	observer = o
	obsMu.Unlock()
}

func currentObserver() Observer {
	obsMu.RLock()
	defer obsMu.RUnlock()
	return observer
}

func observeJob(source, outcome string, redelivered bool, elapsed time.Duration) {
	if o := currentObserver(); o != nil {
		o.JobDone(source, outcome, redelivered, elapsed)
	}
}

func observeFindings(source string, fs []extract.Finding) {
	if o := currentObserver(); o != nil && len(fs) > 0 {
		o.Findings(source, fs)
	}
}

func observeRunFinished(runID string, elapsed time.Duration) {
	if o := currentObserver(); o != nil {
		o.RunFinished(runID, elapsed)
	}
}

// queueSampleEvery is how often one process samples the frontier for the queue-depth gauges.
const queueSampleEvery = 2 * time.Second

// observeQueue samples the frontier at most every queueSampleEvery across the process's workers.
func observeQueue(ctx context.Context, fr crawler.Frontier, runID string) {
	o := currentObserver()
	if o == nil {
		return
	}
	now := time.Now().UnixNano()
	last := lastQ.Load()
	if now-last < int64(queueSampleEvery) || !lastQ.CompareAndSwap(last, now) {
		return
	}
	st, err := fr.Stats(ctx, runID)
	if err == nil {
		o.Queue(runID, st)
	}
}

// observeQueueFinal samples the frontier whatever the throttle says: a run shorter than
// queueSampleEvery still leaves its final counts (done, dead) in the gauges.
func observeQueueFinal(runID string, st crawler.FrontierStats) {
	if o := currentObserver(); o != nil {
		lastQ.Store(time.Now().UnixNano())
		o.Queue(runID, st)
	}
}
