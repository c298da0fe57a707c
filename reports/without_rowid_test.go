package reports

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/afterlife-watch/afterlife/extract"
)

// The listing tables as main made them until round 7 (reports/sqlite.go at 370ac42): rowid
// tables with their key as a second B-tree.
var rowidListingDDL = []string{
	`CREATE TABLE listings(
		scope TEXT NOT NULL,
		run_id TEXT NOT NULL,
		ord INTEGER NOT NULL,
		at INTEGER NOT NULL,
		PRIMARY KEY(scope, run_id))`,
	`CREATE TABLE listing_members(
		scope TEXT NOT NULL,
		artifact_id TEXT NOT NULL,
		last_ord INTEGER NOT NULL,
		PRIMARY KEY(scope, artifact_id))`,
}

func withoutRowid(t *testing.T, db *sql.DB, table string) bool {
	t.Helper()
	var wr int
	if err := db.QueryRow(`SELECT wr FROM pragma_table_list WHERE schema='main' AND name=?`, table).Scan(&wr); err != nil {
		t.Fatalf("%s: %v", table, err)
	}
	return wr == 1
}

func listingRows(t *testing.T, db *sql.DB) []string {
	t.Helper()
	var out []string
	for _, q := range []string{`SELECT scope||'|'||run_id||'|'||ord||'|'||at FROM listings ORDER BY 1`,
		`SELECT scope||'|'||artifact_id||'|'||last_ord FROM listing_members ORDER BY 1`} {
		rows, err := db.Query(q)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				t.Fatal(err)
			}
			out = append(out, s)
		}
		rows.Close()
	}
	return out
}

// A store whose listing tables have main's rowid form is converted in place when opened: one
// B-tree per table, every row kept, and gone detection goes on from the listings recorded
// before (a member missing from the next two listings goes). A new store has the new form, and
// opening a converted store again changes nothing.
func TestStoreConvertsRowidListingTables(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), StoreFile)
	s, err := OpenStore(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, tb := range []string{"listings", "listing_members"} {
		if !withoutRowid(t, s.db, tb) {
			t.Fatalf("a new store's %s has a rowid", tb)
		}
	}
	day := func(n int) time.Time { return t0.Add(time.Duration(n) * 24 * time.Hour) }
	a, b := model("org/a"), model("org/b")
	begin(t, s, "r1", day(0))
	mustRecord(t, s, "r1", day(0), a, finding(a, "laion-5b", extract.TrainedOn))
	mustRecord(t, s, "r1", day(0), b, finding(b, "laion-5b", extract.TrainedOn))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// The listing tables as main made them, with main's rows: scope hf:x listed in r1 with a
	// and b, and 300 other scopes (more than a page of each table).
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range append([]string{`DROP TABLE listings`, `DROP TABLE listing_members`}, rowidListingDDL...) {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	ins := func(q string, args ...any) {
		if _, err := db.Exec(q, args...); err != nil {
			t.Fatal(err)
		}
	}
	ins(`INSERT INTO listings VALUES('hf:x', 'r1', 1, ?)`, nanos(day(0)))
	ins(`INSERT INTO listing_members VALUES('hf:x', ?, 1), ('hf:x', ?, 1)`, a.ID, b.ID)
	for i := 0; i < 300; i++ {
		sc := fmt.Sprintf("hf:search:%03d:%s", i, "a query long enough to fill pages")
		ins(`INSERT INTO listings VALUES(?, 'r0', ?, ?)`, sc, i%3+1, nanos(day(0)))
		ins(`INSERT INTO listing_members VALUES(?, ?, ?)`, sc, fmt.Sprintf("hf:model:org/x%d", i), i%3+1)
	}
	for _, tb := range []string{"listings", "listing_members"} {
		if withoutRowid(t, db, tb) {
			t.Fatalf("the old form's %s has no rowid", tb)
		}
	}
	before := listingRows(t, db)
	db.Close()

	for reopen := 0; reopen < 2; reopen++ {
		s, err = OpenStore(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, tb := range []string{"listings", "listing_members"} {
			if !withoutRowid(t, s.db, tb) {
				t.Fatalf("open %d: %s not converted", reopen+1, tb)
			}
		}
		if got := listingRows(t, s.db); !slices.Equal(got, before) {
			t.Fatalf("open %d: %d rows, want the %d rows before", reopen+1, len(got), len(before))
		}
		if reopen == 0 {
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
		}
	}
	defer s.Close()
	for i, run := range []string{"r2", "r3"} {
		begin(t, s, run, day(i+1))
		gone, err := s.RecordListing(ctx, run, "hf:x", []string{a.ID}, day(i+1), 2)
		if err != nil {
			t.Fatal(err)
		}
		if want := map[bool][]string{false: nil, true: {b.ID}}[i == 1]; !slices.Equal(gone, want) {
			t.Fatalf("%s: gone %v, want %v", run, gone, want)
		}
	}
	var ord int
	if err := s.db.QueryRow(`SELECT MAX(ord) FROM listings WHERE scope='hf:x'`).Scan(&ord); err != nil || ord != 3 {
		t.Fatalf("hf:x's last listing ord %d (%v), want 3", ord, err)
	}
	ro, err := OpenStoreReadOnly(path)
	if err != nil {
		t.Fatalf("the converted store read-only: %v", err)
	}
	ro.Close()
}
