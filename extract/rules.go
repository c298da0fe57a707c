package extract

import (
	"fmt"

	"github.com/afterlife-watch/afterlife/configs"
)

// ruleSet is the matcher's view of configs/relations.yaml: the named cues and the evidence strengths.
// The embedded file is validated when the package loads (tests guard it; a broken embedded file is a
// build defect, so it panics rather than matching with missing rules).
type ruleSet struct {
	negBefore, negAfter, notAvail, train, eval, use, afterUse, host, derive, background, bgAfter,
	depr, weights, lineage, ownUse, disclaim, numRow, study, dataLink, codeRelease, refusal,
	releasedWeights, exclOnly, exclTail, product, share, weightsLink, modelSection, dataSection,
	passing, archOnly, providesModels, otherModels, ported, trainColumn, curatedList, refsHeading *configs.Cue
	lookalikeExempt map[string]bool
	prose           []*configs.LineageRule
	strength        map[sigKind]float64
	adj             configs.Adjustments
}

var rules = mustRules()

// embeddedRelations is the relation rules file embedded in the binary (configs/relations.yaml),
// parsed once; every rule set reads its cues from it. A broken embed fails at start-up.
func embeddedRelations() *configs.Relations {
	r, err := configs.DefaultRelations()
	if err != nil {
		panic(fmt.Sprintf("extract: embedded relation rules: %v", err))
	}
	return r
}

func mustRules() *ruleSet {
	r := embeddedRelations()
	return newRuleSet(r)
}

var sigKindNames = map[string]sigKind{
	"infohash": sigInfohash, "size": sigSize, "data_file": sigDataFile, "model_file": sigModelFile,
	"base_model": sigBase, "declared": sigDeclared, "lineage": sigLineage, "weights_path": sigWeightsPath,
	"data_path": sigDataPath, "title": sigTitle, "file_ref": sigFileRef, "model_ref": sigModelRef,
	"text": sigText, "code_path": sigCodePath, "tag": sigTag, "prose": sigProse,
}

func newRuleSet(r *configs.Relations) *ruleSet {
	c := r.Cues
	rs := &ruleSet{
		negBefore: c["neg_before"], negAfter: c["neg_after"], notAvail: c["not_available"], train: c["train"],
		eval: c["eval"], use: c["use"], afterUse: c["after_use"], host: c["host"], derive: c["derive"],
		background: c["background"], bgAfter: c["background_after"], depr: c["deprecation"], weights: c["weights"],
		lineage: c["lineage"], ownUse: c["own_use"], disclaim: c["disclaim"], numRow: c["num_row"], study: c["study"],
		dataLink: c["data_link"], codeRelease: c["code_release"], refusal: c["refusal"],
		releasedWeights: c["released_weights"], exclOnly: c["exclusive_only"], exclTail: c["exclusive_tail"],
		product: c["product_suffix"], share: c["share"], weightsLink: c["weights_link"],
		modelSection: c["model_section"], dataSection: c["data_section"], passing: c["passing"],
		archOnly: c["architecture_only"], providesModels: c["provides_models"], otherModels: c["other_models"], ported: c["ported"],
		trainColumn: c["train_column"], curatedList: c["curated_list"], refsHeading: c["references_heading"],
		prose:           r.LineageProse,
		lookalikeExempt: map[string]bool{},
		strength:        map[sigKind]float64{},
		adj:             r.Adjust,
	}
	for _, id := range r.ClauseLookalikeExempt {
		rs.lookalikeExempt[id] = true
	}
	for name, k := range sigKindNames {
		rs.strength[k] = r.Strengths[name]
	}
	return rs
}
