package demoworld_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/afterlife-watch/afterlife/configs"
	"github.com/afterlife-watch/afterlife/extract"
	"github.com/afterlife-watch/afterlife/internal/demoworld"
	"github.com/afterlife-watch/afterlife/monitor"
	"github.com/afterlife-watch/afterlife/monitor/monitortest"
	"github.com/afterlife-watch/afterlife/reports"
	"github.com/afterlife-watch/afterlife/reports/render"
)

// A monitoring run over the demo world's paper sites (the run loop, its workers, the polite
// fetcher with its validator cache, the store): the planted papers whose abstracts are silent but
// whose PDFs train on MS1MV2 are reported as `uses` of ms-celeb-1m, with evidence from the full
// text; the paper that names MegaFace only in its related work gets no `uses`. Each PDF is fetched
// once: the next run over the unchanged world reads the stored copy without asking again (not even
// a 304: fulltext.PDFFreshFor) and reports the same, nothing new.
func TestDemoRunReportsAbstractSilentPapersAsUsesFromTheirFullText(t *testing.T) {
	reg, err := configs.LoadRegistry("")
	if err != nil {
		t.Fatal(err)
	}
	w, err := demoworld.New(demoworld.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := demoworld.Start(w, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	planted, err := demoworld.LoadPlanted()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	dir := t.TempDir()
	st, err := reports.OpenStore(filepath.Join(dir, reports.StoreFile))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	watch := monitor.Only(srv.WatchConfig(), []string{"arxiv", "openalex", "semanticscholar"})
	var runs []reports.Run
	for i := 0; i < 2; i++ {
		res, err := monitortest.Embedded(ctx, dir, st, monitor.RunConfig{Watch: watch, Registry: reg, Workers: 4, Version: "test",
			Env: func(string) string { return "" }})
		if err != nil {
			t.Fatalf("run %d: %v", i+1, err)
		}
		if !res.Run.Complete {
			t.Fatalf("run %d not complete", i+1)
		}
		runs = append(runs, res.Run)
		for _, p := range planted {
			ft, ok := demoworld.FullTextOf(p)
			if !ok {
				continue
			}
			full, cached := w.PDFRequests(p.ID)
			if full != 1 || cached != 0 {
				t.Errorf("run %d: %s's PDF served %d times in full and %d times 304, want once in full", i+1, p.ID, full, cached)
			}
			ss, err := st.Sightings(ctx, reports.SightingQuery{Text: p.ID})
			if err != nil {
				t.Fatal(err)
			}
			// Reported: the labels of the site's text and of the full text, for retracted datasets;
			// what only the full text says is reported with the full text's sentence as evidence.
			want, fromFull := map[string]bool{}, map[string]bool{}
			for _, e := range p.Expect {
				want[e.Dataset+"/"+e.Relation] = true
			}
			for _, e := range ft.Expect {
				k := e.Dataset + "/" + e.Relation
				fromFull[k] = !want[k]
				want[k] = true
			}
			got := map[string]bool{}
			for _, s := range ss {
				d, ok := reg.Get(s.Dataset)
				if s.Artifact.ID != p.ID || s.Relation.Scored() == "" || !ok || !d.IsRetraction() {
					continue
				}
				k := s.Dataset + "/" + s.Relation.Scored()
				got[k] = true
				if !fromFull[k] {
					continue
				}
				if len(s.Evidence) == 0 || s.Evidence[0].Field != "fulltext" || !strings.Contains(s.Evidence[0].Detail, "page") ||
					!strings.Contains(s.Evidence[0].Detail, "/pdf/") {
					t.Errorf("run %d: %s %s: evidence %+v, want the full text's sentence with its section, page and PDF", i+1, p.ID, k, s.Evidence)
				}
				if plain := render.PlainEvidence(s.Evidence); len(plain) == 0 || !strings.HasPrefix(plain[0].Text, "the paper's full text, ") {
					t.Errorf("run %d: %s %s: the report says %+v, want it to say the evidence is the paper's full text", i+1, p.ID, k, plain)
				}
				if s.Relation == extract.Uses && !strings.Contains(s.Evidence[0].Snippet, "MS1MV2") {
					t.Errorf("run %d: %s uses of %s, evidence %q", i+1, p.ID, s.Dataset, s.Evidence[0].Snippet)
				}
			}
			for k := range want {
				if !got[k] {
					t.Errorf("run %d: %s: %s not reported (reported %v)", i+1, p.ID, k, got)
				}
			}
			for k := range got {
				if !want[k] {
					t.Errorf("run %d: %s reported %s, planted labels %v", i+1, p.ID, k, want)
				}
			}
		}
	}
	for _, p := range planted {
		if n := w.PDFMisses(p.ID); n != 0 {
			t.Errorf("%s: asked %d times for a PDF the world does not hold", p.ID, n)
		}
	}
	evs, err := st.Events(ctx, reports.EventQuery{RunID: runs[1].ID, Kind: reports.EventNew})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 0 {
		t.Errorf("second run over the unchanged world: %d new sightings: %+v", len(evs), evs)
	}
}
