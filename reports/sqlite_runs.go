package reports

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// ErrNotFound is returned for a run (or other record) the store does not hold.
var ErrNotFound = errors.New("not found")

// OpenRun returns the most recent run that was begun and never finished, if any.
func (s *SQLiteStore) OpenRun(ctx context.Context) (Run, bool, error) {
	var id string
	err := s.db.QueryRowContext(ctx, `SELECT id FROM runs WHERE finished=0 ORDER BY seq DESC LIMIT 1`).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return Run{}, false, nil
	}
	if err != nil {
		return Run{}, false, fmt.Errorf("open run: %w", err)
	}
	r, err := s.GetRun(ctx, id)
	return r, err == nil, err
}

// BeginRun records a run. Beginning a run that exists (a resume) keeps what it has recorded.
func (s *SQLiteStore) BeginRun(ctx context.Context, r Run) error {
	if r.ID == "" {
		return errors.New("begin run: empty id")
	}
	if r.Started.IsZero() {
		r.Started = time.Now().UTC()
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO runs(id, seq, started, mode)
			VALUES(?, (SELECT COALESCE(MAX(seq),0)+1 FROM runs), ?, ?) ON CONFLICT(id) DO NOTHING`,
			r.ID, nanos(r.Started), r.Mode)
		if err != nil {
			return fmt.Errorf("begin run %s: %w", r.ID, err)
		}
		for _, st := range r.Sources {
			if err := addStat(ctx, tx, r.ID, st); err != nil {
				return err
			}
		}
		return nil
	})
}

// AddSourceStat adds delta's counters to the source's row in the run; a non-empty Status or
// Message replaces the stored one.
func (s *SQLiteStore) AddSourceStat(ctx context.Context, runID string, delta SourceStat) error {
	if delta.Name == "" {
		return errors.New("add source stat: empty source name")
	}
	st, err := s.recordStmts(ctx)
	if err != nil {
		return fmt.Errorf("add source stat: %w", err)
	}
	err = s.write(ctx, func(tx *sql.Tx) error {
		if err := s.runKnown(ctx, tx, st, runID); err != nil {
			return err
		}
		if _, err := tx.StmtContext(ctx, st.stat).ExecContext(ctx, statArgs(runID, delta)...); err != nil {
			return fmt.Errorf("source stat %s/%s: %w", runID, delta.Name, err)
		}
		return nil
	})
	s.sawRun(runID, err)
	return err
}

const sqlStat = `INSERT INTO source_stats(run_id, name, requests, bytes, errors, status, message, artifacts, cached)
		VALUES(?,?,?,?,?,?,?,?,?)
		ON CONFLICT(run_id, name) DO UPDATE SET
			requests=requests+excluded.requests, bytes=bytes+excluded.bytes, errors=errors+excluded.errors,
			artifacts=artifacts+excluded.artifacts, cached=cached+excluded.cached,
			status=CASE WHEN excluded.status<>'' THEN excluded.status ELSE status END,
			message=CASE WHEN excluded.message<>'' THEN excluded.message ELSE message END`

func statArgs(runID string, d SourceStat) []any {
	return []any{runID, d.Name, d.Requests, d.Bytes, d.Errors, d.Status, d.Message, d.Artifacts, d.Cached}
}

func addStat(ctx context.Context, tx *sql.Tx, runID string, d SourceStat) error {
	_, err := tx.ExecContext(ctx, sqlStat, statArgs(runID, d)...)
	if err != nil {
		return fmt.Errorf("source stat %s/%s: %w", runID, d.Name, err)
	}
	return nil
}

// FinishRun marks the run finished and complete and returns it with its counts.
func (s *SQLiteStore) FinishRun(ctx context.Context, runID string, finished time.Time) (Run, error) {
	if finished.IsZero() {
		finished = time.Now().UTC()
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE runs SET finished=?, complete=1 WHERE id=?`, nanos(finished), runID)
		if err != nil {
			return fmt.Errorf("finish run %s: %w", runID, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("finish run %q: %w", runID, ErrNotFound)
		}
		return nil
	})
	if err != nil {
		return Run{}, err
	}
	return s.GetRun(ctx, runID)
}

// GetRun returns one run with its source stats (by name) and new/gone counts.
func (s *SQLiteStore) GetRun(ctx context.Context, runID string) (Run, error) {
	var r Run
	var started, finished int64
	var complete int
	err := s.db.QueryRowContext(ctx, `SELECT id, started, finished, mode, complete,
			(SELECT COUNT(*) FROM events e WHERE e.run_id=runs.id AND e.kind='new'),
			(SELECT COUNT(*) FROM events e WHERE e.run_id=runs.id AND e.kind='gone'),
			(SELECT COUNT(*) FROM events e WHERE e.run_id=runs.id AND e.kind='reappeared')
		FROM runs WHERE id=?`, runID).Scan(&r.ID, &started, &finished, &r.Mode, &complete, &r.New, &r.Gone, &r.Reappeared)
	if errors.Is(err, sql.ErrNoRows) {
		return Run{}, fmt.Errorf("run %q: %w", runID, ErrNotFound)
	}
	if err != nil {
		return Run{}, fmt.Errorf("run %s: %w", runID, err)
	}
	r.Started, r.Finished, r.Complete = fromNanos(started), fromNanos(finished), complete == 1
	rows, err := s.db.QueryContext(ctx, `SELECT name, requests, bytes, errors, status, message, artifacts, cached
		FROM source_stats WHERE run_id=? ORDER BY name`, runID)
	if err != nil {
		return Run{}, fmt.Errorf("run %s sources: %w", runID, err)
	}
	defer rows.Close()
	r.Sources = []SourceStat{}
	for rows.Next() {
		var st SourceStat
		if err := rows.Scan(&st.Name, &st.Requests, &st.Bytes, &st.Errors, &st.Status, &st.Message, &st.Artifacts, &st.Cached); err != nil {
			return Run{}, fmt.Errorf("run %s sources: %w", runID, err)
		}
		r.Sources = append(r.Sources, st)
	}
	return r, rows.Err()
}

// Runs returns the most recent runs first; limit <= 0 means all.
func (s *SQLiteStore) Runs(ctx context.Context, limit int) ([]Run, error) {
	if limit <= 0 {
		limit = -1
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id FROM runs ORDER BY seq DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("runs: %w", err)
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, fmt.Errorf("runs: %w", err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("runs: %w", err)
	}
	out := make([]Run, 0, len(ids))
	for _, id := range ids {
		r, err := s.GetRun(ctx, id)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}
