// Package metrics is Afterlife's Prometheus instrumentation: what the fetcher sends and receives
// (by source and status), rate-limit waits, jobs and their outcomes, queue depth, findings by
// dataset and relation, run durations; and a small HTTP server with /metrics, /healthz and
// /readyz for every long-running command.
package metrics

import (
	"errors"
	"net"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/afterlife-watch/afterlife/crawler"
	"github.com/afterlife-watch/afterlife/extract"
)

// Metrics holds the collectors, registered in their own registry (with the Go runtime and
// process collectors). It implements crawler.Observer and monitor.Observer.
type Metrics struct {
	Registry *prometheus.Registry

	requests    *prometheus.CounterVec
	wireBytes   *prometheus.CounterVec
	latency     *prometheus.HistogramVec
	rateWaits   *prometheus.CounterVec
	rateWaitSec *prometheus.CounterVec
	jobs        *prometheus.CounterVec
	redelivered *prometheus.CounterVec
	jobSeconds  *prometheus.HistogramVec
	queue       *prometheus.GaugeVec
	findings    *prometheus.CounterVec
	runs        prometheus.Counter
	runSeconds  prometheus.Histogram
	lastRun     prometheus.Gauge
	lastJob     prometheus.Gauge
}

// New builds the collectors.
func New() *Metrics {
	r := prometheus.NewRegistry()
	m := &Metrics{Registry: r,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "afterlife_http_requests_total",
			Help: "HTTP requests sent by the fetcher (retries included), by source and status (\"error\": no response)."},
			[]string{"source", "status"}),
		wireBytes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "afterlife_http_response_bytes_total",
			Help: "Response body bytes read off the wire, by source."}, []string{"source"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "afterlife_http_request_duration_seconds",
			Help: "Time per HTTP request (one attempt, body included), by source.", Buckets: prometheus.ExponentialBuckets(0.005, 3, 10)},
			[]string{"source"}),
		rateWaits: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "afterlife_rate_limit_waits_total",
			Help: "Times a request waited for a rate limit, Retry-After, backoff or a connection slot, by source."}, []string{"source"}),
		rateWaitSec: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "afterlife_rate_limit_wait_seconds_total",
			Help: "Seconds spent waiting for rate limits, Retry-After and backoff, by source."}, []string{"source"}),
		jobs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "afterlife_jobs_total",
			Help: "Jobs handled, by source and outcome (ok, retry, failed, interrupted)."}, []string{"source", "outcome"}),
		redelivered: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "afterlife_jobs_redelivered_total",
			Help: "Jobs handled again: after a retry, an expired lease (a dead worker's job reclaimed) or a restart."}, []string{"source"}),
		jobSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "afterlife_job_duration_seconds",
			Help: "Time per job (fetch, parse), by source.", Buckets: prometheus.ExponentialBuckets(0.01, 3, 10)}, []string{"source"}),
		queue: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "afterlife_queue_jobs",
			Help: "The current run's frontier, by state: pending (incl. delayed), in_flight (leased), done, dead."}, []string{"state"}),
		findings: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "afterlife_findings_total",
			Help: "Findings matched, by dataset and relation."}, []string{"dataset", "relation"}),
		runs: prometheus.NewCounter(prometheus.CounterOpts{Name: "afterlife_runs_finished_total", Help: "Runs finished by this process."}),
		runSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "afterlife_run_duration_seconds",
			Help: "Duration of finished runs.", Buckets: prometheus.ExponentialBuckets(1, 3, 10)}),
		lastRun: prometheus.NewGauge(prometheus.GaugeOpts{Name: "afterlife_last_run_finished_timestamp_seconds",
			Help: "When this process last finished a run (unix time)."}),
		lastJob: prometheus.NewGauge(prometheus.GaugeOpts{Name: "afterlife_last_job_timestamp_seconds",
			Help: "When this process last finished handling a job (unix time): a stuck worker stops moving it."}),
	}
	r.MustRegister(m.requests, m.wireBytes, m.latency, m.rateWaits, m.rateWaitSec, m.jobs, m.redelivered, m.jobSeconds,
		m.queue, m.findings, m.runs, m.runSeconds, m.lastRun, m.lastJob,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// ObserveRequest implements crawler.Observer.
func (m *Metrics) ObserveRequest(source, _ string, status int, wire int64, elapsed time.Duration, err error) {
	s := "error"
	if status > 0 {
		s = strconv.Itoa(status)
	} else if err != nil && errors.Is(err, crawler.ErrBlockedAddress) {
		s = "blocked"
	} else if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			s = "timeout"
		}
	}
	m.requests.WithLabelValues(source, s).Inc()
	m.wireBytes.WithLabelValues(source).Add(float64(wire))
	m.latency.WithLabelValues(source).Observe(elapsed.Seconds())
}

// ObserveRateWait implements crawler.Observer.
func (m *Metrics) ObserveRateWait(source string, waited time.Duration) {
	m.rateWaits.WithLabelValues(source).Inc()
	m.rateWaitSec.WithLabelValues(source).Add(waited.Seconds())
}

// JobDone implements monitor.Observer.
func (m *Metrics) JobDone(source, outcome string, redelivered bool, elapsed time.Duration) {
	m.jobs.WithLabelValues(source, outcome).Inc()
	if redelivered {
		m.redelivered.WithLabelValues(source).Inc()
	}
	m.jobSeconds.WithLabelValues(source).Observe(elapsed.Seconds())
	m.lastJob.SetToCurrentTime()
}

// Findings implements monitor.Observer.
func (m *Metrics) Findings(_ string, fs []extract.Finding) {
	for _, f := range fs {
		m.findings.WithLabelValues(f.Dataset, string(f.Relation)).Inc()
	}
}

// Queue implements monitor.Observer.
func (m *Metrics) Queue(_ string, st crawler.FrontierStats) {
	m.queue.WithLabelValues("pending").Set(float64(st.Pending))
	m.queue.WithLabelValues("in_flight").Set(float64(st.InFlight))
	m.queue.WithLabelValues("done").Set(float64(st.Done))
	m.queue.WithLabelValues("dead").Set(float64(st.Dead))
}

// RunFinished implements monitor.Observer.
func (m *Metrics) RunFinished(_ string, elapsed time.Duration) {
	m.runs.Inc()
	if elapsed > 0 {
		m.runSeconds.Observe(elapsed.Seconds())
	}
	m.lastRun.SetToCurrentTime()
}

var _ crawler.Observer = (*Metrics)(nil)
