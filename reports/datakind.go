package reports

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// What a store holds. A store remembers it (meta key data_kind) from its first run on, so planted
// demo findings are never reported as real ones and a demo never writes into a real store.
const (
	DataReal = "real"
	DataDemo = "demo"
)

// ErrDataKind is returned when a run would mix demo and real data in one store.
var ErrDataKind = errors.New("demo and real data never share a store")

// DataKind returns what the store holds: DataReal, DataDemo, or "" when nothing claimed it yet.
func (s *SQLiteStore) DataKind(ctx context.Context) (string, error) {
	var v string
	err := s.db.QueryRowContext(ctx, `SELECT value FROM meta WHERE key='data_kind'`).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("store data kind: %w", err)
	}
	return v, nil
}

// ClaimDataKind marks the store as holding kind (DataReal or DataDemo) data, or refuses with an
// error wrapping ErrDataKind when it holds the other kind. A store that has runs but no mark (made
// before stores were marked) is taken to hold unmarked.
func (s *SQLiteStore) ClaimDataKind(ctx context.Context, kind, unmarked string) error {
	if kind != DataReal && kind != DataDemo {
		return fmt.Errorf("store data kind: %q is not %s or %s", kind, DataReal, DataDemo)
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		var have string
		err := tx.QueryRowContext(ctx, `SELECT value FROM meta WHERE key='data_kind'`).Scan(&have)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			var runs int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM runs`).Scan(&runs); err != nil {
				return fmt.Errorf("store data kind: %w", err)
			}
			if runs > 0 && unmarked != "" {
				have = unmarked
			}
		case err != nil:
			return fmt.Errorf("store data kind: %w", err)
		}
		if have != "" && have != kind {
			return &DataKindError{Path: s.path, Have: have, Want: kind}
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO meta(key,value) VALUES('data_kind',?) ON CONFLICT(key) DO UPDATE SET value=excluded.value`, kind)
		if err != nil {
			return fmt.Errorf("store data kind: %w", err)
		}
		return nil
	})
}

// DataKindError says which store holds what, and what was refused.
type DataKindError struct {
	Path       string
	Have, Want string
}

func (e *DataKindError) Error() string {
	if e.Have == DataDemo {
		return fmt.Sprintf("%s holds demo data (planted findings from `afterlife demo`): refusing to record a %s run in it; use another --data directory", e.Path, e.Want)
	}
	return fmt.Sprintf("%s holds real monitoring data: refusing to record a %s run in it; run the demo without --data (it uses its own directory) or with another one", e.Path, e.Want)
}

func (e *DataKindError) Unwrap() error { return ErrDataKind }
