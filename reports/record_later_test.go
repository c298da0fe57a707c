package reports

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/afterlife-watch/afterlife/extract"
	"github.com/afterlife-watch/afterlife/internal/groupcommit"
)

// RecordBatchLater holds the write back until the next store transaction: nothing is in the file
// when it returns, a lineage read (TaintOf) commits it first and sees the model, done hears the
// new sightings once committed, and a failed write is the next Sync's error, not done's.
func TestRecordBatchLaterIsCommittedBySyncAndSeenByLineage(t *testing.T) {
	ctx := DeferUntilSync(context.Background())
	s := openTest(t)
	// The store's committer carries deferred work after 100 ms on its own; on a loaded machine
	// (-race, a CI run beside it) the checks below took longer and saw it committed. "Held back"
	// is about who commits, not about time: give the timer an hour.
	s.group = groupcommit.New(s.writeTx, 0, time.Hour)
	begin(t, s, "r1", t0)
	base := model("org/base")
	f := finding(base, "laion-5b", extract.TrainedOn)
	var got []RecordResult
	calls := 0
	if err := s.RecordBatchLater(ctx, "r1", t0, []Observation{{Artifact: base, Findings: []extract.Finding{f}}},
		func(rr []RecordResult) { calls++; got = rr }); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := s.db.QueryRow(`SELECT COUNT(*) FROM artifacts`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d artifacts in the file before any sync (%v); want the write held back", n, err)
	}
	if calls != 0 {
		t.Fatal("done called before the write was committed")
	}
	// Another model's lineage read does not commit it (it cannot change that answer).
	if ts := s.TaintOf("org/other"); len(ts) != 0 {
		t.Fatalf("TaintOf(org/other) = %+v", ts)
	}
	if err := s.db.QueryRow(`SELECT COUNT(*) FROM artifacts`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d artifacts in the file after another model's lineage read (%v); want still held back", n, err)
	}
	ts := s.TaintOf("org/base")
	if len(ts) != 1 || ts[0].Dataset != "laion-5b" {
		t.Fatalf("TaintOf after a held-back record = %+v; want the model's taint", ts)
	}
	if calls != 1 || len(got) != 1 || got[0].NewSightings != 1 {
		t.Fatalf("done: %d calls, %+v; want one call with 1 new sighting", calls, got)
	}
	if err := s.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	// A write that fails (its run does not exist) fails the next Sync, and done is not told.
	calls = 0
	if err := s.RecordBatchLater(ctx, "no-such-run", t0, []Observation{{Artifact: model("org/x")}},
		func([]RecordResult) { calls++ }); err != nil {
		t.Fatal(err)
	}
	if err := s.Sync(ctx); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Sync after a failed held-back write = %v; want ErrNotFound", err)
	}
	if calls != 0 {
		t.Fatal("done called for a write that failed")
	}
	if err := s.Sync(ctx); err != nil {
		t.Fatalf("the failure was reported twice: %v", err)
	}
	if len(s.laterKeys) != 0 {
		t.Fatalf("held-back model keys still counted: %v", s.laterKeys)
	}
}

// Once a committed record saw its run, later records and listings of that run do not look the
// run up again; a run never seen is still checked (and refused when it does not exist).
func TestRecordsOfAKnownRunSkipTheRunLookup(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	begin(t, s, "r1", t0)
	mustRecord(t, s, "r1", t0, model("org/a"), finding(model("org/a"), "laion-5b", extract.TrainedOn))
	st, err := s.recordStmts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	st.runExists.Close() // any lookup from now on fails
	mustRecord(t, s, "r1", t0, model("org/b"), finding(model("org/b"), "laion-5b", extract.TrainedOn))
	if _, err := s.RecordListing(ctx, "r1", "scope", []string{"huggingface:model:org/b"}, t0, 1); err != nil {
		t.Fatalf("listing of a known run: %v", err)
	}
	if _, err := s.Record(ctx, "r2", t0, model("org/c"), nil); err == nil {
		t.Fatal("a record into a run never seen was not checked")
	}
}

// With a DeferUntilSync context MarkGone holds its write back like RecordBatchLater: nothing is
// gone in the file when it returns; the next Sync commits it in order after a record held back
// before it (the artifact exists and is marked gone); a gone mark of a run that does not exist
// fails that Sync, once.
func TestMarkGoneHeldBackUntilSyncInOrder(t *testing.T) {
	ctx := DeferUntilSync(context.Background())
	s := openTest(t)
	s.group = groupcommit.New(s.writeTx, 0, time.Hour) // held back until Sync, not until a timer (see above)
	begin(t, s, "r1", t0)
	a := model("org/a")
	if err := s.RecordBatchLater(ctx, "r1", t0, []Observation{{Artifact: a, Findings: []extract.Finding{finding(a, "books3", extract.Copy)}}}, nil); err != nil {
		t.Fatal(err)
	}
	ids := []string{a.ID}
	if err := s.MarkGone(ctx, "r1", ids, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	ids[0] = "hf:model:changed/after/the/call" // the caller's slice is not the write's
	var n int
	if err := s.db.QueryRow(`SELECT COUNT(*) FROM artifacts WHERE gone = 1`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d artifacts gone before any sync (%v); want the mark held back", n, err)
	}
	if err := s.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	sg, err := s.Sightings(context.Background(), SightingQuery{})
	if err != nil || len(sg) != 1 || !sg[0].Gone || !sg[0].GoneSince.Equal(t0.Add(time.Hour)) {
		t.Fatalf("after Sync: %+v, %v; want the one sighting gone since t0+1h", sg, err)
	}
	if err := s.MarkGone(ctx, "no-such-run", []string{a.ID}, t0); err != nil {
		t.Fatalf("a held-back MarkGone failed at once: %v", err)
	}
	if err := s.Sync(ctx); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Sync after a failed held-back gone mark = %v; want ErrNotFound", err)
	}
	if err := s.Sync(ctx); err != nil {
		t.Fatalf("the failure was reported twice: %v", err)
	}
	// Without the mark, MarkGone still commits before it returns (and fails at once).
	if err := s.MarkGone(context.Background(), "no-such-run", []string{a.ID}, t0); !errors.Is(err, ErrNotFound) {
		t.Fatalf("MarkGone of an unknown run without DeferUntilSync = %v; want ErrNotFound", err)
	}
}
