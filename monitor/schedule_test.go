package monitor_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/afterlife-watch/afterlife/configs"
	"github.com/afterlife-watch/afterlife/internal/demoworld"
	"github.com/afterlife-watch/afterlife/monitor"
	"github.com/afterlife-watch/afterlife/monitor/monitortest"
	"github.com/afterlife-watch/afterlife/reports"
)

// plantedChange derives, from the planted data's epochs fields (internal/demoworld/planted/*.jsonl), the
// artifacts with expected findings that epoch `to` adds and removes relative to epoch `from`.
func plantedChange(t *testing.T, from, to int) (added, removed, datasets []string) {
	t.Helper()
	all, err := demoworld.LoadPlanted()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range all {
		if len(p.Expect) == 0 {
			continue // no sighting to report
		}
		switch {
		case p.InEpoch(to) && !p.InEpoch(from):
			added = append(added, p.ID)
		case p.InEpoch(from) && !p.InEpoch(to):
			removed = append(removed, p.ID)
		default:
			continue
		}
		for _, e := range p.Expect {
			if !slices.Contains(datasets, e.Dataset) {
				datasets = append(datasets, e.Dataset)
			}
		}
	}
	sort.Strings(datasets)
	sort.Strings(added)
	sort.Strings(removed)
	if len(added) == 0 || len(removed) == 0 {
		t.Fatalf("the planted data has no change from epoch %d to %d (added %v, removed %v)", from, to, added, removed)
	}
	return added, removed, datasets
}

func eventArtifacts(t *testing.T, st *reports.SQLiteStore, runID, kind string) []string {
	t.Helper()
	evs, err := st.Events(context.Background(), reports.EventQuery{RunID: runID, Kind: kind})
	if err != nil {
		t.Fatal(err)
	}
	set := map[string]bool{}
	for _, e := range evs {
		set[e.ArtifactID] = true
	}
	out := make([]string, 0, len(set))
	for id := range set {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

// unconditional are sources whose real API cannot answer a re-scan with 304: Kaggle's API is
// POST RPC (kagglesdk), so every re-scan pays its answers in full.
var unconditional = map[string]bool{"kaggle": true}

// runBytes is the bytes a run transferred from the sources that can be conditional.
func runBytes(r reports.Run) (n int64) {
	for _, s := range r.Sources {
		if !unconditional[s.Name] {
			n += s.Bytes
		}
	}
	return n
}

type tickResult struct {
	tick    monitor.Tick
	res     monitor.Result
	err     error
	started time.Time
	ended   time.Time
}

// The daemon on a fast schedule against the demo world: tick 1 sees epoch 1, the world switches
// to epoch 2 before tick 2, which must report exactly the planted additions as new and the planted
// removals as gone; tick 3 (the world unchanged) must cost at most 5% of tick 1's bytes.
func TestSchedulerAcrossEpochsReportsPlantedChangeCheaply(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	srv := startWorld(t, 0)
	m := newMeter(t, srv.World)
	dir := t.TempDir()
	st := openStore(t, dir)
	reg, err := configs.LoadRegistry("")
	if err != nil {
		t.Fatal(err)
	}
	added, removed, datasets := plantedChange(t, 1, 2)
	w := srv.WatchConfig()
	w.Schedule = "@every 1s"
	// The datasets the planted change is about (the matcher still uses the whole registry); the
	// full world is scanned by cmd/afterlife's end-to-end tests. Keeps the test short under -race.
	w.Datasets = datasets
	for name, sc := range w.Sources {
		sc.BaseURL = m.url + "/" + name // through the meter
		w.Sources[name] = sc
	}
	entries, unscheduled, err := monitor.Entries(w)
	if err != nil || len(entries) != 1 || len(unscheduled) != 0 {
		t.Fatalf("entries %v, unscheduled %v, err %v", entries, unscheduled, err)
	}
	epochs := []int{1, 2, 2}
	stop, stopNow := context.WithCancel(ctx)
	defer stopNow()
	var mu sync.Mutex
	var results []tickResult
	s := &monitor.Scheduler{Entries: entries, Lock: monitor.FileLock{Dir: dir},
		Run: func(ctx context.Context, tk monitor.Tick) error {
			srv.World.SetEpoch(epochs[min(tk.Seq, len(epochs))-1])
			m.setRun(tk.Seq)
			started := time.Now()
			res, err := monitortest.Embedded(ctx, dir, st, monitor.RunConfig{Watch: monitor.Only(w, tk.Entry.Sources), Registry: reg,
				Workers: 4, Version: "test", Env: func(string) string { return "" }, Incremental: monitor.DefaultIncremental()})
			mu.Lock()
			results = append(results, tickResult{tick: tk, res: res, err: err, started: started, ended: time.Now()})
			if len(results) == len(epochs) {
				stopNow()
			}
			mu.Unlock()
			return err
		}}
	if err := s.Start(stop, ctx); err != nil {
		t.Fatal(err)
	}
	if ctx.Err() != nil {
		t.Fatalf("the scheduler did not get through %d ticks in time", len(epochs))
	}
	if len(results) != len(epochs) {
		t.Fatalf("%d runs, want %d", len(results), len(epochs))
	}
	for i, r := range results {
		if r.err != nil {
			t.Fatalf("tick %d: %v", i+1, r.err)
		}
		if i > 0 && r.started.Before(results[i-1].ended) {
			t.Fatalf("tick %d started at %s before tick %d ended at %s", i+1, r.started, i, results[i-1].ended)
		}
		if !r.res.Run.Complete {
			t.Fatalf("tick %d: run %s not complete", i+1, r.res.Run.ID)
		}
	}
	first, second, third := results[0].res.Run, results[1].res.Run, results[2].res.Run

	if got := eventArtifacts(t, st, second.ID, reports.EventNew); strings.Join(got, " ") != strings.Join(added, " ") {
		t.Errorf("second run: new artifacts\n got  %v\n want %v (planted: in epoch 2, not in epoch 1)", got, added)
	}
	if got := eventArtifacts(t, st, second.ID, reports.EventGone); strings.Join(got, " ") != strings.Join(removed, " ") {
		t.Errorf("second run: gone artifacts\n got  %v\n want %v (planted: in epoch 1, not in epoch 2)", got, removed)
	}
	if third.New != 0 || third.Gone != 0 {
		t.Errorf("third run (world unchanged): new=%d gone=%d, want 0/0", third.New, third.Gone)
	}
	// Sightings: gone ones carry the date they went (inside the second run); live ones were
	// seen by the last run (listed, or re-checked when a date-filtered search skipped them).
	all, err := st.Sightings(ctx, reports.SightingQuery{})
	if err != nil {
		t.Fatal(err)
	}
	for _, sg := range all {
		if sg.Gone {
			if sg.GoneSince.Before(second.Started) || sg.GoneSince.After(second.Finished) {
				t.Errorf("%s gone since %s, outside the second run [%s, %s]", sg.Artifact.ID, sg.GoneSince, second.Started, second.Finished)
			}
			continue
		}
		if sg.LastRun != third.ID || sg.FirstSeen.After(sg.LastSeen) {
			t.Errorf("live sighting %s/%s: last run %s (want %s), first %s last %s", sg.Artifact.ID, sg.Dataset, sg.LastRun, third.ID, sg.FirstSeen, sg.LastSeen)
		}
	}
	// The second run against the first: bytes of pages the epoch switch did not change (their
	// body is the same in an epoch-1 world), as served by the world.
	total1, unchanged2 := m.total[1], m.unchanged[2]
	t.Logf("served bytes: first run %d; second run %d, of which %d for unchanged pages = %.2f%% of the first run",
		total1, m.total[2], unchanged2, 100*float64(unchanged2)/float64(total1))
	if total1 == 0 || unchanged2*20 > total1 {
		t.Errorf("second run transferred %d bytes for unchanged pages, more than 5%% of the first run's %d", unchanged2, total1)
	}
	for _, s := range third.Sources {
		t.Logf("third run, %s: %d requests, %d bytes, %d answered 304", s.Name, s.Requests, s.Bytes, s.Cached)
		if unconditional[s.Name] {
			for _, f := range first.Sources {
				if f.Name == s.Name && s.Bytes > f.Bytes {
					t.Errorf("%s: the unchanged re-scan cost %d bytes, more than the first run's %d", s.Name, s.Bytes, f.Bytes)
				}
			}
		}
	}
	b1, b3 := runBytes(first), runBytes(third)
	t.Logf("bytes (conditional sources): first run %d, second (epoch switch) %d, third (unchanged) %d = %.2f%% of the first", b1, runBytes(second), b3, 100*float64(b3)/float64(b1))
	if b1 == 0 || b3*20 > b1 {
		t.Errorf("unchanged re-scan transferred %d bytes, more than 5%% of the first run's %d", b3, b1)
	}
	for _, s := range third.Sources {
		if s.Status != monitor.StatusOK {
			t.Errorf("third run, source %s: %+v", s.Name, s)
		}
	}
}

// Ticks that fire while a run is in hand wait: two entries firing every second with runs that
// take longer than that never run at once; a tick whose lock another process holds is skipped.
func TestSchedulerTicksNeverOverlap(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := t.TempDir()
	var inFlight, maxInFlight, runs, skipped atomic.Int32
	stop, stopNow := context.WithCancel(ctx)
	defer stopNow()
	var held func() // the run lock, taken by "another process" after the third run
	s := &monitor.Scheduler{
		Entries: []monitor.Entry{{Spec: "@every 1s", Sources: []string{"a"}}, {Spec: "* * * * * *", Sources: []string{"b"}}},
		Lock:    monitor.FileLock{Dir: dir},
		Run: func(ctx context.Context, tk monitor.Tick) error {
			n := inFlight.Add(1)
			defer inFlight.Add(-1)
			for {
				m := maxInFlight.Load()
				if n <= m || maxInFlight.CompareAndSwap(m, n) {
					break
				}
			}
			time.Sleep(1500 * time.Millisecond) // longer than the schedules' period
			runs.Add(1)
			return nil
		},
		// OnDone runs on the scheduler's goroutine after the run lock is released.
		OnDone: func(tk monitor.Tick, started, finished time.Time, err error) {
			switch {
			case errors.Is(err, monitor.ErrLockHeld):
				skipped.Add(1)
				held()
				held = nil
			case err != nil:
				t.Errorf("tick %d: %v", tk.Seq, err)
			case runs.Load() == 3 && held == nil && skipped.Load() == 0:
				rel, err := (monitor.FileLock{Dir: dir}).TryLock(ctx)
				if err != nil {
					t.Errorf("the lock is still held after the run: %v", err)
					return
				}
				held = rel
			}
			if runs.Load() >= 5 {
				stopNow()
			}
		},
	}
	if err := s.Start(stop, ctx); err != nil {
		t.Fatal(err)
	}
	if ctx.Err() != nil {
		t.Fatal("the scheduler did not run 5 ticks in time")
	}
	if m := maxInFlight.Load(); m != 1 {
		t.Fatalf("%d runs were in flight at once, want 1", m)
	}
	if runs.Load() != 5 || skipped.Load() != 1 {
		t.Fatalf("%d runs and %d skipped ticks, want 5 and 1 (the tick while another process held the lock)", runs.Load(), skipped.Load())
	}
}

// Entries groups sources by schedule (their own, else the plan's), leaves unscheduled sources
// out, and names the field of a bad spec.
func TestEntriesFromWatchConfig(t *testing.T) {
	w := &configs.Watch{File: "watch.yaml", Schedule: "@daily", Sources: map[string]configs.SourceConfig{
		"github": {Enabled: true}, "zenodo": {Enabled: true, Schedule: "*/30 * * * * *"}, "kaggle": {Enabled: false},
		"arxiv": {Enabled: true, Schedule: "@every 6h"}, "openalex": {Enabled: true}}}
	es, un, err := monitor.Entries(w)
	if err != nil || len(un) != 0 {
		t.Fatalf("entries: %v, unscheduled %v", err, un)
	}
	got := fmt.Sprint(es)
	want := "[{*/30 * * * * * [zenodo] []} {@daily [github openalex] []} {@every 6h [arxiv] []}]"
	if got != want {
		t.Fatalf("entries %s, want %s", got, want)
	}
	w.DatasetSchedules = map[string]string{"books3": "@hourly", "laion-5b": "@hourly"}
	es, _, err = monitor.Entries(w)
	if err != nil || len(es) != 4 || es[3].Spec != "@hourly" || fmt.Sprint(es[3].Datasets) != "[books3 laion-5b]" ||
		fmt.Sprint(es[3].Sources) != "[arxiv github openalex zenodo]" {
		t.Fatalf("dataset schedules: %v %v", es, err)
	}
	if ew := es[3].Watch(w); fmt.Sprint(ew.Datasets) != "[books3 laion-5b]" || ew.Sources["kaggle"].Enabled || len(w.Datasets) != 0 {
		t.Fatalf("entry watch: datasets %v, sources %+v", ew.Datasets, ew.Sources)
	}
	w.DatasetSchedules = map[string]string{"books3": "never"}
	if _, _, err := monitor.Entries(w); err == nil || !strings.Contains(err.Error(), "dataset_schedules.books3") {
		t.Fatalf("bad dataset spec: err = %v", err)
	}
	w.DatasetSchedules = nil
	w.Sources["arxiv"] = configs.SourceConfig{Enabled: true, Schedule: "every tuesday"}
	if _, _, err := monitor.Entries(w); err == nil || !strings.Contains(err.Error(), "sources.arxiv.schedule") {
		t.Fatalf("bad spec: err = %v, want one naming sources.arxiv.schedule", err)
	}
	w.Schedule = ""
	w.Sources["arxiv"] = configs.SourceConfig{Enabled: true}
	_, un, _ = monitor.Entries(w)
	if strings.Join(un, ",") != "arxiv,github,openalex" {
		t.Fatalf("unscheduled %v", un)
	}
	only := monitor.Only(w, []string{"zenodo"})
	if !only.Sources["zenodo"].Enabled || only.Sources["github"].Enabled || !w.Sources["github"].Enabled {
		t.Fatalf("Only: %+v (original %+v)", only.Sources, w.Sources)
	}
}

// meter serves the demo world and counts, per run, the body bytes it sent and how many of them
// were for pages an epoch-1 world serves identically (unchanged pages).
type meter struct {
	world, ref *demoworld.World
	url        string
	mu         sync.Mutex
	run        int
	total      map[int]int64
	unchanged  map[int]int64
}

func newMeter(t *testing.T, w *demoworld.World) *meter {
	ref, err := demoworld.New(demoworld.Options{Epoch: 1})
	if err != nil {
		t.Fatal(err)
	}
	m := &meter{world: w, ref: ref, total: map[int]int64{}, unchanged: map[int]int64{}}
	ts := httptest.NewServer(m) // 127.0.0.1, a free port
	t.Cleanup(ts.Close)
	m.url = ts.URL
	return m
}

func (m *meter) setRun(n int) { m.mu.Lock(); m.run = n; m.mu.Unlock() }

func (m *meter) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	rec := httptest.NewRecorder()
	m.world.ServeHTTP(rec, r)
	for k, v := range rec.Header() {
		rw.Header()[k] = v
	}
	rw.WriteHeader(rec.Code)
	body := rec.Body.Bytes()
	_, _ = rw.Write(body)
	same := false
	if rec.Code == http.StatusOK && len(body) > 0 {
		r2 := r.Clone(r.Context())
		r2.Header.Del("If-None-Match")
		r2.Header.Del("If-Modified-Since")
		ref := httptest.NewRecorder()
		m.ref.ServeHTTP(ref, r2)
		same = ref.Code == http.StatusOK && bytes.Equal(ref.Body.Bytes(), body)
	}
	m.mu.Lock()
	m.total[m.run] += int64(len(body))
	if same {
		m.unchanged[m.run] += int64(len(body))
	}
	m.mu.Unlock()
}
