package manuscript

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"testing"

	"github.com/afterlife-watch/afterlife/artifact"
	"github.com/afterlife-watch/afterlife/configs"
	"github.com/afterlife-watch/afterlife/extract"
)

func fullTextChecker(t *testing.T) *Checker {
	t.Helper()
	reg, err := configs.LoadRegistry("")
	if err != nil {
		t.Fatal(err)
	}
	return NewChecker(reg)
}

func findingFor(fs []extract.Finding, ds string) (extract.Finding, bool) {
	for _, f := range fs {
		if f.Dataset == ds {
			return f, true
		}
	}
	return extract.Finding{}, false
}

// A paper whose abstract is silent about its training data but whose experiments train on MS1MV2:
// the full text makes it `uses` (the abstract alone finds nothing), and a dataset named only in its
// related work stays a mention.
func TestPaperFindingsFullTextDecidesWhenAbstractIsSilent(t *testing.T) {
	c := fullTextChecker(t)
	paper := artifact.Artifact{ID: "arxiv:2401.99999", Source: "arxiv", Kind: "paper", Published: "2024-01-10",
		Title: "A margin for faces", Text: "We propose a new margin-based loss for face recognition and report state-of-the-art verification accuracy on standard benchmarks."}
	if fs := c.PaperFindings(context.Background(), paper, nil); len(fs) != 0 {
		t.Fatalf("abstract alone: %+v", fs)
	}
	full := &Document{Name: "paper.pdf", Format: FormatPDF, Blocks: []Block{
		{Text: "Earlier benchmarks such as MegaFace were withdrawn by their authors.", Section: "2 Related Work", Kind: SectionRelated, Starts: []int{0}, Lines: []Location{{Page: 2, Line: 4}}},
		{Text: "We train our models on MS1MV2, a cleaned version of MS-Celeb-1M with 5.8M images of 85K identities, for 20 epochs.", Section: "4 Experiments", Kind: SectionExperiment, Starts: []int{0}, Lines: []Location{{Page: 5, Line: 11}}},
	}}
	fs := c.PaperFindings(context.Background(), paper, full)
	ms, ok := findingFor(fs, "ms-celeb-1m")
	if !ok || ms.Relation != extract.Uses || !ms.PostRetraction || len(ms.Evidence) == 0 || ms.Evidence[0].Field != "fulltext" {
		t.Fatalf("ms-celeb-1m: %+v (all %+v)", ms, fs)
	}
	if mf, ok := findingFor(fs, "megaface"); ok && mf.Relation.Scored() != "" {
		t.Errorf("megaface in related work scored as %s", mf.Relation)
	}
}

// The real report of a UCCS Watchlist Challenge entry (CyberuSentry, UCCS_Watchlist_Report.pdf from
// github.com/Fapannen/CyberuSentry; kept out of commits like the real-text corpus, see
// extract/testdata/real/README.md): its full text trains on UCCS, so the paper is `uses`.
func TestPaperFindingsRealReport(t *testing.T) {
	const file = "testdata/real/UCCS_Watchlist_Report.pdf"
	f, err := os.Open(file)
	if errors.Is(err, fs.ErrNotExist) {
		t.Skipf("%s not present (fetched text, not committed)", file)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	doc, err := ReadPDF(context.Background(), file, f, st.Size())
	if err != nil {
		t.Fatal(err)
	}
	c := fullTextChecker(t)
	paper := artifact.Artifact{ID: "web:github.com/Fapannen/CyberuSentry/UCCS_Watchlist_Report.pdf", Source: "web", Kind: "paper",
		Title: "CyberuSentry: UCCS Watchlist Challenge report", Published: "2024-06-01"}
	fs := c.PaperFindings(context.Background(), paper, doc)
	u, ok := findingFor(fs, "uccs")
	if !ok || u.Relation != extract.Uses {
		t.Fatalf("uccs: %+v (all %+v)", u, fs)
	}
	t.Logf("uccs %s %.2f: %v", u.Relation, u.Confidence, u.Evidence)
}
