package reports

import (
	"context"
	"database/sql"
)

// How a sighting was found gone (Sighting.GoneHow): a steward needs to know whether the host
// said so or Afterlife inferred it.
const (
	// GoneHTTP: the host answered 404 Not Found or 410 Gone at the artifact's address.
	GoneHTTP = "the host answered 404/410: no longer at its address"
	// goneListing: missing from the source's last N complete listings (papers never go this way:
	// a listing page that moved says nothing about a paper).
	goneListing = "missing from the source's last %d complete listings"
)

func init() {
	schema = append(schema, `CREATE TABLE IF NOT EXISTS gone_reasons(
		artifact_id TEXT PRIMARY KEY,
		how TEXT NOT NULL,
		at INTEGER NOT NULL)`)
}

// sqlGoneHow records how an artifact was found gone.
const sqlGoneHow = `INSERT INTO gone_reasons(artifact_id, how, at) VALUES(?,?,?)
		ON CONFLICT(artifact_id) DO UPDATE SET how=excluded.how, at=excluded.at`

// hasTable reports whether the store's file has the table (a read-only store from an older
// version may not).
func hasTable(ctx context.Context, db *sql.DB, name string) bool {
	var one int
	return db.QueryRowContext(ctx, `SELECT 1 FROM sqlite_master WHERE type='table' AND name=?`, name).Scan(&one) == nil
}
