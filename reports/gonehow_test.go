package reports

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/afterlife-watch/afterlife/artifact"
	"github.com/afterlife-watch/afterlife/extract"
)

// "Gone" says how it was established — the host's 404/410, or missing from complete listings —
// and a paper is never gone because a listing page moved.
func TestGoneSaysHowAndPapersDoNotGoByListing(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	rm := model("org/removed")
	unl := model("org/unlisted")
	paper := artifact.Artifact{ID: "arxiv:2101.00001", Source: artifact.SourceArXiv, Kind: artifact.KindPaper, URL: "https://arxiv.org/abs/2101.00001", Title: "p"}
	for i, run := range []string{"r1", "r2", "r3"} {
		at := t0.Add(time.Duration(i) * time.Hour)
		begin(t, s, run, at)
		ids := []string{}
		if run == "r1" {
			for _, a := range []artifact.Artifact{rm, unl, paper} {
				mustRecord(t, s, run, at, a, finding(a, "ms-celeb-1m", extract.Uses))
				ids = append(ids, a.ID)
			}
		}
		if _, err := s.RecordListing(ctx, run, "search:ms1m", ids, at, 2); err != nil {
			t.Fatal(err)
		}
		if run == "r2" {
			if err := s.MarkGone(ctx, run, []string{rm.ID}, at); err != nil {
				t.Fatal(err)
			}
		}
	}
	sg, err := s.Sightings(ctx, SightingQuery{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Sighting{}
	for _, x := range sg {
		got[x.Artifact.ID] = x
	}
	if x := got[rm.ID]; !x.Gone || x.GoneHow != GoneHTTP {
		t.Errorf("404'd model: gone=%v how=%q", x.Gone, x.GoneHow)
	}
	if x := got[unl.ID]; !x.Gone || !strings.Contains(x.GoneHow, "missing from the source's last 2 complete listings") {
		t.Errorf("unlisted model: gone=%v how=%q", x.Gone, x.GoneHow)
	}
	if x := got[paper.ID]; x.Gone || x.GoneHow != "" {
		t.Errorf("a paper went because a listing no longer showed it: gone=%v how=%q", x.Gone, x.GoneHow)
	}
	// Read-only, the same.
	ro, err := OpenStoreReadOnly(s.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	sg, _ = ro.Sightings(ctx, SightingQuery{Text: "org/removed"})
	if len(sg) != 1 || sg[0].GoneHow != GoneHTTP {
		t.Errorf("read-only store: %+v", sg)
	}
}
