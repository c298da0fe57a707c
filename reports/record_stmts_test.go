package reports

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/afterlife-watch/afterlife/artifact"
	"github.com/afterlife-watch/afterlife/extract"
)

// The Record path's statements are prepared once per store: a reopened store at the same path
// prepares its own, a closed store reports errors (no panic), and concurrent recorders from many
// goroutines record every sighting exactly once.
func TestRecordPreparedStatementsPerStore(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	path := filepath.Join(t.TempDir(), StoreFile)
	st, err := OpenStore(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.BeginRun(ctx, Run{ID: "r1", Started: at}); err != nil {
		t.Fatal(err)
	}
	f := func(id string) []extract.Finding {
		return []extract.Finding{{ArtifactID: id, Dataset: "ms-celeb-1m", Relation: extract.Uses, Confidence: 0.9,
			Evidence: []extract.Evidence{{Field: "title", Rule: "alias"}}}}
	}
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 5; i++ {
				id := "hf:model:org/m" + string(rune('a'+g)) + string(rune('a'+i))
				a := artifact.Artifact{ID: id, Source: "huggingface", Kind: artifact.KindModel, Title: id}
				// Twice: the second adds no sighting.
				for k := 0; k < 2; k++ {
					rr, err := st.Record(ctx, "r1", at, a, f(id))
					if err != nil {
						errs <- err
						return
					}
					if want := 1 - k; rr.NewSightings != want {
						errs <- fmt.Errorf("%s call %d: %d new sightings, want %d", id, k+1, rr.NewSightings, want)
					}
				}
				if _, err := st.RecordListing(ctx, "r1", "scope-"+string(rune('a'+g)), []string{id}, at, 2); err != nil {
					errs <- err
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	ss, err := st.Sightings(ctx, SightingQuery{Dataset: "ms-celeb-1m"})
	if err != nil || len(ss) != 40 {
		t.Fatalf("%d sightings, %v; want 40", len(ss), err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	a := artifact.Artifact{ID: "hf:model:org/late", Source: "huggingface", Kind: artifact.KindModel, Title: "late"}
	if _, err := st.Record(ctx, "r1", at, a, f(a.ID)); err == nil {
		t.Fatal("Record on a closed store: no error")
	}
	if _, err := st.RecordListing(ctx, "r1", "s", []string{a.ID}, at, 2); err == nil {
		t.Fatal("RecordListing on a closed store: no error")
	}

	again, err := OpenStore(path)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if rr, err := again.Record(ctx, "r1", at, a, f(a.ID)); err != nil || rr.NewSightings != 1 {
		t.Fatalf("Record on the reopened store = %+v, %v; want 1 new sighting", rr, err)
	}
	if _, err := again.Record(ctx, "no-such-run", at, a, f(a.ID)); err == nil {
		t.Fatal("Record into an unknown run: no error")
	}
}
