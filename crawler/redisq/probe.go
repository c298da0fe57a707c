package redisq

import (
	"context"
	"fmt"

	"github.com/afterlife-watch/afterlife/reports"
)

// RecordProbe publishes a swarm health probe (the recorder of the distributed mode), once per run for the same
// info-hash, tracker and counts.
func (p *Publisher) RecordProbe(ctx context.Context, pr reports.SwarmProbe) error {
	_, err := p.Publish(ctx, pr.RunID, digest(EventProbe, pr.InfoHash, pr.Source, pr.Seeders, pr.Leechers, pr.Completed, pr.Peers),
		Event{Kind: EventProbe, At: pr.At, Probe: &pr})
	return err
}

// applyProbe stores a probe event.
func applyProbe(ctx context.Context, runID string, e Event, store Applier) error {
	if e.Probe == nil {
		return nil
	}
	pr := *e.Probe
	pr.RunID = runID
	if err := store.RecordProbe(ctx, pr); err != nil {
		return fmt.Errorf("redisq: swarm probe %s: %w", pr.InfoHash, err)
	}
	return nil
}
