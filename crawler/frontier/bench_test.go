package frontier

import (
	"context"
	"fmt"
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
