package demoworld

import (
	"testing"
	"time"
)

// What an epoch added changed when the world entered the epoch. A demo run repeating the data
// directory's last epoch passes that time back (Options.EpochStart), so a new process serving the
// same epoch does not re-stamp the epoch's additions as changed now: an incremental run after it
// listed them again (at scale 30, GitHub's issue comments and Kaggle's changed datasets every run).
func TestEpochStartIsKeptAcrossWorlds(t *testing.T) {
	entered := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	w, err := New(Options{Epoch: 2, EpochStart: entered})
	if err != nil {
		t.Fatal(err)
	}
	if got := w.EpochStart(); !got.Equal(entered) {
		t.Fatalf("EpochStart %v, want %v", got, entered)
	}
	var added, old *Planted
	for _, p := range w.All(2) {
		p := p
		switch {
		case added == nil && !p.InEpoch(1):
			added = &p
		case old == nil && p.InEpoch(1):
			old = &p
		}
	}
	if added == nil || old == nil {
		t.Fatal("epoch 2 has no artifact added by it, or none kept from epoch 1")
	}
	if got := w.ChangedAt(*added, "12:00:00"); !got.Equal(entered) {
		t.Errorf("%s, added by epoch 2: changed at %v, want when the world entered the epoch (%v)", added.ID, got, entered)
	}
	if got := w.ChangedAt(*old, "12:00:00"); !got.Before(entered) {
		t.Errorf("%s, from epoch 1: changed at %v, want its publication date, before %v", old.ID, got, entered)
	}
	// Without it the world entered its epoch when it was made.
	before := time.Now().UTC()
	w2, err := New(Options{Epoch: 2})
	if err != nil {
		t.Fatal(err)
	}
	if got := w2.ChangedAt(*added, "12:00:00"); got.Before(before) {
		t.Errorf("no EpochStart: %s changed at %v, want now (after %v)", added.ID, got, before)
	}
}
