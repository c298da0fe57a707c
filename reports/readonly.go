package reports

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"

	"github.com/afterlife-watch/afterlife/internal/groupcommit"
)

// OpenStoreReadOnly opens an existing store for reading only, for the commands that only read
// (serve, runs, report): it never creates, migrates or writes anything, so it works on a
// read-only data directory (a read-only mount, a backup, another user's files). Every write
// through it fails. When the directory cannot be written SQLite cannot keep its WAL index there;
// the store is then opened as immutable, which is exact for a store no process is writing (a
// finished scan checkpoints its write-ahead log on close).
func OpenStoreReadOnly(path string) (*SQLiteStore, error) {
	if path == "" {
		return nil, errors.New("open store: empty path")
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	if fi.IsDir() {
		path = filepath.Join(path, StoreFile)
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("open store: %w", err)
		}
	}
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(15000)")
	q.Add("_pragma", "query_only(1)")
	q.Set("mode", "ro")
	if unix.Access(filepath.Dir(path), unix.W_OK) != nil || unix.Access(path, unix.W_OK) != nil {
		q.Set("immutable", "1")
		if wal, err := os.Stat(path + "-wal"); err == nil && wal.Size() > 0 {
			slog.Warn("store opened read-only without its write-ahead log: the last writes of a process that did not close it may be missing",
				"store", path, "wal_bytes", wal.Size())
		}
	}
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	db.SetMaxOpenConns(4)
	db.SetMaxIdleConns(4)
	s := &SQLiteStore{db: db, path: path}
	s.group = groupcommit.New(s.writeTx, 0, 0) // writes fail (query_only); Close's Sync has nothing to do
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var v string
	err = db.QueryRowContext(ctx, `SELECT value FROM meta WHERE key='schema_version'`).Scan(&v)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		err = errors.New("not an afterlife store (no schema version)")
	case err != nil:
	case v != fmt.Sprint(schemaVersion):
		err = fmt.Errorf("store schema version %s, this afterlife knows %d", v, schemaVersion)
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open store %s read-only: %w", path, err)
	}
	s.goneHow = hasTable(ctx, db, "gone_reasons")
	return s, nil
}
