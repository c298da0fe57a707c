package monitor

import (
	"context"
	"testing"

	"github.com/afterlife-watch/afterlife/crawler"
	"github.com/afterlife-watch/afterlife/crawler/frontier"
)

// enqueueCounter counts Enqueue calls on a real frontier.
type enqueueCounter struct {
	*frontier.Frontier
	calls int
}

func (e *enqueueCounter) Enqueue(ctx context.Context, jobs ...crawler.Job) (int, error) {
	e.calls++
	return e.Frontier.Enqueue(ctx, jobs...)
}

// Begin enqueues every source's seed jobs with one Enqueue (one transaction), each job under its
// own source, in source order.
func TestBeginEnqueuesEverySourcesSeedsAtOnce(t *testing.T) {
	ctx := context.Background()
	fr := &enqueueCounter{Frontier: openFrontier(t, frontier.Options{})}
	srcs := map[string]crawler.Source{
		"b": &fakeSource{name: "b", base: "http://127.0.0.1:9/b"},
		"a": &fakeSource{name: "a", base: "http://127.0.0.1:9/a"},
		"c": &fakeSource{name: "c", base: "http://127.0.0.1:9/c"},
	}
	store := newMemStore()
	co := &Coordinator{Store: store, Frontier: fr, Sources: Sources{Active: srcs}, Datasets: testRegistry(t).Retracted()}
	runID, _, err := co.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if fr.calls != 1 {
		t.Fatalf("Begin called Enqueue %d times for 3 sources; want once", fr.calls)
	}
	ls, err := fr.Claim(ctx, runID, "w", 10)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range ls {
		got = append(got, l.Job.Source+" "+l.Job.URL)
	}
	want := []string{"a http://127.0.0.1:9/a/list", "b http://127.0.0.1:9/b/list", "c http://127.0.0.1:9/c/list"}
	if len(got) != len(want) {
		t.Fatalf("claimed %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("claimed %q, want %q", got, want)
		}
	}
}
