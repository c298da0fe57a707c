package extract

import (
	"strings"

	"github.com/afterlife-watch/afterlife/configs"
)

// Round 6 (ghgen) (issue 14, branch r6-ghgen): rules from the errors of the 37 round-6 (ghgen) dev
// records, GitHub READMEs, docs and blog sources of the generative domain (testdata/real/README.md,
// "Round 6 (ghgen)"). The cues are the "round 6 (ghgen)" block of `cues` in configs/relations.yaml
// (the LAION-A / "Laion Aesthetic > N" rule is its last lineage_prose entry); the hooks into the
// shared code are one line each (signals.go cues, decide.go repository branch: trained-on and uses).

// Cue bits of round 6 (ghgen) (after cBundle, the last bit of rules_r5.go).
const (
	cHubModelGH uint32 = cBundle << (iota + 1) // the name is part of a model id in a Hub model URL ("…/laion/CLIP-ViT-bigG-14-laion2B-39B-b160k")
)

type ruleSetR6GH struct {
	derived, download, ownRelease, comparison, docPath, otherTraining, apiDoc *configs.Cue
}

var rulesR6GH = mustRulesR6GH()

func mustRulesR6GH() *ruleSetR6GH {
	r := embeddedRelations()
	c := r.Cues
	return &ruleSetR6GH{derived: c["derived_copy_gh"], download: c["download_derived_gh"], ownRelease: c["own_release_gh"],
		comparison: c["comparison_intro_gh"], docPath: c["doc_path_gh"],
		otherTraining: c["other_model_training_gh"], apiDoc: c["library_api_doc_gh"]}
}

// r6ghCues adjusts the cues of one occurrence of a name (called at the end of cues()):
//   - a subset or version of the dataset handed out ("Download de-duplicated versions of LAION-2B-en",
//     "LAION POP is a subset of LAION 5B" beside a Hugging Face dataset link): a derived copy;
//   - the name inside a Hub model id ("huggingface.co/laion/CLIP-ViT-bigG-14-laion2B-39B-b160k"):
//     the model's lineage, not data the text uses;
//   - a known model in the rows of a table introduced as a comparison ("Below is a comparison of the
//     training speed … with that of Pythia and MPT."): a baseline, not lineage;
//   - the name in the file path of a blog post or doc page ("…/blog/laion-aesthetics.md"): a page
//     about the dataset, not the home of a copy.
func (st *matchState) r6ghCues(s *signal, h *hit, lo, hi int, before, after string) {
	r := rulesR6GH
	switch h.field {
	case fURL:
		if h.t.kind != tModel && r.docPath.MatchString(strings.ToLower(h.src)) && !strings.Contains(strings.ToLower(h.src[:h.start]), "/datasets/") {
			s.neg = true
		}
		return
	case fText:
	default:
		return
	}
	near := lastBytes(before, 120)
	if h.t.kind != tModel {
		if r.download.MatchString(near) {
			s.cues |= cRecipe
		} else if r.derived.MatchString(near) && st.r6ghHostLink() {
			s.cues |= cRecipe
		}
		if u := strings.ToLower(urlAround(h.src, h.start, h.end)); hubModelURL(u) {
			s.cues |= cHubModelGH
		}
		if r.otherTraining.MatchString(after) {
			s.cues |= cBackground
		}
	}
	if h.t.kind == tModel && strings.HasPrefix(strings.TrimLeft(h.src[lo:hi], " \t"), "|") {
		if intro := tableIntro(h.src, lo); intro != "" && r.comparison.MatchString(strings.ToLower(stripMarkup(intro))) {
			s.cues |= cPassing
		}
	}
}

// r6ghHostLink reports whether the text links a dataset on the Hugging Face Hub.
func (st *matchState) r6ghHostLink() bool {
	return strings.Contains(st.loweredText(), "huggingface.co/datasets/")
}

// hubModelURL reports whether u (lower case) is a Hugging Face model page or file, not a dataset or a Space.
func hubModelURL(u string) bool {
	i := strings.Index(u, "huggingface.co/")
	if i < 0 {
		return false
	}
	p := u[i+len("huggingface.co/"):]
	return !strings.HasPrefix(p, "datasets/") && !strings.HasPrefix(p, "spaces/") && !strings.HasPrefix(p, "docs/") &&
		!strings.HasPrefix(p, "blog/") && !strings.HasPrefix(p, "papers/") && strings.Count(strings.TrimRight(p, "/"), "/") >= 1
}

// tableIntro returns the last non-empty line above the table that holds offset lo (the line that
// introduces it), or "" when lo is not in a table or nothing precedes it.
func tableIntro(src string, lo int) string {
	i := strings.LastIndexByte(src[:lo], '\n')
	for i > 0 {
		j := strings.LastIndexByte(src[:i], '\n')
		line := strings.TrimSpace(src[j+1 : i])
		i = j
		if line == "" || strings.HasPrefix(line, "|") {
			continue
		}
		return line
	}
	return ""
}

// r6ghUses decides, for the round-6 (ghgen) cases, whether a repository signal is evidence of use
// (ok false: the shared rules decide). A name inside a Hub model id is lineage, not use, and so is a
// training sentence on a library's API doc page for a model or pipeline ("It's trained on 512x512
// images from a subset of the LAION-5B dataset" in diffusers' text2img.md); a training
// statement in prose ("Both DCFormer-2.8B and DCPythia-6.9B are pretrained on the Pile") in a text
// that releases its own models is the repository's own training (labelling rule 2: uses and trained-on).
func (st *matchState) r6ghUses(s *signal, low string) (use, ok bool) {
	if s.cues&cHubModelGH != 0 || rulesR6GH.apiDoc.MatchString(strings.ToLower(st.a.URL)) {
		return false, true
	}
	if s.kind == sigProse && s.cues&(cPassing|cBackground) == 0 && rules.train.MatchString(strings.ToLower(s.ev.Snippet)) && rulesR6GH.ownRelease.MatchString(low) {
		return true, true
	}
	return false, false
}

// r6ghModelEv returns the round-6 (ghgen) evidence of weights trained on the dataset: a training
// statement ("trained on the Pile for 235B tokens", "trained using 34B samples from LAION-2b") in a
// text that releases its own models ("(see Releases)", "The larger models we release today are …").
func (st *matchState) r6ghModelEv(live []*signal, low string) []*signal {
	var out []*signal
	checked := false
	for _, s := range live {
		if s.neg || s.unc || s.cues&(cTarget|cPassing|cArchOnly|cBackground|cShare|cOther|cRecipe) != 0 {
			continue
		}
		train := false
		switch s.kind {
		case sigProse:
			train = rules.train.MatchString(strings.ToLower(s.ev.Snippet))
		case sigText:
			train = s.cues&cTrain != 0
		}
		if !train {
			continue
		}
		if !checked {
			if !rulesR6GH.ownRelease.MatchString(low) {
				return nil
			}
			checked = true
		}
		out = append(out, s)
	}
	return out
}
