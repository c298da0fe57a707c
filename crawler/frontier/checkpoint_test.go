package frontier

import (
	"context"
	"strconv"
	"testing"
)

// Both kinds of frontier file (owned: exclusive locking; shared) checkpoint their WAL at
// walAutoCheckpoint pages, not SQLite's 1,000: a checkpoint (pages written back, an fsync) runs
// inside the commit that crosses the mark, and the feed's settles wait on those commits.
func TestWALCheckpointsAtTheRaisedMark(t *testing.T) {
	want, _ := strconv.Atoi(walAutoCheckpoint)
	if want <= 1000 {
		t.Fatalf("walAutoCheckpoint = %d, not above SQLite's default", want)
	}
	for _, reclaim := range []bool{true, false} {
		f := openTest(t, Options{ReclaimOnOpen: reclaim})
		if _, err := f.Enqueue(context.Background(), testJob("a")); err != nil {
			t.Fatal(err)
		}
		var got int
		if err := f.db.QueryRow(`PRAGMA wal_autocheckpoint`).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("ReclaimOnOpen %v: wal_autocheckpoint = %d, want %d", reclaim, got, want)
		}
	}
}
