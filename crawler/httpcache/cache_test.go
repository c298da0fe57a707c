package httpcache

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/afterlife-watch/afterlife/crawler"
)

func TestStoreLookupOverwriteAndPersist(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sub", "http.db")
	c, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, err := c.Lookup(ctx, "https://example.org/a"); ok || err != nil {
		t.Fatalf("empty cache: ok=%v err=%v", ok, err)
	}
	at := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	want := crawler.CachedResponse{ETag: `W/"1"`, LastModified: "Wed, 21 Oct 2015 07:28:00 GMT", Status: 200,
		ContentType: "application/json", Body: []byte(`{"a":1}`), Stored: at}
	if err := c.Store(ctx, "https://example.org/a", want); err != nil {
		t.Fatal(err)
	}
	want2 := want
	want2.ETag, want2.Body = `W/"2"`, []byte(`{"a":2}`)
	if err := c.Store(ctx, "https://example.org/a", want2); err != nil {
		t.Fatal(err)
	}
	c.Close()

	c, err = Open(path) // persisted across processes
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	got, ok, err := c.Lookup(ctx, "https://example.org/a")
	if err != nil || !ok {
		t.Fatalf("Lookup after reopen: ok=%v err=%v", ok, err)
	}
	if got.ETag != want2.ETag || string(got.Body) != `{"a":2}` || got.LastModified != want.LastModified ||
		got.Status != 200 || got.ContentType != "application/json" || !got.Stored.Equal(at) {
		t.Fatalf("got %+v", got)
	}
	if _, ok, _ := c.Lookup(ctx, "https://example.org/b"); ok {
		t.Fatal("another URL found")
	}
}

// rowsInFile counts the rows written to the file (not those kept in memory), through the cache's
// own connection: the file is opened in exclusive locking mode.
func rowsInFile(t *testing.T, c *Cache) int {
	t.Helper()
	var n int
	if err := c.db.QueryRow(`SELECT COUNT(*) FROM validators`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func rowsInClosedFile(t *testing.T, path string) int {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT COUNT(*) FROM validators`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// Stores are written behind: Lookup sees an entry at once, the file gets it with the next flush
// (here only Flush and Close write: the delay is an hour), and a second Store of a URL before the
// flush keeps the newer entry.
func TestStoresAreVisibleAtOnceAndWrittenTogether(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "http.db")
	c, err := OpenWith(path, Options{FlushDelay: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 10; i++ {
		u := fmt.Sprintf("https://example.org/%d", i)
		if err := c.Store(ctx, u, crawler.CachedResponse{ETag: `"1"`, Status: 200, Body: []byte("one")}); err != nil {
			t.Fatal(err)
		}
		if err := c.Store(ctx, u, crawler.CachedResponse{ETag: `"2"`, Status: 200, Body: []byte("two")}); err != nil {
			t.Fatal(err)
		}
		got, ok, err := c.Lookup(ctx, u)
		if err != nil || !ok || got.ETag != `"2"` || string(got.Body) != "two" {
			t.Fatalf("Lookup before the flush: %+v %v %v", got, ok, err)
		}
	}
	if n := rowsInFile(t, c); n != 0 {
		t.Fatalf("%d rows in the file before any flush, want 0 (written behind)", n)
	}
	if err := c.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if n := rowsInFile(t, c); n != 10 {
		t.Fatalf("%d rows after Flush, want 10", n)
	}
	if err := c.Store(ctx, "https://example.org/late", crawler.CachedResponse{ETag: `"x"`, Status: 200}); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if n := rowsInClosedFile(t, path); n != 11 {
		t.Fatalf("%d rows after Close, want 11 (Close writes what is kept)", n)
	}
	c, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if got, ok, _ := c.Lookup(ctx, "https://example.org/3"); !ok || got.ETag != `"2"` {
		t.Fatalf("after reopen: %+v %v, want the newer entry", got, ok)
	}
	if err := c.Store(ctx, "https://example.org/x", crawler.CachedResponse{Status: 200}); err != nil {
		t.Fatal(err)
	}
}

// Memory is bounded: the Store that fills the buffer (in entries or in body bytes) writes it
// before returning.
func TestFullBufferIsWrittenByTheStoreThatFillsIt(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "http.db")
	c, err := OpenWith(path, Options{FlushDelay: time.Hour, FlushEntries: 5, FlushBytes: 1000})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for i := 0; i < 5; i++ {
		if err := c.Store(ctx, fmt.Sprint("https://example.org/", i), crawler.CachedResponse{Status: 200}); err != nil {
			t.Fatal(err)
		}
	}
	if n := rowsInFile(t, c); n != 5 {
		t.Fatalf("%d rows after 5 stores with FlushEntries 5, want 5", n)
	}
	if err := c.Store(ctx, "https://example.org/big", crawler.CachedResponse{Status: 200, Body: make([]byte, 1000)}); err != nil {
		t.Fatal(err)
	}
	if n := rowsInFile(t, c); n != 6 {
		t.Fatalf("%d rows after a 1000-byte store with FlushBytes 1000, want 6", n)
	}
}

// Without Flush or Close, the background flush writes the entries after FlushDelay.
func TestBackgroundFlushWritesKeptEntries(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "http.db")
	c, err := OpenWith(path, Options{FlushDelay: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Store(ctx, "https://example.org/a", crawler.CachedResponse{ETag: `"a"`, Status: 200}); err != nil {
		t.Fatal(err)
	}
	for rowsInFile(t, c) != 1 {
		time.Sleep(time.Millisecond) // bounded by the test timeout, not a wall-clock assertion
	}
}

// A cache opened on an empty file answers a URL it never stored without asking the file; what it
// stored and flushed is still found in the file; a file that was not empty at open, or past the
// bound on remembered URLs, is asked every time (and still answers right).
func TestMissesOfAFreshCacheNeedNoQuery(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "http.db")
	c, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	r := crawler.CachedResponse{ETag: `"1"`, Status: 200, Body: []byte("a")}
	if err := c.Store(ctx, "https://example.org/a", r); err != nil {
		t.Fatal(err)
	}
	if err := c.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if got, ok, err := c.Lookup(ctx, "https://example.org/a"); err != nil || !ok || got.ETag != `"1"` {
		t.Fatalf("flushed entry: %+v %v %v", got, ok, err)
	}
	// With the file gone, a query fails: a never-stored URL must still be a plain miss.
	c.lookup.Close()
	if _, ok, err := c.Lookup(ctx, "https://example.org/never"); ok || err != nil {
		t.Fatalf("never-stored URL on a fresh cache: ok=%v err=%v; want a miss without a query", ok, err)
	}
	if _, _, err := c.Lookup(ctx, "https://example.org/a"); err == nil {
		t.Fatal("a flushed URL was answered without the file")
	}
	c.Close()

	// Not empty at open: every miss is asked of the file.
	c, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if c.stored != nil {
		t.Fatal("a cache opened on a non-empty file remembers URLs")
	}
	if got, ok, err := c.Lookup(ctx, "https://example.org/a"); err != nil || !ok || got.ETag != `"1"` {
		t.Fatalf("after reopen: %+v %v %v", got, ok, err)
	}
	if _, ok, err := c.Lookup(ctx, "https://example.org/never"); ok || err != nil {
		t.Fatalf("after reopen, never-stored URL: ok=%v err=%v", ok, err)
	}
	c.Close()

	// Past the bound the cache stops remembering and asks the file.
	old := maxStoredHashes
	maxStoredHashes = 3
	defer func() { maxStoredHashes = old }()
	c, err = Open(filepath.Join(t.TempDir(), "http.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for i := 0; i < 5; i++ {
		if err := c.Store(ctx, fmt.Sprintf("https://example.org/%d", i), r); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if c.stored != nil {
		t.Fatal("still remembering URLs past the bound")
	}
	for i := 0; i < 5; i++ {
		if _, ok, err := c.Lookup(ctx, fmt.Sprintf("https://example.org/%d", i)); !ok || err != nil {
			t.Fatalf("entry %d past the bound: ok=%v err=%v", i, ok, err)
		}
	}
}

// The cache file keeps no shared-memory WAL index (no -shm file: exclusive locking mode from the
// first access), also when reopened, and what was stored before is read back.
func TestReopenedCacheUsesNoSharedMemory(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "httpcache.db")
	for open := 1; open <= 2; open++ {
		c, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		if open == 2 {
			if r, ok, err := c.Lookup(ctx, "https://example.org/1"); err != nil || !ok || r.ETag != `"e1"` {
				t.Fatalf("reopened: Lookup = %+v, %v, %v", r, ok, err)
			}
		}
		if err := c.Store(ctx, fmt.Sprint("https://example.org/", open), crawler.CachedResponse{ETag: fmt.Sprintf(`"e%d"`, open)}); err != nil {
			t.Fatal(err)
		}
		if err := c.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(path + "-shm"); err == nil {
			t.Fatalf("open %d: the cache has a -shm file", open)
		}
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// The cache is disposable: a file that does not open as one (not SQLite at all, or a damaged
// header) is set aside with its WAL and an empty cache takes its place, which works and persists;
// a failure a new file would not cure (the path is a directory) is returned as before.
func TestDamagedCacheIsSetAsideAndStartedAfresh(t *testing.T) {
	ctx := context.Background()
	entry := crawler.CachedResponse{ETag: `"1"`, Status: 200, Body: []byte("x"), Stored: time.Now()}
	for _, tc := range []struct {
		name   string
		damage func(t *testing.T, path string)
	}{
		{"not a SQLite file", func(t *testing.T, path string) {
			if err := os.WriteFile(path, []byte("<html>this is not a database, it is an error page</html>\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}},
		{"a cache whose header is overwritten", func(t *testing.T, path string) {
			c, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Store(ctx, "https://example.org/old", entry); err != nil {
				t.Fatal(err)
			}
			if err := c.Close(); err != nil {
				t.Fatal(err)
			}
			f, err := os.OpenFile(path, os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.WriteAt([]byte("garbage garbage!"), 0); err != nil { // the 16-byte magic string
				t.Fatal(err)
			}
			f.Close()
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "httpcache.db")
			tc.damage(t, path)
			before, _ := os.ReadFile(path)
			c, err := Open(path)
			if err != nil {
				t.Fatalf("Open of a damaged cache: %v; want it set aside and a new one opened", err)
			}
			if _, ok, err := c.Lookup(ctx, "https://example.org/old"); ok || err != nil {
				t.Fatalf("the new cache is not empty: ok=%v err=%v", ok, err)
			}
			if err := c.Store(ctx, "https://example.org/new", entry); err != nil {
				t.Fatal(err)
			}
			if err := c.Close(); err != nil {
				t.Fatal(err)
			}
			aside, _ := filepath.Glob(path + ".damaged-*")
			var kept []string
			for _, a := range aside {
				if !strings.HasSuffix(a, "-wal") && !strings.HasSuffix(a, "-shm") {
					kept = append(kept, a)
				}
			}
			if len(kept) != 1 {
				t.Fatalf("set-aside files %v; want one", aside)
			}
			if got, _ := os.ReadFile(kept[0]); string(got) != string(before) {
				t.Fatal("the damaged file was not kept as it was")
			}
			c, err = Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if _, ok, err := c.Lookup(ctx, "https://example.org/new"); !ok || err != nil {
				t.Fatalf("the new cache did not persist: ok=%v err=%v", ok, err)
			}
		})
	}
	t.Run("a directory in its place", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "httpcache.db")
		if err := os.Mkdir(path, 0o755); err != nil {
			t.Fatal(err)
		}
		if _, err := Open(path); err == nil {
			t.Fatal("Open of a directory succeeded")
		}
		if st, err := os.Stat(path); err != nil || !st.IsDir() {
			t.Fatalf("the directory was moved: %v", err)
		}
	})
}
