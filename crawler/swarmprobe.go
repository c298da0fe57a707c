package crawler

import (
	"time"

	"github.com/afterlife-watch/afterlife/artifact"
)

// SwarmProbe is one tracker's (or the DHT's) count of one BitTorrent swarm, measured by a job.
// The run loop stores it in the run's swarm probe table (reports.SwarmStore). Counts are -1 where
// the probe could not tell.
type SwarmProbe struct {
	InfoHash   string
	ArtifactID string // the torrent artifact it belongs to, if any
	// Source is what answered: the tracker URL, or "dht".
	Source    string
	At        time.Time
	Seeders   int
	Leechers  int
	Completed int
	// Peers is the number of distinct peer addresses learnt (-1: not asked, e.g. a scrape).
	Peers int
}

// Follower is implemented by sources that act on what other sources found in the same run (the
// swarm source probes every torrent artifact's swarm). After a job's artifacts are recorded, the
// run loop asks every other active Follower for follow-up jobs; they run under the follower's
// own source name, rate limits and stats.
type Follower interface {
	Follow(parent Job, found []artifact.Artifact) []Job
}
