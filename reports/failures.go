package reports

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// JobFailure is one URL a run could not use, and why: the report names each failure per URL
// (run.failures in report.json), not only a per-source count.
type JobFailure struct {
	Source string `json:"source"`
	Kind   string `json:"kind,omitempty"`
	// URL is the job's URL with secrets redacted by the recorder's caller.
	URL   string `json:"url"`
	Error string `json:"error"`
	// Attempts counts the failed attempts recorded for the URL in the run.
	Attempts int `json:"attempts"`
	// Final is true when the job was given up (buried), false while it may still be retried.
	Final bool      `json:"final"`
	At    time.Time `json:"at"`
}

// FailureRecorder is implemented by stores that keep per-URL failures (SQLiteStore).
type FailureRecorder interface {
	RecordFailure(ctx context.Context, runID string, f JobFailure) error
}

// FailureLister is implemented by stores that list a run's per-URL failures (SQLiteStore).
type FailureLister interface {
	Failures(ctx context.Context, runID string) ([]JobFailure, error)
}

// MaxFailuresPerRun bounds what one run records, so a hostile source cannot fill the store.
const MaxFailuresPerRun = 10000

func init() {
	schema = append(schema, `CREATE TABLE IF NOT EXISTS job_failures(
		run_id TEXT NOT NULL,
		source TEXT NOT NULL,
		url TEXT NOT NULL,
		kind TEXT NOT NULL DEFAULT '',
		error TEXT NOT NULL DEFAULT '',
		attempts INTEGER NOT NULL DEFAULT 0,
		final INTEGER NOT NULL DEFAULT 0,
		at INTEGER NOT NULL,
		PRIMARY KEY(run_id, source, url))`)
}

// RecordFailure notes that a job of runID failed; the same URL failing again updates its error and
// counts the attempt. Errors and URLs are truncated to 1000 bytes.
func (s *SQLiteStore) RecordFailure(ctx context.Context, runID string, f JobFailure) error {
	if f.At.IsZero() {
		f.At = time.Now().UTC()
	}
	f.URL, f.Error = clip(f.URL, 1000), clip(f.Error, 1000)
	final := 0
	if f.Final {
		final = 1
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM job_failures WHERE run_id=?`, runID).Scan(&n); err != nil {
			return fmt.Errorf("record failure: %w", err)
		}
		if n >= MaxFailuresPerRun {
			_, err := tx.ExecContext(ctx, `UPDATE job_failures SET attempts=attempts+1, error=?, final=MAX(final,?), at=?
				WHERE run_id=? AND source=? AND url=?`, f.Error, final, nanos(f.At), runID, f.Source, f.URL)
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO job_failures(run_id, source, url, kind, error, attempts, final, at)
			VALUES(?,?,?,?,?,1,?,?)
			ON CONFLICT(run_id, source, url) DO UPDATE SET attempts=attempts+1, error=excluded.error,
				final=MAX(final, excluded.final), at=excluded.at`,
			runID, f.Source, f.URL, f.Kind, f.Error, final, nanos(f.At))
		if err != nil {
			return fmt.Errorf("record failure: %w", err)
		}
		return nil
	})
}

// Failures lists a run's per-URL failures by source and URL.
func (s *SQLiteStore) Failures(ctx context.Context, runID string) ([]JobFailure, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT source, kind, url, error, attempts, final, at FROM job_failures
		WHERE run_id=? ORDER BY source, url`, runID)
	if err != nil {
		return nil, fmt.Errorf("run %s failures: %w", runID, err)
	}
	defer rows.Close()
	var out []JobFailure
	for rows.Next() {
		var f JobFailure
		var final int
		var at int64
		if err := rows.Scan(&f.Source, &f.Kind, &f.URL, &f.Error, &f.Attempts, &final, &at); err != nil {
			return nil, fmt.Errorf("run %s failures: %w", runID, err)
		}
		f.Final, f.At = final == 1, fromNanos(at)
		out = append(out, f)
	}
	return out, rows.Err()
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
