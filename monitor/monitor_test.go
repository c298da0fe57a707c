package monitor

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/afterlife-watch/afterlife/artifact"
	"github.com/afterlife-watch/afterlife/configs"
	"github.com/afterlife-watch/afterlife/crawler"
	"github.com/afterlife-watch/afterlife/crawler/frontier"
	"github.com/afterlife-watch/afterlife/extract"
	"github.com/afterlife-watch/afterlife/reports"
)

// memStore is a test double for the store: a RunStore in memory that counts what it is told.
type memStore struct {
	mu       sync.Mutex
	runs     map[string]*reports.Run
	open     string
	records  map[string]int             // artifact id -> Record calls
	findings map[string]extract.Finding // artifact|dataset|relation
	listings map[string][]string
	gone     map[string]bool
}

func newMemStore() *memStore {
	return &memStore{runs: map[string]*reports.Run{}, records: map[string]int{}, findings: map[string]extract.Finding{},
		listings: map[string][]string{}, gone: map[string]bool{}}
}

func (m *memStore) OpenRun(ctx context.Context) (reports.Run, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.open == "" {
		return reports.Run{}, false, nil
	}
	return *m.runs[m.open], true, nil
}

func (m *memStore) BeginRun(ctx context.Context, r reports.Run) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.runs[r.ID] = &r
	m.open = r.ID
	return nil
}

func (m *memStore) FinishRun(ctx context.Context, runID string, t time.Time) (reports.Run, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.runs[runID]
	r.Finished, r.Complete = t, true
	m.open = ""
	return *r, nil
}

func (m *memStore) GetRun(ctx context.Context, runID string) (reports.Run, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.runs[runID]
	if !ok {
		return reports.Run{}, errors.New("no such run")
	}
	return *r, nil
}

func (m *memStore) AddSourceStat(ctx context.Context, runID string, d reports.SourceStat) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.runs[runID]
	for i := range r.Sources {
		s := &r.Sources[i]
		if s.Name == d.Name {
			s.Requests += d.Requests
			s.Bytes += d.Bytes
			s.Errors += d.Errors
			s.Artifacts += d.Artifacts
			s.Cached += d.Cached
			if d.Status != "" {
				s.Status = d.Status
			}
			if d.Message != "" {
				s.Message = d.Message
			}
			return nil
		}
	}
	r.Sources = append(r.Sources, d)
	return nil
}

func (m *memStore) Record(ctx context.Context, runID string, at time.Time, a artifact.Artifact, fs []extract.Finding) (reports.RecordResult, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.records[a.ID]++
	var rr reports.RecordResult
	for _, f := range fs {
		k := f.ArtifactID + "|" + f.Dataset + "|" + string(f.Relation)
		if _, ok := m.findings[k]; !ok {
			rr.NewSightings++
		}
		m.findings[k] = f
	}
	return rr, nil
}

func (m *memStore) RecordListing(ctx context.Context, runID, scope string, ids []string, at time.Time, missAfter int) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.listings[scope] = ids
	return nil, nil
}

func (m *memStore) MarkGone(ctx context.Context, runID string, ids []string, at time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, id := range ids {
		m.gone[id] = true
	}
	return nil
}

func (m *memStore) stat(t *testing.T, runID, name string) reports.SourceStat {
	t.Helper()
	r, _ := m.GetRun(context.Background(), runID)
	for _, s := range r.Sources {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no stats for source %s in %+v", name, r.Sources)
	return reports.SourceStat{}
}

// fakeSource is a test double for a source adapter: a listing page links to detail pages served
// by an httptest server, so every job really goes through the fetcher.
type fakeSource struct {
	name string
	base string
	n    int
}

func (s *fakeSource) Name() string { return s.name }

func (s *fakeSource) Plan(ctx context.Context, ds []*configs.Dataset) ([]crawler.Job, error) {
	return []crawler.Job{{Kind: "list", URL: s.base + "/list"}}, nil
}

func (s *fakeSource) Handle(ctx context.Context, job crawler.Job, f crawler.Fetcher) (crawler.Result, error) {
	resp, err := f.Fetch(ctx, crawler.Request{Source: s.name, URL: job.URL})
	if err != nil {
		return crawler.Result{}, err
	}
	if !resp.OK() {
		return crawler.Result{}, &crawler.StatusError{URL: job.URL, Status: resp.Status}
	}
	var res crawler.Result
	switch job.Kind {
	case "list":
		var ids []string
		for i := 0; i < s.n; i++ {
			u := fmt.Sprintf("%s/item/%d", s.base, i)
			res.Next = append(res.Next, crawler.Job{Kind: "item", URL: u})
			ids = append(ids, fmt.Sprintf("hf:model:org/item-%d", i))
		}
		// The list job also re-plans an item twice: dedup must hold.
		res.Next = append(res.Next, crawler.Job{Kind: "item", URL: s.base + "/item/0"})
		res.Listing = &crawler.Listing{Scope: s.name + ":list", IDs: ids}
		res.Notes = []string{"listing complete"}
	case "item":
		i := strings.TrimPrefix(job.URL, s.base+"/item/")
		res.Artifacts = append(res.Artifacts, artifact.Artifact{ID: "hf:model:org/item-" + i, Source: artifact.SourceHuggingFace,
			Kind: artifact.KindModel, URL: job.URL, Title: "item " + i, Text: string(resp.Body)})
	}
	return res, nil
}

func testRegistry(t *testing.T) *configs.Registry {
	reg, err := configs.LoadRegistry("")
	if err != nil {
		t.Fatal(err)
	}
	return reg
}

func openFrontier(t *testing.T, opts frontier.Options) *frontier.Frontier {
	f, err := frontier.Open(filepath.Join(t.TempDir(), "frontier.db"), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func loopbackWatch(names ...string) *configs.Watch {
	w := &configs.Watch{AllowLoopback: true, Contact: "test", Sources: map[string]configs.SourceConfig{}}
	for _, n := range names {
		w.Sources[n] = configs.SourceConfig{Enabled: true, Rate: 500, Burst: 100}
	}
	return w
}

type run struct {
	store *memStore
	runID string
	fr    *frontier.Frontier
}

func runOnce(t *testing.T, w *configs.Watch, srcs map[string]crawler.Source, workers int) run {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	store := newMemStore()
	fr := openFrontier(t, frontier.Options{MaxAttempts: 3})
	fetcher, err := crawler.NewFetcher(w, crawler.FetcherOptions{BaseBackoff: 5 * time.Millisecond, MaxAttempts: 2})
	if err != nil {
		t.Fatal(err)
	}
	co := &Coordinator{Store: store, Frontier: fr, Sources: Sources{Active: srcs}, Datasets: testRegistry(t).Retracted()}
	runID, resumed, err := co.Begin(ctx)
	if err != nil || resumed {
		t.Fatalf("Begin = %s, %v, %v", runID, resumed, err)
	}
	err = Pool(ctx, runID, workers, Worker{Name: "t", Frontier: fr, Fetcher: fetcher, Sources: srcs,
		Matcher: extract.New(testRegistry(t)), Recorder: store, Stats: NewStats(fetcher), ExitWhenDrained: true,
		RetryBase: 10 * time.Millisecond, RetryMax: 50 * time.Millisecond})
	if err != nil {
		t.Fatalf("Pool: %v", err)
	}
	if _, err := co.Finish(ctx, runID); err != nil {
		t.Fatal(err)
	}
	return run{store: store, runID: runID, fr: fr}
}

func TestWorkersCrawlMatchAndRecordEachArtifactOnce(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if strings.HasSuffix(r.URL.Path, "/item/3") {
			fmt.Fprint(w, "fine-tuned on MS-Celeb-1M faces")
			return
		}
		fmt.Fprint(w, "an unrelated model")
	}))
	defer srv.Close()
	srcs := map[string]crawler.Source{"fake": &fakeSource{name: "fake", base: srv.URL, n: 8}}
	r := runOnce(t, loopbackWatch("fake"), srcs, 4)
	if len(r.store.records) != 8 {
		t.Fatalf("%d artifacts recorded, want 8", len(r.store.records))
	}
	for id, n := range r.store.records {
		if n != 1 {
			t.Fatalf("artifact %s recorded %d times", id, n)
		}
	}
	if hits.Load() != 9 {
		t.Fatalf("server saw %d requests, want 1 listing + 8 items (the duplicate follow-up deduped)", hits.Load())
	}
	var matched []string
	for k := range r.store.findings {
		matched = append(matched, k)
	}
	if len(matched) != 1 || !strings.HasPrefix(matched[0], "hf:model:org/item-3|ms-celeb-1m|") {
		t.Fatalf("findings = %v, want one for item-3 and ms-celeb-1m", matched)
	}
	if ids := r.store.listings["fake:list"]; len(ids) != 8 {
		t.Fatalf("listing = %v", ids)
	}
	st := r.store.stat(t, r.runID, "fake")
	if st.Status != StatusOK || st.Requests != 9 || st.Artifacts != 8 || st.Errors != 0 || st.Bytes == 0 {
		t.Fatalf("source stat = %+v", st)
	}
	if !strings.Contains(st.Message, "listing complete") {
		t.Fatalf("notes not in message: %q", st.Message)
	}
	fs, _ := r.fr.Stats(context.Background(), r.runID)
	if fs != (crawler.FrontierStats{Done: 9}) {
		t.Fatalf("frontier = %+v", fs)
	}
}

func TestFailingSourceDoesNotStopTheRun(t *testing.T) {
	good := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") }))
	defer good.Close()
	var badHits atomic.Int64
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		badHits.Add(1)
		w.WriteHeader(http.StatusInternalServerError)
	}))
	defer bad.Close()
	// "gone" has nothing listening: connection refused, like a host with no network.
	ln := httptest.NewServer(http.NotFoundHandler())
	goneURL := ln.URL
	ln.Close()
	srcs := map[string]crawler.Source{
		"good": &fakeSource{name: "good", base: good.URL, n: 3},
		"bad":  &fakeSource{name: "bad", base: bad.URL, n: 3},
		"gone": &fakeSource{name: "gone", base: goneURL, n: 3},
	}
	r := runOnce(t, loopbackWatch("good", "bad", "gone"), srcs, 3)
	if st := r.store.stat(t, r.runID, "good"); st.Status != StatusOK || st.Artifacts != 3 {
		t.Fatalf("good = %+v", st)
	}
	for _, name := range []string{"bad", "gone"} {
		st := r.store.stat(t, r.runID, name)
		if st.Status != StatusFailed || st.Errors != 3 || st.Message == "" {
			t.Fatalf("%s = %+v, want failed after the frontier's 3 attempts, with a message", name, st)
		}
		if !strings.Contains(st.Message, "last error") {
			t.Fatalf("%s message %q does not say why", name, st.Message)
		}
	}
	if !strings.Contains(r.store.stat(t, r.runID, "bad").Message, "500") {
		t.Fatalf("bad message does not name the status: %q", r.store.stat(t, r.runID, "bad").Message)
	}
	// 3 job attempts × 2 fetch attempts each.
	if badHits.Load() != 6 {
		t.Fatalf("bad server saw %d requests, want 6", badHits.Load())
	}
	dl, _ := r.fr.DeadLetters(context.Background(), r.runID)
	if len(dl) != 2 {
		t.Fatalf("dead letters = %d, want the two failing seeds", len(dl))
	}
}

func TestPermanentErrorIsBuriedNotRetried(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if strings.HasSuffix(r.URL.Path, "/item/1") {
			http.NotFound(w, r)
			return
		}
		fmt.Fprint(w, "ok")
	}))
	defer srv.Close()
	srcs := map[string]crawler.Source{"fake": &fakeSource{name: "fake", base: srv.URL, n: 3}}
	r := runOnce(t, loopbackWatch("fake"), srcs, 2)
	if hits.Load() != 4 {
		t.Fatalf("server saw %d requests, want 4 (the 404 not retried)", hits.Load())
	}
	st := r.store.stat(t, r.runID, "fake")
	if st.Status != StatusDegraded || st.Errors != 1 || st.Artifacts != 2 {
		t.Fatalf("stat = %+v, want degraded with 1 error", st)
	}
	fs, _ := r.fr.Stats(context.Background(), r.runID)
	if fs.Dead != 1 || fs.Done != 3 {
		t.Fatalf("frontier = %+v", fs)
	}
}

func TestBreakerStopsHammeringAnUnreachableSource(t *testing.T) {
	ln := httptest.NewServer(http.NotFoundHandler())
	goneURL := ln.URL
	ln.Close()
	src := &fanout{name: "down", base: goneURL, seeds: 40}
	fetcher, _ := crawler.NewFetcher(loopbackWatch("down"), crawler.FetcherOptions{MaxAttempts: 1})
	store := newMemStore()
	fr := openFrontier(t, frontier.Options{MaxAttempts: 1})
	ctx := context.Background()
	co := &Coordinator{Store: store, Frontier: fr, Sources: Sources{Active: map[string]crawler.Source{"down": src}}}
	runID, _, _ := co.Begin(ctx)
	if err := Pool(ctx, runID, 1, Worker{Frontier: fr, Fetcher: fetcher, Sources: co.Sources.Active,
		Matcher: extract.New(testRegistry(t)), Recorder: store, ExitWhenDrained: true, BreakAfter: 5}); err != nil {
		t.Fatal(err)
	}
	if got := fetcher.Snapshot()["down"].Requests; got != 5 {
		t.Fatalf("%d requests to an unreachable source, want the breaker to stop after 5", got)
	}
	run, _ := co.Finish(ctx, runID)
	if run.Sources[0].Status != StatusFailed || !strings.Contains(run.Sources[0].Message, "unreachable") {
		t.Fatalf("stat = %+v", run.Sources[0])
	}
}

type fanout struct {
	name, base string
	seeds      int
}

func (s *fanout) Name() string { return s.name }
func (s *fanout) Plan(ctx context.Context, ds []*configs.Dataset) ([]crawler.Job, error) {
	var out []crawler.Job
	for i := 0; i < s.seeds; i++ {
		out = append(out, crawler.Job{Kind: "q", URL: fmt.Sprintf("%s/q/%d", s.base, i)})
	}
	return out, nil
}
func (s *fanout) Handle(ctx context.Context, job crawler.Job, f crawler.Fetcher) (crawler.Result, error) {
	_, err := f.Fetch(ctx, crawler.Request{Source: s.name, URL: job.URL})
	return crawler.Result{}, err
}

func TestWatchedDatasetsFilter(t *testing.T) {
	reg := testRegistry(t)
	all, err := WatchedDatasets(reg, &configs.Watch{})
	if err != nil || len(all) != len(reg.Retracted()) {
		t.Fatalf("all = %d, %v", len(all), err)
	}
	some, err := WatchedDatasets(reg, &configs.Watch{Datasets: []string{"books3", "ms-celeb-1m"}})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, d := range some {
		ids = append(ids, d.ID)
	}
	sort.Strings(ids)
	if strings.Join(ids, ",") != "books3,ms-celeb-1m" {
		t.Fatalf("filtered = %v", ids)
	}
	if _, err := WatchedDatasets(reg, &configs.Watch{File: "w.yaml", Datasets: []string{"no-such-dataset"}}); err == nil ||
		!strings.Contains(err.Error(), "no-such-dataset") {
		t.Fatalf("unknown id: err = %v", err)
	}
}

// A Retry-After longer than the fetcher waits in line comes back to the worker, which delays the
// job that long through the frontier; one beyond the worker's cap fails the job at once.
func TestWorkerObeysRetryAfterThroughTheFrontier(t *testing.T) {
	var mu sync.Mutex
	var times []time.Time
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if strings.HasSuffix(r.URL.Path, "/forever/list") {
			w.Header().Set("Retry-After", "86400")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		times = append(times, time.Now())
		if len(times) == 1 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		fmt.Fprint(w, "ok")
	}))
	defer srv.Close()
	srcs := map[string]crawler.Source{
		"slow":    &fakeSource{name: "slow", base: srv.URL + "/slow", n: 0},
		"forever": &fakeSource{name: "forever", base: srv.URL + "/forever", n: 0},
	}
	w := loopbackWatch("slow", "forever")
	ctx := context.Background()
	store := newMemStore()
	fr := openFrontier(t, frontier.Options{MaxAttempts: 3})
	fetcher, _ := crawler.NewFetcher(w, crawler.FetcherOptions{MaxWait: 100 * time.Millisecond})
	co := &Coordinator{Store: store, Frontier: fr, Sources: Sources{Active: srcs}}
	runID, _, _ := co.Begin(ctx)
	if err := Pool(ctx, runID, 2, Worker{Frontier: fr, Fetcher: fetcher, Sources: srcs, Matcher: extract.New(testRegistry(t)),
		Recorder: store, ExitWhenDrained: true, RetryBase: 10 * time.Millisecond, MaxRetryAfter: time.Hour}); err != nil {
		t.Fatal(err)
	}
	if len(times) != 3 {
		t.Fatalf("slow source: %d requests, want the 429, the retried listing and its one item", len(times))
	}
	if gap := times[1].Sub(times[0]); gap < 900*time.Millisecond {
		t.Fatalf("job retried %s after a Retry-After of 1s", gap)
	}
	if st := store.stat(t, runID, "forever"); st.Errors != 1 || !strings.Contains(st.Message, "more than the 1h0m0s cap") {
		t.Fatalf("forever = %+v, want one error naming the cap", st)
	}
	if fs, _ := fr.Stats(ctx, runID); fs.Dead != 1 || fs.Done != 2 {
		t.Fatalf("frontier = %+v", fs)
	}
}

func (m *memStore) RecordBatch(ctx context.Context, runID string, at time.Time, obs []reports.Observation) ([]reports.RecordResult, error) {
	out := make([]reports.RecordResult, len(obs))
	for i, o := range obs {
		r, err := m.Record(ctx, runID, at, o.Artifact, o.Findings)
		if err != nil {
			return out, err
		}
		out[i] = r
	}
	return out, nil
}

func (m *memStore) RecordProbe(context.Context, reports.SwarmProbe) error { return nil }

func (m *memStore) RecordFailure(context.Context, string, reports.JobFailure) error { return nil }

func (m *memStore) Runs(context.Context, int) ([]reports.Run, error) { return nil, nil }

func (m *memStore) EachSightingState(context.Context, string, func(reports.SightingState) error) error {
	return nil
}
