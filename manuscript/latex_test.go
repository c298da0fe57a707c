package manuscript

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestExpandTeXBoundsAndNeverEscapes(t *testing.T) {
	dir := t.TempDir()
	outside := filepath.Join(dir, "secret.tex")
	if err := os.WriteFile(outside, []byte("SECRET MS-Celeb-1M\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	proj := filepath.Join(dir, "proj")
	if err := os.MkdirAll(filepath.Join(proj, "sec"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(proj, "sec", "link.tex")); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"main.tex":         "\\documentclass{article}\n\\begin{document}\nBefore \\input{sec/a} after.\n\\input{../secret}\n\\input{/etc/passwd}\n\\input{sec/link}\n\\include{loop}\n\\input{missing}\n\\end{document}\nIgnored after end.\n",
		"sec/a.tex":        "Line A1\n\\subimport{deeper/}{b}\n",
		"sec/deeper/b.tex": "Line B1 % a comment with \\input{main}\n",
		"loop.tex":         "Loop start\n\\input{loop}\n",
	}
	for n, c := range files {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(proj, n)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(proj, n), []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := openDirBundle(proj, true)
	if err != nil {
		t.Fatal(err)
	}
	defer b.close()
	ex, err := expandTeX(context.Background(), b, "main.tex")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range ex.lines {
		got = append(got, l.file+":"+strings.TrimSpace(l.text))
	}
	joined := strings.Join(got, "\n")
	for _, want := range []string{"main.tex:Before", "sec/a.tex:Line A1", "sec/deeper/b.tex:Line B1", "main.tex:after.", "loop.tex:Loop start"} {
		if !strings.Contains(joined, want) {
			t.Errorf("missing %q in\n%s", want, joined)
		}
	}
	if strings.Contains(joined, "SECRET") || strings.Contains(joined, "root:") {
		t.Fatalf("read outside the bundle:\n%s", joined)
	}
	if strings.Contains(joined, "Ignored after end") {
		t.Errorf("read past \\end{document}")
	}
	w := strings.Join(ex.warnings, "\n")
	for _, want := range []string{"../secret", "/etc/passwd", "loop.tex includes itself", "missing"} {
		if !strings.Contains(w, want) {
			t.Errorf("warnings lack %q:\n%s", want, w)
		}
	}
	// Line numbers are the source file's.
	for _, l := range ex.lines {
		if l.file == "sec/deeper/b.tex" && strings.Contains(l.text, "B1") && l.line != 1 || l.file == "sec/a.tex" && strings.Contains(l.text, "A1") && l.line != 1 {
			t.Errorf("line %+v", l)
		}
	}
}

func TestExpandTeXDepthBound(t *testing.T) {
	m := mapBundle{"main.tex": []byte("\\input{f0}\n")}
	for i := 0; i < MaxInputDepth+5; i++ {
		m["f"+itoa(i)+".tex"] = []byte("level " + itoa(i) + "\n\\input{f" + itoa(i+1) + "}\n")
	}
	ex, err := expandTeX(context.Background(), m, "main.tex")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(ex.warnings, "\n"), "nested deeper") {
		t.Errorf("no depth warning: %v", ex.warnings)
	}
	if len(ex.files) != MaxInputDepth+1 {
		t.Errorf("read %d files, want %d", len(ex.files), MaxInputDepth+1)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestTarBundleSkipsEscapingEntries(t *testing.T) {
	p := filepath.Join(t.TempDir(), "b.tar.gz")
	writeTarGz(t, p, map[string]string{
		"../evil.tex": "\\documentclass{article}\\begin{document}evil\\end{document}",
		"paper.tex":   "\\documentclass{article}\n\\begin{document}\nWe train on MS1MV2.\n\\end{document}\n",
	}, []string{"../evil.tex", "paper.tex"})
	doc, err := Reader{}.Open(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	if len(doc.Files) != 1 || doc.Files[0] != "paper.tex" {
		t.Errorf("files %v", doc.Files)
	}
}

func TestSentencesAndSections(t *testing.T) {
	s := "Guo et al. built MS-Celeb-1M (Fig. 2). We train on it, e.g. for 20 epochs. Results follow!"
	var got []string
	for _, sp := range Sentences(s) {
		got = append(got, s[sp.Start:sp.End])
	}
	want := []string{"Guo et al. built MS-Celeb-1M (Fig. 2).", "We train on it, e.g. for 20 epochs.", "Results follow!"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("sentences %q", got)
	}
	for title, kind := range map[string]Section{"4 Experiments": SectionExperiment, "2. RelatedWork": SectionRelated,
		"1. Intr oduction": SectionIntro, "A Appendix": SectionAppendix, "REFERENCES": SectionReferences,
		"3.1 Training Details": SectionExperiment, "Proposed Method": SectionMethod, "Face Verification": SectionOther} {
		if k := ClassifySection(title); k != kind {
			t.Errorf("ClassifySection(%q) = %s, want %s", title, k, kind)
		}
	}
	for line, want := range map[string]bool{"3 Experiments": true, "3 We train the model on many images of faces.": false,
		"Related Work": true, "Data": true, "data were collected": false} {
		if got := headingOf(line) != ""; got != want {
			t.Errorf("headingOf(%q) = %v, want %v", line, got, want)
		}
	}
}

func TestSingleTeXFileFollowsInputsInItsFolder(t *testing.T) {
	dir := t.TempDir()
	files, order := tinyAuditBundle()
	for _, n := range order {
		p := filepath.Join(dir, "paper", n)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(files[n]), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// A file next to the folder that an \input must never reach.
	if err := os.WriteFile(filepath.Join(dir, "outside.tex"), []byte("We train on MS1MV2.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	main := filepath.Join(dir, "paper", "main.tex")
	data, _ := os.ReadFile(main)
	if err := os.WriteFile(main, append(data[:len(data)-len("\\end{document}\n")], []byte("\\input{../outside}\n\\end{document}\n")...), 0o644); err != nil {
		t.Fatal(err)
	}
	r := NewChecker(testRegistry(t)).CheckPath(context.Background(), Reader{}, main)
	if r.Error != nil || r.Verdict != Studies || len(r.Datasets) != 1 {
		t.Fatalf("report %+v", r)
	}
	if !strings.Contains(strings.Join(r.Warnings, "\n"), "../outside") {
		t.Errorf("warnings %v", r.Warnings)
	}
}
