// Package httpcache is the embedded validator cache: ETag / Last-Modified and the last body per
// URL in a SQLite file under the data directory, so re-scans send conditional requests.
package httpcache

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	_ "modernc.org/sqlite" // pure-Go SQLite driver

	"github.com/afterlife-watch/afterlife/crawler"
)

// Cache implements crawler.Cache on SQLite. Safe for concurrent use.
type Cache struct {
	db *sql.DB
}

var _ crawler.Cache = (*Cache)(nil)

const schema = `CREATE TABLE IF NOT EXISTS validators (
	url           TEXT PRIMARY KEY,
	etag          TEXT NOT NULL DEFAULT '',
	last_modified TEXT NOT NULL DEFAULT '',
	status        INTEGER NOT NULL,
	content_type  TEXT NOT NULL DEFAULT '',
	body          BLOB,
	stored        INTEGER NOT NULL
)`

// Open opens (creating if needed) the cache file at path.
func Open(path string) (*Cache, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("validator cache: %w", err)
	}
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)")
	if err != nil {
		return nil, fmt.Errorf("validator cache %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(schema); err != nil {
		db.Close()
		return nil, fmt.Errorf("validator cache %s: %w", path, err)
	}
	return &Cache{db: db}, nil
}

// Lookup returns the stored validators and body for url.
func (c *Cache) Lookup(ctx context.Context, url string) (crawler.CachedResponse, bool, error) {
	var r crawler.CachedResponse
	var stored int64
	err := c.db.QueryRowContext(ctx, `SELECT etag, last_modified, status, content_type, body, stored FROM validators WHERE url = ?`, url).
		Scan(&r.ETag, &r.LastModified, &r.Status, &r.ContentType, &r.Body, &stored)
	if errors.Is(err, sql.ErrNoRows) {
		return r, false, nil
	}
	if err != nil {
		return r, false, fmt.Errorf("validator cache lookup: %w", err)
	}
	r.Stored = time.Unix(0, stored)
	return r, true, nil
}

// Store replaces what is kept for url.
func (c *Cache) Store(ctx context.Context, url string, r crawler.CachedResponse) error {
	if r.Stored.IsZero() {
		r.Stored = time.Now()
	}
	_, err := c.db.ExecContext(ctx, `INSERT INTO validators (url, etag, last_modified, status, content_type, body, stored)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT(url) DO UPDATE SET etag=excluded.etag, last_modified=excluded.last_modified, status=excluded.status,
			content_type=excluded.content_type, body=excluded.body, stored=excluded.stored`,
		url, r.ETag, r.LastModified, r.Status, r.ContentType, r.Body, r.Stored.UnixNano())
	if err != nil {
		return fmt.Errorf("validator cache store: %w", err)
	}
	return nil
}

// Close closes the file.
func (c *Cache) Close() error { return c.db.Close() }
