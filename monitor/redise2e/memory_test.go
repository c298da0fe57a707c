package e2e

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/afterlife-watch/afterlife/crawler/redisq"
	"github.com/afterlife-watch/afterlife/internal/redistest"
	"github.com/afterlife-watch/afterlife/monitor"
	"github.com/afterlife-watch/afterlife/reports"
)

// A Redis that evicts keys under memory pressure (allkeys-lru) is refused before anything runs:
// evicted run keys made the coordinator wait for ever.
func TestRedisWithAnEvictingPolicyIsRefusedBeforeTheRun(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{Args: []string{"maxmemory 64mb", "maxmemory-policy allkeys-lru"}})
	rdb := redis.NewClient(srv.Options())
	defer rdb.Close()
	e := setup(t, 0, false)
	dir := t.TempDir()
	st, err := reports.OpenStore(filepath.Join(dir, reports.StoreFile))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	b, err := monitor.NewRedisBackend(rdb, monitor.RedisOptions{Config: redisq.Config{Prefix: "evict"}, Store: st, StateDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	_, err = monitor.Run(e.ctx, b, monitor.RunConfig{Watch: e.watch, Registry: e.reg, Workers: 2})
	if !errors.Is(err, monitor.ErrEvictingRedis) || !strings.Contains(err.Error(), "allkeys-lru") {
		t.Fatalf("run on allkeys-lru: %v, want ErrEvictingRedis naming the policy", err)
	}
	if n, _ := rdb.DBSize(e.ctx).Result(); n != 0 {
		t.Fatalf("the refused run wrote %d keys", n)
	}
	runs, err := st.Runs(e.ctx, 0)
	if err != nil || len(runs) != 0 {
		t.Fatalf("the refused run began %d runs (%v)", len(runs), err)
	}
}

// Redis reaching maxmemory with noeviction mid-run refuses writes ("OOM command not allowed"):
// the run stops with ErrBackendFull instead of finishing complete with sightings missing, and the
// same scan run again once Redis has room resumes to exactly the embedded run's sightings.
func TestRedisOutOfMemoryStopsTheRunLoudlyAndItResumesToEverySighting(t *testing.T) {
	e := setup(t, 0, false)
	want := e.embedded()
	rdb := redis.NewClient(e.redis.Options())
	defer rdb.Close()
	dir := t.TempDir()
	st, err := reports.OpenStore(filepath.Join(dir, reports.StoreFile))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	scan := func(mid func()) (monitor.Result, error) {
		b, err := monitor.NewRedisBackend(rdb, monitor.RedisOptions{Config: redisq.Config{Prefix: e.prefix}, Store: st, StateDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		if mid != nil {
			go mid()
		}
		return monitor.Run(e.ctx, b, monitor.RunConfig{Watch: e.watch, Registry: e.reg, Workers: 2})
	}
	// Once the first findings are published, Redis is full: every write after is refused.
	_, err = scan(func() {
		runs := redisq.NewRuns(rdb, redisq.Config{Prefix: e.prefix})
		for e.ctx.Err() == nil {
			ids, _ := runs.Active(e.ctx)
			if len(ids) == 1 {
				if n, _ := rdb.XLen(e.ctx, e.prefix+":{"+ids[0]+"}:events").Result(); n > 0 {
					break
				}
			}
			time.Sleep(5 * time.Millisecond)
		}
		if err := rdb.ConfigSet(e.ctx, "maxmemory", "1").Err(); err != nil {
			t.Error(err)
		}
	})
	if !errors.Is(err, monitor.ErrBackendFull) || !strings.Contains(err.Error(), "OOM command not allowed") {
		t.Fatalf("scan with Redis full: %v, want ErrBackendFull with Redis's OOM message", err)
	}
	runs, err := st.Runs(e.ctx, 0)
	if err != nil || len(runs) != 1 || !runs[0].Finished.IsZero() {
		t.Fatalf("after the refused write the run must be unfinished: %+v %v", runs, err)
	}
	if err := rdb.ConfigSet(e.ctx, "maxmemory", "0").Err(); err != nil {
		t.Fatal(err)
	}
	// No job was given up for the refused writes (the circuit breaker used to bury 727 of 775).
	if s, err := redisq.NewFrontier(rdb, redisq.Config{Prefix: e.prefix}).Stats(e.ctx, runs[0].ID); err != nil || s.Dead != 0 || s.Pending == 0 {
		t.Fatalf("frontier after the refused writes: %+v %v, want no dead job and the rest pending", s, err)
	}
	res, err := scan(nil)
	if err != nil {
		t.Fatalf("resumed scan: %v", err)
	}
	if !res.Resumed || !res.Run.Complete {
		t.Fatalf("resumed %v complete %v", res.Resumed, res.Run.Complete)
	}
	diff(t, want, sightings(t, st))
}
