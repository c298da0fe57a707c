// Package e2e runs the distributed mode end to end: the built afterlife binary as worker
// processes, a real redis-server, the demo world, and the coordinator (monitor.Run on the Redis backend) in the test,
// compared with the embedded mode on the same world.
package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/afterlife-watch/afterlife/configs"
	"github.com/afterlife-watch/afterlife/crawler/redisq"
	_ "github.com/afterlife-watch/afterlife/crawler/sources"
	"github.com/afterlife-watch/afterlife/internal/demoworld"
	"github.com/afterlife-watch/afterlife/internal/redistest"
	"github.com/afterlife-watch/afterlife/monitor"
	"github.com/afterlife-watch/afterlife/monitor/monitortest"
	"github.com/afterlife-watch/afterlife/reports"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// binary builds cmd/afterlife once per test run.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "afterlife-e2e-*")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "afterlife")
		cmd := exec.Command("go", "build", "-o", binPath, "github.com/afterlife-watch/afterlife/cmd/afterlife")
		out, err := cmd.CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

type env struct {
	t      *testing.T
	ctx    context.Context
	redis  *redistest.Server
	world  *demoworld.Server
	watch  *configs.Watch
	wfile  string
	reg    *configs.Registry
	prefix string
}

func setup(t *testing.T, latency time.Duration, aof bool) *env {
	t.Helper()
	return setupWorld(t, demoworld.Options{Latency: latency}, aof)
}

// setupWorld is setup with the demo world's options (a scale, for one).
func setupWorld(t *testing.T, opts demoworld.Options, aof bool) *env {
	t.Helper()
	srv := redistest.Start(t, redistest.Options{AOF: aof})
	w, err := demoworld.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ws, err := demoworld.Start(w, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	watch := ws.WatchConfig()
	b, err := watch.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	wfile := filepath.Join(t.TempDir(), "watch.yaml")
	if err := os.WriteFile(wfile, b, 0o600); err != nil {
		t.Fatal(err)
	}
	watch, err = configs.LoadWatch(wfile)
	if err != nil {
		t.Fatal(err)
	}
	reg, err := configs.LoadRegistry("")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	t.Cleanup(cancel)
	return &env{t: t, ctx: ctx, redis: srv, world: ws, watch: watch, wfile: wfile, reg: reg, prefix: "e2e"}
}

// worker is one `afterlife worker` process.
type worker struct {
	cmd  *exec.Cmd
	done chan struct{}
	log  *syncBuf
}

type syncBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func (e *env) startWorker(extra ...string) *worker {
	e.t.Helper()
	args := append([]string{"worker", "--redis", e.redis.URL, "--config", e.wfile, "--redis-prefix", e.prefix,
		"--lease", "3s", "--workers", "2", "--log-level", "warn", "--data", e.t.TempDir()}, extra...)
	cmd := exec.Command(binary(e.t), args...)
	w := &worker{cmd: cmd, done: make(chan struct{}), log: &syncBuf{}}
	cmd.Stdout, cmd.Stderr = w.log, w.log
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	go func() { _ = cmd.Wait(); close(w.done) }()
	e.t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-w.done
		if e.t.Failed() {
			e.t.Logf("worker %d log:\n%s", cmd.Process.Pid, w.log.String())
		}
	})
	return w
}

// stop sends SIGTERM and waits for a clean exit.
func (w *worker) stop(t *testing.T) {
	t.Helper()
	_ = w.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-w.done:
		if code := w.cmd.ProcessState.ExitCode(); code != 0 {
			t.Errorf("worker exited %d after SIGTERM:\n%s", code, w.log.String())
		}
	case <-time.After(2 * time.Minute):
		t.Errorf("worker did not stop within 2 minutes of SIGTERM")
	}
}

// sighting is what the comparison looks at.
type sighting struct {
	Artifact, Dataset, Relation string
}

func sightings(t *testing.T, st reports.Store) []sighting {
	t.Helper()
	ss, err := st.Sightings(context.Background(), reports.SightingQuery{})
	if err != nil {
		t.Fatal(err)
	}
	out := make([]sighting, 0, len(ss))
	seen := map[sighting]bool{}
	for _, s := range ss {
		k := sighting{s.Artifact.ID, s.Dataset, string(s.Relation)}
		if seen[k] {
			t.Fatalf("sighting %v recorded twice", k)
		}
		seen[k] = true
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		return a.Artifact+"\x00"+a.Dataset+"\x00"+a.Relation < b.Artifact+"\x00"+b.Dataset+"\x00"+b.Relation
	})
	return out
}

// embedded runs the embedded mode on the same world (once per test) and returns its sightings.
func (e *env) embedded() []sighting {
	e.t.Helper()
	dir := e.t.TempDir()
	st, err := reports.OpenStore(filepath.Join(dir, reports.StoreFile))
	if err != nil {
		e.t.Fatal(err)
	}
	defer st.Close()
	if _, err := monitortest.Embedded(e.ctx, dir, st, monitor.RunConfig{Watch: e.watch, Registry: e.reg, Workers: 4}); err != nil {
		e.t.Fatalf("embedded scan: %v", err)
	}
	s := sightings(e.t, st)
	if len(s) == 0 {
		e.t.Fatal("the embedded scan of the demo world found nothing: the comparison would prove nothing")
	}
	return s
}

// distributed runs the coordinator here; during runs `during` once the run is queued.
func (e *env) distributed(during func(runID string)) ([]sighting, monitor.Result) {
	e.t.Helper()
	dir := e.t.TempDir()
	st, err := reports.OpenStore(filepath.Join(dir, reports.StoreFile))
	if err != nil {
		e.t.Fatal(err)
	}
	defer st.Close()
	rdb := redis.NewClient(e.redis.Options())
	defer rdb.Close()
	runs := redisq.NewRuns(rdb, redisq.Config{Prefix: e.prefix})
	if during != nil {
		go func() {
			// Wait for the run to be queued, then act.
			for e.ctx.Err() == nil {
				ids, _ := runs.Active(e.ctx)
				if len(ids) == 1 {
					during(ids[0])
					return
				}
				time.Sleep(20 * time.Millisecond)
			}
		}()
	}
	b, err := monitor.NewRedisBackend(rdb, monitor.RedisOptions{Config: redisq.Config{Prefix: e.prefix, LeaseTimeout: 3 * time.Second},
		Store: st, StateDir: dir})
	if err != nil {
		e.t.Fatal(err)
	}
	defer b.Close()
	res, err := monitor.Run(e.ctx, b, monitor.RunConfig{Watch: e.watch, Registry: e.reg, Workers: -1})
	if err != nil {
		e.t.Fatalf("distributed scan: %v", err)
	}
	if !res.Run.Complete && res.Run.Finished.IsZero() {
		e.t.Fatalf("run not finished: %+v", res.Run)
	}
	return sightings(e.t, st), res
}

func diff(t *testing.T, want, got []sighting) {
	t.Helper()
	w := map[sighting]bool{}
	for _, s := range want {
		w[s] = true
	}
	g := map[sighting]bool{}
	for _, s := range got {
		g[s] = true
	}
	var missing, extra []string
	for s := range w {
		if !g[s] {
			missing = append(missing, fmt.Sprint(s))
		}
	}
	for s := range g {
		if !w[s] {
			extra = append(extra, fmt.Sprint(s))
		}
	}
	if len(missing)+len(extra) > 0 {
		t.Fatalf("distributed findings differ from embedded (%d vs %d):\nmissing: %v\nextra: %v", len(got), len(want), missing, extra)
	}
}

// pendingOf returns the pending (claimed, unacked) counts per consumer of a run's frontier.
func pendingOf(ctx context.Context, rdb *redis.Client, prefix, runID string) map[string]int64 {
	res, err := rdb.XPending(ctx, prefix+":{"+runID+"}:q", "workers").Result()
	if err != nil {
		return nil
	}
	return res.Consumers
}

func waitLog(w *worker, substr string, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if strings.Contains(w.log.String(), substr) {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}
