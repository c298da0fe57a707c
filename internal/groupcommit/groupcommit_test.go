package groupcommit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	_ "modernc.org/sqlite"
)

func openDB(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "g.db")+"?_pragma=journal_mode(WAL)&_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	if _, err := db.Exec(`CREATE TABLE t (k TEXT PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
	return db
}

func keys(t *testing.T, db *sql.DB) map[string]bool {
	t.Helper()
	rows, err := db.Query(`SELECT k FROM t`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			t.Fatal(err)
		}
		out[k] = true
	}
	return out
}

// countingTx is Tx(db) that counts commits and, for the first transaction, waits until release is
// closed: the callers that arrive meanwhile must queue.
func countingTx(db *sql.DB, commits *atomic.Int64, firstStarted chan<- struct{}, release <-chan struct{}) TxFunc {
	var first atomic.Bool
	base := Tx(db)
	return func(ctx context.Context, fn func(*sql.Tx) error) error {
		if first.CompareAndSwap(false, true) {
			close(firstStarted)
			<-release
		}
		err := base(ctx, fn)
		if err == nil {
			commits.Add(1)
		}
		return err
	}
}

func waitQueued(c *Committer, n int) {
	for {
		c.mu.Lock()
		q := len(c.queue)
		c.mu.Unlock()
		if q >= n {
			return
		}
		runtime.Gosched()
	}
}

// Callers that arrive while a transaction commits share the next one: 1 + 20 callers, 2 commits,
// and every caller's row is there when its Do returns.
func TestCallersArrivingDuringACommitShareTheNextTransaction(t *testing.T) {
	db := openDB(t)
	var commits atomic.Int64
	started, release := make(chan struct{}), make(chan struct{})
	c := New(countingTx(db, &commits, started, release), 0, 0)
	ctx := context.Background()
	insert := func(k string) func(context.Context, *sql.Tx) error {
		return func(ctx context.Context, tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO t VALUES (?)`, k)
			return err
		}
	}
	firstDone := make(chan error, 1)
	go func() { firstDone <- c.Do(ctx, insert("first")) }()
	<-started
	const n = 20
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			errs[i] = c.Do(ctx, insert(fmt.Sprint("k", i)))
		}(i)
	}
	waitQueued(c, n)
	close(release)
	if err := <-firstDone; err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("caller %d: %v", i, err)
		}
	}
	if got := commits.Load(); got != 2 {
		t.Fatalf("%d commits for 1 + %d callers, want 2 (the %d queued callers in one transaction)", got, n, n)
	}
	if got := len(keys(t, db)); got != n+1 {
		t.Fatalf("%d rows, want %d", got, n+1)
	}
}

// A caller whose work fails gets its error and leaves nothing behind; the callers batched with it
// are still committed, each in a transaction of its own after the shared one rolled back.
func TestOneFailingCallerDoesNotFailTheOthers(t *testing.T) {
	db := openDB(t)
	var commits atomic.Int64
	started, release := make(chan struct{}), make(chan struct{})
	c := New(countingTx(db, &commits, started, release), 0, 0)
	ctx := context.Background()
	boom := errors.New("boom")
	firstDone := make(chan error, 1)
	go func() {
		firstDone <- c.Do(ctx, func(ctx context.Context, tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO t VALUES ('first')`)
			return err
		})
	}()
	<-started
	var wg sync.WaitGroup
	errs := make([]error, 5)
	for i := range errs {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			errs[i] = c.Do(ctx, func(ctx context.Context, tx *sql.Tx) error {
				if _, err := tx.ExecContext(ctx, `INSERT INTO t VALUES (?)`, fmt.Sprint("k", i)); err != nil {
					return err
				}
				if i == 2 {
					return boom // after writing: its row must be rolled back
				}
				return nil
			})
		}(i)
	}
	waitQueued(c, len(errs))
	close(release)
	if err := <-firstDone; err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	got := keys(t, db)
	for i, err := range errs {
		switch {
		case i == 2 && !errors.Is(err, boom):
			t.Fatalf("failing caller got %v, want its own error", err)
		case i == 2 && got["k2"]:
			t.Fatal("the failing caller's row was committed")
		case i != 2 && err != nil:
			t.Fatalf("caller %d failed with its neighbour: %v", i, err)
		case i != 2 && !got[fmt.Sprint("k", i)]:
			t.Fatalf("caller %d returned nil but its row is missing", i)
		}
	}
	if len(got) != 5 {
		t.Fatalf("rows %v, want first and k0, k1, k3, k4", got)
	}
}

// A caller whose context is done before its batch starts does not run: it gets ctx.Err().
func TestCancelledCallerDoesNotRun(t *testing.T) {
	db := openDB(t)
	var commits atomic.Int64
	started, release := make(chan struct{}), make(chan struct{})
	c := New(countingTx(db, &commits, started, release), 0, 0)
	firstDone := make(chan error, 1)
	go func() {
		firstDone <- c.Do(context.Background(), func(ctx context.Context, tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO t VALUES ('first')`)
			return err
		})
	}()
	<-started
	cctx, cancel := context.WithCancel(context.Background())
	var ran atomic.Bool
	done := make(chan error, 1)
	go func() {
		done <- c.Do(cctx, func(context.Context, *sql.Tx) error { ran.Store(true); return nil })
	}()
	waitQueued(c, 1)
	cancel()
	close(release)
	<-firstDone
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled caller: %v, want context.Canceled", err)
	}
	if ran.Load() {
		t.Fatal("the cancelled caller's work ran")
	}
}

// Many concurrent callers with a batch cap: every one returns, each row is written once.
func TestManyCallersAllCommitted(t *testing.T) {
	db := openDB(t)
	c := New(Tx(db), 4, 0)
	var wg sync.WaitGroup
	const n = 200
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			if err := c.Do(context.Background(), func(ctx context.Context, tx *sql.Tx) error {
				_, err := tx.ExecContext(ctx, `INSERT INTO t VALUES (?)`, fmt.Sprint("k", i))
				return err
			}); err != nil {
				t.Error(err)
			}
		}(i)
	}
	wg.Wait()
	if got := len(keys(t, db)); got != n {
		t.Fatalf("%d rows, want %d", got, n)
	}
}
