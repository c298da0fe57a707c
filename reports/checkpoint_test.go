package reports

import (
	"context"
	"sync"
	"testing"
)

// Every connection of the store's pool checkpoints the WAL at 10,000 pages, not SQLite's 1,000
// (a checkpoint runs inside the commit that crosses the mark: during a scan, the Sync the run
// loop waits on before its acks). Four connections are held at once so each is asked.
func TestEveryConnectionCheckpointsAtTheRaisedMark(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	got := make([]int, 4)
	errs := make([]error, 4)
	hold := make(chan struct{})
	for i := range got {
		c, err := s.db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.Close()
			errs[i] = c.QueryRowContext(ctx, `PRAGMA wal_autocheckpoint`).Scan(&got[i])
			<-hold
		}()
	}
	close(hold)
	wg.Wait()
	for i := range got {
		if errs[i] != nil || got[i] != 10000 {
			t.Errorf("connection %d: wal_autocheckpoint = %d, %v; want 10000", i, got[i], errs[i])
		}
	}
}
