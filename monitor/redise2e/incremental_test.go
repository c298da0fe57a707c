package e2e

import (
	"context"
	"path/filepath"
	"sort"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/afterlife-watch/afterlife/crawler/redisq"
	"github.com/afterlife-watch/afterlife/monitor"
	"github.com/afterlife-watch/afterlife/monitor/monitortest"
	"github.com/afterlife-watch/afterlife/reports"
)

// scanner runs coordinated runs of one mode on one data directory, with the incremental policy
// the scan command uses.
type scanner struct {
	e     *env
	dir   string
	store *reports.SQLiteStore
	redis bool
}

func (e *env) scanner(redisMode bool) *scanner {
	e.t.Helper()
	dir := e.t.TempDir()
	st, err := reports.OpenStore(filepath.Join(dir, reports.StoreFile))
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { st.Close() })
	return &scanner{e: e, dir: dir, store: st, redis: redisMode}
}

func (s *scanner) scan() monitor.Result {
	s.e.t.Helper()
	cfg := monitor.RunConfig{Watch: s.e.watch, Registry: s.e.reg, Workers: 3, Incremental: monitor.DefaultIncremental(),
		Env: func(string) string { return "" }}
	var res monitor.Result
	var err error
	if s.redis {
		rdb := redis.NewClient(s.e.redis.Options())
		defer rdb.Close()
		b, berr := monitor.NewRedisBackend(rdb, monitor.RedisOptions{Config: redisq.Config{Prefix: s.e.prefix}, Store: s.store, StateDir: s.dir})
		if berr != nil {
			s.e.t.Fatal(berr)
		}
		defer b.Close()
		res, err = monitor.Run(s.e.ctx, b, cfg)
	} else {
		res, err = monitortest.Embedded(s.e.ctx, s.dir, s.store, cfg)
	}
	if err != nil {
		s.e.t.Fatalf("scan (redis=%v): %v", s.redis, err)
	}
	if !res.Run.Complete {
		s.e.t.Fatalf("scan (redis=%v): run %s not complete", s.redis, res.Run.ID)
	}
	return res
}

// changes lists a run's new and gone events as "kind artifact dataset relation", sorted.
func (s *scanner) changes(runID string) []string {
	s.e.t.Helper()
	evs, err := s.store.Events(context.Background(), reports.EventQuery{RunID: runID})
	if err != nil {
		s.e.t.Fatal(err)
	}
	var out []string
	for _, ev := range evs {
		out = append(out, ev.Kind+" "+ev.ArtifactID+" "+ev.Dataset+" "+string(ev.Relation))
	}
	sort.Strings(out)
	return out
}

// bytesOf counts a run's requests, and the bytes of the sources whose real API can answer a
// re-scan conditionally: Kaggle's API is POST RPC (kagglesdk), never conditional, so every re-scan
// pays its answers in full, in both modes.
func bytesOf(r reports.Run) (requests, bytes int64) {
	for _, s := range r.Sources {
		requests += s.Requests
		if s.Name != "kaggle" {
			bytes += s.Bytes
		}
	}
	return requests, bytes
}

// In Redis mode the incremental policy applies as in embedded mode: a second scan of an unchanged
// world lists only what changed and re-checks known artifacts with conditional requests, moving at
// most 10% of the first scan's bytes.
func TestRedisRescanOfUnchangedWorldIsIncremental(t *testing.T) {
	e := setup(t, 0, false)
	s := e.scanner(true)
	first := s.scan()
	_, b1 := bytesOf(first.Run)
	if first.Run.New == 0 || b1 == 0 {
		t.Fatalf("first Redis scan: new=%d bytes=%d; the demo world plants dozens of sightings", first.Run.New, b1)
	}
	second := s.scan()
	r2, b2 := bytesOf(second.Run)
	if second.Run.New != 0 || second.Run.Gone != 0 {
		t.Fatalf("second Redis scan of an unchanged world: new=%d gone=%d", second.Run.New, second.Run.Gone)
	}
	for _, src := range second.Run.Sources {
		t.Logf("second Redis scan, %s: %d requests, %d bytes, %d answered 304", src.Name, src.Requests, src.Bytes, src.Cached)
	}
	if b2*10 > b1 {
		t.Fatalf("second Redis scan moved %d bytes (conditional sources), more than 10%% of the first's %d", b2, b1)
	}
	if r2 == 0 {
		t.Fatal("second Redis scan sent no request: re-checks did not run")
	}
	t.Logf("Redis mode: first scan %d bytes, second %d bytes in %d requests (%.1f%%)", b1, b2, r2, 100*float64(b2)/float64(b1))
}

// Demo epoch 1 → 2 (planted copies taken down, new ones uploaded) reports the same new and gone
// sightings in Redis mode as in embedded mode, on the same world.
func TestRedisEpochChangeMatchesEmbedded(t *testing.T) {
	e := setup(t, 0, false)
	emb, red := e.scanner(false), e.scanner(true)
	e.world.World.SetEpoch(1)
	emb.scan()
	red.scan()
	e.world.World.SetEpoch(2)
	ee, re := emb.scan(), red.scan()
	want, got := emb.changes(ee.Run.ID), red.changes(re.Run.ID)
	if len(want) == 0 {
		t.Fatal("embedded epoch 2 reports no change: the comparison would prove nothing")
	}
	if ee.Run.New != re.Run.New || ee.Run.Gone != re.Run.Gone {
		t.Errorf("epoch 2: embedded new=%d gone=%d, Redis new=%d gone=%d", ee.Run.New, ee.Run.Gone, re.Run.New, re.Run.Gone)
	}
	if len(want) != len(got) {
		t.Fatalf("epoch 2 changes differ:\nembedded %v\nredis    %v", want, got)
	}
	for i := range want {
		if want[i] != got[i] {
			t.Fatalf("epoch 2 changes differ at %d:\nembedded %v\nredis    %v", i, want, got)
		}
	}
	t.Logf("epoch 2: %d changes, the same in both modes", len(want))
}
