package frontier

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/afterlife-watch/afterlife/crawler"
)

func openTest(t *testing.T, opts Options) *Frontier {
	t.Helper()
	f, err := Open(filepath.Join(t.TempDir(), "frontier.db"), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func testJob(id string) crawler.Job {
	return crawler.Job{ID: id, RunID: "r", Source: "s", URL: "https://example.org/" + id}
}

// Settle acks a finished job, enqueues its follow-ups and claims them, in one transaction.
func TestSettleAcksEnqueuesAndClaimsInOneTransaction(t *testing.T) {
	ctx := context.Background()
	f := openTest(t, Options{Lease: time.Hour})
	if _, err := f.Enqueue(ctx, testJob("root")); err != nil {
		t.Fatal(err)
	}
	ls, err := f.Claim(ctx, "r", "w", 1)
	if err != nil || len(ls) != 1 {
		t.Fatalf("Claim = %d, %v", len(ls), err)
	}
	_, before := f.group.Counts()
	got, errs, err := f.Settle(ctx, "r", "w", []crawler.Ack{{Lease: ls[0], Next: []crawler.Job{testJob("a"), testJob("b"), testJob("root")}}}, crawler.Want{Max: 5})
	if err != nil || errs[0].Err != nil {
		t.Fatalf("Settle: %v %v", err, errs)
	}
	if errs[0].Added != 2 {
		t.Fatalf("Settle counted %d follow-ups added, want 2 (root is already in the run)", errs[0].Added)
	}
	if _, after := f.group.Counts(); after-before != 1 {
		t.Fatalf("Settle took %d transactions, want 1", after-before)
	}
	ids := []string{}
	for _, l := range got {
		ids = append(ids, l.Job.ID)
		if l.Job.Attempt != 1 || l.Token == "" {
			t.Fatalf("lease %+v", l)
		}
	}
	sort.Strings(ids)
	if len(ids) != 2 || ids[0] != "a" || ids[1] != "b" {
		t.Fatalf("claimed %v, want the follow-ups a and b (root is done, not re-added)", ids)
	}
	if s, _ := f.Stats(ctx, "r"); s != (crawler.FrontierStats{InFlight: 2, Done: 1}) {
		t.Fatalf("after Settle: %+v", s)
	}
	// max 0 only acks.
	got, errs, err = f.Settle(ctx, "r", "w", []crawler.Ack{{Lease: got[0]}, {Lease: got[1]}}, crawler.Want{})
	if err != nil || errs[0].Err != nil || errs[1].Err != nil || len(got) != 0 {
		t.Fatalf("Settle(max 0) = %v, %v, %v", got, errs, err)
	}
	if s, _ := f.Stats(ctx, "r"); s != (crawler.FrontierStats{Done: 3}) {
		t.Fatalf("at the end: %+v, want 3 done", s)
	}
}

// An ack that cannot be made (a follow-up without id) gets its own error and changes nothing;
// the other acks of the same Settle and the claim still happen.
func TestSettleFailedAckDoesNotFailTheOthers(t *testing.T) {
	ctx := context.Background()
	f := openTest(t, Options{Lease: time.Hour})
	if _, err := f.Enqueue(ctx, testJob("x"), testJob("y"), testJob("z")); err != nil {
		t.Fatal(err)
	}
	ls, err := f.Claim(ctx, "r", "w", 2)
	if err != nil || len(ls) != 2 {
		t.Fatalf("Claim = %d, %v", len(ls), err)
	}
	bad := crawler.Job{RunID: "r", Source: "s", URL: "https://example.org/no-id"}
	got, errs, err := f.Settle(ctx, "r", "w", []crawler.Ack{{Lease: ls[0], Next: []crawler.Job{testJob("n1"), bad}}, {Lease: ls[1]}}, crawler.Want{Max: 1})
	if err != nil {
		t.Fatal(err)
	}
	if errs[0].Err == nil || errs[1].Err != nil {
		t.Fatalf("errs = %v, want the first ack only to fail", errs)
	}
	if len(got) != 1 || got[0].Job.ID != "z" {
		t.Fatalf("claimed %+v, want z (n1 must not have been enqueued)", got)
	}
	if s, _ := f.Stats(ctx, "r"); s != (crawler.FrontierStats{InFlight: 2, Done: 1}) {
		t.Fatalf("after Settle: %+v, want the failed job still leased, z leased, one done, nothing queued", s)
	}
}

// Acks of concurrent Settle calls that were deferred behind a transaction under way are all
// committed by the time each call returns.
func TestConcurrentSettlesAllCommitted(t *testing.T) {
	ctx := context.Background()
	f := openTest(t, Options{Lease: time.Hour})
	const n = 40
	var jobs []crawler.Job
	for i := 0; i < n; i++ {
		jobs = append(jobs, testJob(string(rune('A'+i))))
	}
	if _, err := f.Enqueue(ctx, jobs...); err != nil {
		t.Fatal(err)
	}
	ls, err := f.Claim(ctx, "r", "w", n)
	if err != nil || len(ls) != n {
		t.Fatalf("Claim = %d, %v", len(ls), err)
	}
	done := make(chan error, n)
	for _, l := range ls {
		go func(l crawler.Lease) {
			_, errs, err := f.Settle(ctx, "r", "w", []crawler.Ack{{Lease: l}}, crawler.Want{Max: 1})
			if err == nil {
				err = errs[0].Err
			}
			done <- err
		}(l)
	}
	for i := 0; i < n; i++ {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if s, _ := f.Stats(ctx, "r"); s != (crawler.FrontierStats{Done: n}) {
		t.Fatalf("after %d concurrent Settles: %+v", n, s)
	}
}

// A claim passes over the jobs of the sources it is told to skip, and keeps their order for later.
func TestSettleSkipsSources(t *testing.T) {
	ctx := context.Background()
	f := openTest(t, Options{Lease: time.Hour})
	jobs := []crawler.Job{
		{ID: "a1", RunID: "r", Source: "arxiv", URL: "https://example.org/a1"},
		{ID: "a2", RunID: "r", Source: "arxiv", URL: "https://example.org/a2"},
		{ID: "h1", RunID: "r", Source: "hf", URL: "https://example.org/h1"},
		{ID: "g1", RunID: "r", Source: "gh", URL: "https://example.org/g1"},
	}
	if _, err := f.Enqueue(ctx, jobs...); err != nil {
		t.Fatal(err)
	}
	got, _, err := f.Settle(ctx, "r", "w", nil, crawler.Want{Max: 2, Skip: []string{"arxiv"}})
	if err != nil || len(got) != 2 || got[0].Job.ID != "h1" || got[1].Job.ID != "g1" {
		t.Fatalf("Settle skipping arxiv = %+v, %v; want h1, g1", got, err)
	}
	got, _, err = f.Settle(ctx, "r", "w", nil, crawler.Want{Max: 5, Skip: []string{"arxiv", "nothing"}})
	if err != nil || len(got) != 0 {
		t.Fatalf("only skipped sources left: claimed %+v, %v", got, err)
	}
	got, _, err = f.Settle(ctx, "r", "w", nil, crawler.Want{Max: 5})
	if err != nil || len(got) != 2 || got[0].Job.ID != "a1" || got[1].Job.ID != "a2" {
		t.Fatalf("Settle without skips = %+v, %v; want a1, a2 in order", got, err)
	}
}

// A frontier that owns its file (ReclaimOnOpen) opens it in exclusive locking mode; a shared one
// does not.
func TestOwnedFrontierLocksItsFileExclusively(t *testing.T) {
	for _, owned := range []bool{true, false} {
		f := openTest(t, Options{ReclaimOnOpen: owned})
		var mode string
		if err := f.db.QueryRow(`PRAGMA locking_mode`).Scan(&mode); err != nil {
			t.Fatal(err)
		}
		if want := map[bool]string{true: "exclusive", false: "normal"}[owned]; mode != want {
			t.Fatalf("ReclaimOnOpen=%v: locking_mode %q, want %q", owned, mode, want)
		}
	}
}

// A frontier that owns its file skips the expired-lease queries while no lease can have expired
// (before open + Lease), and still hands out expired leases, or buries them after the last
// attempt, once they can have.
func TestOwnedFrontierStillReclaimsExpiredLeases(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	f := openTest(t, Options{ReclaimOnOpen: true, Lease: time.Hour, MaxAttempts: 2, Now: clock})
	if _, err := f.Enqueue(ctx, testJob("a"), testJob("b")); err != nil {
		t.Fatal(err)
	}
	first, err := f.Claim(ctx, "r", "w1", 1)
	if err != nil || len(first) != 1 || first[0].Job.ID != "a" || first[0].Job.Attempt != 1 {
		t.Fatalf("first claim = %+v, %v", first, err)
	}
	now = now.Add(2 * time.Hour) // a's worker died: its lease ran out
	again, err := f.Claim(ctx, "r", "w2", 2)
	if err != nil || len(again) != 2 || again[0].Job.ID != "a" || again[0].Job.Attempt != 2 || again[1].Job.ID != "b" {
		t.Fatalf("claim after expiry = %+v, %v; want a (expired, attempt 2) then b", again, err)
	}
	now = now.Add(2 * time.Hour) // both die again; a has used its 2 attempts
	last, err := f.Claim(ctx, "r", "w3", 5)
	if err != nil || len(last) != 1 || last[0].Job.ID != "b" {
		t.Fatalf("claim after second expiry = %+v, %v; want only b (a buried)", last, err)
	}
	if s, _ := f.Stats(ctx, "r"); s != (crawler.FrontierStats{InFlight: 1, Dead: 1}) {
		t.Fatalf("stats %+v, want b in flight, a dead", s)
	}
}

// Release hands back jobs claimed and never started: pending at once, the claim not counted as an
// attempt; a lease no longer held (a stale token) is left alone.
func TestReleaseHandsBackUnstartedJobsWithoutCountingAnAttempt(t *testing.T) {
	ctx := context.Background()
	f := openTest(t, Options{Lease: time.Hour})
	if _, err := f.Enqueue(ctx, testJob("a"), testJob("b")); err != nil {
		t.Fatal(err)
	}
	ls, err := f.Claim(ctx, "r", "w", 2)
	if err != nil || len(ls) != 2 {
		t.Fatalf("Claim = %d, %v", len(ls), err)
	}
	stale := ls[1]
	stale.Token = "not-the-lease"
	if err := f.Release(ctx, []crawler.Lease{ls[0], stale}); err != nil {
		t.Fatal(err)
	}
	if s, _ := f.Stats(ctx, "r"); s != (crawler.FrontierStats{Pending: 1, InFlight: 1}) {
		t.Fatalf("after Release: %+v, want the released job pending and the stale lease's job still leased", s)
	}
	again, err := f.Claim(ctx, "r", "w", 2)
	if err != nil || len(again) != 1 || again[0].Job.ID != ls[0].Job.ID {
		t.Fatalf("Claim after Release = %+v, %v", again, err)
	}
	if again[0].Job.Attempt != 1 {
		t.Fatalf("the released job's next claim is attempt %d, want 1 (the unstarted claim does not count)", again[0].Job.Attempt)
	}
}

// A Settle's acks go in one statement; when one ack's follow-ups fail inside the transaction,
// the batch is rolled back and every ack is done again on its own: the bad one fails alone,
// the others are done with their follow-ups counted.
func TestSettleBatchFailureInsideTheTransactionFailsOnlyTheBadAck(t *testing.T) {
	ctx := context.Background()
	f := openTest(t, Options{Lease: time.Hour})
	if _, err := f.db.Exec(`CREATE TRIGGER poison BEFORE INSERT ON jobs WHEN NEW.id = 'poison' BEGIN SELECT RAISE(ABORT, 'poisoned job'); END`); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Enqueue(ctx, testJob("a"), testJob("b"), testJob("c")); err != nil {
		t.Fatal(err)
	}
	ls, err := f.Claim(ctx, "r", "w", 3)
	if err != nil || len(ls) != 3 {
		t.Fatalf("Claim = %d, %v", len(ls), err)
	}
	byID := map[string]crawler.Lease{}
	for _, l := range ls {
		byID[l.Job.ID] = l
	}
	_, res, err := f.Settle(ctx, "r", "w", []crawler.Ack{
		{Lease: byID["a"], Next: []crawler.Job{testJob("poison")}},
		{Lease: byID["b"], Next: []crawler.Job{testJob("n2"), testJob("a")}},
		{Lease: byID["c"]},
	}, crawler.Want{})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Err == nil || res[1].Err != nil || res[2].Err != nil {
		t.Fatalf("results %+v, want only the poisoned ack to fail", res)
	}
	if res[1].Added != 1 {
		t.Fatalf("b's follow-ups added = %d, want 1 (a is already in the run)", res[1].Added)
	}
	if s, _ := f.Stats(ctx, "r"); s != (crawler.FrontierStats{Pending: 1, InFlight: 1, Done: 2}) {
		t.Fatalf("after Settle: %+v, want a still leased, b and c done, n2 pending", s)
	}
}

// A frontier file that owns its file keeps no shared-memory WAL index (no -shm file), also when
// the file is reopened (every scan after the first on a data directory); a shared one has one.
func TestOwnedFrontierReopenedUsesNoSharedMemory(t *testing.T) {
	ctx := context.Background()
	for _, owned := range []bool{true, false} {
		dir := t.TempDir()
		path := filepath.Join(dir, "frontier.db")
		for open := 1; open <= 2; open++ {
			f, err := Open(path, Options{ReclaimOnOpen: owned})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.Enqueue(ctx, testJob(fmt.Sprint("j", open))); err != nil {
				t.Fatal(err)
			}
			var mode string
			if err := f.db.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
				t.Fatalf("journal_mode %q, %v", mode, err)
			}
			_, err = os.Stat(path + "-shm")
			if hasShm := err == nil; hasShm == owned {
				t.Fatalf("ReclaimOnOpen=%v, open %d: -shm file exists: %v", owned, open, hasShm)
			}
			if st, err := f.Stats(ctx, "r"); err != nil || st.Pending != int64(open) {
				t.Fatalf("open %d: stats %+v, %v", open, st, err)
			}
			f.Close()
		}
	}
}

// A Settle's acks take their follow-ups' sequence numbers together (one update of `seqs` for the
// batch): each ack still gets the numbers it got alone, in ack order, so the follow-ups are claimed
// in that order, and duplicates (within the batch, or already queued) are counted per ack.
func TestSettleBatchKeepsFollowUpOrderAndCounts(t *testing.T) {
	ctx := context.Background()
	f := openTest(t, Options{Lease: time.Hour, ReclaimOnOpen: true})
	if _, err := f.Enqueue(ctx, testJob("a"), testJob("b"), testJob("c"), testJob("queued")); err != nil {
		t.Fatal(err)
	}
	ls, err := f.Claim(ctx, "r", "w", 3)
	if err != nil || len(ls) != 3 {
		t.Fatalf("Claim = %d, %v", len(ls), err)
	}
	var seq0 int64
	if err := f.db.QueryRow(`SELECT value FROM seqs WHERE name = 'jobs'`).Scan(&seq0); err != nil {
		t.Fatal(err)
	}
	acks := []crawler.Ack{
		{Lease: ls[0], Next: []crawler.Job{testJob("a1"), testJob("a2")}},
		{Lease: ls[1]},
		{Lease: ls[2], Next: []crawler.Job{testJob("c1"), testJob("a2"), testJob("queued"), testJob("c2")}},
	}
	got, res, err := f.Settle(ctx, "r", "w", acks, crawler.Want{Max: 10})
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{2, 0, 2}; res[0].Added != want[0] || res[1].Added != want[1] || res[2].Added != want[2] {
		t.Fatalf("added %+v, want %v", res, want)
	}
	var order []string
	for _, l := range got {
		order = append(order, l.Job.ID)
	}
	if strings.Join(order, " ") != "queued a1 a2 c1 c2" {
		t.Fatalf("claimed %v, want the queued job, then the follow-ups in ack order", order)
	}
	var seq1 int64
	if err := f.db.QueryRow(`SELECT value FROM seqs WHERE name = 'jobs'`).Scan(&seq1); err != nil {
		t.Fatal(err)
	}
	if seq1-seq0 != 6 {
		t.Fatalf("sequence advanced by %d for 6 follow-ups", seq1-seq0)
	}
	if st, _ := f.Stats(ctx, "r"); st != (crawler.FrontierStats{InFlight: 5, Done: 3}) {
		t.Fatalf("stats %+v", st)
	}
}
