package manuscript

import (
	"context"
	"strings"
	"testing"
)

func FuzzParseBibTeX(f *testing.F) {
	f.Add("@article{k, title={A {B} c}, doi = {10.1/x}, year = 2020}")
	f.Add("@misc(k2, title = \"q\" # \"r\", eprint={1607.08221})")
	f.Add("@string{a = {b}} @comment{x} @inproceedings{k3,")
	f.Add("@{}@a{,}@b{k,=}")
	f.Fuzz(func(t *testing.T, s string) {
		refs, _ := ParseBibTeX([]byte(s), "f.bib")
		for _, r := range refs {
			if r.Key == "" || r.Loc.Line < 1 || r.Loc.Line > strings.Count(s, "\n")+1 {
				t.Fatalf("bad reference %+v", r)
			}
		}
		parseBBL(s, Location{Line: 1})
	})
}

func FuzzExpandTeX(f *testing.F) {
	f.Add("\\input{b}\n\\section{Experiments}\nWe train on MS1MV2 \\cite{x}.\n", "\\input{main}\nB\n")
	f.Add("\\import{../}{b}\\include{/abs}\\subimport{d/}{b}", "%\\input{b}")
	f.Add("\\input b \\input{b}{c}", "\\input{b}")
	f.Fuzz(func(t *testing.T, main, other string) {
		b := mapBundle{"main.tex": []byte(main), "b.tex": []byte(other), "d/b.tex": []byte(other)}
		ex, err := expandTeX(context.Background(), b, "main.tex")
		if err != nil {
			return
		}
		for _, l := range ex.lines {
			if _, ok := b[l.file]; !ok {
				t.Fatalf("line from a file outside the bundle: %+v", l)
			}
		}
		doc, err := readLaTeX(context.Background(), "f", b, "main.tex")
		if err != nil {
			return
		}
		for _, bl := range doc.Blocks {
			if len(bl.Starts) != len(bl.Lines) {
				t.Fatalf("block offsets and lines differ")
			}
			for _, sp := range Sentences(bl.Text) {
				if sp.Start < 0 || sp.End > len(bl.Text) || sp.Start > sp.End {
					t.Fatalf("bad span %+v", sp)
				}
			}
		}
	})
}
