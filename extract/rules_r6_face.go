package extract

import (
	"fmt"
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
}

var rulesR6Face = mustRulesR6Face()

func mustRulesR6Face() *ruleSetR6Face {
	r, err := configs.DefaultRelations()
	if err != nil {
		panic(fmt.Sprintf("extract: embedded relation rules: %v", err))
	}
	c := r.Cues
	rs := &ruleSetR6Face{yacsWeights: c["yacs_weights"], scratchCell: c["scratch_cell"],
		challengeName: c["challenge_name"], challengeAfter: c["challenge_after"], challengeRank: c["challenge_rank"]}
	if rs.yacsWeights == nil || rs.scratchCell == nil || rs.challengeName == nil || rs.challengeAfter == nil || rs.challengeRank == nil {
		panic("extract: configs/relations.yaml lacks a round-6 (face) cue")
	}
	return rs
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
	// a paper that took part in a challenge run on the dataset and reports its rank ("The
	// challenge 2 of MS-Celeb-1M is a classification task … Finally, we rank 3rd"): evaluated on it
	if st.a.Kind == artifact.KindPaper && s.cues&cUseNear == 0 {
		near := before
		if len(near) > 120 {
			near = near[len(near)-120:]
		}
		if (rulesR6Face.challengeName.MatchString(near) || rulesR6Face.challengeAfter.MatchString(after)) &&
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
