package frontier

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/afterlife-watch/afterlife/crawler"
	"github.com/afterlife-watch/afterlife/crawler/frontier/frontiertest"
)

func TestConformance(t *testing.T) {
	frontiertest.Run(t, func(t *testing.T) crawler.Frontier {
		f, err := Open(filepath.Join(t.TempDir(), "frontier.db"), Options{MaxAttempts: 3, Lease: 2 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		return f
	}, frontiertest.Options{MaxAttempts: 3, Lease: 2 * time.Second})
}

// A process that dies holding leases (the file is closed without acks) gets them back on the next
// open, without waiting for the lease to expire and without the interrupted attempt counting.
func TestReclaimOnOpen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "frontier.db")
	f, err := Open(path, Options{Lease: time.Hour, MaxAttempts: 2})
	if err != nil {
		t.Fatal(err)
	}
	jobs := []crawler.Job{
		{ID: "a", RunID: "r", Source: "s", URL: "https://example.org/a"},
		{ID: "b", RunID: "r", Source: "s", URL: "https://example.org/b"},
		{ID: "c", RunID: "r", Source: "s", URL: "https://example.org/c"},
	}
	if _, err := f.Enqueue(ctx, jobs...); err != nil {
		t.Fatal(err)
	}
	ls, err := f.Claim(ctx, "r", "w", 3)
	if err != nil || len(ls) != 3 {
		t.Fatalf("Claim = %d, %v", len(ls), err)
	}
	if err := f.Ack(ctx, ls[0]); err != nil {
		t.Fatal(err)
	}
	f.Close() // "killed" with two leases held

	g, err := Open(path, Options{Lease: time.Hour, MaxAttempts: 2, ReclaimOnOpen: true})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	s, _ := g.Stats(ctx, "r")
	if s != (crawler.FrontierStats{Pending: 2, Done: 1}) {
		t.Fatalf("after reopen: %+v, want 2 pending 1 done", s)
	}
	again, err := g.Claim(ctx, "r", "w2", 5)
	if err != nil || len(again) != 2 {
		t.Fatalf("Claim after reopen = %d, %v; want the 2 interrupted jobs", len(again), err)
	}
	for _, l := range again {
		if l.Job.ID == ls[0].Job.ID {
			t.Fatalf("acked job %s handed out again", l.Job.ID)
		}
		if l.Job.Attempt != 1 {
			t.Fatalf("interrupted attempt counted: Attempt = %d, want 1", l.Job.Attempt)
		}
	}
}

func TestDeadLettersKeepReason(t *testing.T) {
	ctx := context.Background()
	f, err := Open(filepath.Join(t.TempDir(), "frontier.db"), Options{MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	j := crawler.Job{ID: "x", RunID: "r", Source: "s", URL: "https://example.org/x", Meta: map[string]string{"k": "v"}}
	if _, err := f.Enqueue(ctx, j); err != nil {
		t.Fatal(err)
	}
	ls, _ := f.Claim(ctx, "r", "w", 1)
	if err := f.Retry(ctx, ls[0], time.Now(), "HTTP 502 from upstream"); err != nil {
		t.Fatal(err)
	}
	dl, err := f.DeadLetters(ctx, "r")
	if err != nil || len(dl) != 1 {
		t.Fatalf("DeadLetters = %v, %v", dl, err)
	}
	if dl[0].Reason != "HTTP 502 from upstream" || dl[0].Job.Meta["k"] != "v" || dl[0].Attempts != 1 {
		t.Fatalf("dead letter = %+v", dl[0])
	}
}

func TestEnqueueRejectsJobsWithoutIDs(t *testing.T) {
	f, err := Open(filepath.Join(t.TempDir(), "frontier.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	_, err = f.Enqueue(context.Background(), crawler.Job{ID: "ok", RunID: "r"}, crawler.Job{RunID: "r", URL: "https://x"})
	if err == nil {
		t.Fatal("job without id accepted")
	}
	if s, _ := f.Stats(context.Background(), "r"); s.Pending != 0 {
		t.Fatalf("a rejected batch left %d jobs behind", s.Pending)
	}
}

func TestBuryAndStatsBySource(t *testing.T) {
	ctx := context.Background()
	f, err := Open(filepath.Join(t.TempDir(), "frontier.db"), Options{MaxAttempts: 5})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Enqueue(ctx,
		crawler.Job{ID: "a1", RunID: "r", Source: "a", URL: "https://a/1"},
		crawler.Job{ID: "a2", RunID: "r", Source: "a", URL: "https://a/2"},
		crawler.Job{ID: "b1", RunID: "r", Source: "b", URL: "https://b/1"}); err != nil {
		t.Fatal(err)
	}
	ls, _ := f.Claim(ctx, "r", "w", 3)
	for _, l := range ls {
		switch l.Job.ID {
		case "a1":
			f.Ack(ctx, l)
		default:
			if err := f.Bury(ctx, l, "HTTP 404"); err != nil {
				t.Fatal(err)
			}
		}
	}
	by, err := f.StatsBySource(ctx, "r")
	if err != nil {
		t.Fatal(err)
	}
	if by["a"] != (crawler.FrontierStats{Done: 1, Dead: 1}) || by["b"] != (crawler.FrontierStats{Dead: 1}) {
		t.Fatalf("StatsBySource = %+v", by)
	}
	if s, _ := f.Stats(ctx, "r"); !s.Drained() || s.Dead != 2 {
		t.Fatalf("Stats = %+v", s)
	}
	if n, err := f.Forget(ctx, "r"); err != nil || n != 1 {
		t.Fatalf("Forget = %d, %v; want the 1 done job", n, err)
	}
	if s, _ := f.Stats(ctx, "r"); s != (crawler.FrontierStats{Dead: 2}) {
		t.Fatalf("after Forget: %+v, want the dead letters kept", s)
	}
}

// Drained agrees with Stats(…).Drained() through a run's life: pending, leased, retried (pending
// again), buried and acked jobs, and another run's jobs that must not count.
func TestDrainedAgreesWithStats(t *testing.T) {
	ctx := context.Background()
	f, err := Open(filepath.Join(t.TempDir(), "frontier.db"), Options{Lease: time.Hour, MaxAttempts: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	check := func(step string, want bool) {
		t.Helper()
		d, err := f.Drained(ctx, "r")
		if err != nil {
			t.Fatal(err)
		}
		st, err := f.Stats(ctx, "r")
		if err != nil {
			t.Fatal(err)
		}
		if d != want || st.Drained() != want {
			t.Fatalf("%s: Drained = %v, Stats %+v (Drained %v); want %v", step, d, st, st.Drained(), want)
		}
	}
	check("empty run", true)
	if _, err := f.Enqueue(ctx, crawler.Job{ID: "other", RunID: "r2", Source: "s", URL: "https://example.org/o"}); err != nil {
		t.Fatal(err)
	}
	check("another run's job", true)
	if _, err := f.Enqueue(ctx, crawler.Job{ID: "a", RunID: "r", Source: "s", URL: "https://example.org/a"},
		crawler.Job{ID: "b", RunID: "r", Source: "s", URL: "https://example.org/b"}); err != nil {
		t.Fatal(err)
	}
	check("pending", false)
	ls, err := f.Claim(ctx, "r", "w", 2)
	if err != nil || len(ls) != 2 {
		t.Fatalf("Claim = %d, %v", len(ls), err)
	}
	check("both leased", false)
	if err := f.Retry(ctx, ls[0], time.Now().Add(time.Hour), "later"); err != nil {
		t.Fatal(err)
	}
	if err := f.Ack(ctx, ls[1]); err != nil {
		t.Fatal(err)
	}
	check("one pending later, one done", false)
	again, err := f.Claim(ctx, "r", "w", 1)
	if err != nil || len(again) != 0 {
		t.Fatalf("Claim of a job due later = %d, %v", len(again), err)
	}
	// Bury needs a lease: take the job back out of its wait.
	if err := f.Release(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.Exec(`UPDATE jobs SET not_before = 0 WHERE id = 'a'`); err != nil {
		t.Fatal(err)
	}
	again, err = f.Claim(ctx, "r", "w", 1)
	if err != nil || len(again) != 1 {
		t.Fatalf("Claim = %d, %v", len(again), err)
	}
	check("leased again", false)
	if err := f.Bury(ctx, again[0], "gave up"); err != nil {
		t.Fatal(err)
	}
	check("one done, one dead", true)
}

// Forget empties the file at once when it holds only the run's done jobs, and otherwise deletes
// only them: another run's jobs (before and after the run's id), a pending job and dead letters
// stay, and the count is right either way.
func TestForgetKeepsWhatIsNotTheRunsDoneJobs(t *testing.T) {
	ctx := context.Background()
	f, err := Open(filepath.Join(t.TempDir(), "frontier.db"), Options{MaxAttempts: 5})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	count := func() (n int) {
		t.Helper()
		if err := f.db.QueryRow(`SELECT COUNT(*) FROM jobs`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	// Other runs on both sides of "r2", and a pending job of r2 itself.
	doneJobs(t, f, "r1", "x")
	doneJobs(t, f, "r3", "y")
	doneJobs(t, f, "r2", "a", "b")
	if n, err := f.Forget(ctx, "r2"); err != nil || n != 2 || count() != 2 {
		t.Fatalf("Forget(r2) = %d, %v, %d rows left; want 2 forgotten, r1's and r3's kept", n, err, count())
	}
	if n, err := f.Forget(ctx, "r1"); err != nil || n != 1 || count() != 1 {
		t.Fatalf("Forget(r1) = %d, %v, %d rows left; want 1, r3's kept", n, err, count())
	}
	doneJobs(t, f, "r3", "z")
	if _, err := f.Enqueue(ctx, crawler.Job{ID: "p", RunID: "r3", Source: "s", URL: "https://s/p"}); err != nil {
		t.Fatal(err)
	}
	if n, err := f.Forget(ctx, "r3"); err != nil || n != 2 || count() != 1 {
		t.Fatalf("Forget(r3) with a pending job = %d, %v, %d rows left; want 2, the pending one kept", n, err, count())
	}
	ls, _ := f.Claim(ctx, "r3", "w", 1)
	if err := f.Bury(ctx, ls[0], "HTTP 404"); err != nil {
		t.Fatal(err)
	}
	doneJobs(t, f, "r3", "q")
	if n, err := f.Forget(ctx, "r3"); err != nil || n != 1 || count() != 1 {
		t.Fatalf("Forget(r3) with a dead letter = %d, %v, %d rows left; want 1, the dead letter kept", n, err, count())
	}
	// Only done jobs of the run: the whole table goes (the truncate path), counted.
	f.db.Exec(`DELETE FROM jobs`)
	doneJobs(t, f, "r4", "a", "b", "c")
	if n, err := f.Forget(ctx, "r4"); err != nil || n != 3 || count() != 0 {
		t.Fatalf("Forget(r4), only its done jobs = %d, %v, %d rows left; want 3, 0", n, err, count())
	}
	// The file still works after it.
	doneJobs(t, f, "r4", "d")
	if s, _ := f.Stats(ctx, "r4"); s != (crawler.FrontierStats{Done: 1}) {
		t.Fatalf("after the truncate: %+v", s)
	}
}
