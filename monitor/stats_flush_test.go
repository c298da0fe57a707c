package monitor

import (
	"context"
	"testing"
	"time"

	"github.com/afterlife-watch/afterlife/crawler/frontier"
	"github.com/afterlife-watch/afterlife/reports"
)

// countingStore counts AddSourceStat calls (each is a store write transaction in the real store).
type countingStore struct {
	*memStore
	adds int
}

func (c *countingStore) AddSourceStat(ctx context.Context, runID string, d reports.SourceStat) error {
	c.adds++
	return c.memStore.AddSourceStat(ctx, runID, d)
}

// MaybeFlush writes at most once per interval; the final Flush makes the totals exact.
func TestMaybeFlushThrottlesAndFinalFlushIsExact(t *testing.T) {
	ctx := context.Background()
	st := &countingStore{memStore: newMemStore()}
	if err := st.BeginRun(ctx, reports.Run{ID: "r"}); err != nil {
		t.Fatal(err)
	}
	s := NewStats(nil)
	for i := 0; i < 100; i++ {
		s.jobDone("src", 2, nil)
		if i%10 == 9 {
			s.jobError("src", context.DeadlineExceeded)
		}
		s.MaybeFlush(ctx, st, "r", nil, time.Hour)
	}
	if st.adds != 1 {
		t.Fatalf("%d source-stat writes for 100 jobs within the interval, want 1 (the first)", st.adds)
	}
	if got := st.stat(t, "r", "src"); got.Artifacts != 2 {
		t.Fatalf("after the first flush: %d artifacts, want 2", got.Artifacts)
	}
	s.Flush(ctx, st, "r", nil)
	got := st.stat(t, "r", "src")
	if got.Artifacts != 200 || got.Errors != 10 {
		t.Fatalf("after the final flush: %d artifacts, %d errors; want 200, 10", got.Artifacts, got.Errors)
	}
	if got.Message == "" {
		t.Fatal("the last error did not reach the source message")
	}
	// Nothing new: a flush writes nothing, and MaybeFlush with a zero interval flushes each time.
	s.Flush(ctx, st, "r", nil)
	if st.adds != 2 {
		t.Fatalf("%d writes, want 2 (an empty flush writes nothing)", st.adds)
	}
	s.jobDone("src", 1, nil)
	s.MaybeFlush(ctx, st, "r", nil, 0)
	if got := st.stat(t, "r", "src"); got.Artifacts != 201 || st.adds != 3 {
		t.Fatalf("%d artifacts after %d writes, want 201 after 3", got.Artifacts, st.adds)
	}
}

// A worker stopped by its context (SIGTERM) flushes what its jobs left unflushed.
func TestWorkerRunFlushesOnCancel(t *testing.T) {
	ctx := context.Background()
	st := newMemStore()
	if err := st.BeginRun(ctx, reports.Run{ID: "r"}); err != nil {
		t.Fatal(err)
	}
	s := NewStats(nil)
	s.Flush(ctx, st, "r", nil) // the interval starts now: the job below is not flushed by it
	s.jobDone("src", 3, nil)
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	w := Worker{Name: "w", Frontier: openFrontier(t, frontier.Options{}), Recorder: st, Stats: s}
	if err := w.Run(cctx, "r"); err == nil {
		t.Fatal("Run on a cancelled context returned nil")
	}
	if got := st.stat(t, "r", "src"); got.Artifacts != 3 {
		t.Fatalf("after Run returned: %d artifacts recorded, want 3", got.Artifacts)
	}
}
