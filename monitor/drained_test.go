package monitor

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/afterlife-watch/afterlife/crawler"
	"github.com/afterlife-watch/afterlife/crawler/frontier"
)

// countingFrontier counts Stats calls on a real frontier.
type countingFrontier struct {
	*frontier.Frontier
	stats int
}

func (c *countingFrontier) Stats(ctx context.Context, runID string) (crawler.FrontierStats, error) {
	c.stats++
	return c.Frontier.Stats(ctx, runID)
}

// An idle worker's "is the run drained?" goes through the embedded frontier's Drained (no count of
// the run's jobs), also through the gate a crew wraps it in; a frontier without Drained answers from
// Stats.
func TestIsDrainedUsesDrainedThroughTheGate(t *testing.T) {
	ctx := context.Background()
	fr, err := frontier.Open(filepath.Join(t.TempDir(), "frontier.db"), frontier.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer fr.Close()
	if _, err := fr.Enqueue(ctx, crawler.Job{ID: "a", RunID: "r", Source: "s", URL: "https://example.org/a"}); err != nil {
		t.Fatal(err)
	}
	g := &gate{Frontier: fr}
	if d, err := isDrained(ctx, g, "r"); err != nil || d {
		t.Fatalf("isDrained with a pending job = %v, %v", d, err)
	}
	ls, err := fr.Claim(ctx, "r", "w", 1)
	if err != nil || len(ls) != 1 {
		t.Fatalf("Claim = %d, %v", len(ls), err)
	}
	if err := fr.Ack(ctx, ls[0]); err != nil {
		t.Fatal(err)
	}
	if d, err := isDrained(ctx, g, "r"); err != nil || !d {
		t.Fatalf("isDrained after the ack = %v, %v", d, err)
	}
	// Without Drained (hidden behind a wrapper that has only the interface): Stats.
	c := &countingFrontier{Frontier: fr}
	var plain Frontier = struct{ Frontier }{c}
	if d, err := isDrained(ctx, plain, "r"); err != nil || !d || c.stats != 1 {
		t.Fatalf("isDrained without Drained = %v, %v after %d Stats calls; want true after 1", d, err, c.stats)
	}
	c.stats = 0
	if d, err := isDrained(ctx, &gate{Frontier: c}, "r"); err != nil || !d || c.stats != 0 {
		t.Fatalf("isDrained through Drained = %v, %v after %d Stats calls; want true after 0", d, err, c.stats)
	}
}
