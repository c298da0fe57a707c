package manuscript

import (
	"context"
	"fmt"

	"github.com/afterlife-watch/afterlife/artifact"
	"github.com/afterlife-watch/afterlife/extract"
)

// PaperFindings decides what a paper that a source already matched (a citation of a dataset's
// paper, a search hit) does with each retracted dataset, from its full text: uses, studies or a
// mention, as extract findings of the paper artifact — the relation the reports act on.
//
// paper is the artifact as the source adapter made it (title and abstract); full is its full text,
// read with Reader.Open / ReadPDF from the open-access PDF or the source bundle. Every dataset the
// full text names is decided by the full text (the methods and experiments sections, the
// citations of the dataset's paper), overriding the abstract; a dataset only the abstract names
// keeps the abstract's decision. A nil full means the abstract alone decides. Findings are in the
// registry's order, at most one per dataset, with up to three pieces of evidence (field
// "fulltext", the sentence as snippet, its section and page or line in the detail).
func (c *Checker) PaperFindings(ctx context.Context, paper artifact.Artifact, full *Document) []extract.Finding {
	byDS := map[string]extract.Finding{}
	abs := c.Check(ctx, FromArtifact(paper))
	for _, dv := range abs.Datasets {
		if f, ok := c.toFinding(paper, dv, "abstract"); ok {
			byDS[dv.Dataset] = f
		}
	}
	if full != nil {
		rep := c.Check(ctx, full)
		for _, dv := range rep.Datasets {
			if f, ok := c.toFinding(paper, dv, "fulltext"); ok {
				byDS[dv.Dataset] = f
			}
		}
	}
	var out []extract.Finding
	for _, id := range c.reg.IDs() {
		if f, ok := byDS[id]; ok {
			out = append(out, f)
		}
	}
	return out
}

// toFinding turns a dataset verdict into a finding of the paper; verdict none gives no finding.
func (c *Checker) toFinding(paper artifact.Artifact, dv DatasetVerdict, field string) (extract.Finding, bool) {
	var rel extract.Relation
	switch dv.Verdict {
	case Uses:
		rel = extract.Uses
	case Studies:
		rel = extract.Studies
	case Mentions:
		rel = extract.Mention
	default:
		return extract.Finding{}, false
	}
	f := extract.Finding{ArtifactID: paper.ID, Dataset: dv.Dataset, Relation: rel, Confidence: dv.Confidence}
	if d, ok := c.reg.Get(dv.Dataset); ok {
		f.PostRetraction = after(paper.Published, d.RetractedOn)
	}
	for _, ev := range dv.Evidence {
		if len(f.Evidence) == 3 {
			break
		}
		where := ev.Section
		if ev.Location.Page > 0 {
			where = fmt.Sprintf("%s, page %d", where, ev.Location.Page)
		} else if ev.Location.Line > 0 {
			where = fmt.Sprintf("%s, line %d", where, ev.Location.Line)
		}
		f.Evidence = append(f.Evidence, extract.Evidence{Field: field, Snippet: ev.Sentence, Rule: ev.Rule,
			Detail: fmt.Sprintf("%s (%s): %s", ev.Verdict, where, ev.Reason)})
		if f.Via == "" {
			f.Via = ev.Via
		}
	}
	if len(dv.Chains) > 0 {
		f.Chain = append([]string{paper.ID}, dv.Chains[0]...)
	}
	return f, true
}

// after reports whether the date published (YYYY-MM-DD) is after the retraction date (YYYY,
// YYYY-MM or YYYY-MM-DD), compared at the retraction date's precision.
func after(published, retracted string) bool {
	if published == "" || retracted == "" || len(published) < len(retracted) {
		return false
	}
	return published[:len(retracted)] > retracted
}
