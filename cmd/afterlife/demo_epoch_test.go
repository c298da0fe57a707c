package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// The demo's epoch file keeps when the world entered the epoch, so a repeat run of the same epoch
// serves the epoch's additions with the same modification time; files written before it (two
// fields) read as an unknown time, and another scale as no earlier run.
func TestDemoEpochFileKeepsTheEpochStart(t *testing.T) {
	dir := t.TempDir()
	entered := time.Date(2026, 12, 7, 16, 0, 0, 123, time.UTC)
	if err := writeDemoEpoch(dir, 2, 30, entered); err != nil {
		t.Fatal(err)
	}
	if e, at := readDemoEpoch(dir, 30); e != 2 || !at.Equal(entered) {
		t.Errorf("read back epoch %d at %v, want 2 at %v", e, at, entered)
	}
	if e, at := readDemoEpoch(dir, 100); e != 0 || !at.IsZero() {
		t.Errorf("another scale: epoch %d at %v, want none", e, at)
	}
	if err := os.WriteFile(filepath.Join(dir, demoEpochFile), []byte("2 30\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if e, at := readDemoEpoch(dir, 30); e != 2 || !at.IsZero() {
		t.Errorf("old two-field file: epoch %d at %v, want 2 at an unknown time", e, at)
	}
	if err := os.WriteFile(filepath.Join(dir, demoEpochFile), []byte("garbage\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if e, _ := readDemoEpoch(dir, 30); e != 0 {
		t.Errorf("damaged file: epoch %d, want none", e)
	}
}
