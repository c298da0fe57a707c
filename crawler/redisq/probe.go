package redisq

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/afterlife-watch/afterlife/reports"
)

// RecordProbe publishes a swarm health probe (monitor.ProbeRecorder), once per run for the same
// info-hash, tracker and counts.
func (p *Publisher) RecordProbe(ctx context.Context, pr reports.SwarmProbe) error {
	_, err := p.Publish(ctx, pr.RunID, digest(EventProbe, pr.InfoHash, pr.Source, pr.Seeders, pr.Leechers, pr.Completed, pr.Peers),
		Event{Kind: EventProbe, At: pr.At, Probe: &pr})
	return err
}

// applyProbe stores a probe event when the builder's store keeps swarm health.
func applyProbe(ctx context.Context, runID string, e Event, store Applier) error {
	if e.Probe == nil {
		return nil
	}
	ss, ok := store.(interface {
		RecordProbe(ctx context.Context, p reports.SwarmProbe) error
	})
	if !ok {
		slog.Warn("redisq: the store keeps no swarm health; probe skipped", "run", runID, "infohash", e.Probe.InfoHash)
		return nil
	}
	pr := *e.Probe
	pr.RunID = runID
	if err := ss.RecordProbe(ctx, pr); err != nil {
		return fmt.Errorf("redisq: swarm probe %s: %w", pr.InfoHash, err)
	}
	return nil
}
