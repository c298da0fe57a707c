package monitor_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/afterlife-watch/afterlife/configs"
	_ "github.com/afterlife-watch/afterlife/crawler/sources"
	"github.com/afterlife-watch/afterlife/internal/demoworld"
	"github.com/afterlife-watch/afterlife/monitor"
	"github.com/afterlife-watch/afterlife/monitor/monitortest"
	"github.com/afterlife-watch/afterlife/reports"
)

func startWorld(t *testing.T, latency time.Duration) *demoworld.Server {
	t.Helper()
	w, err := demoworld.New(demoworld.Options{Latency: latency})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := demoworld.Start(w, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

func openStore(t *testing.T, dir string) *reports.SQLiteStore {
	t.Helper()
	st, err := reports.OpenStore(filepath.Join(dir, reports.StoreFile))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func scanCfg(t *testing.T, srv *demoworld.Server, dir string, st *reports.SQLiteStore) monitor.RunConfig {
	reg, err := configs.LoadRegistry("")
	if err != nil {
		t.Fatal(err)
	}
	// Two datasets keep the run short under -race (modernc SQLite is slow there); the full demo
	// world is scanned by cmd/afterlife's end-to-end tests.
	w := srv.WatchConfig()
	w.Datasets = []string{"ms-celeb-1m", "books3"}
	return monitor.RunConfig{Watch: w, Registry: reg, Workers: 3,
		Version: "test", Env: func(string) string { return "" }}
}

// A scan of the demo world with the real adapters and store records the planted afterlife; a
// second scan on the same data directory sends conditional requests and finds nothing new.
func TestScanDemoWorldThenRescanIsConditional(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	srv := startWorld(t, 0)
	dir := t.TempDir()
	st := openStore(t, dir)
	first, err := monitortest.Embedded(ctx, dir, st, scanCfg(t, srv, dir, st))
	if err != nil {
		t.Fatal(err)
	}
	if first.Resumed || first.Run.New < 10 || !first.Run.Complete {
		t.Fatalf("first run: resumed=%v new=%d complete=%v; the demo world plants 10+ sightings of these two", first.Resumed, first.Run.New, first.Run.Complete)
	}
	for _, s := range first.Run.Sources {
		if s.Status != monitor.StatusOK || s.Requests == 0 || s.Bytes == 0 {
			t.Errorf("first run, source %s: %+v", s.Name, s)
		}
	}
	sightings, err := st.Sightings(ctx, reports.SightingQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(sightings) != first.Run.New {
		t.Fatalf("store holds %d sightings, run says %d new", len(sightings), first.Run.New)
	}

	second, err := monitortest.Embedded(ctx, dir, st, scanCfg(t, srv, dir, st))
	if err != nil {
		t.Fatal(err)
	}
	if second.Run.ID == first.Run.ID || second.Run.New != 0 {
		t.Fatalf("second run %s: new=%d, want a new run with nothing new", second.Run.ID, second.Run.New)
	}
	var cached, requests int64
	for _, s := range second.Run.Sources {
		cached += s.Cached
		requests += s.Requests
	}
	if cached == 0 || cached*2 < requests {
		t.Fatalf("second run: %d of %d requests answered 304; conditional requests are not working", cached, requests)
	}
	again, _ := st.Sightings(ctx, reports.SightingQuery{})
	if len(again) != len(sightings) {
		t.Fatalf("rescan changed the number of sightings: %d → %d", len(sightings), len(again))
	}
}

// Cancelling a scan mid-run (Ctrl-C) returns ErrInterrupted; the next scan resumes the same run.
func TestScanInterruptedThenResumed(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	srv := startWorld(t, 10*time.Millisecond)
	dir := t.TempDir()
	st := openStore(t, dir)

	ictx, stop := context.WithCancel(ctx)
	go func() {
		for srv.World.Requests("huggingface") < 25 && ictx.Err() == nil {
			time.Sleep(2 * time.Millisecond)
		}
		stop()
	}()
	_, err := monitortest.Embedded(ictx, dir, st, scanCfg(t, srv, dir, st))
	stop()
	if !errors.Is(err, monitor.ErrInterrupted) {
		t.Fatalf("interrupted scan: err = %v, want ErrInterrupted", err)
	}
	open, ok, err := st.OpenRun(ctx)
	if err != nil || !ok {
		t.Fatalf("no unfinished run after the interruption: %v", err)
	}
	res, err := monitortest.Embedded(ctx, dir, st, scanCfg(t, srv, dir, st))
	if err != nil {
		t.Fatal(err)
	}
	if !res.Resumed || res.Run.ID != open.ID || !res.Run.Complete {
		t.Fatalf("second scan: resumed=%v run=%s (open %s) complete=%v", res.Resumed, res.Run.ID, open.ID, res.Run.Complete)
	}
}
