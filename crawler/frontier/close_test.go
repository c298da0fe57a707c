package frontier

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/afterlife-watch/afterlife/crawler"
)

// finishRun enqueues ids in run, claims and acks them all (doneJobs), and forgets the run (as the
// embedded backend does when a run finished).
func finishRun(t *testing.T, f *Frontier, run string, ids ...string) {
	t.Helper()
	doneJobs(t, f, run, ids...)
	if _, err := f.Forget(context.Background(), run); err != nil {
		t.Fatal(err)
	}
}

// doneJobs enqueues ids in run, claims them all and acks them: the jobs stay in the file, done.
func doneJobs(t *testing.T, f *Frontier, run string, ids ...string) {
	t.Helper()
	ctx := context.Background()
	for _, id := range ids {
		if _, err := f.Enqueue(ctx, crawler.Job{ID: id, RunID: run, Source: "s", URL: "https://example.org/" + id}); err != nil {
			t.Fatal(err)
		}
	}
	ls, err := f.Claim(ctx, run, "w", len(ids))
	if err != nil || len(ls) != len(ids) {
		t.Fatalf("Claim = %d, %v", len(ls), err)
	}
	for _, l := range ls {
		if err := f.Ack(ctx, l); err != nil {
			t.Fatal(err)
		}
	}
}

func exists(t *testing.T, path string) bool {
	t.Helper()
	_, err := os.Stat(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	return err == nil
}

// A file the process owns that holds no job when it is closed (its run finished and was
// forgotten) is removed, WAL and all, instead of being checkpointed and synced; opening the path
// again gives an empty frontier that works. What a later run or a user reads is kept: a file with
// a dead letter, or a job of an unfinished run, is closed normally and keeps them; so is a file
// other processes may share (no ReclaimOnOpen), even when empty.
func TestEmptyOwnedFrontierIsRemovedAtClose(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "frontier.db")
	f, err := Open(path, Options{ReclaimOnOpen: true})
	if err != nil {
		t.Fatal(err)
	}
	finishRun(t, f, "r1", "a", "b", "c")
	if err := f.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm", path + "-journal"} {
		if exists(t, p) {
			t.Errorf("%s still exists after closing an empty frontier", filepath.Base(p))
		}
	}

	// Reopened: empty, and a new run goes through it; one left with a dead letter keeps its file.
	g, err := Open(path, Options{ReclaimOnOpen: true, MaxAttempts: 1})
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	if st, err := g.Stats(ctx, "r1"); err != nil || st != (crawler.FrontierStats{}) {
		t.Fatalf("reopened: r1 %+v, %v; want nothing", st, err)
	}
	finishRun(t, g, "r2", "a", "b")
	if st, _ := g.Stats(ctx, "r2"); st != (crawler.FrontierStats{}) {
		t.Fatalf("r2 after Forget: %+v", st)
	}
	if _, err := g.Enqueue(ctx, crawler.Job{ID: "bad", RunID: "r3", Source: "s", URL: "https://example.org/bad"}); err != nil {
		t.Fatal(err)
	}
	ls, err := g.Claim(ctx, "r3", "w", 1)
	if err != nil || len(ls) != 1 {
		t.Fatalf("Claim = %d, %v", len(ls), err)
	}
	if err := g.Bury(ctx, ls[0], "HTTP 404"); err != nil {
		t.Fatal(err)
	}
	if _, err := g.Forget(ctx, "r3"); err != nil {
		t.Fatal(err)
	}
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
	if !exists(t, path) {
		t.Fatal("a frontier holding a dead letter was removed at close")
	}
	h, err := Open(path, Options{ReclaimOnOpen: true})
	if err != nil {
		t.Fatal(err)
	}
	dl, err := h.DeadLetters(ctx, "r3")
	if err != nil || len(dl) != 1 || dl[0].Job.ID != "bad" || dl[0].Reason != "HTTP 404" {
		t.Fatalf("dead letters after reopen = %+v, %v", dl, err)
	}
	// A pending job of an unfinished run is kept too.
	if _, err := h.Enqueue(ctx, crawler.Job{ID: "p", RunID: "r4", Source: "s", URL: "https://example.org/p"}); err != nil {
		t.Fatal(err)
	}
	h.db.Exec(`DELETE FROM jobs WHERE run_id = 'r3'`)
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	h, err = Open(path, Options{ReclaimOnOpen: true})
	if err != nil {
		t.Fatal(err)
	}
	if st, err := h.Stats(ctx, "r4"); err != nil || st.Pending != 1 {
		t.Fatalf("unfinished run after reopen: %+v, %v; want its pending job", st, err)
	}
	h.Close()

	// Not owned: kept even when empty (another process may have it open).
	shared := filepath.Join(dir, "shared.db")
	s, err := Open(shared, Options{})
	if err != nil {
		t.Fatal(err)
	}
	finishRun(t, s, "r1", "a")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if !exists(t, shared) {
		t.Fatal("a shared frontier file was removed at close")
	}
}

// What removeEmpty relies on when a crash falls between its two removals: a WAL whose database
// file is gone is not replayed into the new file SQLite creates (which would give it pages
// without the rest of their database) but deleted, and the frontier opens empty.
func TestWALWithoutItsDatabaseOpensEmpty(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "frontier.db")
	f, err := Open(path, Options{ReclaimOnOpen: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"a", "b", "c"} {
		if _, err := f.Enqueue(ctx, testJob(id)); err != nil {
			t.Fatal(err)
		}
	}
	wal, err := os.ReadFile(path + "-wal") // the jobs are in the WAL only: no checkpoint yet
	if err != nil || len(wal) == 0 {
		t.Fatalf("WAL: %d bytes, %v", len(wal), err)
	}
	if err := f.Close(); err != nil { // not empty: checkpointed, the WAL removed
		t.Fatal(err)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path+"-wal", wal, 0o644); err != nil {
		t.Fatal(err)
	}
	g, err := Open(path, Options{ReclaimOnOpen: true})
	if err != nil {
		t.Fatalf("open with a WAL and no database file: %v", err)
	}
	defer g.Close()
	if st, err := g.Stats(ctx, "r"); err != nil || st != (crawler.FrontierStats{}) {
		t.Fatalf("stats %+v, %v; want an empty frontier", st, err)
	}
	var ok string
	if err := g.db.QueryRow(`PRAGMA integrity_check`).Scan(&ok); err != nil || ok != "ok" {
		t.Fatalf("integrity_check = %q, %v", ok, err)
	}
	finishRun(t, g, "r2", "x")
}
