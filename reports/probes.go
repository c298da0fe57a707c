package reports

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// SwarmProbe is one measurement of a BitTorrent swarm (tracker scrape, announce or DHT look-up).
// Counts are -1 where the probe could not tell.
type SwarmProbe struct {
	InfoHash   string    `json:"infohash"`
	ArtifactID string    `json:"artifact_id,omitempty"`
	RunID      string    `json:"run_id,omitempty"`
	Source     string    `json:"source,omitempty"` // e.g. the tracker URL or "dht"
	At         time.Time `json:"at"`
	Seeders    int       `json:"seeders"`
	Leechers   int       `json:"leechers"`
	Completed  int       `json:"completed"`
	Peers      int       `json:"peers"`
}

// Alive reports whether the probe saw anyone sharing the torrent.
func (p SwarmProbe) Alive() bool { return p.Seeders > 0 || p.Peers > 0 }

// SwarmStore is where the torrent package records swarm health. The SQLite store implements it;
// it is separate from Store so that adding it breaks no other backend.
type SwarmStore interface {
	// RecordProbe stores a probe; the same (infohash, run, source) again replaces it.
	RecordProbe(ctx context.Context, p SwarmProbe) error
	// Probes returns the probes of an info-hash, oldest first ("" for all info-hashes).
	Probes(ctx context.Context, infoHash string) ([]SwarmProbe, error)
}

var _ SwarmStore = (*SQLiteStore)(nil)

// RecordProbe implements SwarmStore.
func (s *SQLiteStore) RecordProbe(ctx context.Context, p SwarmProbe) error {
	p.InfoHash = strings.ToLower(strings.TrimSpace(p.InfoHash))
	if len(p.InfoHash) != 40 {
		return fmt.Errorf("record probe: info-hash %q is not 40 hex digits", p.InfoHash)
	}
	if p.At.IsZero() {
		return errors.New("record probe: zero time")
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO swarm_probes(infohash, artifact_id, run_id, source, at, seeders, leechers, completed, peers)
		VALUES(?,?,?,?,?,?,?,?,?) ON CONFLICT(infohash, run_id, source) DO UPDATE SET artifact_id=excluded.artifact_id,
		at=excluded.at, seeders=excluded.seeders, leechers=excluded.leechers, completed=excluded.completed, peers=excluded.peers`,
			p.InfoHash, p.ArtifactID, p.RunID, p.Source, nanos(p.At), p.Seeders, p.Leechers, p.Completed, p.Peers)
		if err != nil {
			return fmt.Errorf("record probe %s: %w", p.InfoHash, err)
		}
		return nil
	})
}

// Probes implements SwarmStore.
func (s *SQLiteStore) Probes(ctx context.Context, infoHash string) ([]SwarmProbe, error) {
	q := `SELECT infohash, artifact_id, run_id, source, at, seeders, leechers, completed, peers FROM swarm_probes`
	var args []any
	if infoHash != "" {
		q += ` WHERE infohash=?`
		args = append(args, strings.ToLower(infoHash))
	}
	q += ` ORDER BY infohash, at, source`
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("probes: %w", err)
	}
	defer rows.Close()
	var out []SwarmProbe
	for rows.Next() {
		var p SwarmProbe
		var at int64
		if err := rows.Scan(&p.InfoHash, &p.ArtifactID, &p.RunID, &p.Source, &at, &p.Seeders, &p.Leechers, &p.Completed, &p.Peers); err != nil {
			return nil, fmt.Errorf("probes: %w", err)
		}
		p.At = fromNanos(at)
		out = append(out, p)
	}
	return out, rows.Err()
}
