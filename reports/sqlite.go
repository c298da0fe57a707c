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
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // pure-Go SQLite driver, registered as "sqlite"

	"github.com/afterlife-watch/afterlife/internal/groupcommit"
)

// StoreFile is the store's file name inside the data directory.
const StoreFile = "afterlife.db"

// SQLiteStore is the embedded Store: one SQLite file in WAL mode. It is safe for concurrent use:
// reads run in parallel on a small pool, writes are serialised in process (and by SQLite's lock
// with a busy timeout across processes).
type SQLiteStore struct {
	db      *sql.DB
	path    string
	wmu     sync.Mutex // serialises write transactions inside this process
	cleanup func()
	goneHow bool // the file has the gone_reasons table
	// group runs the Record and RecordListing transactions of concurrent workers together (group
	// commit): one commit for several jobs' results, each caller returning once its own is in.
	group *groupcommit.Committer
	// deferErr is the first error of a deferred write since the last Sync.
	deferMu  sync.Mutex
	deferErr error
	// runsSeen and scopes answer RecordListing's "is this the scope's first listing?" from
	// memory (firstListing).
	runsSeen sync.Map // run id -> true
	scopesMu sync.Mutex
	scopes   map[string]bool // scopes with a listing; nil until read
	// laterKeys counts, per model key, the models in RecordBatchLater writes not yet committed
	// (or failed): a lineage read of such a model commits them first; one of any other model
	// need not (its answer depends only on its own key's rows).
	laterMu   sync.Mutex
	laterKeys map[string]int
	// empty holds the empty listings of scopes not known to be listed that wait for the
	// deferred write queued by the first of them (deferEmptyListing).
	emptyMu sync.Mutex
	empty   []emptyListing
	// taints memoizes TaintOf's answers per model key (taint_cache.go).
	taints taintCache
}

var _ Store = (*SQLiteStore)(nil)

// OpenStore opens (creating if needed) the SQLite store at path. A directory path gets StoreFile
// inside it.
func OpenStore(path string) (*SQLiteStore, error) {
	if path == "" {
		return nil, errors.New("open store: empty path")
	}
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		path = filepath.Join(path, StoreFile)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	q := url.Values{}
	for _, p := range []string{"busy_timeout(15000)", "journal_mode(WAL)", "synchronous(NORMAL)", "foreign_keys(ON)",
		// Checkpoint the WAL at 10,000 pages (40 MB), not SQLite's 1,000: a checkpoint (writing
		// pages back and an fsync) runs inside the commit that crosses the mark, which during a
		// scan is the Sync the run loop waits on before its acks (bench/results/crawl.md, round 5).
		"wal_autocheckpoint(10000)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	db.SetMaxOpenConns(4)
	db.SetMaxIdleConns(4)
	db.SetConnMaxIdleTime(0)
	s := &SQLiteStore{db: db, path: path}
	// Deferred writes (a scope's first listing) wait for the run loop's Sync before its acks, or for
	// the next write; the timer is only the fallback, long enough not to cost a commit of its own per job.
	s.group = groupcommit.New(s.writeTx, 0, 100*time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	s.goneHow = true
	return s, nil
}

// OpenTempStore opens a store in a fresh temporary directory that Close removes. It is what
// `afterlife report --artifacts` uses: no prior store, nothing left behind.
func OpenTempStore() (*SQLiteStore, error) {
	dir, err := os.MkdirTemp("", "afterlife-store-*")
	if err != nil {
		return nil, fmt.Errorf("temp store: %w", err)
	}
	s, err := OpenStore(filepath.Join(dir, StoreFile))
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	s.cleanup = func() { os.RemoveAll(dir) }
	return s, nil
}

// Path is the store's file.
func (s *SQLiteStore) Path() string { return s.path }

// Close closes the database (and removes a temporary store).
func (s *SQLiteStore) Close() error {
	serr := s.Sync(context.Background()) // deferred writes go in before the file closes
	err := errors.Join(serr, s.db.Close())
	if s.cleanup != nil {
		s.cleanup()
	}
	return err
}

const schemaVersion = 1

var schema = []string{
	`CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL)`,
	`CREATE TABLE IF NOT EXISTS runs(
		id TEXT PRIMARY KEY,
		seq INTEGER NOT NULL,
		started INTEGER NOT NULL,
		finished INTEGER NOT NULL DEFAULT 0,
		mode TEXT NOT NULL DEFAULT '',
		complete INTEGER NOT NULL DEFAULT 0)`,
	`CREATE INDEX IF NOT EXISTS runs_seq ON runs(seq)`,
	`CREATE TABLE IF NOT EXISTS source_stats(
		run_id TEXT NOT NULL REFERENCES runs(id),
		name TEXT NOT NULL,
		requests INTEGER NOT NULL DEFAULT 0,
		bytes INTEGER NOT NULL DEFAULT 0,
		errors INTEGER NOT NULL DEFAULT 0,
		status TEXT NOT NULL DEFAULT '',
		message TEXT NOT NULL DEFAULT '',
		artifacts INTEGER NOT NULL DEFAULT 0,
		cached INTEGER NOT NULL DEFAULT 0,
		PRIMARY KEY(run_id, name))`,
	`CREATE TABLE IF NOT EXISTS artifacts(
		id TEXT PRIMARY KEY,
		source TEXT NOT NULL,
		kind TEXT NOT NULL,
		url TEXT NOT NULL DEFAULT '',
		title TEXT NOT NULL DEFAULT '',
		host TEXT NOT NULL DEFAULT '',
		model_key TEXT NOT NULL DEFAULT '',
		published TEXT NOT NULL DEFAULT '',
		doc BLOB NOT NULL,
		first_seen INTEGER NOT NULL,
		last_seen INTEGER NOT NULL,
		first_run TEXT NOT NULL DEFAULT '',
		last_run TEXT NOT NULL DEFAULT '',
		gone INTEGER NOT NULL DEFAULT 0,
		gone_since INTEGER NOT NULL DEFAULT 0)`,
	`CREATE INDEX IF NOT EXISTS artifacts_model_key ON artifacts(model_key)`,
	`CREATE TABLE IF NOT EXISTS sightings(
		artifact_id TEXT NOT NULL REFERENCES artifacts(id),
		dataset TEXT NOT NULL,
		relation TEXT NOT NULL,
		confidence REAL NOT NULL DEFAULT 0,
		evidence TEXT NOT NULL DEFAULT '[]',
		via TEXT NOT NULL DEFAULT '',
		chain TEXT NOT NULL DEFAULT '',
		post_retraction INTEGER NOT NULL DEFAULT 0,
		first_seen INTEGER NOT NULL,
		last_seen INTEGER NOT NULL,
		first_run TEXT NOT NULL DEFAULT '',
		last_run TEXT NOT NULL DEFAULT '',
		gone INTEGER NOT NULL DEFAULT 0,
		gone_since INTEGER NOT NULL DEFAULT 0,
		PRIMARY KEY(artifact_id, dataset, relation))`,
	`CREATE INDEX IF NOT EXISTS sightings_dataset ON sightings(dataset, relation)`,
	// events: what changed in which run (new, gone, reappeared); the source of new/gone counts,
	// "new since last run" and the Atom feeds. The key makes recording idempotent within a run.
	`CREATE TABLE IF NOT EXISTS events(
		run_id TEXT NOT NULL,
		artifact_id TEXT NOT NULL,
		dataset TEXT NOT NULL,
		relation TEXT NOT NULL,
		kind TEXT NOT NULL,
		at INTEGER NOT NULL,
		PRIMARY KEY(run_id, artifact_id, dataset, relation, kind))`,
	`CREATE INDEX IF NOT EXISTS events_dataset ON events(dataset, kind, at)`,
	// listings: complete listings of a scope (one per scope and run), numbered per scope.
	// listings and listing_members are WITHOUT ROWID (one B-tree each, keyed as they are
	// looked up, instead of a rowid table and the key's index): a listing's write touches half
	// the pages. Stores made before are converted when opened (rowidListingTables).
	sqlCreateListings,
	sqlCreateListingMembers,
	// swarm_probes: BitTorrent swarm counts per info-hash (the torrent package records them).
	`CREATE TABLE IF NOT EXISTS swarm_probes(
		infohash TEXT NOT NULL,
		artifact_id TEXT NOT NULL DEFAULT '',
		run_id TEXT NOT NULL DEFAULT '',
		source TEXT NOT NULL DEFAULT '',
		at INTEGER NOT NULL,
		seeders INTEGER NOT NULL DEFAULT -1,
		leechers INTEGER NOT NULL DEFAULT -1,
		completed INTEGER NOT NULL DEFAULT -1,
		peers INTEGER NOT NULL DEFAULT -1,
		PRIMARY KEY(infohash, run_id, source))`,
	`CREATE INDEX IF NOT EXISTS swarm_probes_at ON swarm_probes(infohash, at)`,
}

const (
	sqlCreateListings = `CREATE TABLE IF NOT EXISTS listings(
		scope TEXT NOT NULL,
		run_id TEXT NOT NULL,
		ord INTEGER NOT NULL,
		at INTEGER NOT NULL,
		PRIMARY KEY(scope, run_id)) WITHOUT ROWID`
	sqlCreateListingMembers = `CREATE TABLE IF NOT EXISTS listing_members(
		scope TEXT NOT NULL,
		artifact_id TEXT NOT NULL,
		last_ord INTEGER NOT NULL,
		PRIMARY KEY(scope, artifact_id)) WITHOUT ROWID`
)

// rowidListingTables converts listings and listing_members of a store made before they were
// WITHOUT ROWID tables, in the migration's transaction: each is copied into a table of the
// new form that then takes its name. The columns and rows stay as they were, so an older
// afterlife reads the converted file as before.
func rowidListingTables(ctx context.Context, tx *sql.Tx) error {
	for _, t := range []struct{ name, create, cols string }{
		{"listings", sqlCreateListings, "scope, run_id, ord, at"},
		{"listing_members", sqlCreateListingMembers, "scope, artifact_id, last_ord"},
	} {
		var wr int
		err := tx.QueryRowContext(ctx, `SELECT wr FROM pragma_table_list WHERE schema='main' AND name=?`, t.name).Scan(&wr)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && wr == 1) {
			continue // created by the schema below, or converted already
		}
		if err != nil {
			return fmt.Errorf("convert %s: %w", t.name, err)
		}
		tmp := t.name + "_without_rowid"
		for _, q := range []string{
			strings.Replace(t.create, "IF NOT EXISTS "+t.name+"(", tmp+"(", 1),
			fmt.Sprintf("INSERT INTO %s(%s) SELECT %s FROM %s", tmp, t.cols, t.cols, t.name),
			"DROP TABLE " + t.name,
			fmt.Sprintf("ALTER TABLE %s RENAME TO %s", tmp, t.name),
		} {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return fmt.Errorf("convert %s: %w", t.name, err)
			}
		}
		slog.Info("store: converted a table to WITHOUT ROWID", "table", t.name)
	}
	return nil
}

func (s *SQLiteStore) migrate(ctx context.Context) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		if err := rowidListingTables(ctx, tx); err != nil {
			return fmt.Errorf("schema: %w", err)
		}
		for _, q := range schema {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return fmt.Errorf("schema: %w", err)
			}
		}
		var v string
		err := tx.QueryRowContext(ctx, `SELECT value FROM meta WHERE key='schema_version'`).Scan(&v)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			_, err = tx.ExecContext(ctx, `INSERT INTO meta(key,value) VALUES('schema_version',?)`, fmt.Sprint(schemaVersion))
			return err
		case err != nil:
			return err
		case v != fmt.Sprint(schemaVersion):
			return fmt.Errorf("store schema version %s, this afterlife knows %d", v, schemaVersion)
		}
		return nil
	})
}

// write runs fn in a write transaction shared with the concurrent writers' work (the group
// commit), after every write deferred before the call (finishing a run, say, comes after them):
// a failure report, a gone mark or a stats flush no longer costs a commit of its own, nor a
// second one for the deferred writes it waited for. fn must be re-runnable and touch only tx
// (see groupcommit.Committer.Do): if another writer's work fails, each is run again alone.
func (s *SQLiteStore) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return s.group.Do(ctx, func(_ context.Context, tx *sql.Tx) error { return fn(tx) })
}

// writeTx runs fn in a write transaction (the group's transactions, and write's).
func (s *SQLiteStore) writeTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		if rb := tx.Rollback(); rb != nil {
			slog.Warn("store rollback", "err", rb)
		}
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
