package manuscript

import (
	"testing"

	"github.com/afterlife-watch/afterlife/artifact"
	"github.com/afterlife-watch/afterlife/extract"
)

// The run's matcher with full-text checks: a paper that carries its full text gets the findings
// its full text decides (evidence field "fulltext") on top of the extract matcher's findings on
// its abstract; a paper without one, or an artifact that is not a paper, gets exactly the extract
// matcher's.
func TestFullTextMatcherAddsWhatTheFullTextDecides(t *testing.T) {
	c := fullTextChecker(t)
	inner := extract.New(c.reg)
	m := c.WithFullText(inner)
	paper := artifact.Artifact{ID: "openalex:W1", Source: "openalex", Kind: "paper", Published: "2024-01-10",
		Title: "A margin for faces", Text: "We propose a new margin-based loss for face recognition. Public benchmarks such as MegaFace were withdrawn."}
	full := &Document{Name: "W1.pdf", Format: FormatPDF, Pages: 6, Blocks: []Block{
		{Text: "We train our models on MS1MV2, a cleaned version of MS-Celeb-1M with 5.8M images of 85K identities, for 20 epochs.",
			Section: "4 Experiments", Kind: SectionExperiment, Starts: []int{0}, Lines: []Location{{Page: 5, Line: 11}}},
	}}
	base := inner.Match(&paper)
	if got := m.Match(&paper); len(got) != len(base) {
		t.Fatalf("no full text: %d findings, extract alone %d", len(got), len(base))
	}
	withFull := paper
	withFull.FullText = full
	got := m.Match(&withFull)
	if len(got) != len(base)+1 {
		t.Fatalf("with its full text: %+v (abstract alone %+v)", got, base)
	}
	f := got[len(got)-1]
	if f.ArtifactID != paper.ID || f.Dataset != "ms-celeb-1m" || f.Relation != extract.Uses || f.Evidence[0].Field != "fulltext" ||
		f.Evidence[0].Detail == "" || !f.PostRetraction {
		t.Errorf("full-text finding %+v", f)
	}
	model := withFull
	model.Kind, model.Source = "model", "huggingface"
	if fs := m.Match(&model); len(fs) != len(inner.Match(&model)) {
		t.Errorf("a model with a document attached got full-text findings: %+v", fs)
	}
}
