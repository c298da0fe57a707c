package frontier

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/afterlife-watch/afterlife/crawler"
)

// AckEnqueue adds the follow-ups and marks the job done in one transaction: when a follow-up is
// rejected nothing changes (the job stays leased, no follow-up is queued), and a follow-up already
// in the run is not added twice.
func TestAckEnqueueIsOneTransaction(t *testing.T) {
	ctx := context.Background()
	f, err := Open(filepath.Join(t.TempDir(), "frontier.db"), Options{Lease: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Enqueue(ctx, crawler.Job{ID: "root", RunID: "r", Source: "s", URL: "https://example.org/"}); err != nil {
		t.Fatal(err)
	}
	ls, err := f.Claim(ctx, "r", "w", 1)
	if err != nil || len(ls) != 1 {
		t.Fatalf("Claim = %d, %v", len(ls), err)
	}
	good := crawler.Job{ID: "p2", RunID: "r", Source: "s", URL: "https://example.org/2"}
	bad := crawler.Job{ID: "", RunID: "r", Source: "s", URL: "https://example.org/3"} // no id: rejected
	if _, err := f.AckEnqueue(ctx, ls[0], good, bad); err == nil {
		t.Fatal("AckEnqueue with a job without id: no error")
	}
	if s, _ := f.Stats(ctx, "r"); s != (crawler.FrontierStats{InFlight: 1}) {
		t.Fatalf("after a failed AckEnqueue: %+v, want the job still leased and nothing queued", s)
	}

	n, err := f.AckEnqueue(ctx, ls[0], good, good, crawler.Job{ID: "root", RunID: "r", Source: "s", URL: "https://example.org/"})
	if err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Fatalf("AckEnqueue added %d jobs, want 1 (the duplicate and the job itself are in the run already)", n)
	}
	if s, _ := f.Stats(ctx, "r"); s != (crawler.FrontierStats{Pending: 1, Done: 1}) {
		t.Fatalf("after AckEnqueue: %+v, want 1 pending 1 done", s)
	}
	next, err := f.Claim(ctx, "r", "w", 5)
	if err != nil || len(next) != 1 || next[0].Job.ID != "p2" || next[0].Job.URL != good.URL {
		t.Fatalf("Claim after AckEnqueue = %+v, %v; want the follow-up p2", next, err)
	}
	// Acking again (a job handled twice) changes nothing and adds nothing.
	if n, err := f.AckEnqueue(ctx, ls[0], good); err != nil || n != 0 {
		t.Fatalf("second AckEnqueue = %d, %v", n, err)
	}
	if n, err := f.AckEnqueue(ctx, next[0]); err != nil || n != 0 {
		t.Fatalf("AckEnqueue without follow-ups = %d, %v", n, err)
	}
	if s, _ := f.Stats(ctx, "r"); s != (crawler.FrontierStats{Done: 2}) {
		t.Fatalf("at the end: %+v, want 2 done", s)
	}
}

// The prepared statements survive many calls and a closed frontier reports errors instead of
// panicking.
func TestPreparedStatementsAfterClose(t *testing.T) {
	ctx := context.Background()
	f, err := Open(filepath.Join(t.TempDir(), "frontier.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 50; i++ {
		j := crawler.Job{ID: "j" + string(rune('a'+i%26)) + string(rune('a'+i/26)), RunID: "r", Source: "s", URL: "https://example.org/"}
		if _, err := f.Enqueue(ctx, j); err != nil {
			t.Fatal(err)
		}
		ls, err := f.Claim(ctx, "r", "w", 1)
		if err != nil || len(ls) != 1 {
			t.Fatalf("Claim %d = %d, %v", i, len(ls), err)
		}
		if err := f.Ack(ctx, ls[0]); err != nil {
			t.Fatal(err)
		}
	}
	if s, _ := f.Stats(ctx, "r"); s != (crawler.FrontierStats{Done: 50}) {
		t.Fatalf("%+v, want 50 done", s)
	}
	f.Close()
	if _, err := f.Claim(ctx, "r", "w", 1); err == nil {
		t.Fatal("Claim on a closed frontier: no error")
	}
	if err := f.Ack(ctx, crawler.Lease{Job: crawler.Job{ID: "x", RunID: "r"}}); err == nil {
		t.Fatal("Ack on a closed frontier: no error")
	}
}
