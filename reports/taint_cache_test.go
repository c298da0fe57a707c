package reports

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/afterlife-watch/afterlife/extract"
	"github.com/afterlife-watch/afterlife/internal/groupcommit"
)

func taintSets(ts []extract.Taint) string {
	var out []string
	for _, t := range ts {
		out = append(out, t.Dataset)
	}
	return fmt.Sprint(out)
}

// TaintOf memoizes its answers; every record of the key, synchronous or held back, makes the next
// read see the new rows, as the uncached lookup did.
func TestTaintOfAnswerFollowsRecords(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	s.group = groupcommit.New(s.writeTx, 0, time.Hour) // held-back writes wait for a Sync or a read
	begin(t, s, "r1", t0)
	base := model("org/base")
	if got := taintSets(s.TaintOf("org/base")); got != "[]" {
		t.Fatalf("before any record: %s", got)
	}
	if got := taintSets(s.TaintOf("org/base")); got != "[]" { // now from the cache
		t.Fatalf("second read: %s", got)
	}
	mustRecord(t, s, "r1", t0, base, finding(base, "laion-5b", extract.TrainedOn))
	if got := taintSets(s.TaintOf("hf:model:org/base")); got != "[laion-5b]" {
		t.Fatalf("after a record: %s; want [laion-5b] (a cached empty answer survived the write?)", got)
	}
	later := DeferUntilSync(ctx)
	if err := s.RecordBatchLater(later, "r1", t0, []Observation{{Artifact: base, Findings: []extract.Finding{
		finding(base, "laion-5b", extract.TrainedOn), finding(base, "books3", extract.TrainedOn)}}}, nil); err != nil {
		t.Fatal(err)
	}
	if got := taintSets(s.TaintOf("org/base")); got != "[books3 laion-5b]" {
		t.Fatalf("after a held-back record: %s; want [books3 laion-5b]", got)
	}
	// A copy each time: a caller that edits its answer does not edit the cache.
	ts := s.TaintOf("org/base")
	ts[0].Dataset = "edited"
	if got := taintSets(s.TaintOf("org/base")); got != "[books3 laion-5b]" {
		t.Fatalf("the cache shares its slice with callers: %s", got)
	}
}

// Concurrent records and reads of the same keys end with every cached answer equal to the rows.
func TestTaintOfCacheUnderConcurrentRecords(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	begin(t, s, "r1", t0)
	datasets := []string{"laion-5b", "books3", "ms-celeb-1m", "megaface", "dukemtmc", "tiny-images"}
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < 30; i++ {
				m := model(fmt.Sprintf("org/m%d", i%5))
				if w%2 == 0 {
					f := finding(m, datasets[(i+w)%len(datasets)], extract.TrainedOn)
					if _, err := s.Record(ctx, "r1", t0, m, []extract.Finding{f}); err != nil {
						t.Error(err)
						return
					}
				}
				_ = s.TaintOf(m.ID)
			}
		}(w)
	}
	wg.Wait()
	for i := 0; i < 5; i++ {
		key := fmt.Sprintf("org/m%d", i)
		want, ok := s.taintQuery(ctx, key, key)
		if !ok {
			t.Fatalf("query %s failed", key)
		}
		if got := s.TaintOf(key); !reflect.DeepEqual(got, want) {
			t.Errorf("TaintOf(%s) = %s, rows say %s", key, taintSets(got), taintSets(want))
		}
	}
}

// A lookup that ran while its key was written is not kept; the cache stays bounded.
func TestTaintCacheDirtyAndBound(t *testing.T) {
	var c taintCache
	if _, ok := c.get("k"); ok {
		t.Fatal("hit on an empty cache")
	}
	c.forget([]string{"k"}) // a record of k ended while the lookup ran
	c.done("k", []extract.Taint{{Dataset: "old"}}, true)
	if _, ok := c.get("k"); ok {
		t.Fatal("an answer read before a write ended was kept")
	}
	c.done("k", []extract.Taint{{Dataset: "new"}}, true)
	if got, ok := c.get("k"); !ok || got[0].Dataset != "new" {
		t.Fatalf("a clean lookup was not kept: %v %v", got, ok)
	}
	if _, ok := c.get("failed"); ok {
		t.Fatal("hit")
	}
	c.done("failed", nil, false)
	if _, ok := c.get("failed"); ok {
		t.Fatal("a failed lookup was kept")
	}
	c.done("failed", nil, false)
	for i := 0; i < taintCacheMax+10; i++ {
		k := fmt.Sprint("m", i)
		c.get(k)
		c.done(k, nil, true)
	}
	if n := len(c.answers); n > taintCacheMax || n == 0 {
		t.Fatalf("%d answers kept; want 1..%d", n, taintCacheMax)
	}
	if len(c.inflight) != 0 || len(c.dirty) != 0 {
		t.Fatalf("lookups left counted: %v %v", c.inflight, c.dirty)
	}
}
