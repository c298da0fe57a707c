package monitor

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/afterlife-watch/afterlife/crawler"
	"github.com/afterlife-watch/afterlife/crawler/frontier"
)

// A feed's Settle behind the workers claims aheadFactor jobs per worker; a process killed with
// those claimed-ahead jobs never started loses none of them: an owned frontier (the embedded
// scan) hands them back when it is opened again, a shared one once their lease has expired, and
// in both the interrupted claim is not counted against the job's attempts (owned) or is one
// attempt (shared), never a lost job.
func TestFeedClaimsAheadAndAKilledPoolLosesNone(t *testing.T) {
	if aheadFactor < 4 {
		t.Fatalf("aheadFactor = %d; a settle behind the workers should claim at least 4 jobs per worker", aheadFactor)
	}
	for _, owned := range []bool{true, false} {
		t.Run(fmt.Sprintf("owned=%v", owned), func(t *testing.T) {
			ctx := context.Background()
			var mu sync.Mutex
			now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
			path := filepath.Join(t.TempDir(), "frontier.db")
			opts := frontier.Options{ReclaimOnOpen: owned, Lease: time.Hour, MaxAttempts: 5, Now: clock}
			fr, err := frontier.Open(path, opts)
			if err != nil {
				t.Fatal(err)
			}
			const jobs, size = 40, 2
			_, w, f := feedOver(t, fr, jobs, size)
			// The first job comes from a settle for the pool (size jobs); taking the last of them
			// starts the settle behind the workers, which claims ahead.
			for range size {
				if _, ok, err := f.next(ctx, w, "r"); !ok || err != nil {
					t.Fatalf("next = %v, %v", ok, err)
				}
			}
			f.mu.Lock()
			f.awaitSettle()
			ahead := len(f.buf)
			f.mu.Unlock()
			if ahead != size*aheadFactor {
				t.Fatalf("%d jobs claimed ahead, want %d (aheadFactor %d x %d workers)", ahead, size*aheadFactor, aheadFactor, size)
			}
			if s, _ := fr.Stats(ctx, "r"); s.InFlight != int64(size+ahead) {
				t.Fatalf("frontier %+v; want %d leased", s, size+ahead)
			}
			// kill -9: no flush, no Release; the file is all that is left.
			if err := fr.Close(); err != nil {
				t.Fatal(err)
			}
			fr, err = frontier.Open(path, opts)
			if err != nil {
				t.Fatal(err)
			}
			defer fr.Close()
			if !owned {
				ls, err := fr.Claim(ctx, "r", "w2", jobs)
				if err != nil || len(ls) != jobs-size-ahead {
					t.Fatalf("shared file before the leases expire: claimed %d, %v; want only the %d never claimed", len(ls), err, jobs-size-ahead)
				}
				for _, l := range ls {
					if err := fr.Ack(ctx, l); err != nil {
						t.Fatal(err)
					}
				}
				mu.Lock()
				now = now.Add(2 * time.Hour)
				mu.Unlock()
			}
			got := map[string]int{}
			for {
				ls, err := fr.Claim(ctx, "r", "w2", jobs)
				if err != nil {
					t.Fatal(err)
				}
				if len(ls) == 0 {
					break
				}
				for _, l := range ls {
					got[l.Job.ID] = l.Job.Attempt
					if err := fr.Ack(ctx, l); err != nil {
						t.Fatal(err)
					}
				}
			}
			want := jobs
			if !owned {
				want = size + ahead // the rest were claimed (and acked) above
			}
			if len(got) != want {
				t.Fatalf("re-claimed %d jobs after the kill, want %d", len(got), want)
			}
			for id, att := range got {
				if owned && att != 1 {
					t.Errorf("%s: attempt %d after reopening, want 1 (the interrupted claim is not counted)", id, att)
				}
				if !owned && att != 2 {
					t.Errorf("%s: attempt %d after its lease expired, want 2", id, att)
				}
			}
			if s, _ := fr.Stats(ctx, "r"); s != (crawler.FrontierStats{Done: jobs}) {
				t.Fatalf("frontier %+v, want all %d done", s, jobs)
			}
		})
	}
}

// The settle behind the workers starts while lowWaterFactor jobs per worker are still claimed,
// not when the last one is taken: the other workers take those while the store syncs and the
// frontier commits, instead of waiting for the commits (bench/results/crawl.md, "Stop 26").
func TestFeedSettlesBehindBeforeTheBufferRunsDry(t *testing.T) {
	if lowWaterFactor < 1 || lowWaterFactor >= aheadFactor {
		t.Fatalf("lowWaterFactor = %d; want 1..%d (a settle behind the workers before the last claimed job is taken)", lowWaterFactor, aheadFactor-1)
	}
	ctx := context.Background()
	fr, err := frontier.Open(filepath.Join(t.TempDir(), "frontier.db"), frontier.Options{ReclaimOnOpen: true, Lease: time.Hour, MaxAttempts: 5})
	if err != nil {
		t.Fatal(err)
	}
	defer fr.Close()
	const size = 2
	st, w, f := feedOver(t, fr, 60, size)
	settled := func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.awaitSettle()
	}
	// Fill the buffer: the pool's first settle and the one behind it.
	for range size {
		if _, ok, err := f.next(ctx, w, "r"); !ok || err != nil {
			t.Fatalf("next = %v, %v", ok, err)
		}
	}
	settled()
	f.mu.Lock()
	full := len(f.buf)
	f.mu.Unlock()
	if full <= size*lowWaterFactor {
		t.Fatalf("%d jobs claimed ahead; the test needs more than %d", full, size*lowWaterFactor)
	}
	before := st.settles.Load()
	// Take jobs until the low-water mark: the last of these starts a settle, with jobs left.
	for range full - size*lowWaterFactor {
		if _, ok, err := f.next(ctx, w, "r"); !ok || err != nil {
			t.Fatalf("next = %v, %v", ok, err)
		}
	}
	settled()
	if got := st.settles.Load() - before; got != 1 {
		t.Fatalf("%d settles once %d claimed jobs were left for %d workers; want 1 (behind the workers, before the buffer runs dry)", got, size*lowWaterFactor, size)
	}
	f.mu.Lock()
	left := len(f.buf)
	f.mu.Unlock()
	if want := size*lowWaterFactor + size*aheadFactor; left != want {
		t.Fatalf("%d jobs claimed after the settle; want %d (the %d left and %d claimed)", left, want, size*lowWaterFactor, size*aheadFactor)
	}
}

// feedOver enqueues n jobs of run "r" into fr and returns a feed for a pool of size over it, with
// its settles counted, and a worker to take jobs with.
func feedOver(t *testing.T, fr *frontier.Frontier, n, size int) (*settleCounter, *Worker, *feed) {
	t.Helper()
	var all []crawler.Job
	for i := range n {
		all = append(all, crawler.Job{ID: fmt.Sprintf("j%02d", i), RunID: "r", Source: "s", URL: fmt.Sprintf("https://example.org/%d", i)})
	}
	if _, err := fr.Enqueue(context.Background(), all...); err != nil {
		t.Fatal(err)
	}
	st := &settleCounter{Frontier: fr}
	w := &Worker{Name: "w", Frontier: st, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	return st, w, newFeed(st, size, nil, nil, nil)
}
