package frontier

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/afterlife-watch/afterlife/crawler"
)

// BenchmarkJobCycle is one job's frontier work as a worker did it before Settle: claim one job,
// then ack it with one follow-up (two transactions).
// go test -run XXX -bench 'JobCycle|SettleCycle' -benchtime 3000x ./crawler/frontier/
func BenchmarkJobCycle(b *testing.B) {
	ctx := context.Background()
	f, err := Open(filepath.Join(b.TempDir(), "frontier.db"), Options{Lease: time.Hour, ReclaimOnOpen: true})
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Enqueue(ctx, benchJob(0)); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ls, err := f.Claim(ctx, "r", "w", 1)
		if err != nil || len(ls) != 1 {
			b.Fatalf("claim %d: %d %v", i, len(ls), err)
		}
		if _, err := f.AckEnqueue(ctx, ls[0], benchJob(i+1)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSettleCycle is one job's frontier work as a worker does it now: one Settle acks the
// previous job with its follow-up and claims the next (one transaction).
func BenchmarkSettleCycle(b *testing.B) {
	ctx := context.Background()
	f, err := Open(filepath.Join(b.TempDir(), "frontier.db"), Options{Lease: time.Hour, ReclaimOnOpen: true})
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Enqueue(ctx, benchJob(0)); err != nil {
		b.Fatal(err)
	}
	ls, _, err := f.Settle(ctx, "r", "w", nil, crawler.Want{Max: 1})
	if err != nil || len(ls) != 1 {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ls, _, err = f.Settle(ctx, "r", "w", []crawler.Ack{{Lease: ls[0], Next: []crawler.Job{benchJob(i + 1)}}}, crawler.Want{Max: 1})
		if err != nil || len(ls) != 1 {
			b.Fatalf("settle %d: %d %v", i, len(ls), err)
		}
	}
}

func benchJob(i int) crawler.Job {
	u := fmt.Sprintf("http://127.0.0.1:8080/huggingface/api/models?filter=base_model:org/model-%d&limit=100", i)
	return crawler.Job{ID: crawler.Key("huggingface", "search-models", u), RunID: "r", Source: "huggingface", Kind: "search-models",
		URL: u, Dataset: "laion-5b", Meta: map[string]string{"scope": "huggingface:base_model:org/model", "depth": "1"}}
}

// BenchmarkSettleBatch is the feed's settle behind 4 workers on a queue of a few hundred jobs:
// one Settle acks 16 jobs (each with a follow-up) and claims 16. One op is one job; wal-B/job is
// what the settles wrote to the WAL per job (the pages each commit dirtied).
func BenchmarkSettleBatch(b *testing.B) {
	ctx := context.Background()
	path := filepath.Join(b.TempDir(), "frontier.db")
	f, err := Open(path, Options{Lease: time.Hour, ReclaimOnOpen: true})
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	const batch = 16
	var seeds []crawler.Job
	for i := range 600 {
		seeds = append(seeds, benchJob(i))
	}
	if _, err := f.Enqueue(ctx, seeds...); err != nil {
		b.Fatal(err)
	}
	ls, _, err := f.Settle(ctx, "r", "w", nil, crawler.Want{Max: batch})
	if err != nil || len(ls) != batch {
		b.Fatal(err)
	}
	wal0 := walSize(path)
	next := 600
	b.ResetTimer()
	for done := 0; done < b.N; done += batch {
		acks := make([]crawler.Ack, len(ls))
		for i, l := range ls {
			acks[i] = crawler.Ack{Lease: l, Next: []crawler.Job{benchJob(next)}}
			next++
		}
		if ls, _, err = f.Settle(ctx, "r", "w", acks, crawler.Want{Max: batch}); err != nil || len(ls) != batch {
			b.Fatalf("settle: %d %v", len(ls), err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(walSize(path)-wal0)/float64(b.N), "wal-B/job")
}

func walSize(path string) int64 {
	fi, err := os.Stat(path + "-wal")
	if err != nil {
		return 0
	}
	return fi.Size()
}
