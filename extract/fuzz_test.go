package extract

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/afterlife-watch/afterlife/artifact"
)

func FuzzParseFrontMatter(f *testing.F) {
	f.Add("---\ndatasets:\n- a\n---\nbody")
	f.Add("---\ntags: [a, 'b', \"c\"]\n---\n")
	f.Add("\ufeff---\nkey:\n-\n- x: y\n...\n")
	f.Fuzz(func(t *testing.T, s string) {
		fm, ok := ParseFrontMatter(s)
		if !ok {
			return
		}
		if fm.End > len(s) || fm.Start > fm.End {
			t.Fatalf("bounds %d..%d of %d", fm.Start, fm.End, len(s))
		}
		for _, v := range fm.Values {
			if v.Start < 0 || v.End > len(s) || v.Start > v.End {
				t.Fatalf("value %+v out of bounds", v)
			}
		}
	})
}

func FuzzMatch(f *testing.F) {
	m := testMatcher(f)
	f.Add("model", "We train on MS-Celeb-1M; without the Books3 subset.", "base_model:finetune:EleutherAI/gpt-j-6b", "faces_emore/train.rec", int64(243615796224))
	f.Add("paper", "---\nbase_model: CompVis/stable-diffusion-v1-4\n---\nRe-LAION-5B not LAION-5B", "dataset:the_pile", "tiny_images.bin", int64(-1))
	f.Add("issue", "https://drive.google.com/x MegaFace Studio | DukeMTMC-reID | 1.0 |", "", "", int64(0))
	f.Fuzz(func(t *testing.T, kind, text, tag, file string, size int64) {
		a := &artifact.Artifact{ID: "fuzz", Source: "web", Kind: kind, Title: text, Text: text, Tags: []string{tag},
			Files: []artifact.File{{Path: file, Size: &size}}, Published: "2022-01-01"}
		for _, fd := range m.Match(a) {
			if fd.Confidence < 0 || fd.Confidence > 1 || !fd.Relation.Valid() {
				t.Fatalf("bad finding %+v", fd)
			}
			for _, ev := range fd.Evidence {
				if ev.Field == "text" && (ev.Start < 0 || ev.End > len(text) || ev.Start > ev.End) {
					t.Fatalf("offsets %+v", ev)
				}
				if ev.Field == "text" && utf8.ValidString(text) && !utf8.ValidString(strings.TrimSuffix(strings.TrimPrefix(ev.Snippet, "…"), "…")) {
					t.Fatalf("snippet cuts a character: %q", ev.Snippet)
				}
			}
		}
	})
}
