package redisq

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/afterlife-watch/afterlife/artifact"
	"github.com/afterlife-watch/afterlife/extract"
	"github.com/afterlife-watch/afterlife/internal/redistest"
	"github.com/afterlife-watch/afterlife/reports"
)

func planted(i int) (artifact.Artifact, []extract.Finding) {
	a := artifact.Artifact{ID: fmt.Sprintf("hf:model:org/m%d", i), Source: "huggingface", Kind: "model",
		URL: fmt.Sprintf("https://huggingface.co/org/m%d", i), Title: fmt.Sprintf("m%d", i), Text: "trained on MS1MV3"}
	f := extract.Finding{ArtifactID: a.ID, Dataset: "ms-celeb-1m", Relation: extract.TrainedOn, Confidence: 0.9,
		Evidence: []extract.Evidence{{Field: "text", Rule: "alias", Snippet: "MS1MV3"}}}
	return a, []extract.Finding{f}
}

// Workers publish findings (two of them see the same artifacts), the run drains, the builder
// consumes the stream into the SQLite store: every artifact once, run status moves on, every
// waiter learns it.
func TestFindingsStreamIntoStore(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	ctx := testCtx(t)
	cfg := Config{Prefix: freshPrefix(), LeaseTimeout: time.Minute, Heartbeat: true}
	rdb := srv.Client(t)
	runs := NewRuns(rdb, cfg)
	const run, n = "run-1", 40
	if err := runs.Create(ctx, run, map[string]string{"mode": "redis"}); err != nil {
		t.Fatal(err)
	}
	if err := runs.Create(ctx, run, nil); err == nil {
		t.Fatal("creating a run twice succeeded")
	}
	store, err := reports.OpenTempStore()
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if err := store.BeginRun(ctx, reports.Run{ID: run, Mode: "redis"}); err != nil {
		t.Fatal(err)
	}
	seed := NewFrontier(rdb, cfg)
	defer seed.Close()
	for i := 0; i < n; i++ {
		if _, err := seed.Enqueue(ctx, job(run, i)); err != nil {
			t.Fatal(err)
		}
	}
	// Planning: not drained even when nothing is claimable yet.
	if d, err := runs.FinishIfDrained(ctx, run); err != nil || d {
		t.Fatalf("planning run drained = %v, %v", d, err)
	}
	if err := runs.Start(ctx, run); err != nil {
		t.Fatal(err)
	}
	if act, _ := runs.Active(ctx); len(act) != 1 || act[0] != run {
		t.Fatalf("active runs = %v", act)
	}
	waiterDone := make(chan string, 1)
	go func() {
		st, _ := NewRuns(srv.Client(t), cfg).WaitState(ctx, run, 5*time.Second, StateDrained, StateDone)
		waiterDone <- st
	}()

	built := make(chan BuildStats, 1)
	buildErr := make(chan error, 1)
	go func() {
		st, err := NewBuilder(srv.Client(t), cfg).Build(ctx, run, store)
		built <- st
		buildErr <- err
	}()

	var wg sync.WaitGroup
	for w := 0; w < 3; w++ {
		rdb := srv.Client(t)
		f := NewFrontier(rdb, cfg)
		defer f.Close()
		pub := NewPublisher(rdb, cfg)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				ls, err := f.Claim(ctx, run, "w", 2)
				if err != nil {
					t.Error(err)
					return
				}
				if len(ls) == 0 {
					return
				}
				for _, l := range ls {
					var i int
					fmt.Sscanf(l.Job.URL, "http://127.0.0.1/item/%d", &i)
					// Every job yields its artifact and the one after it: each artifact is seen twice.
					for _, k := range []int{i, (i + 1) % n} {
						a, fs := planted(k)
						if _, err := pub.Record(ctx, run, time.Now(), a, fs); err != nil {
							t.Error(err)
						}
					}
					if err := pub.AddSourceStat(ctx, run, reports.SourceStat{Name: "huggingface", Requests: 1, Bytes: 100}); err != nil {
						t.Error(err)
					}
					if err := f.Ack(ctx, l); err != nil {
						t.Error(err)
					}
				}
			}
		}()
	}
	wg.Wait()
	if d, err := runs.FinishIfDrained(ctx, run); err != nil || !d {
		t.Fatalf("drained after all acks = %v, %v", d, err)
	}
	st := <-built
	if err := <-buildErr; err != nil {
		t.Fatal(err)
	}
	if st.Records != n || st.NewSightings != n || st.Stats != n {
		t.Fatalf("builder applied %+v; want %d records (duplicates dropped), %d new sightings, %d stats", st, n, n, n)
	}
	select {
	case s := <-waiterDone:
		if s != StateDrained && s != StateDone {
			t.Fatalf("waiter saw state %q", s)
		}
	case <-time.After(time.Minute):
		t.Fatal("waiter never learnt the run ended")
	}
	sights, err := store.Sightings(ctx, reports.SightingQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(sights) != n {
		t.Fatalf("store has %d sightings, want %d", len(sights), n)
	}
	r, err := store.FinishRun(ctx, run, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var req int64
	for _, s := range r.Sources {
		req += s.Requests
	}
	if req != n {
		t.Fatalf("run counts %d requests, want %d", req, n)
	}
	if err := runs.Done(ctx, run); err != nil {
		t.Fatal(err)
	}
	if act, _ := runs.Active(ctx); len(act) != 0 {
		t.Fatalf("active after done = %v", act)
	}
	if ttl := rdb.TTL(ctx, keys{cfg.Prefix}.seen(run)).Val(); ttl <= 0 || ttl > 24*time.Hour {
		t.Fatalf("finished run's keys TTL = %v, want them to expire", ttl)
	}
}

// A builder that dies after reading but before acking leaves entries pending; the next one applies
// them.
func TestBuilderRecoversPending(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	ctx := testCtx(t)
	cfg := Config{Prefix: freshPrefix()}
	rdb := srv.Client(t)
	run := "r2"
	runs := NewRuns(rdb, cfg)
	if err := runs.Create(ctx, run, nil); err != nil {
		t.Fatal(err)
	}
	pub := NewPublisher(rdb, cfg)
	for i := 0; i < 5; i++ {
		a, fs := planted(i)
		if _, err := pub.Record(ctx, run, time.Now(), a, fs); err != nil {
			t.Fatal(err)
		}
	}
	// A builder reads everything and dies without acking.
	stream := keys{cfg.withDefaults().Prefix}.events(run)
	if err := rdb.XGroupCreateMkStream(ctx, stream, groupBuilder, "0").Err(); err != nil {
		t.Fatal(err)
	}
	if err := rdb.XReadGroup(ctx, &redis.XReadGroupArgs{Group: groupBuilder, Consumer: "builder",
		Streams: []string{stream, ">"}, Count: 100, Block: -1}).Err(); err != nil {
		t.Fatal(err)
	}
	if err := runs.Start(ctx, run); err != nil {
		t.Fatal(err)
	}
	store, err := reports.OpenTempStore()
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if err := store.BeginRun(ctx, reports.Run{ID: run}); err != nil {
		t.Fatal(err)
	}
	bctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	st, err := NewBuilder(rdb, cfg).Build(bctx, run, store)
	if err != nil {
		t.Fatal(err)
	}
	if st.Records != 5 {
		t.Fatalf("restarted builder applied %d records, want the 5 left pending", st.Records)
	}
}
