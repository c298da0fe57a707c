// Package httpcache is the embedded validator cache: ETag / Last-Modified and the last body per
// URL in a SQLite file under the data directory, so re-scans send conditional requests.
//
// Stores are written behind: Store keeps the entry in memory (Lookup sees it at once) and a
// background flush writes every entry kept meanwhile in one transaction, FlushDelay after the
// first, or at once when FlushEntries entries or FlushBytes body bytes are waiting; Close writes
// what is left. One commit per page was 16–18% of a crawl's CPU (bench/results/crawl.md). What a
// killed process had not flushed yet (at most FlushDelay of validators) is only lost as a cache:
// the next scan sends those requests unconditionally.
package httpcache

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	_ "modernc.org/sqlite" // pure-Go SQLite driver

	"github.com/afterlife-watch/afterlife/crawler"
)

// Write-behind bounds (defaults of Options).
const (
	FlushDelay   = 100 * time.Millisecond
	FlushEntries = 256
	FlushBytes   = 8 << 20
)

// Options tune the write-behind; zero values take the defaults above.
type Options struct {
	FlushDelay   time.Duration
	FlushEntries int
	FlushBytes   int
}

// Cache implements crawler.Cache on SQLite. Safe for concurrent use.
type Cache struct {
	opts           Options
	db             *sql.DB
	lookup, upsert *sql.Stmt

	mu       sync.Mutex
	pending  map[string]crawler.CachedResponse // kept, not yet in a flush
	flushing map[string]crawler.CachedResponse // in the flush under way
	bytes    int
	timer    *time.Timer
	flushErr error // the last background flush's error, returned by Close
	closed   bool

	fmu sync.Mutex // one flush at a time

	// stored, while not nil, holds a hash of every URL stored since the file was opened empty:
	// the file then holds nothing else, so a URL whose hash is not here is a miss without a
	// query (a first scan asks for every URL once, and the query was ~2% of its CPU). Dropped
	// (nil) past maxStoredHashes entries, or for a file that was not empty at open.
	stored map[uint64]struct{}
}

// maxStoredHashes bounds Cache.stored (a few MiB at most).
var maxStoredHashes = 1 << 18

func urlHash(url string) uint64 { return maphash.String(hashSeed, url) }

var hashSeed = maphash.MakeSeed()

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

const (
	sqlLookup = `SELECT etag, last_modified, status, content_type, body, stored FROM validators WHERE url = ?`
	sqlUpsert = `INSERT INTO validators (url, etag, last_modified, status, content_type, body, stored)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT(url) DO UPDATE SET etag=excluded.etag, last_modified=excluded.last_modified, status=excluded.status,
			content_type=excluded.content_type, body=excluded.body, stored=excluded.stored`
)

// Open opens (creating if needed) the cache file at path.
func Open(path string) (*Cache, error) { return OpenWith(path, Options{}) }

// OpenWith is Open with write-behind options.
//
// The cache is disposable: losing it costs one unconditional request per URL, never a finding.
// So it is written without syncs (synchronous=OFF: a crash of the process loses nothing
// committed, a crash of the machine may leave the file damaged), and a file that does not open
// as a cache — damaged, or not a SQLite file at all — is set aside as path.damaged-<unix time>
// (with its WAL) and a new, empty cache is opened in its place, with a warning (before, such a
// file failed every scan of its data directory). Without the checkpoint's syncs a demo-world
// scan's backend close took 1.9–2.8 ms instead of 3.5–3.8 (medians of 10 scans, `crawl -phases`).
func OpenWith(path string, opts Options) (*Cache, error) {
	c, err := openWith(path, opts)
	if err == nil || !damaged(err) {
		return c, err
	}
	aside := fmt.Sprintf("%s.damaged-%d", path, time.Now().Unix())
	if rerr := os.Rename(path, aside); rerr != nil {
		return nil, errors.Join(err, fmt.Errorf("validator cache %s: could not set the damaged file aside: %w", path, rerr))
	}
	for _, sfx := range []string{"-wal", "-shm"} {
		if _, serr := os.Stat(path + sfx); serr == nil {
			_ = os.Rename(path+sfx, aside+sfx)
		}
	}
	slog.Warn("validator cache did not open; set aside, starting an empty one (the next requests go out unconditional)",
		"path", path, "aside", aside, "err", err)
	return openWith(path, opts)
}

// damaged reports whether err says the file is not a usable SQLite database (SQLITE_CORRUPT,
// SQLITE_NOTADB): the cases a fresh cache file cures, unlike a full disk or a permission.
func damaged(err error) bool {
	var ce interface{ Code() int }
	if errors.As(err, &ce) {
		switch ce.Code() & 0xff {
		case 11, 26: // SQLITE_CORRUPT, SQLITE_NOTADB
			return true
		}
	}
	return false
}

func openWith(path string, opts Options) (*Cache, error) {
	if opts.FlushDelay <= 0 {
		opts.FlushDelay = FlushDelay
	}
	if opts.FlushEntries <= 0 {
		opts.FlushEntries = FlushEntries
	}
	if opts.FlushBytes <= 0 {
		opts.FlushBytes = FlushBytes
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("validator cache: %w", err)
	}
	// The file belongs to the process that opened it (the embedded backend holds the data
	// directory's lock): exclusive locking mode spares the file locks SQLite otherwise takes and
	// releases around every transaction. WAL mode is set after opening, once the locking mode
	// is: the driver runs a DSN's pragmas in name order (journal_mode before locking_mode), and a
	// file reopened with journal_mode(WAL) in the DSN got a shared-memory WAL index and file
	// locks around every transaction, exclusive mode or not.
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=locking_mode(EXCLUSIVE)&_pragma=busy_timeout(10000)&_pragma=synchronous(OFF)")
	if err != nil {
		return nil, fmt.Errorf("validator cache %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	var mode string
	if err := db.QueryRow(`PRAGMA journal_mode=WAL`).Scan(&mode); err != nil || mode != "wal" {
		db.Close()
		if err != nil {
			return nil, fmt.Errorf("validator cache %s: journal mode: %w", path, err)
		}
		return nil, fmt.Errorf("validator cache %s: journal mode %q", path, mode)
	}
	if _, err := db.Exec(schema); err != nil {
		db.Close()
		return nil, fmt.Errorf("validator cache %s: %w", path, err)
	}
	c := &Cache{opts: opts, db: db, pending: map[string]crawler.CachedResponse{}}
	var empty bool
	if err := db.QueryRow(`SELECT NOT EXISTS (SELECT 1 FROM validators)`).Scan(&empty); err != nil {
		db.Close()
		return nil, fmt.Errorf("validator cache %s: %w", path, err)
	}
	if empty {
		c.stored = map[uint64]struct{}{}
	}
	// Prepared once: parsing the SQL on every call was most of the cache's cost.
	if c.lookup, err = db.Prepare(sqlLookup); err == nil {
		c.upsert, err = db.Prepare(sqlUpsert)
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("validator cache %s: prepare: %w", path, err)
	}
	return c, nil
}

// Lookup returns the stored validators and body for url.
func (c *Cache) Lookup(ctx context.Context, url string) (crawler.CachedResponse, bool, error) {
	c.mu.Lock()
	r, ok := c.pending[url]
	if !ok {
		r, ok = c.flushing[url]
	}
	never := false
	if !ok && c.stored != nil {
		_, seen := c.stored[urlHash(url)]
		never = !seen
	}
	c.mu.Unlock()
	if ok {
		return r, true, nil
	}
	if never {
		return r, false, nil
	}
	var stored int64
	err := c.lookup.QueryRowContext(ctx, url).Scan(&r.ETag, &r.LastModified, &r.Status, &r.ContentType, &r.Body, &stored)
	if errors.Is(err, sql.ErrNoRows) {
		return r, false, nil
	}
	if err != nil {
		return r, false, fmt.Errorf("validator cache lookup: %w", err)
	}
	r.Stored = time.Unix(0, stored)
	return r, true, nil
}

// Store replaces what is kept for url. The entry is written to the file by the next flush (see
// the package comment); Lookup returns it at once.
func (c *Cache) Store(ctx context.Context, url string, r crawler.CachedResponse) error {
	if r.Stored.IsZero() {
		r.Stored = time.Now()
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return errors.New("validator cache store: closed")
	}
	if old, ok := c.pending[url]; ok {
		c.bytes -= len(old.Body)
	}
	c.pending[url] = r
	c.bytes += len(r.Body)
	if c.stored != nil {
		if len(c.stored) >= maxStoredHashes {
			c.stored = nil
		} else {
			c.stored[urlHash(url)] = struct{}{}
		}
	}
	full := len(c.pending) >= c.opts.FlushEntries || c.bytes >= c.opts.FlushBytes
	if !full && c.timer == nil {
		c.timer = time.AfterFunc(c.opts.FlushDelay, c.background)
	}
	c.mu.Unlock()
	if full {
		// Bounded memory: the caller that fills the buffer writes it.
		if err := c.Flush(context.WithoutCancel(ctx)); err != nil {
			return fmt.Errorf("validator cache store: %w", err)
		}
	}
	return nil
}

func (c *Cache) background() {
	if err := c.Flush(context.Background()); err != nil {
		slog.Warn("validator cache: write failed; those validators are not kept", "err", err)
		c.mu.Lock()
		c.flushErr = err
		c.mu.Unlock()
	}
}

// Flush writes every kept entry to the file in one transaction.
func (c *Cache) Flush(ctx context.Context) error {
	c.fmu.Lock()
	defer c.fmu.Unlock()
	c.mu.Lock()
	if c.timer != nil {
		c.timer.Stop()
		c.timer = nil
	}
	batch := c.pending
	if len(batch) == 0 {
		c.mu.Unlock()
		return nil
	}
	c.flushing, c.pending, c.bytes = batch, map[string]crawler.CachedResponse{}, 0
	c.mu.Unlock()
	err := c.write(ctx, batch)
	c.mu.Lock()
	c.flushing = nil
	c.mu.Unlock()
	return err
}

func (c *Cache) write(ctx context.Context, batch map[string]crawler.CachedResponse) error {
	tx, err := c.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("validator cache write: %w", err)
	}
	defer tx.Rollback()
	st := tx.StmtContext(ctx, c.upsert)
	for url, r := range batch {
		if _, err := st.ExecContext(ctx, url, r.ETag, r.LastModified, r.Status, r.ContentType, r.Body, r.Stored.UnixNano()); err != nil {
			return fmt.Errorf("validator cache write %d entries: %w", len(batch), err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("validator cache write %d entries: %w", len(batch), err)
	}
	return nil
}

// Close writes what is kept and closes the file.
func (c *Cache) Close() error {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	err := c.Flush(context.Background())
	c.mu.Lock()
	if err == nil {
		err = c.flushErr
	}
	c.mu.Unlock()
	return errors.Join(err, c.db.Close())
}
