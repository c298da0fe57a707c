package reports

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// A read-only store reads what is there, refuses every write, and never creates a store.
func TestOpenStoreReadOnlyReadsAndNeverWrites(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	if _, err := OpenStoreReadOnly(filepath.Join(dir, "none", StoreFile)); err == nil {
		t.Fatal("opened a store that does not exist")
	}
	if _, err := os.Stat(filepath.Join(dir, "none")); !os.IsNotExist(err) {
		t.Fatal("opening a missing store read-only created its directory")
	}
	s, err := OpenStore(filepath.Join(dir, StoreFile))
	if err != nil {
		t.Fatal(err)
	}
	begin(t, s, "r1", t0)
	s.Close()
	ro, err := OpenStoreReadOnly(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	runs, err := ro.Runs(ctx, 0)
	if err != nil || len(runs) != 1 || runs[0].ID != "r1" {
		t.Fatalf("runs %v %v", runs, err)
	}
	if err := ro.BeginRun(ctx, Run{ID: "r2", Started: t0}); err == nil {
		t.Fatal("a read-only store accepted a write")
	}
	if err := os.WriteFile(filepath.Join(dir, "x"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenStoreReadOnly(filepath.Join(dir, "x")); err == nil {
		t.Fatal("an empty file opened as a store")
	}
}
