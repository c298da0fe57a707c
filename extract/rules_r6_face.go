package extract

import (
	"regexp"
	"strings"

	"github.com/afterlife-watch/afterlife/artifact"
	"github.com/afterlife-watch/afterlife/configs"
)

// Round 6 (face) (issue 14, branch r6-face): rules from the errors of the 45 round-6 dev records
// (testdata/real/README.md, "Round 6 (face)"), texts drawn like the original corpus (face
// recognition, re-ID, OOD, tracking and ViT repositories, abstracts pasted in repository docs).
// The cues are the "round 6 (face)" block of `cues` in configs/relations.yaml; the hooks into the
// shared code are one line each (signals.go cues, section.go proseSignals).

type ruleSetR6Face struct {
	yacsWeights, scratchCell, challengeName, challengeAfter, challengeRank *configs.Cue
	dataDownload, modelIntro, comparison                                   *configs.Cue
}

var rulesR6Face = mustRulesR6Face()

func mustRulesR6Face() *ruleSetR6Face {
	r := embeddedRelations()
	c := r.Cues
	// every name below is in configs.RequiredCues: the loader refuses a file without it
	return &ruleSetR6Face{yacsWeights: c["yacs_weights"], scratchCell: c["scratch_cell"],
		challengeName: c["challenge_name"], challengeAfter: c["challenge_after"], challengeRank: c["challenge_rank"],
		dataDownload: c["data_download"], modelIntro: c["model_intro"], comparison: c["comparison_r6"]}
}

// r6Cues adds and clears cue bits of one text or title occurrence (called after r5Cues).
func (st *matchState) r6Cues(s *signal, h *hit, lo, hi int, before, after string) {
	if h.field != fText {
		return
	}
	src := h.src
	// a weight file given as a config override in a training command, without a URL
	// ("KD.MODEL_WEIGHTS projects/FastDistill/logs/dukemtmc/r101_ibn/model_best.pth"): a local
	// training output named after the dataset, not released weights
	if s.cues&cWeights != 0 {
		cl := strings.ToLower(src[lo:hi])
		if !strings.Contains(cl, "http") && rulesR6Face.yacsWeights.MatchString(cl) {
			s.cues &^= cWeights
		}
	}
	near120 := lastBytes(before, 120)
	// "being comparable to SwinB pretrained on ImageNet-21k": another model's data
	if rulesR6Face.comparison.MatchString(near120) {
		s.cues |= cBackground
	}
	// a dataset section that downloads the data itself from a file host ("### MS1MV2" over
	// "1. Download a zipfile from https://drive.google.com/…"), with no weight file in it: the
	// section hands out the data, even when a step says "(models like KP-RPE)"
	if s.cues&cZoo != 0 {
		if w := strings.ToLower(src[r6SectionStart(src, lo, hi):r6SectionEnd(src, lo, hi)]); rulesR6Face.dataDownload.MatchString(w) && !weightFileInRE.MatchString(w) {
			s.cues = s.cues&^cZoo | cShare
		}
	}
	// a file-host link the text introduces as a model ("Second, download the trained model:" over
	// "https://1drv.ms/…"): weights, not a copy of the dataset named above
	if s.cues&cShare != 0 && urlAround(src, h.start, h.end) == "" && st.shareLinksAreModels(src, lo, hi) {
		s.cues &^= cShare
	}
	// "train" only as a data split in file paths ("cp faces_emore/train.rec $DATA_ROOT/MS1MV2/train.rec",
	// "bounding_box_train/"): the data's layout, not training
	if s.cues&cTrain != 0 && splitPathRE.MatchString(src[lo:hi]) {
		if !rules.train.MatchString(splitPathRE.ReplaceAllString(strings.ToLower(stripMarkup(src[lo:hi])), " ")) {
			s.cues &^= cTrain
		}
	}
	// a paper that took part in a challenge run on the dataset and reports its rank ("The
	// challenge 2 of MS-Celeb-1M is a classification task … Finally, we rank 3rd"): evaluated on it
	if st.a.Kind == artifact.KindPaper && s.cues&cUseNear == 0 {
		if (rulesR6Face.challengeName.MatchString(near120) || rulesR6Face.challengeAfter.MatchString(after)) &&
			rulesR6Face.challengeRank.MatchString(st.lowered()) {
			s.cues |= cUseNear | cEval
		}
	}
}

// r6ArchOnly is the architecture-only cue on a clause whose table cells that read only "From
// scratch" (a pretraining column) are left out: in "| `swin-base_in21k-pre-3rdparty_in1k` | From
// scratch | … |" the checkpoint id states the lineage and the cell does not cancel it.
func r6ArchOnly(clause string) bool {
	if !rules.archOnly.MatchString(clause) {
		return false
	}
	if !rulesR6Face.scratchCell.MatchString(clause) {
		return true
	}
	re := rulesR6Face.scratchCell.Regexp()
	for {
		loc := re.FindStringIndex(clause)
		if loc == nil {
			break
		}
		end := loc[1]
		if end > loc[0] && clause[end-1] == '|' {
			end-- // keep the next cell's separator
		}
		clause = clause[:loc[0]] + "|" + clause[end:]
	}
	return rules.archOnly.MatchString(clause)
}

// splitPathRE is a path or file name token in which "train" names a data split: "train.rec",
// "train.idx", "…/train/", "bounding_box_train".
var splitPathRE = regexp.MustCompile(`(?i)\S*(\btrain\.(rec|idx|lst|txt|csv|tsv|json|bin|zip|tar|h5|npy|npz|pkl)\b|[/_]train(/|\b)|\btrain/)\S*`)

// weightFileInRE is a weight file named in a section (".pth", ".caffemodel", …).
var weightFileInRE = regexp.MustCompile(`\.(pth|pt|ckpt|safetensors|onnx|h5|pb|params|caffemodel|tflite|gguf)\b`)

// r6SectionStart is where the section of the clause [lo, hi) starts: the clause itself when it is
// a heading, else the nearest heading above it (or lo).
func r6SectionStart(src string, lo, hi int) int {
	if headingLevel(strings.TrimLeft(src[lo:hi], " \t")) > 0 {
		return lo
	}
	for _, hd := range headingsAbove(src, lo) {
		if hd.level < 7 {
			return hd.off
		}
	}
	return lo
}

// r6SectionEnd is where the section of the clause [lo, hi) ends (the next heading).
func r6SectionEnd(src string, lo, hi int) int {
	if headingLevel(strings.TrimLeft(src[lo:hi], " \t")) > 0 {
		return headingWindow(src, lo)
	}
	return sectionWindow(src, hi)
}

// shareLinksAreModels reports whether every file-host link in the section window after the clause
// [lo, hi) is introduced as a model on its own line or the line before ("download the trained
// model:"), so the window hands out weights, not data.
func (st *matchState) shareLinksAreModels(src string, lo, hi int) bool {
	win := src[lo:sectionWindow(src, hi)]
	lines := strings.Split(win, "\n")
	prev := ""
	seen := false
	for _, l := range lines {
		ll := strings.ToLower(l)
		if strings.TrimSpace(ll) == "" {
			continue
		}
		if rules.share.MatchString(ll) && !isOfficial(ll, st.c.official) {
			if !rulesR6Face.modelIntro.MatchString(ll) && !rulesR6Face.modelIntro.MatchString(prev) {
				return false
			}
			seen = true
		}
		prev = ll
	}
	return seen
}
