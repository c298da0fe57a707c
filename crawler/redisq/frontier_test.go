package redisq

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/afterlife-watch/afterlife/crawler"
	"github.com/afterlife-watch/afterlife/crawler/frontier/frontiertest"
	"github.com/afterlife-watch/afterlife/internal/redistest"
)

var prefixSeq atomic.Int64

func freshPrefix() string { return fmt.Sprintf("t%d", prefixSeq.Add(1)) }

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// TestConformance runs the core engineer's frontier suite against the Redis frontier.
func TestConformance(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	rdb := srv.Client(t)
	frontiertest.Run(t, func(t *testing.T) crawler.Frontier {
		return NewFrontier(rdb, Config{Prefix: freshPrefix(), MaxAttempts: 3, LeaseTimeout: 500 * time.Millisecond})
	}, frontiertest.Options{MaxAttempts: 3, Lease: 500 * time.Millisecond})
}

func job(run string, i int) crawler.Job {
	u := fmt.Sprintf("http://127.0.0.1/item/%d", i)
	return crawler.Job{ID: crawler.Key("demo", "item", u), RunID: run, Source: "demo", Kind: "item", URL: u}
}

// A worker process that dies (no heartbeat, no ack) loses its jobs to a live one after the lease
// timeout; its late ack changes nothing; the lost lease counts as an attempt.
func TestDeadWorkerJobsReclaimedWithHeartbeat(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	ctx := testCtx(t)
	prefix := freshPrefix()
	cfg := Config{Prefix: prefix, LeaseTimeout: 600 * time.Millisecond, Heartbeat: true, MaxAttempts: 3}
	dyingClient := redis.NewClient(srv.Options())
	dying := NewFrontier(dyingClient, cfg)
	live := NewFrontier(srv.Client(t), cfg)
	defer live.Close()
	slow := NewFrontier(srv.Client(t), cfg)
	defer slow.Close()

	if _, err := live.Enqueue(ctx, job("r", 1), job("r", 2), job("r", 3)); err != nil {
		t.Fatal(err)
	}
	lost, err := dying.Claim(ctx, "r", "w", 1)
	if err != nil || len(lost) != 1 {
		t.Fatalf("dying claim: %v %v", lost, err)
	}
	kept, err := slow.Claim(ctx, "r", "w", 1)
	if err != nil || len(kept) != 1 {
		t.Fatalf("slow claim: %v %v", kept, err)
	}
	// The dying process stops: its heartbeat ends, its connection closes, nothing is handed back.
	dying.kill()
	_ = dyingClient.Close()

	var got []crawler.Lease
	deadline := time.Now().Add(60 * time.Second)
	for len(got) < 2 && time.Now().Before(deadline) {
		ls, err := live.Claim(ctx, "r", "w", 5)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, ls...)
		if len(got) < 2 {
			time.Sleep(50 * time.Millisecond)
		}
	}
	if len(got) != 2 {
		t.Fatalf("live worker got %d jobs, want the new one and the dead worker's", len(got))
	}
	ids := map[string]int{}
	for _, l := range got {
		ids[l.Job.ID] = l.Job.Attempt
	}
	if a, ok := ids[lost[0].Job.ID]; !ok || a != 2 {
		t.Fatalf("dead worker's job: reclaimed=%v attempt=%d, want reclaimed with attempt 2", ok, a)
	}
	if _, ok := ids[kept[0].Job.ID]; ok {
		t.Fatal("the slow but live worker's job was reclaimed despite its heartbeat")
	}
	for _, l := range append(got, kept...) {
		if err := live.Ack(ctx, l); err != nil && !errors.Is(err, ErrLeaseLost) {
			t.Fatal(err)
		}
	}
	s, err := live.Stats(ctx, "r")
	if err != nil {
		t.Fatal(err)
	}
	if s != (crawler.FrontierStats{Done: 3}) {
		t.Fatalf("stats = %+v, want 3 done, nothing else", s)
	}
}

// Close hands back a job in hand at once, without counting an attempt.
func TestCloseHandsBackLeases(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	ctx := testCtx(t)
	cfg := Config{Prefix: freshPrefix(), LeaseTimeout: time.Hour, Heartbeat: true}
	a := NewFrontier(srv.Client(t), cfg)
	b := NewFrontier(srv.Client(t), cfg)
	defer b.Close()
	if _, err := a.Enqueue(ctx, job("r", 1)); err != nil {
		t.Fatal(err)
	}
	ls, err := a.Claim(ctx, "r", "w", 1)
	if err != nil || len(ls) != 1 {
		t.Fatalf("claim: %v %v", ls, err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	got, err := b.Claim(ctx, "r", "w", 1)
	if err != nil || len(got) != 1 {
		t.Fatalf("after hand-back: %v %v, want the job at once (lease is 1h)", got, err)
	}
	if got[0].Job.Attempt != 1 {
		t.Fatalf("handed-back job attempt = %d, want 1 (a hand-back is not a failure)", got[0].Job.Attempt)
	}
	if _, err := a.Claim(ctx, "r", "w", 1); !errors.Is(err, ErrClosed) {
		t.Fatalf("claim on closed frontier: %v", err)
	}
}

// Dead letters keep the job and the reason; a lease lost MaxAttempts times dead-letters too.
func TestDeadLetters(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	ctx := testCtx(t)
	rdb := srv.Client(t)
	f := NewFrontier(rdb, Config{Prefix: freshPrefix(), LeaseTimeout: 200 * time.Millisecond, MaxAttempts: 2})
	defer f.Close()
	if _, err := f.Enqueue(ctx, job("r", 1), job("r", 2)); err != nil {
		t.Fatal(err)
	}
	// Job 1 fails twice with Retry.
	for i := 0; i < 2; i++ {
		var ls []crawler.Lease
		for len(ls) == 0 {
			var err error
			if ls, err = f.Claim(ctx, "r", "w", 1); err != nil {
				t.Fatal(err)
			}
		}
		if ls[0].Job.ID == job("r", 2).ID {
			// Job 2 is left to expire: never acked, never retried.
			ls, _ = f.Claim(ctx, "r", "w", 1)
			for len(ls) == 0 {
				time.Sleep(20 * time.Millisecond)
				ls, _ = f.Claim(ctx, "r", "w", 1)
			}
		}
		if ls[0].Job.ID != job("r", 1).ID {
			continue
		}
		if err := f.Retry(ctx, ls[0], time.Time{}, fmt.Sprintf("HTTP 503 try %d", i+1)); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		s, err := f.Stats(ctx, "r")
		if err != nil {
			t.Fatal(err)
		}
		if s.Dead == 2 && s.Drained() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("stats = %+v, want both jobs dead", s)
		}
		if _, err := f.Claim(ctx, "r", "w", 1); err != nil { // reclaims (and dead-letters) expired leases
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	dl, err := f.DeadLetters(ctx, "r", 10)
	if err != nil {
		t.Fatal(err)
	}
	reasons := map[string]string{}
	for _, d := range dl {
		reasons[d.Job.ID] = d.Reason
	}
	if reasons[job("r", 1).ID] != "HTTP 503 try 2" {
		t.Fatalf("job 1 dead-letter reason = %q", reasons[job("r", 1).ID])
	}
	if r := reasons[job("r", 2).ID]; r == "" {
		t.Fatalf("job 2 (lease lost twice) not dead-lettered: %v", reasons)
	}
}

// Many processes (one client each) claiming the same run hand out every job exactly once.
func TestManyWorkersEachJobOnce(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	ctx := testCtx(t)
	cfg := Config{Prefix: freshPrefix(), LeaseTimeout: time.Minute, Heartbeat: true}
	const n, procs = 500, 4
	seed := NewFrontier(srv.Client(t), cfg)
	defer seed.Close()
	jobs := make([]crawler.Job, n)
	for i := range jobs {
		jobs[i] = job("r", i)
	}
	if got, err := seed.Enqueue(ctx, jobs...); err != nil || got != n {
		t.Fatalf("enqueue: %d %v", got, err)
	}
	var mu sync.Mutex
	count := map[string]int{}
	var wg sync.WaitGroup
	for p := 0; p < procs; p++ {
		f := NewFrontier(srv.Client(t), cfg)
		defer f.Close()
		for w := 0; w < 3; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					ls, err := f.Claim(ctx, "r", fmt.Sprint(w), 4)
					if err != nil {
						t.Error(err)
						return
					}
					if len(ls) == 0 {
						return
					}
					for _, l := range ls {
						mu.Lock()
						count[l.Job.ID]++
						mu.Unlock()
						// Follow-ups that were already enqueued are deduplicated across processes.
						if _, err := f.Enqueue(ctx, job("r", (l.Job.Attempt*7)%n)); err != nil {
							t.Error(err)
						}
						if err := f.Ack(ctx, l); err != nil {
							t.Error(err)
						}
					}
				}
			}()
		}
	}
	wg.Wait()
	if len(count) != n {
		t.Fatalf("%d distinct jobs, want %d", len(count), n)
	}
	for id, c := range count {
		if c != 1 {
			t.Fatalf("job %s handed out %d times", id, c)
		}
	}
	s, _ := seed.Stats(ctx, "r")
	if s != (crawler.FrontierStats{Done: n}) {
		t.Fatalf("stats = %+v", s)
	}
}

// Redis restarted (AOF on) between claim and ack: calls wait for it, nothing is lost.
func TestFrontierSurvivesRedisRestart(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{AOF: true})
	ctx := testCtx(t)
	f := NewFrontier(srv.Client(t), Config{Prefix: freshPrefix(), LeaseTimeout: time.Minute, Heartbeat: true})
	defer f.Close()
	for i := 0; i < 20; i++ {
		if _, err := f.Enqueue(ctx, job("r", i)); err != nil {
			t.Fatal(err)
		}
	}
	held, err := f.Claim(ctx, "r", "w", 5)
	if err != nil || len(held) != 5 {
		t.Fatalf("claim: %d %v", len(held), err)
	}
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	restarted := make(chan error, 1)
	go func() { time.Sleep(300 * time.Millisecond); restarted <- srv.Restart() }()
	// Acks issued while Redis is down wait for it to come back.
	for _, l := range held {
		if err := f.Ack(ctx, l); err != nil {
			t.Fatalf("ack across restart: %v", err)
		}
	}
	if err := <-restarted; err != nil {
		t.Fatal(err)
	}
	done := len(held)
	for {
		ls, err := f.Claim(ctx, "r", "w", 5)
		if err != nil {
			t.Fatal(err)
		}
		if len(ls) == 0 {
			break
		}
		for _, l := range ls {
			if err := f.Ack(ctx, l); err != nil {
				t.Fatal(err)
			}
			done++
		}
	}
	s, err := f.Stats(ctx, "r")
	if err != nil {
		t.Fatal(err)
	}
	if done != 20 || s != (crawler.FrontierStats{Done: 20}) {
		t.Fatalf("done %d, stats %+v; want 20 done", done, s)
	}
}

// The job dedup set is bounded: past MaxJobs, jobs are dropped and counted, never silently.
func TestJobDedupBounded(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	ctx := testCtx(t)
	f := NewFrontier(srv.Client(t), Config{Prefix: freshPrefix(), MaxJobs: 10, RunTTL: time.Hour})
	defer f.Close()
	var jobs []crawler.Job
	for i := 0; i < 15; i++ {
		jobs = append(jobs, job("r", i))
	}
	n, err := f.Enqueue(ctx, jobs...)
	if err != nil || n != 10 {
		t.Fatalf("enqueue 15 with MaxJobs 10 = %d, %v", n, err)
	}
	_, c, err := f.stats(ctx, "r")
	if err != nil || c.Dropped != 5 || c.Enqueued != 10 {
		t.Fatalf("counts = %+v, %v; want 10 enqueued, 5 dropped", c, err)
	}
	ttl, err := srv.Client(t).TTL(ctx, f.k.seen("r")).Result()
	if err != nil || ttl <= 0 || ttl > time.Hour {
		t.Fatalf("dedup set TTL = %v, %v; want it to expire with the run (≤ 1h)", ttl, err)
	}
}
