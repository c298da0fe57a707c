package reports

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// The store's other writes (failures, gone marks, stats, the data kind) share the group's
// transactions: concurrent writers all land, one whose work fails fails alone, and a write
// comes after the listing deferred before it, in fewer transactions than writes.
func TestWritesShareTransactionsAndFailAlone(t *testing.T) {
	ctx := context.Background()
	st := openTest(t)
	at := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	if err := st.BeginRun(ctx, Run{ID: "r1", Started: at, Sources: []SourceStat{{Name: "s"}}}); err != nil {
		t.Fatal(err)
	}
	if err := st.ClaimDataKind(ctx, DataDemo, ""); err != nil {
		t.Fatal(err)
	}
	// A scope's first listing, deferred until the next store transaction.
	if gone, err := st.RecordListing(DeferUntilSync(ctx), "r1", "scope-a", []string{"x:1"}, at, 1); err != nil || gone != nil {
		t.Fatalf("deferred listing: %v %v", gone, err)
	}
	ops0, batches0 := st.group.Counts()
	const n = 40
	var wg sync.WaitGroup
	errs := make([]error, n)
	var kindErr error
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			switch i % 2 {
			case 0:
				errs[i] = st.RecordFailure(ctx, "r1", JobFailure{Source: "s", URL: fmt.Sprintf("https://s/%d", i), Kind: "k", Error: "HTTP 500"})
			default:
				errs[i] = st.AddSourceStat(ctx, "r1", SourceStat{Name: "s", Requests: 1})
			}
		}(i)
		if i == n/2 {
			wg.Add(1)
			go func() { defer wg.Done(); kindErr = st.ClaimDataKind(ctx, DataReal, "") }()
		}
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
	}
	var dk *DataKindError
	if !errors.As(kindErr, &dk) {
		t.Fatalf("claiming a demo store as real: %v, want a DataKindError", kindErr)
	}
	if k, err := st.DataKind(ctx); err != nil || k != DataDemo {
		t.Fatalf("data kind %q, %v; want demo kept", k, err)
	}
	fs, err := st.Failures(ctx, "r1")
	if err != nil || len(fs) != n/2 {
		t.Fatalf("%d failures recorded (%v), want %d", len(fs), err, n/2)
	}
	run, err := st.GetRun(ctx, "r1")
	if err != nil || len(run.Sources) != 1 || run.Sources[0].Requests != n/2 {
		t.Fatalf("run %+v, %v; want %d requests counted", run.Sources, err, n/2)
	}
	var listed int
	if err := st.db.QueryRow(`SELECT COUNT(*) FROM listings WHERE scope='scope-a'`).Scan(&listed); err != nil || listed != 1 {
		t.Fatalf("deferred listing in the file: %d, %v", listed, err)
	}
	ops, batches := st.group.Counts()
	if ops-ops0 < n+2 {
		t.Fatalf("%d writes went through the group, want every one of %d (and the deferred listing)", ops-ops0, n+2)
	}
	t.Logf("%d writes in %d transactions", ops-ops0, batches-batches0)
}
