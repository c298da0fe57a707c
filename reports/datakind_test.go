package reports

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

// A store remembers whether it holds demo or real data, across reopening, and refuses the other.
func TestStoreRefusesToMixDemoAndRealData(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), StoreFile)
	s, err := OpenStore(path)
	if err != nil {
		t.Fatal(err)
	}
	if k, _ := s.DataKind(ctx); k != "" {
		t.Fatalf("a new store holds %q, want nothing", k)
	}
	if err := s.ClaimDataKind(ctx, DataDemo, DataReal); err != nil {
		t.Fatal(err)
	}
	begin(t, s, "r1", t0)
	s.Close()

	s, err = OpenStore(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if k, _ := s.DataKind(ctx); k != DataDemo {
		t.Fatalf("reopened store holds %q, want demo", k)
	}
	if err := s.ClaimDataKind(ctx, DataDemo, DataReal); err != nil {
		t.Fatalf("a second demo run: %v", err)
	}
	err = s.ClaimDataKind(ctx, DataReal, DataReal)
	if !errors.Is(err, ErrDataKind) || !strings.Contains(err.Error(), "holds demo data") || !strings.Contains(err.Error(), path) {
		t.Fatalf("a real run in a demo store: %v", err)
	}
	if k, _ := s.DataKind(ctx); k != DataDemo {
		t.Fatalf("refused claim changed the mark to %q", k)
	}
}

// A store with runs and no mark (older stores) is taken to hold what the caller says.
func TestStoreUnmarkedWithRunsIsTakenAsTold(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	begin(t, s, "r1", t0)
	err := s.ClaimDataKind(ctx, DataDemo, DataReal)
	if !errors.Is(err, ErrDataKind) || !strings.Contains(err.Error(), "holds real monitoring data") {
		t.Fatalf("demo run in an unmarked store with real runs: %v", err)
	}
	if err := s.ClaimDataKind(ctx, DataReal, DataReal); err != nil {
		t.Fatal(err)
	}
	if k, _ := s.DataKind(ctx); k != DataReal {
		t.Fatalf("mark %q, want real", k)
	}
}
