package reports

import (
	"context"
	"errors"
	"sort"
	"testing"
	"time"

	"github.com/afterlife-watch/afterlife/artifact"
	"github.com/afterlife-watch/afterlife/extract"
)

// EachSightingState reads the same states EachSighting decodes (id, dataset, relation, gone, last
// seen, gone since, last run), for one source or every one, without the artifact documents.
func TestEachSightingStateMatchesEachSighting(t *testing.T) {
	ctx := context.Background()
	st := openTest(t)
	if err := st.BeginRun(ctx, Run{ID: "r1", Started: t0}); err != nil {
		t.Fatal(err)
	}
	for i, a := range []artifact.Artifact{
		{ID: "gh:repo:x/b", Source: "github", Kind: artifact.KindRepository},
		{ID: "gh:repo:x/a", Source: "github", Kind: artifact.KindRepository},
		{ID: "hf:model:y/c", Source: "huggingface", Kind: artifact.KindModel},
	} {
		fs := []extract.Finding{{ArtifactID: a.ID, Dataset: "ms-celeb-1m", Relation: extract.Copy, Confidence: 0.9}}
		if i == 1 {
			fs = append(fs, extract.Finding{ArtifactID: a.ID, Dataset: "megaface", Relation: extract.Uses, Confidence: 0.8})
		}
		if _, err := st.Record(ctx, "r1", t0.Add(time.Duration(i)*time.Minute), a, fs); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.MarkGone(ctx, "r1", []string{"gh:repo:x/b"}, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	for _, src := range []string{"github", "huggingface", ""} {
		want := map[string]SightingState{}
		if err := st.EachSighting(ctx, SightingQuery{Source: src}, func(s *Sighting) error {
			want[s.Artifact.ID+"|"+s.Dataset+"|"+string(s.Relation)] = SightingState{ArtifactID: s.Artifact.ID, Dataset: s.Dataset,
				Relation: s.Relation, Gone: s.Gone, LastSeen: s.LastSeen, GoneSince: s.GoneSince, LastRun: s.LastRun}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		var order []string
		got := map[string]SightingState{}
		if err := st.EachSightingState(ctx, src, func(s SightingState) error {
			k := s.ArtifactID + "|" + s.Dataset + "|" + string(s.Relation)
			order = append(order, k)
			got[k] = s
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) || len(order) != len(want) {
			t.Fatalf("source %q: %d states (%q), want %d", src, len(order), order, len(want))
		}
		for k, w := range want {
			if g := got[k]; g != w {
				t.Errorf("source %q, %s: state %+v, want %+v", src, k, g, w)
			}
		}
		if !sort.StringsAreSorted(order) {
			t.Errorf("source %q: states not ordered by artifact id: %q", src, order)
		}
		if src == "github" && !got["gh:repo:x/b|ms-celeb-1m|copy"].Gone {
			t.Errorf("the gone sighting reads live: %+v", got["gh:repo:x/b|ms-celeb-1m|copy"])
		}
	}
	stop := errors.New("stop")
	n := 0
	if err := st.EachSightingState(ctx, "", func(SightingState) error { n++; return stop }); !errors.Is(err, stop) || n != 1 {
		t.Errorf("an error from fn: got %v after %d rows, want it returned after 1", err, n)
	}
}
