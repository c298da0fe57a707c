package reports

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/afterlife-watch/afterlife/extract"
)

// An empty listing of a scope never listed with a member writes no row (most listings of a crawl
// are searches that find nothing), deferred or not, and gone detection is what it was: the
// misses count from the scope's first listing with a member, and an empty listing after that is
// recorded and counts as a miss.
func TestStoreEmptyListingOfAnUnlistedScopeIsNotRecorded(t *testing.T) {
	for _, deferIt := range []bool{false, true} {
		t.Run(fmt.Sprint("deferred=", deferIt), func(t *testing.T) {
			ctx := context.Background()
			lctx := ctx
			if deferIt {
				lctx = DeferUntilSync(ctx)
			}
			s := openTest(t)
			a, b := model("org/a"), model("org/b")
			day := func(n int) time.Time { return t0.Add(time.Duration(n) * 24 * time.Hour) }
			rows := func(q string) int {
				t.Helper()
				if err := s.Sync(ctx); err != nil {
					t.Fatal(err)
				}
				var n int
				if err := s.db.QueryRow(q, "hf:e").Scan(&n); err != nil {
					t.Fatal(err)
				}
				return n
			}
			// run, ids listed (in parts within a run), gone wanted after the run's last part
			steps := []struct {
				run   string
				parts [][]string
				gone  []string
				rows  int // listings rows of the scope after the run
			}{
				{"r1", [][]string{{}}, nil, 0},
				{"r2", [][]string{{}, {}}, nil, 0},
				{"r3", [][]string{{}, {a.ID, b.ID}, {}}, nil, 1},
				{"r4", [][]string{{a.ID}}, nil, 2},
				{"r5", [][]string{{}, {a.ID}}, []string{b.ID}, 3}, // b missed twice (missAfter 2)
				{"r6", [][]string{{}}, nil, 4},                    // empty, but the scope is listed: a miss for a
				{"r7", [][]string{{}}, []string{a.ID}, 5},
			}
			for i, st := range steps {
				begin(t, s, st.run, day(i))
				if st.run == "r3" {
					mustRecord(t, s, "r3", day(i), a, finding(a, "laion-5b", extract.TrainedOn))
					mustRecord(t, s, "r3", day(i), b, finding(b, "laion-5b", extract.TrainedOn))
				}
				var gone []string
				for _, ids := range st.parts {
					g, err := s.RecordListing(lctx, st.run, "hf:e", ids, day(i), 2)
					if err != nil {
						t.Fatalf("%s listing %v: %v", st.run, ids, err)
					}
					gone = append(gone, g...)
				}
				if n := rows(`SELECT COUNT(*) FROM listings WHERE scope=?`); n != st.rows {
					t.Fatalf("after %s: %d listings of the scope, want %d", st.run, n, st.rows)
				}
				if !slices.Equal(gone, st.gone) {
					t.Fatalf("after %s: gone %v, want %v", st.run, gone, st.gone)
				}
			}
			for _, id := range []string{a.ID, b.ID} {
				var g int
				if err := s.db.QueryRow(`SELECT gone FROM artifacts WHERE id=?`, id).Scan(&g); err != nil || g != 1 {
					t.Fatalf("%s gone=%d (%v), want 1", id, g, err)
				}
			}
			if n := rows(`SELECT MAX(ord) FROM listings WHERE scope=?`); n != 5 {
				t.Fatalf("last listing's ord %d, want 5 (r3..r7)", n)
			}
		})
	}
}

// A held-back empty listing of a scope that this store has not seen listed but the file holds
// (listed through another handle, as another process would) is recorded and counts as a miss;
// those of unlisted scopes are not. Concurrent callers, each syncing: every listing is in the
// file once its caller's Sync returned.
func TestStoreDeferredEmptyListingsOfScopesListedElsewhere(t *testing.T) {
	ctx := context.Background()
	dctx := DeferUntilSync(ctx)
	path := filepath.Join(t.TempDir(), StoreFile)
	s1, err := OpenStore(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s1.Close()
	s2, err := OpenStore(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	day := func(n int) time.Time { return t0.Add(time.Duration(n) * 24 * time.Hour) }
	begin(t, s1, "r1", day(0))
	const n = 16
	var ms []string
	for i := 0; i < n; i++ {
		m := model(fmt.Sprintf("org/m%d", i))
		mustRecord(t, s1, "r1", day(0), m, finding(m, "laion-5b", extract.TrainedOn))
		ms = append(ms, m.ID)
	}
	// s2 reads which scopes are listed (none yet) before s1 lists the even ones.
	if _, err := s2.RecordListing(dctx, "r1", "warm-up", nil, day(0), 1); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i += 2 {
		if _, err := s1.RecordListing(ctx, "r1", fmt.Sprintf("scope-%d", i), []string{ms[i]}, day(0), 1); err != nil {
			t.Fatal(err)
		}
	}
	begin(t, s1, "r2", day(1))
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			if _, err := s2.RecordListing(dctx, "r2", fmt.Sprintf("scope-%d", i), nil, day(1), 1); err != nil {
				errs[i] = err
				return
			}
			if err := s2.Sync(ctx); err != nil {
				errs[i] = err
				return
			}
			var rows int
			if err := s1.db.QueryRow(`SELECT COUNT(*) FROM listings WHERE scope=? AND run_id='r2'`, fmt.Sprintf("scope-%d", i)).Scan(&rows); err != nil {
				errs[i] = err
			} else if want := b2i(i%2 == 0); rows != want {
				errs[i] = fmt.Errorf("scope-%d: %d listings in r2 after Sync, want %d", i, rows, want)
			}
		}(i)
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	for i, id := range ms {
		var g int
		if err := s1.db.QueryRow(`SELECT gone FROM artifacts WHERE id=?`, id).Scan(&g); err != nil {
			t.Fatal(err)
		}
		if want := b2i(i%2 == 0); g != want { // missing from r2's listing of its scope (missAfter 1)
			t.Fatalf("%s gone=%d, want %d", id, g, want)
		}
	}
}
