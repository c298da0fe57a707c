package manuscript

import (
	"github.com/afterlife-watch/afterlife/artifact"
)

// FromArtifact makes a Document of a paper's metadata from a source adapter (arXiv, OpenAlex): the
// title as front matter and the abstract. A check of it sees only what the abstract says.
func FromArtifact(a artifact.Artifact) *Document {
	doc := &Document{Name: a.ID, Format: "abstract", Title: a.Title,
		Warnings: []string{"abstract only (" + a.Source + " metadata): check the PDF or the source bundle for a full check"}}
	if a.Title != "" {
		doc.Blocks = append(doc.Blocks, Block{Text: normalizeText(a.Title), Section: "Title", Kind: SectionFront,
			Starts: []int{0}, Lines: []Location{{File: a.URL, Line: 1}}})
	}
	if a.Text != "" {
		doc.Blocks = append(doc.Blocks, Block{Text: normalizeText(a.Text), Section: "Abstract", Kind: SectionAbstract,
			Starts: []int{0}, Lines: []Location{{File: a.URL, Line: 2}}})
	}
	return doc
}
