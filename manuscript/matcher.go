package manuscript

import (
	"context"

	"github.com/afterlife-watch/afterlife/artifact"
	"github.com/afterlife-watch/afterlife/extract"
)

// Matcher turns an artifact into findings (*extract.Matcher, monitor.Matcher).
type Matcher interface {
	Match(a *artifact.Artifact) []extract.Finding
}

// FullTextMatcher is the run's matcher with full-text paper checks: every artifact goes through
// Inner (the extract matcher), and a paper that carries its open-access full text
// (artifact.FullText, a *Document a paper source read from the PDF it fetched) also gets the
// findings its full text decides (PaperFindings; evidence field "fulltext"). The abstract's own
// findings stay Inner's: the full text adds what the abstract does not say (a paper that trains on
// MS1MV2 without naming it in the abstract is `uses`), and a dataset the full text names only in
// related work stays a mention.
type FullTextMatcher struct {
	Inner   Matcher
	Checker *Checker
}

// WithFullText wraps inner with c's full-text checks.
func (c *Checker) WithFullText(inner Matcher) *FullTextMatcher {
	return &FullTextMatcher{Inner: inner, Checker: c}
}

// Match implements Matcher.
func (m *FullTextMatcher) Match(a *artifact.Artifact) []extract.Finding {
	fs := m.Inner.Match(a)
	return append(fs, m.FullTextFindings(a)...)
}

// FullTextFindings are the findings a paper's attached full text decides (none when it carries
// none): PaperFindings' findings with evidence from the full text, each evidence detail naming the
// document (the PDF's URL as the source fetched it).
func (m *FullTextMatcher) FullTextFindings(a *artifact.Artifact) []extract.Finding {
	doc, ok := a.FullText.(*Document)
	if !ok || doc == nil || a.Kind != artifact.KindPaper {
		return nil
	}
	var out []extract.Finding
	for _, f := range m.Checker.PaperFindings(context.Background(), *a, doc) {
		if len(f.Evidence) == 0 || f.Evidence[0].Field != "fulltext" {
			continue
		}
		if doc.Name != "" {
			for i := range f.Evidence {
				f.Evidence[i].Detail += " (full text: " + doc.Name + ")"
			}
		}
		out = append(out, f)
	}
	return out
}
