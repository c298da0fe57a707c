package extract

import (
	"regexp"
	"strings"
)

// gated is a regexp with literal fragments one of which every match contains: the cheap
// strings.Contains checks skip the (slow, word-boundary) regexp on most clauses.
type gated struct {
	re   *regexp.Regexp
	lits []string
}

func gate(re *regexp.Regexp, lits ...string) gated { return gated{re: re, lits: lits} }

// MatchString reports whether s matches (s is lower-cased text).
func (g gated) MatchString(s string) bool {
	if len(g.lits) > 0 {
		found := false
		for _, l := range g.lits {
			if strings.Contains(s, l) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return g.re.MatchString(s)
}

// Gated versions of the clause cues.
var (
	gNegBefore  = gate(negBeforeRE, "no", "never", "nor", "neither", "without", "exclud", "except", "minus", "instead", "rather", "remov", "dropp", "free of", "filtered out", "other than", "apart", "aside", "replacement", "alternative", "n't", "also ", "avoid", "steer", "away", "clear", "refrain", "opted")
	gNegAfter   = gate(negAfterRE, "not", "never", "removed", "excluded", "dropped", "filtered", "but")
	gTrain      = gate(trainRE, "train", "tun", "distill", "initiali", "learn", "fitted", "epoch", "backbone", "outlier", "auxiliary")
	gEval       = gate(evalRE, "evaluat", "benchmark", "test", "experiment", "result", "report", "protocol", "accuracy", "rank-1", "tar@far", "map", "ablation", "identification", "verification", "probe", "distractor")
	gUse        = gate(useRE, "us", "relied", "rely", "based on", "leverag", "employ", "adopt", "drawn", "sampled", "download", "on the")
	gAfterUse   = gate(afterUseRE, "dataset", "benchmark", "for ", "training set", "test set", "protocol", "train split")
	gHost       = gate(hostRE, "mirror", "cop", "upload", "host", "seed", "archive", "backup", "keep ", "here ", "unchanged", "as downloaded", "exactly as", "original ", "repack", "encoded", "converted", "parquet", "recordio", "we host", "chunked", "tar parts", "full release")
	gDerive     = gate(deriveRE, "subset", "built from", "derived from", "taken from", "crop", "filtered", "extracted from", "sampled from", "annotat", "cleaned")
	gBackground = gate(backgroundRE, "prior", "previous", "related", "earlier", "unlike", "such as", "e.g.", "for example", "withdrawn", "taken down", "retracted", "deprecat", "decommissioned", "notice", "statement", "defunct")
	gBgAfter    = gate(backgroundAfterRE, "withdrawn", "both of which", "which ")
	gDepr       = gate(deprRE, "withdr", "deprecated", "decommissioned", "retracted", "taken ", "removed from", "notice", "statement", "defunct", "takedown")
	gWeights    = gate(weightsRE, ".", "releases/download", "weights", "checkpoint", "model zoo")
	gLineage    = gate(lineageRE, "tun", "adapter", "lora", "base", "initiali", "from_pretrained", "checkpoint", "pretrained", "derived", "merge", "quanti", "gguf", "distilled", "continued", "built on", "on top of", "starting from", "init")
	gOwnUse     = gate(ownUseRE, "we ", "our ")
	gDisclaim   = gate(disclaimRE, "affiliat", "unrelated", "confused", "nothing to do", "none of", "not")
	gNotAvail   = gate(notAvailRE, "not", "no longer", "never")
	gNumRow     = gate(numRowRE, "|")
)

// Gated versions of the whole-artifact cues.
var (
	gStudy       = gate(studyRE, "audit", "we examine", "we analy", "we study", "we measure", "we trace", "we survey", "we investigate", "we quantify", "cite", "citing", "persistence", "afterlife", "stewardship", "deprecation notices", "did not", "do not", "without", "never", "critique", "critical", "close reading", "harm", "damage", "measurement study", "census of", "citation analysis", "ies that", "papers that", "cards that", "torrents that", "mirrors that", "facts that", "projects that", "websites that")
	gDataLink    = gate(dataLinkRE, "drive.google", "docs.google", "pan.baidu", "academictorrents.com/details", "archive.org/", "magnet:?xt=", "mega.nz", "dropbox.com", "onedrive", "1drv.ms", "aliyundrive", "weiyun", "huggingface.co/datasets", "kaggle.com/datasets", "zenodo.org/record", "figshare", "jbox.sjtu", "box.com/s/")
	gCodeRelease = gate(codeReleaseRE, "code", "scripts")
	gRefusal     = gate(refusalRE, "can't", "cannot", "can not", "not allowed", "aren't allowed", "not permitted", "won't", "will not")
)
