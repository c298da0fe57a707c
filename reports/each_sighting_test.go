package reports

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/afterlife-watch/afterlife/artifact"
	"github.com/afterlife-watch/afterlife/extract"
)

// EachSighting hands out what Sightings returns, in its order, one row at a time; the counts
// and texts a report reads without loading sightings agree with them.
func TestEachSightingStreamsWhatSightingsReturns(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	st, err := OpenTempStore()
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.BeginRun(ctx, Run{ID: "r1", Started: at}); err != nil {
		t.Fatal(err)
	}
	// Artifacts with several findings, in several datasets: an artifact comes back in a later
	// dataset after others (its cached decoding must not leak into another's row).
	var obs []Observation
	for i := 0; i < 30; i++ {
		a := artifact.Artifact{ID: fmt.Sprintf("hf:model:m%02d", i), Source: artifact.SourceHuggingFace, Kind: artifact.KindModel,
			URL: fmt.Sprintf("https://huggingface.co/m%02d", i), Title: fmt.Sprintf("Model %d", i), Text: fmt.Sprintf("card %d", i)}
		if i%3 == 0 {
			a.Text = ""
		}
		var fs []extract.Finding
		for j, ds := range []string{"ms-celeb-1m", "laion-5b", "books3"} {
			if (i+j)%2 == 0 {
				continue
			}
			fs = append(fs, extract.Finding{ArtifactID: a.ID, Dataset: ds, Relation: extract.TrainedOn, Confidence: 0.9,
				Evidence: []extract.Evidence{{Field: "text", Rule: "alias", Snippet: ds}}, Chain: []string{a.ID, ds}})
			if i%4 == 0 {
				fs = append(fs, extract.Finding{ArtifactID: a.ID, Dataset: ds, Relation: extract.Mention, Confidence: 0.5,
					Evidence: []extract.Evidence{{Field: "title", Rule: "alias"}}})
			}
		}
		obs = append(obs, Observation{Artifact: a, Findings: fs})
	}
	if _, err := st.RecordBatch(ctx, "r1", at, obs); err != nil {
		t.Fatal(err)
	}
	if err := st.MarkGone(ctx, "r1", []string{"hf:model:m05"}, at.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	for _, q := range []SightingQuery{{}, {Dataset: "laion-5b"}, {Relation: extract.Mention}, {Limit: 7}} {
		want, err := st.Sightings(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		var got []Sighting
		if err := st.EachSighting(ctx, q, func(s *Sighting) error { got = append(got, *s); return nil }); err != nil {
			t.Fatal(err)
		}
		if len(want) == 0 || !reflect.DeepEqual(got, want) {
			t.Fatalf("%+v: EachSighting gave %d sightings unlike Sightings' %d", q, len(got), len(want))
		}
		for _, s := range got {
			if s.Artifact.Title != fmt.Sprintf("Model %d", atoi(s.Artifact.ID[len("hf:model:m"):])) {
				t.Fatalf("sighting of %s carries artifact %q", s.Artifact.ID, s.Artifact.Title)
			}
		}
	}
	all, _ := st.Sightings(ctx, SightingQuery{})
	counts, err := st.SightingCounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wantCounts := map[string]int{}
	ids := []string{"hf:model:absent"}
	for _, s := range all {
		wantCounts[s.Dataset]++
		ids = append(ids, s.Artifact.ID)
	}
	if !reflect.DeepEqual(counts, wantCounts) {
		t.Fatalf("counts %v, want %v", counts, wantCounts)
	}
	texts, err := st.ArtifactTexts(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range all {
		if texts[s.Artifact.ID] != s.Artifact.Text {
			t.Fatalf("text of %s: %q, want %q", s.Artifact.ID, texts[s.Artifact.ID], s.Artifact.Text)
		}
	}
	if _, ok := texts["hf:model:absent"]; ok {
		t.Fatal("a text for an artifact not stored")
	}
	// An error from fn stops the scan and comes back.
	stop := errors.New("stop")
	n := 0
	if err := st.EachSighting(ctx, SightingQuery{}, func(*Sighting) error { n++; return stop }); !errors.Is(err, stop) || n != 1 {
		t.Fatalf("fn error: got %v after %d rows, want stop after 1", err, n)
	}
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}
