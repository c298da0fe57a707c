package manuscript

import (
	"regexp"

	"github.com/afterlife-watch/afterlife/extract"
)

// Verdict is what a manuscript does with a retracted dataset.
type Verdict string

// Verdicts, strongest first. None is never reported per dataset; it is the CSV's "nothing found".
const (
	Uses     Verdict = "uses"     // data, a derivative or a model trained on it is used in the work
	Studies  Verdict = "studies"  // the work audits or criticises it: an allowed use
	Mentions Verdict = "mentions" // named or cited only (related work, a footnote)
	None     Verdict = "none"
)

var (
	firstPersonRE = regexp.MustCompile(`(?i)\b(we|our|ours|us|this (paper|work|study|article)|in this (paper|work|study))\b`)
	usageRE       = regexp.MustCompile(`(?i)\b(train|trains|trained|training|pre-?train\w*|fine-?tun\w*|initiali[sz]\w*|use|used|uses|using|employ\w*|adopt\w*|evaluat\w*|tested|testing|test on|benchmark\w*|download\w*|sampled|built on|build on|builds on|based on|start(ed|ing)? from|distill\w*|leverag\w*|experiments? (on|with)|results on|accuracy on|learned on|learnt on|base model|backbone|checkpoints?|weights|starting point|built upon)\b`)
	trainRE       = regexp.MustCompile(`(?i)\b(train\w*|pre-?train\w*|fine-?tun\w*|initiali[sz]\w*|distill\w*|learned on|learnt on|base model|backbone)\b`)
	negationRE    = regexp.MustCompile(`(?i)\b(not|never|no longer|without|instead of|rather than|avoid\w*|exclud\w*|refrain\w*|unlike|do not|did not|does not|don't|didn't|discard\w*|withdrawn|retracted|deprecated|taken down|decommissioned|removed)\b`)
	studyStrongRE = regexp.MustCompile(`(?i)\b(audit\w*|critiqu\w*|critici[sz]\w*|harms?|harmful|offensive|derogatory|slurs?|non-?consensual|consent|ethical (concerns?|issues?|problems?)|problematic|provenance|census|pornographic|privacy (violations?|risks?|concerns?))\b`)
	studyWeakRE   = regexp.MustCompile(`(?i)\b(examin\w*|investigat\w*|analy[sz]\w*|inspect\w*|document\w*|uncover\w*|reveal\w*|quantif\w*|measur\w*|survey\w*)\b`)
	contentRE     = regexp.MustCompile(`(?i)\b(content|contents|labels?|images?|categor\w*|composition|annotations?|nouns?|classes|subjects?|identities|people|persons?|faces?|photos?|licen[cs]\w*|afterlife|circulation|copies)\b`)
)

// cue is how one sentence relates to a dataset.
type cue struct {
	verdict  Verdict
	strength float64 // in [0,1], before section weight
	reason   string
}

// classify reads one sentence naming (or citing) a dataset, in a section, with the matcher's
// relation for it ("" when the name was found by the locator or a citation).
func classify(sentence string, kind Section, rel extract.Relation, title bool) cue {
	first := firstPersonRE.MatchString(sentence)
	strong := studyStrongRE.MatchString(sentence)
	weak := studyWeakRE.MatchString(sentence) && contentRE.MatchString(sentence)
	usage := usageRE.MatchString(sentence)
	train := trainRE.MatchString(sentence)
	// Training on it is a use whatever else the sentence says ("we train on MS1MV2 despite its
	// ethical concerns"); weak study words next to a use verb are a use too ("we use X and document
	// its licences"). The matcher's own "studies" is kept.
	studyish := strong && !train || weak && !strong && !usage
	if (studyish || rel == extract.Studies) && kind != SectionRelated {
		if title || first || kind == SectionAbstract || kind == SectionFront || kind == SectionIntro {
			s := 0.9
			if !strong && rel != extract.Studies {
				s = 0.7
			}
			return cue{Studies, s, "the work examines the dataset itself"}
		}
	}
	if negationRE.MatchString(sentence) {
		return cue{Mentions, 0.6, "named with a negation or its retraction (not used)"}
	}
	matcherUse := rel == extract.Uses || rel == extract.TrainedOn || rel == extract.Copy || rel == extract.Derivative
	switch {
	case first && usage && kind != SectionRelated:
		if train {
			return cue{Uses, 1.0, "the authors train or fine-tune on it"}
		}
		return cue{Uses, 0.95, "the authors use it"}
	case first && usage:
		return cue{Uses, 0.7, "the authors say they use it (in related work)"}
	case kind == SectionMethod || kind == SectionExperiment || kind == SectionAppendix:
		if usage || matcherUse {
			return cue{Uses, 0.9, "used in the work's " + string(kind)}
		}
		return cue{Uses, 0.75, "named in the work's " + string(kind)}
	case (kind == SectionAbstract || kind == SectionFront) && usage:
		return cue{Uses, 0.7, "the abstract describes its use"}
	case matcherUse && kind.Own():
		return cue{Uses, 0.7, "the matcher classed it as used"}
	}
	return cue{Mentions, 0.5, "named without use"}
}
