package monitor

import (
	"context"
	"fmt"
	"log/slog"
	"sort"

	"github.com/afterlife-watch/afterlife/artifact"
	"github.com/afterlife-watch/afterlife/crawler"
	"github.com/afterlife-watch/afterlife/reports"
)

// recordProbes stores a job's swarm probes under the run. RecordProbe replaces the same
// (info-hash, run, tracker), so a job handled twice records nothing twice.
func (w *Worker) recordProbes(ctx context.Context, log *slog.Logger, job crawler.Job, ps []crawler.SwarmProbe) error {
	if len(ps) == 0 {
		return nil
	}
	for _, p := range ps {
		err := w.Recorder.RecordProbe(ctx, reports.SwarmProbe{InfoHash: p.InfoHash, ArtifactID: p.ArtifactID, RunID: job.RunID,
			Source: p.Source, At: p.At, Seeders: p.Seeders, Leechers: p.Leechers, Completed: p.Completed, Peers: p.Peers})
		if err != nil {
			return fmt.Errorf("record swarm probe: %w", err)
		}
	}
	return nil
}

// followUps asks every other active source that follows findings (crawler.Follower) for jobs on
// what this job found, e.g. the swarm source probing each torrent's swarm.
func (w *Worker) followUps(job crawler.Job, found []artifact.Artifact) []crawler.Job {
	if len(found) == 0 {
		return nil
	}
	names := make([]string, 0, len(w.Sources))
	for name := range w.Sources {
		names = append(names, name)
	}
	sort.Strings(names)
	var out []crawler.Job
	for _, name := range names {
		f, ok := w.Sources[name].(crawler.Follower)
		if !ok || name == job.Source {
			continue
		}
		for _, j := range f.Follow(job, found) {
			j.Source = name
			out = append(out, j)
		}
	}
	return out
}
