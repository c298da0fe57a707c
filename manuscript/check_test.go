package manuscript

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func verdictFor(t *testing.T, r *Report, dataset string) *DatasetVerdict {
	t.Helper()
	for i := range r.Datasets {
		if r.Datasets[i].Dataset == dataset {
			return &r.Datasets[i]
		}
	}
	t.Fatalf("%s: no verdict for %s; got %+v", r.Manuscript, dataset, r.Datasets)
	return nil
}

func checkFile(t *testing.T, p string) *Report {
	t.Helper()
	c := NewChecker(testRegistry(t))
	r := c.CheckPath(context.Background(), Reader{}, p)
	if r.Error != nil {
		t.Fatalf("%s: %s: %s", p, r.Error.Kind, r.Error.Message)
	}
	return r
}

func TestPDFTrainingOnMS1MV2UsesMSCeleb(t *testing.T) {
	p := groffPDF(t, t.TempDir(), "arcmargin.pdf", faceMS)
	r := checkFile(t, p)
	if r.Format != FormatPDF || r.Pages != 3 {
		t.Fatalf("format %s pages %d, want pdf 3", r.Format, r.Pages)
	}
	if r.Verdict != Uses {
		t.Fatalf("verdict %s, want uses", r.Verdict)
	}
	ms := verdictFor(t, r, "ms-celeb-1m")
	if ms.Verdict != Uses {
		t.Fatalf("ms-celeb-1m verdict %s, want uses: %+v", ms.Verdict, ms.Evidence)
	}
	if len(ms.Chains) == 0 || !reflect.DeepEqual(ms.Chains[0], []string{"MS1MV2", "MS-Celeb-1M"}) {
		t.Errorf("chain %v, want [MS1MV2 MS-Celeb-1M]", ms.Chains)
	}
	ev := ms.Evidence[0]
	if ev.Location.Page != 2 {
		t.Errorf("evidence page %d, want 2 (Experiments is on page 2)", ev.Location.Page)
	}
	if ev.Location.Line < 2 || ev.Location.Line > 4 {
		t.Errorf("evidence line %d, want the sentence's line (3) on page 2", ev.Location.Line)
	}
	if ev.Kind != SectionExperiment || !strings.Contains(ev.Section, "Experiments") {
		t.Errorf("section %q (%s), want the Experiments section", ev.Section, ev.Kind)
	}
	if ev.Sentence != "We train our ResNet-100 on MS1MV2 for 20 epochs with a batch size of 512." {
		t.Errorf("sentence %q", ev.Sentence)
	}
	if len(ms.References) != 1 || ms.References[0].ArXiv != "1607.08221" || ms.References[0].Key != "[1]" {
		t.Errorf("references %+v, want [1] with arXiv 1607.08221", ms.References)
	}
	if ms.References[0].Loc.Page != 3 {
		t.Errorf("reference page %d, want 3", ms.References[0].Loc.Page)
	}

	mf := verdictFor(t, r, "megaface")
	if mf.Verdict != Mentions {
		t.Fatalf("megaface verdict %s, want mentions: %+v", mf.Verdict, mf.Evidence)
	}
	if mf.Evidence[0].Kind != SectionRelated || mf.Evidence[0].Location.Page != 1 {
		t.Errorf("megaface evidence %+v, want related work on page 1", mf.Evidence[0])
	}
	if !strings.Contains(mf.Evidence[0].Sentence, "introduced MegaFace with one million distractors") {
		t.Errorf("megaface sentence %q", mf.Evidence[0].Sentence)
	}
}

func TestPDFImageNetOnlyIsClean(t *testing.T) {
	p := groffPDF(t, t.TempDir(), "imagenet.pdf", imagenetMS)
	r := checkFile(t, p)
	if r.Verdict != None || len(r.Datasets) != 0 {
		t.Fatalf("verdict %s datasets %+v, want none", r.Verdict, r.Datasets)
	}
	if r.Title != "Sharper Residual Networks" {
		t.Errorf("title %q", r.Title)
	}
}

func TestLaTeXBundleAuditOfTinyImagesStudies(t *testing.T) {
	dir := t.TempDir()
	files, order := tinyAuditBundle()
	p := filepath.Join(dir, "2006.16923.tar.gz")
	writeTarGz(t, p, files, order)
	r := checkFile(t, p)
	if r.Format != FormatLaTeX {
		t.Fatalf("format %s", r.Format)
	}
	want := []string{"main.tex", "sections/intro.tex", "sections/method.tex", "refs.bib"}
	if !reflect.DeepEqual(r.Files, want) {
		t.Errorf("files %v, want %v", r.Files, want)
	}
	ti := verdictFor(t, r, "tiny-images")
	if ti.Verdict != Studies || r.Verdict != Studies {
		t.Fatalf("verdict %s (report %s), want studies: %+v", ti.Verdict, r.Verdict, ti.Evidence)
	}
	// The strongest evidence is the title or the abstract, with its file and line.
	ev := ti.Evidence[0]
	if ev.Location.File != "main.tex" || (ev.Location.Line != 2 && ev.Location.Line != 6) {
		t.Errorf("evidence at %+v, want main.tex line 2 (title) or 6 (abstract)", ev.Location)
	}
	var intro *Evidence
	for i := range ti.Evidence {
		if ti.Evidence[i].Location.File == "sections/intro.tex" {
			intro = &ti.Evidence[i]
		}
	}
	if intro == nil || intro.Location.Line != 3 || intro.Kind != SectionIntro || intro.Section != "Introduction" {
		t.Fatalf("no introduction evidence at sections/intro.tex:3: %+v", ti.Evidence)
	}
	if intro.Sentence != "In this paper we critically examine Tiny Images [torralba2008tiny], a dataset of 79 million images." {
		t.Errorf("intro sentence %q", intro.Sentence)
	}
	if len(ti.References) != 1 || ti.References[0].Key != "torralba2008tiny" || ti.References[0].DOI != "10.1109/tpami.2008.128" ||
		ti.References[0].Loc.File != "refs.bib" || ti.References[0].Loc.Line != 1 {
		t.Errorf("references %+v", ti.References)
	}
	// The commented-out "We train on Tiny Images." must not appear anywhere.
	for _, e := range ti.Evidence {
		if strings.Contains(e.Sentence, "We train on Tiny Images") {
			t.Errorf("a LaTeX comment became evidence: %+v", e)
		}
	}
}

func TestMarkdownFineTunedFromStableDiffusionUsesLAION(t *testing.T) {
	p := filepath.Join(t.TempDir(), "dreamtuning.md")
	if err := os.WriteFile(p, []byte(sdMarkdown), 0o644); err != nil {
		t.Fatal(err)
	}
	r := checkFile(t, p)
	l := verdictFor(t, r, "laion-5b")
	if l.Verdict != Uses {
		t.Fatalf("laion-5b verdict %s, want uses: %+v", l.Verdict, l.Evidence)
	}
	ev := l.Evidence[0]
	if ev.Location.Line != 13 || ev.Kind != SectionMethod || ev.Section != "Method" {
		t.Errorf("evidence at line %d section %q (%s), want line 13 in Method", ev.Location.Line, ev.Section, ev.Kind)
	}
	if ev.Via != "runwayml/stable-diffusion-v1-5" || !reflect.DeepEqual(l.Chains, [][]string{{"Stable Diffusion v1-5", "LAION-5B"}}) {
		t.Errorf("via %q chains %v", ev.Via, l.Chains)
	}
	if !strings.HasPrefix(ev.Sentence, "Our base model is runwayml/stable-diffusion-v1-5") {
		t.Errorf("sentence %q", ev.Sentence)
	}
}

func TestBibTeXOnlyCitesDatasetPaper(t *testing.T) {
	p := filepath.Join(t.TempDir(), "refs.bib")
	src := "% comment line\n@string{eccv = \"ECCV\"}\n\n@inproceedings{guo2016,\n  title={{MS-Celeb-1M}: A Dataset and Benchmark for Large-Scale Face Recognition},\n  booktitle = eccv,\n  year={2016}\n}\n@article{laion, title = \"Something else\", eprint = {2210.08402}, archivePrefix = {arXiv}}\n"
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	r := checkFile(t, p)
	ms := verdictFor(t, r, "ms-celeb-1m")
	if ms.Verdict != Mentions || len(ms.References) != 1 || ms.References[0].Key != "guo2016" || ms.References[0].Loc.Line != 4 {
		t.Fatalf("ms-celeb-1m %+v", ms)
	}
	l := verdictFor(t, r, "laion-5b") // matched by arXiv id alone
	if l.Verdict != Mentions || l.References[0].ArXiv != "2210.08402" {
		t.Fatalf("laion-5b %+v", l)
	}
	if r.Verdict != Mentions {
		t.Errorf("report verdict %s", r.Verdict)
	}
}

func TestBadPDFsGiveClearErrors(t *testing.T) {
	dir := t.TempDir()
	good := groffPDF(t, dir, "good.pdf", faceMS)
	data, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	broken := filepath.Join(dir, "broken.pdf")
	if err := os.WriteFile(broken, data[:len(data)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	enc := filepath.Join(dir, "encrypted.pdf")
	gs(t, "-sDEVICE=pdfwrite", "-sOwnerPassword=owner", "-sUserPassword=secret", "-o", enc, good)
	scan := filepath.Join(dir, "scan.pdf")
	gs(t, "-sDEVICE=pdfimage24", "-r72", "-o", scan, good)
	fake := filepath.Join(dir, "fake.pdf")
	if err := os.WriteFile(fake, []byte("this is not a pdf\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	docx := filepath.Join(dir, "paper.docx")
	if err := os.WriteFile(docx, []byte("PK\x03\x04 zip"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		path string
		kind ErrorKind
		want string
		rd   Reader
	}{
		{broken, ErrBroken, "", Reader{}},
		{enc, ErrEncrypted, "password", Reader{}},
		{scan, ErrNoText, "OCR", Reader{}},
		{fake, ErrFormat, "not a PDF", Reader{}},
		{docx, ErrFormat, "unsupported file type", Reader{}},
		{good, ErrTooLarge, "limit 1000", Reader{MaxFileSize: 1000}},
		{filepath.Join(dir, "missing.pdf"), ErrNotFound, "", Reader{}},
	}
	for _, c := range cases {
		_, err := c.rd.Open(context.Background(), c.path)
		var me *Error
		if !errors.As(err, &me) || me.Kind != c.kind || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want kind %s containing %q", filepath.Base(c.path), err, c.kind, c.want)
		}
	}
	// An owner-password-only PDF (no user password) has no password to ask for, but Ghostscript's
	// encryption of it is not one the PDF library decrypts: it must still be "encrypted", not "broken".
	ownerOnly := filepath.Join(dir, "owner-only.pdf")
	gs(t, "-sDEVICE=pdfwrite", "-sOwnerPassword=owner", "-dPermissions=-4", "-o", ownerOnly, good)
	r := NewChecker(testRegistry(t)).CheckPath(context.Background(), Reader{}, ownerOnly)
	if r.Error == nil && r.Verdict != Uses || r.Error != nil && r.Error.Kind != ErrEncrypted {
		t.Errorf("owner-password PDF: error %+v verdict %s, want uses or an encrypted error", r.Error, r.Verdict)
	}
}

func TestBatchGoesOnAfterBadFiles(t *testing.T) {
	dir := t.TempDir()
	groffPDF(t, dir, "a-face.pdf", faceMS)
	groffPDF(t, dir, "b-imagenet.pdf", imagenetMS)
	if err := os.WriteFile(filepath.Join(dir, "c-broken.pdf"), []byte("%PDF-1.4\ngarbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	files, order := tinyAuditBundle()
	proj := filepath.Join(dir, "d-latex-project")
	for _, n := range order {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(proj, n)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(proj, n), []byte(files[n]), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	paths, err := BatchInputs(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) != 4 {
		t.Fatalf("inputs %v", paths)
	}
	done := 0
	reps := NewChecker(testRegistry(t)).Batch(context.Background(), Reader{}, paths, 3, func(*Report) { done++ })
	if done != 4 {
		t.Errorf("progress called %d times", done)
	}
	got := []Verdict{}
	for _, r := range reps {
		got = append(got, r.Verdict)
	}
	if !reflect.DeepEqual(got, []Verdict{Uses, None, None, Studies}) {
		t.Errorf("verdicts %v", got)
	}
	if reps[2].Error == nil || reps[2].Error.Kind != ErrBroken {
		t.Errorf("broken PDF report %+v", reps[2].Error)
	}
	if reps[3].Error != nil || reps[3].Format != FormatLaTeX {
		t.Errorf("LaTeX folder: %+v", reps[3])
	}
}

func TestPDFTwoColumnsKeepsReadingOrder(t *testing.T) {
	filler := strings.Repeat("Deep networks learn hierarchical representations from large collections of labelled examples. ", 25)
	src := ".TL\nTwo Columns\n.2C\n.NH\nIntroduction\n.PP\n" + filler + "\n.NH\nExperiments\n.PP\nWe train our ResNet-100 on MS1MV2 for 20 epochs with a batch size of 512.\n" + filler[:500] + "\n"
	r := checkFile(t, groffPDF(t, t.TempDir(), "twocol.pdf", src))
	ms := verdictFor(t, r, "ms-celeb-1m")
	ev := ms.Evidence[0]
	if ms.Verdict != Uses || ev.Kind != SectionExperiment || ev.Location.Page != 1 ||
		ev.Sentence != "We train our ResNet-100 on MS1MV2 for 20 epochs with a batch size of 512." {
		t.Fatalf("%s: %+v", ms.Verdict, ev)
	}
}
