package manuscript

import (
	"context"
	"strings"
	"testing"
)

func TestTypesetHyphen(t *testing.T) {
	for _, c := range []struct {
		before, after string
		want          bool
	}{
		{"the 80 Mil", "lion Tiny Images", true},
		{"we train on MS", "Celeb-1M data", false},           // a name's own hyphen
		{"fine-tuned from stable", "diffusion-v1-5.", false}, // the next token is an identifier
		{"on DukeMTMC", "reID we", false},
		{"re", "ports the mean", true},
		{"the discrimi", "native, regions", true},
		{"version 1", "5 of it", false},
	} {
		if got := typesetHyphen([]byte(c.before), c.after); got != c.want {
			t.Errorf("typesetHyphen(%q, %q) = %v, want %v", c.before, c.after, got, c.want)
		}
	}
}

func TestDefuseCell(t *testing.T) {
	for in, want := range map[string]string{"=1+1": "'=1+1", "+cmd": "'+cmd", "-2": "'-2", "@SUM(A1)": "'@SUM(A1)",
		"\tx": "'\tx", "plain": "plain", "": ""} {
		if got := DefuseCell(in); got != want {
			t.Errorf("DefuseCell(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPlainTextHeadingsAndNegation(t *testing.T) {
	src := "Robust Faces\n\nAbstract\nWe study margins.\n\n1 Introduction\nMS-Celeb-1M was withdrawn in 2019, so we do not use MS-Celeb-1M.\n\n2 Experiments\nWe train on VGGFace-like data of our own.\n"
	doc, err := ReadText(context.Background(), "p.txt", []byte(src), false)
	if err != nil {
		t.Fatal(err)
	}
	r := NewChecker(testRegistry(t)).Check(context.Background(), doc)
	if len(r.Datasets) != 1 || r.Datasets[0].Verdict != Mentions {
		t.Fatalf("datasets %+v, want ms-celeb-1m mentioned only", r.Datasets)
	}
	ev := r.Datasets[0].Evidence[0]
	if ev.Location.Line != 7 || ev.Section != "1 Introduction" || ev.Kind != SectionIntro {
		t.Errorf("evidence %+v", ev)
	}
	if doc.Title != "Robust Faces" {
		t.Errorf("title %q", doc.Title)
	}
}

func TestDukeMTMCReIDUsesDukeMTMC(t *testing.T) {
	src := "# Part Features for Person Re-identification\n\n## 4 Experiments\n\nWe evaluate on Market-1501 and DukeMTMC-reID with the standard splits.\n"
	doc, err := ReadText(context.Background(), "reid.md", []byte(src), true)
	if err != nil {
		t.Fatal(err)
	}
	r := NewChecker(testRegistry(t)).Check(context.Background(), doc)
	if len(r.Datasets) != 1 || r.Datasets[0].Dataset != "dukemtmc" || r.Datasets[0].Verdict != Uses {
		t.Fatalf("datasets %+v", r.Datasets)
	}
	dv := r.Datasets[0]
	if len(dv.Chains) != 1 || strings.Join(dv.Chains[0], " → ") != "DukeMTMC-reID → DukeMTMC" {
		t.Errorf("chains %v", dv.Chains)
	}
	if ev := dv.Evidence[0]; ev.Location.Line != 5 || ev.Kind != SectionExperiment || ev.Section != "4 Experiments" {
		t.Errorf("evidence %+v", ev)
	}
}

func TestClassifySentences(t *testing.T) {
	for _, c := range []struct {
		sentence string
		kind     Section
		want     Verdict
	}{
		{"We train our model on MS1MV2 despite the ethical concerns raised about MS-Celeb-1M.", SectionExperiment, Uses},
		{"We audit the 80 Million Tiny Images dataset and document offensive labels.", SectionIntro, Studies},
		{"Birhane and Prabhu audited Tiny Images and found offensive labels.", SectionRelated, Mentions},
		{"We do not use MS-Celeb-1M, which was withdrawn.", SectionExperiment, Mentions},
		{"Results on MegaFace are in Table 2.", SectionExperiment, Uses},
		{"MegaFace contains one million distractors.", SectionIntro, Mentions},
		{"Our base model is Stable Diffusion v1-5.", SectionMethod, Uses},
	} {
		if got := classify(c.sentence, c.kind, "", false); got.verdict != c.want {
			t.Errorf("classify(%q, %s) = %s (%s), want %s", c.sentence, c.kind, got.verdict, got.reason, c.want)
		}
	}
}
