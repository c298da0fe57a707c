package frontier

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/afterlife-watch/afterlife/crawler"
)

// Every hot query is served by an index, the state-specific ones by their partial index, and a
// done job sits in no secondary index: no query scans the table (a scan per claim was 0.8s at
// 100k queued jobs, bench/frontier1m).
func TestQueriesUseThePartialIndexes(t *testing.T) {
	f, err := Open(filepath.Join(t.TempDir(), "frontier.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	plan := func(q string, args ...any) string {
		t.Helper()
		rows, err := f.db.Query("EXPLAIN QUERY PLAN "+q, args...)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var a, b, c int
			var d string
			if err := rows.Scan(&a, &b, &c, &d); err != nil {
				t.Fatal(err)
			}
			out = append(out, d)
		}
		return strings.Join(out, "; ")
	}
	for _, c := range []struct {
		name, sql string
		args      []any
		want      []string
	}{
		{"claim next", sqlLeaseNext, []any{"leased", "t", 1, "w", 1, "r", "r", 1, 4}, []string{"jobs_pending"}},
		{"claim next, skipping", sqlLeaseNextSkip, []any{"leased", "t", 1, "w", 1, "r", "r", 1, `["a"]`, 4}, []string{"jobs_pending"}},
		{"claim pending", sqlClaimPending, []any{"r", 1, 4}, []string{"jobs_pending"}},
		{"claim expired", sqlClaimExpired, []any{"r", 1, 4}, []string{"jobs_leased"}},
		{"dead on expiry", sqlClaimDead, []any{"dead", 1, "r", 1, 3}, []string{"jobs_leased"}},
		{"drained", sqlDrained, []any{"r"}, []string{"jobs_pending", "jobs_leased"}},
		{"ack", sqlAckMany, []any{"done", 1, "r", `["a"]`, "done"}, []string{"sqlite_autoindex_jobs_1"}},
	} {
		p := plan(c.sql, c.args...)
		for _, w := range c.want {
			if !strings.Contains(p, w) {
				t.Errorf("%s: plan %q does not use %s", c.name, p, w)
			}
		}
		if strings.Contains(p, "SCAN jobs") {
			t.Errorf("%s: plan %q scans the table", c.name, p)
		}
	}
	var n int
	if err := f.db.QueryRow(`SELECT COUNT(*) FROM sqlite_master WHERE type='index' AND name IN ('jobs_ready', 'jobs_lease')`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d full state indexes left, %v", n, err)
	}
}

// A file made by an earlier version (full jobs_ready and jobs_lease indexes) gets the partial
// indexes at open, its jobs in them, and is claimed from as before.
func TestOpenMovesAnOldFileToThePartialIndexes(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "frontier.db")
	f, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Enqueue(ctx, crawler.Job{ID: "a", RunID: "r", Source: "s", URL: "https://s/a"},
		crawler.Job{ID: "b", RunID: "r", Source: "s", URL: "https://s/b"}); err != nil {
		t.Fatal(err)
	}
	// Back to the old indexes, as an earlier version left the file.
	for _, q := range []string{`DROP INDEX jobs_pending`, `DROP INDEX jobs_leased`, `DROP INDEX jobs_dead`,
		`CREATE INDEX jobs_ready ON jobs (run_id, state, not_before, seq)`, `CREATE INDEX jobs_lease ON jobs (run_id, state, lease_expires)`} {
		if _, err := f.db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	f.Close()
	g, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	var idx []string
	rows, _ := g.db.Query(`SELECT name FROM sqlite_master WHERE type='index' AND name LIKE 'jobs_%' ORDER BY name`)
	for rows.Next() {
		var s string
		rows.Scan(&s)
		idx = append(idx, s)
	}
	rows.Close()
	if strings.Join(idx, ",") != "jobs_dead,jobs_leased,jobs_pending" {
		t.Fatalf("indexes after open: %v", idx)
	}
	if d, err := g.Drained(ctx, "r"); err != nil || d {
		t.Fatalf("Drained = %v, %v with 2 pending jobs", d, err)
	}
	ls, err := g.Claim(ctx, "r", "w", 5)
	if err != nil || len(ls) != 2 || ls[0].Job.ID != "a" || ls[1].Job.ID != "b" {
		t.Fatalf("Claim = %+v, %v", ls, err)
	}
	if s, _ := g.Stats(ctx, "r"); s != (crawler.FrontierStats{InFlight: 2}) {
		t.Fatalf("Stats = %+v", s)
	}
}
