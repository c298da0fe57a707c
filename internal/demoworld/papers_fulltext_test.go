package demoworld_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/afterlife-watch/afterlife/configs"
	"github.com/afterlife-watch/afterlife/extract"
	"github.com/afterlife-watch/afterlife/internal/demoworld"
	"github.com/afterlife-watch/afterlife/manuscript"
)

// scoredFullText is what a full-text check of a paper scores (dataset/relation), from the findings
// whose evidence comes from the full text.
func scoredFullText(t *testing.T, reg *configs.Registry, fs []extract.Finding) map[string]bool {
	t.Helper()
	got := map[string]bool{}
	for _, f := range fs {
		d, ok := reg.Get(f.Dataset)
		if f.Context || !ok || !d.IsRetraction() || f.Relation.Scored() == "" {
			continue
		}
		got[f.Dataset+"/"+f.Relation.Scored()] = true
	}
	return got
}

// Every PDF the demo world serves is a PDF the manuscript reader reads, with the paper's sections,
// and the full-text check of the paper scores exactly the planted full-text labels: the
// abstract-silent papers that train on MS1MV2 are `uses` of ms-celeb-1m, and the paper that names
// MegaFace only in its related work is a mention of it and nothing scored.
func TestDemoPaperPDFsReadToTheirFullTextLabels(t *testing.T) {
	reg, err := configs.LoadRegistry("")
	if err != nil {
		t.Fatal(err)
	}
	w, err := demoworld.New(demoworld.Options{})
	if err != nil {
		t.Fatal(err)
	}
	planted, err := demoworld.LoadPlanted()
	if err != nil {
		t.Fatal(err)
	}
	m := manuscript.NewChecker(reg).WithFullText(extract.New(reg))
	n, uses, mentions := 0, 0, 0
	for _, p := range planted {
		ft, ok := demoworld.FullTextOf(p)
		if !ok {
			continue
		}
		n++
		body, ok := w.PaperPDFOf(p.ID)
		if !ok {
			t.Fatalf("%s: planted full text but no PDF served", p.ID)
		}
		doc, err := manuscript.ReadPDF(context.Background(), p.ID+".pdf", bytes.NewReader(body), int64(len(body)))
		if err != nil {
			t.Fatalf("%s: the served PDF does not read: %v", p.ID, err)
		}
		if doc.Pages < 1 || len(doc.Blocks) < len(ft.Sections) {
			t.Errorf("%s: %d pages, %d blocks for %d sections", p.ID, doc.Pages, len(doc.Blocks), len(ft.Sections))
		}
		a := p.Artifact
		a.FullText = doc
		fs := m.FullTextFindings(&a)
		got := scoredFullText(t, reg, fs)
		want := map[string]bool{}
		for _, e := range ft.Expect {
			want[e.Dataset+"/"+e.Relation] = true
		}
		for k := range want {
			if !got[k] {
				t.Errorf("%s: full-text label %s not found (found %v, findings %+v)", p.ID, k, got, fs)
			}
		}
		for k := range got {
			if !want[k] {
				t.Errorf("%s: full text scored %s, planted full-text labels %v", p.ID, k, want)
			}
		}
		for _, f := range fs {
			if len(f.Evidence) == 0 || f.Evidence[0].Field != "fulltext" {
				t.Errorf("%s: finding %s/%s without full-text evidence: %+v", p.ID, f.Dataset, f.Relation, f.Evidence)
			}
			switch f.Relation {
			case extract.Uses:
				uses++
			case extract.Mention:
				mentions++
			}
		}
		// Without its full text the paper scores nothing: its abstract says nothing scored.
		a.FullText = nil
		if got := scoredFullText(t, reg, m.Match(&a)); len(got) != 0 {
			t.Errorf("%s: the abstract alone scores %v; the demo papers' abstracts score nothing", p.ID, got)
		}
	}
	if n < 5 || uses < 2 || mentions < 1 {
		t.Errorf("%d planted full texts, %d uses and %d mentions found: want at least 5, 2 and 1", n, uses, mentions)
	}
}
