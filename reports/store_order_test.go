package reports

import (
	"context"
	"testing"
	"time"

	"github.com/afterlife-watch/afterlife/artifact"
	"github.com/afterlife-watch/afterlife/extract"
)

// Two versions of one artifact recorded in one run (a search hit, and a citation listing's copy
// with more context) leave the same store whichever is recorded last.
func TestStoreRecordIsOrderIndependentWithinRun(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	plain := artifact.Artifact{ID: "s2:CorpusId:1", Source: "semanticscholar", Kind: "paper", Title: "A paper"}
	rich := plain
	rich.Text = "Citation contexts: we train on MS1MV2."
	weak := extract.Finding{ArtifactID: plain.ID, Dataset: "ms-celeb-1m", Relation: extract.Uses, Confidence: 0.6,
		Evidence: []extract.Evidence{{Field: "title", Rule: "alias"}}}
	strong := weak
	strong.Confidence = 0.95
	strong.Evidence = []extract.Evidence{{Field: "text", Rule: "uses-cue"}, {Field: "title", Rule: "alias"}}

	type obs struct {
		a artifact.Artifact
		f extract.Finding
	}
	result := func(order []obs) (float64, int, string) {
		st, err := OpenTempStore()
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		if err := st.BeginRun(ctx, Run{ID: "r1", Started: at}); err != nil {
			t.Fatal(err)
		}
		for _, o := range order {
			if _, err := st.Record(ctx, "r1", at, o.a, []extract.Finding{o.f}); err != nil {
				t.Fatal(err)
			}
		}
		ss, err := st.Sightings(ctx, SightingQuery{Dataset: "ms-celeb-1m"})
		if err != nil {
			t.Fatal(err)
		}
		if len(ss) != 1 {
			t.Fatalf("%d sightings, want 1", len(ss))
		}
		a, ok, err := st.Artifact(ctx, plain.ID)
		if err != nil || !ok {
			t.Fatalf("artifact: %v %v", ok, err)
		}
		return ss[0].Confidence, len(ss[0].Evidence), a.Text
	}
	c1, e1, t1 := result([]obs{{plain, weak}, {rich, strong}})
	c2, e2, t2 := result([]obs{{rich, strong}, {plain, weak}})
	if c1 != c2 || e1 != e2 || t1 != t2 {
		t.Fatalf("order changed the store: (%v, %d, %q) vs (%v, %d, %q)", c1, e1, t1, c2, e2, t2)
	}
	if c1 != 0.95 || e1 != 2 || t1 != rich.Text {
		t.Fatalf("kept (%v, %d, %q), want the stronger sighting and the richer artifact", c1, e1, t1)
	}
}
