package reports

import (
	"context"
	"fmt"
	"time"

	"github.com/afterlife-watch/afterlife/extract"
)

// SightingState is what a planner needs of a sighting to decide what to look at again: which
// artifact, for which dataset and relation, whether it is gone and when it was last seen. It
// carries no artifact document, evidence or chain (EachSighting decodes those for every row).
type SightingState struct {
	ArtifactID string
	Dataset    string
	Relation   extract.Relation
	Gone       bool
	LastSeen   time.Time
	GoneSince  time.Time
	LastRun    string
}

// SightingStateStreamer is implemented by stores that can hand out sighting states one row at a
// time (SQLiteStore).
type SightingStateStreamer interface {
	EachSightingState(ctx context.Context, source string, fn func(SightingState) error) error
}

// EachSightingState calls fn with the state of each sighting of artifacts from source ("": every
// source), ordered by artifact id, dataset and relation. It reads only the sightings' columns and
// the artifacts' source: no JSON is decoded, so a re-check plan over a source's hundred thousand
// sightings costs a scan of narrow columns, not a decode of every artifact document.
// An error from fn stops the scan and is returned.
func (s *SQLiteStore) EachSightingState(ctx context.Context, source string, fn func(SightingState) error) error {
	query := `SELECT s.artifact_id, s.dataset, s.relation, s.gone, s.last_seen, s.gone_since, s.last_run
		FROM sightings s JOIN artifacts a ON a.id=s.artifact_id`
	var args []any
	if source != "" {
		query += ` WHERE a.source=?`
		args = append(args, source)
	}
	query += ` ORDER BY s.artifact_id, s.dataset, s.relation`
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("sighting states: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var st SightingState
		var rel string
		var gone int
		var last, goneSince int64
		if err := rows.Scan(&st.ArtifactID, &st.Dataset, &rel, &gone, &last, &goneSince, &st.LastRun); err != nil {
			return fmt.Errorf("sighting states: %w", err)
		}
		st.Relation, st.Gone = extract.Relation(rel), gone == 1
		st.LastSeen, st.GoneSince = fromNanos(last), fromNanos(goneSince)
		if err := fn(st); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sighting states: %w", err)
	}
	return nil
}
