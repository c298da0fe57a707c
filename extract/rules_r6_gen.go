package extract

import (
	"strings"

	"github.com/afterlife-watch/afterlife/configs"
)

// Round 6 (gen) (issue 14, branch r6-gen): rules from the errors of the 54 round-6 dev records of the
// generative / web-scale domain (testdata/real/README.md, "Round 6 (gen)"): model cards and READMEs
// of Stable Diffusion, LAION CLIP and Pile-trained LLM lineages. The cues are the "round 6 (gen)"
// block of `cues` in configs/relations.yaml (the short-form SD 2.x rule is in its lineage_prose);
// the hooks into the shared code are one line each (section.go proseSignals, signals.go cues).

type ruleSetR6Gen struct {
	likeness, library, sibling *configs.Cue
}

var rulesR6Gen = mustRulesR6Gen()

func mustRulesR6Gen() *ruleSetR6Gen {
	r := embeddedRelations()
	c := r.Cues
	return &ruleSetR6Gen{likeness: c["likeness_r6"], library: c["library_code_r6"], sibling: c["sibling_model_r6"]}
}

// r6ProseSkip reports whether a lineage-in-prose match (m, in the lower-cased window low; lo, hi
// its clause) is not this artifact's lineage: another model of the same authors ("We also have a
// model finedtuned from [stable-diffusion-v1-5] available at …"), the code it was trained with
// ("trained using code based on [EleutherAI/gpt-neox]") or a model it was inspired by.
func r6ProseSkip(low string, lo, hi int, m []int) bool {
	r := rulesR6Gen
	if r.sibling.MatchString(low[lo:hi]) {
		return true
	}
	if h := strings.TrimLeft(low[lo:hi], " \t\n"); strings.HasPrefix(h, "#") {
		// a heading that is only a model's name ("## SD1.5"): the section under it says whose it is
		if r.sibling.MatchString(low[hi:min(len(low), hi+200)]) {
			return true
		}
	}
	before := low[max(lo, m[0]-60):m[0]]
	return r.library.MatchString(before) || r.likeness.MatchString(before)
}

// r6GenCues adjusts the cues of one occurrence of a name: a model named as an inspiration ("Heavily
// inspired by [Hivemind's GPT-J-6B with 8-bit weights]") is a likeness, not lineage, even when the
// clause goes on with "this is a version of [bigscience/bloom]"; a name in a sentence about the
// authors' other model is that model's data.
func (st *matchState) r6GenCues(s *signal, h *hit, lo, hi int, before, after string) {
	r := rulesR6Gen
	near := before
	if h.field == fText && urlAround(h.src, h.start, h.end) != "" {
		// a name inside a link target: the words before the link's text decide
		// ("inspired by [Hivemind's GPT-J-6B …](https://huggingface.co/hivemind/gpt-j-6B-8bit)")
		if i := strings.LastIndex(h.src[lo:h.start], "]("); i >= 0 {
			if o := strings.LastIndexByte(h.src[lo:lo+i], '['); o >= 0 {
				near = stripMarkup(h.src[lo : lo+o+1])
			}
		}
	}
	near = lastBytes(near, 60)
	if h.t.kind == tModel && (r.likeness.MatchString(near) || r.library.MatchString(near)) {
		s.cues &^= cLineage | cTrain
		s.cues |= cArchOnly
	}
	if c := h.src[lo:hi]; (strings.Contains(c, "also") || strings.Contains(c, "Also")) && r.sibling.MatchString(stripMarkup(c)) {
		s.cues |= cOther
	}
	if h.field == fText && s.cues&cShare != 0 && strings.HasPrefix(h.src[h.end:], "]:") {
		// a Markdown link reference definition ("[Laion400m]: https://laion.ai/laion-400-open-dataset/"):
		// its URL decides, as for an inline link; the dataset's own landing page is not a copy
		if f := strings.Fields(h.src[h.end+2 : min(len(h.src), h.end+400)]); len(f) > 0 && isOfficial(f[0], st.c.official) {
			s.cues &^= cShare
		}
	}
}
