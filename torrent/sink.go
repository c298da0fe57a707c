package torrent

import (
	"context"
	"time"
)

// ProbeRecord is one stored measurement of a swarm. Counts are -1 where nothing could tell.
type ProbeRecord struct {
	InfoHash   string
	ArtifactID string
	// Source says what measured it: "trackers", "dht" or "trackers+dht".
	Source    string
	At        time.Time
	Seeders   int
	Leechers  int
	Completed int
	// Peers is the number of distinct peer addresses seen (announce replies and DHT).
	Peers int
}

// ProbeSink is where probes go (the reports store, through a small adapter in cmd/afterlife).
type ProbeSink interface {
	RecordProbe(ctx context.Context, p ProbeRecord) error
}

// ProbeSinkFunc adapts a function to ProbeSink.
type ProbeSinkFunc func(ctx context.Context, p ProbeRecord) error

// RecordProbe implements ProbeSink.
func (f ProbeSinkFunc) RecordProbe(ctx context.Context, p ProbeRecord) error { return f(ctx, p) }

// Record summarises a probe for storage: the highest counts any tracker gave (trackers share
// peers, so summing would double count) and the distinct peers seen.
func (r *Result) Record(artifactID string) ProbeRecord {
	rec := ProbeRecord{InfoHash: r.InfoHash, ArtifactID: artifactID, At: r.At, Seeders: -1, Leechers: -1, Completed: -1, Peers: r.DistinctPeers}
	tr := false
	for _, t := range r.Trackers {
		if t.Error != "" {
			continue
		}
		tr = true
		rec.Seeders = max(rec.Seeders, t.Seeders)
		rec.Leechers = max(rec.Leechers, t.Leechers)
		rec.Completed = max(rec.Completed, t.Completed)
	}
	switch {
	case tr && r.DHTPeers > 0:
		rec.Source = "trackers+dht"
	case tr:
		rec.Source = "trackers"
	default:
		rec.Source = "dht"
	}
	return rec
}
