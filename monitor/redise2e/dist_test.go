package e2e

import (
	"context"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/afterlife-watch/afterlife/internal/demoworld"
	"github.com/redis/go-redis/v9"
)

// Issue test 1: three worker processes end with exactly the findings of the embedded mode.
func TestThreeWorkersMatchEmbedded(t *testing.T) {
	e := setup(t, 20*time.Millisecond, false)
	want := e.embedded()
	ws := []*worker{e.startWorker(), e.startWorker(), e.startWorker()}
	got, res := e.distributed(nil)
	diff(t, want, got)
	if res.Collected.Records == 0 {
		t.Fatal("builder applied no record")
	}
	// Every worker learns the run ended and stays up for the next; SIGTERM stops each cleanly.
	for _, w := range ws {
		w.stop(t)
	}
	t.Logf("%d sightings, %d events applied", len(got), res.Collected.Events)
}

// Issue 16: the demo world at scale 3 (about 3,100 planted artifacts, 2,332 sightings: lineage trees listed through
// cursors and child counts, GitHub searches split over the 1,000 cap, thousands of papers) gives
// three worker processes exactly the sightings of the embedded mode.
func TestThreeWorkersMatchEmbeddedAtScale(t *testing.T) {
	e := setupWorld(t, demoworld.Options{Scale: 3}, false)
	want := e.embedded()
	if len(want) < 2000 {
		t.Fatalf("the scale-3 world gave the embedded scan %d sightings, want a world at scale (≥ 2,000)", len(want))
	}
	ws := []*worker{e.startWorker(), e.startWorker(), e.startWorker()}
	got, _ := e.distributed(nil)
	diff(t, want, got)
	for _, w := range ws {
		w.stop(t)
	}
	t.Logf("scale 3: %d sightings in both modes", len(got))
}

// Issue test 2: kill -9 of one worker mid-run: its jobs are reclaimed, nothing is lost, no
// sighting is doubled.
func TestKilledWorkerJobsReclaimed(t *testing.T) {
	e := setup(t, 100*time.Millisecond, false)
	want := e.embedded()
	victim := e.startWorker()
	others := []*worker{e.startWorker(), e.startWorker()}
	rdb := redis.NewClient(e.redis.Options())
	defer rdb.Close()
	killed := make(chan int64, 1)
	got, _ := e.distributed(func(runID string) {
		tag := fmt.Sprintf("-%d-", victim.cmd.Process.Pid)
		deadline := time.Now().Add(2 * time.Minute)
		for time.Now().Before(deadline) {
			for c, n := range pendingOf(e.ctx, rdb, e.prefix, runID) {
				if strings.Contains(c, tag) && n > 0 {
					_ = victim.cmd.Process.Signal(syscall.SIGKILL)
					<-victim.done
					var left int64
					for c2, n2 := range pendingOf(e.ctx, rdb, e.prefix, runID) {
						if strings.Contains(c2, tag) {
							left += n2
						}
					}
					killed <- left
					return
				}
			}
			time.Sleep(5 * time.Millisecond)
		}
		killed <- -1
	})
	diff(t, want, got)
	left := <-killed
	if left <= 0 {
		t.Fatalf("the victim held %d jobs when killed; the test needs it to die with jobs in hand", left)
	}
	t.Logf("victim died holding %d jobs; run completed with %d sightings", left, len(got))
	for _, w := range others {
		w.stop(t)
	}
}

// Issue test 3: Redis restarted mid-run with AOF on: the run completes with the same findings.
func TestRedisRestartMidRun(t *testing.T) {
	e := setup(t, 100*time.Millisecond, true)
	want := e.embedded()
	ws := []*worker{e.startWorker(), e.startWorker()}
	restarted := make(chan error, 1)
	var restartedAt time.Time
	got, res := e.distributed(func(runID string) {
		rdb := redis.NewClient(e.redis.Options())
		// Let the run make some progress, then restart Redis under everyone's feet.
		deadline := time.Now().Add(time.Minute)
		for time.Now().Before(deadline) {
			n, _ := rdb.XLen(context.Background(), e.prefix+":{"+runID+"}:events").Result()
			if n >= 3 {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		rdb.Close()
		if err := e.redis.Stop(); err != nil {
			restarted <- err
			return
		}
		time.Sleep(time.Second)
		err := e.redis.Restart()
		restartedAt = time.Now()
		restarted <- err
	})
	if err := <-restarted; err != nil {
		t.Fatal(err)
	}
	if !restartedAt.Before(res.Run.Finished) {
		t.Fatalf("Redis came back at %v, after the run finished (%v): the restart was not mid-run", restartedAt, res.Run.Finished)
	}
	diff(t, want, got)
	for _, w := range ws {
		w.stop(t)
	}
	t.Logf("run survived a Redis restart: %d sightings, %d events", len(got), res.Collected.Events)
}
