package manuscript

import (
	"regexp"
	"strings"
)

// Section is the role of a section in a paper; it decides how much a sentence weighs.
type Section string

// Section roles.
const (
	SectionFront      Section = "front"    // title, authors, before any heading
	SectionAbstract   Section = "abstract" //
	SectionIntro      Section = "introduction"
	SectionRelated    Section = "related-work" // related work, background, prior work, literature
	SectionMethod     Section = "method"       // method, approach, model, training, implementation
	SectionExperiment Section = "experiments"  // experiments, evaluation, setup, datasets, results, ablation
	SectionDiscussion Section = "discussion"   // discussion, limitations, ethics, broader impact, conclusion
	SectionReferences Section = "references"
	SectionAppendix   Section = "appendix"
	SectionOther      Section = "other"
)

// Weight is how much evidence in a section counts towards a verdict: the work's own method and
// experiments weigh most, related work least; the bibliography is never evidence of use.
func (s Section) Weight() float64 {
	switch s {
	case SectionMethod, SectionExperiment:
		return 1.0
	case SectionAppendix:
		return 0.9
	case SectionAbstract, SectionFront:
		return 0.8
	case SectionIntro, SectionDiscussion, SectionOther:
		return 0.6
	case SectionRelated:
		return 0.3
	}
	return 0
}

// Own reports whether the section describes the work itself (not others' work).
func (s Section) Own() bool {
	switch s {
	case SectionMethod, SectionExperiment, SectionAppendix, SectionAbstract, SectionFront:
		return true
	}
	return false
}

var sectionWords = []struct {
	kind  Section
	words []string
}{
	{SectionReferences, []string{"references", "bibliography", "works cited", "literature cited"}},
	{SectionAbstract, []string{"abstract"}},
	{SectionRelated, []string{"related work", "related works", "prior work", "previous work", "background", "literature review", "related literature"}},
	{SectionIntro, []string{"introduction", "motivation", "overview"}},
	{SectionExperiment, []string{"experiment", "experiments", "evaluation", "evaluations", "experimental", "setup", "datasets", "dataset", "data", "results", "ablation", "benchmark", "implementation details", "training details", "empirical"}},
	{SectionMethod, []string{"method", "methods", "methodology", "approach", "model", "architecture", "training", "implementation", "proposed", "framework", "pipeline", "pretraining", "fine-tuning", "finetuning"}},
	{SectionDiscussion, []string{"discussion", "limitations", "limitation", "conclusion", "conclusions", "ethics", "ethical", "broader impact", "societal impact", "future work", "acknowledgement", "acknowledgements", "acknowledgments", "acknowledgment"}},
	{SectionAppendix, []string{"appendix", "appendices", "supplementary", "supplemental"}},
}

var headingNumberRE = regexp.MustCompile(`^(?:(?:section|chapter|appendix)\s+)?(?:[0-9]+(?:\.[0-9]+)*|[A-Z](?:\.[0-9]+)*|[IVXLC]+)\.?\s+`)

// ClassifySection maps a heading ("4.2 Training details", "Related Work", "A Appendix") to a role.
func ClassifySection(title string) Section {
	t := strings.TrimSpace(title)
	low := strings.ToLower(t)
	if strings.HasPrefix(low, "appendix") || strings.HasPrefix(low, "supplementary") {
		return SectionAppendix
	}
	t = headingNumberRE.ReplaceAllString(t, "")
	low = strings.ToLower(strings.Trim(t, " .:"))
	for _, sw := range sectionWords {
		for _, w := range sw.words {
			if low == w || strings.HasPrefix(low, w+" ") || strings.HasPrefix(low, w+":") || strings.HasSuffix(low, " "+w) ||
				strings.Contains(low, " "+w+" ") {
				return sw.kind
			}
		}
	}
	// PDF text can split or join words in headings ("Intr oduction", "RelatedWork"): compare letters only.
	sq := squash(low)
	if len(sq) >= 4 {
		for _, sw := range sectionWords {
			for _, w := range sw.words {
				if sw2 := squash(w); sq == sw2 || len(sw2) >= 6 && strings.HasPrefix(sq, sw2) {
					return sw.kind
				}
			}
		}
	}
	return SectionOther
}

func squash(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'a' && c <= 'z' {
			b.WriteByte(c)
		}
	}
	return b.String()
}

// Heading detection for text-like lines (PDF lines, plain text): a numbered heading ("3 Experiments",
// "3.1. Training on MS1MV2", "IV. RESULTS") or a bare known section name ("Related Work", "REFERENCES").
var (
	numberedHeadingRE = regexp.MustCompile(`^(?:[0-9]{1,2}(?:\.[0-9]{1,2}){0,3}\.?|[IVX]{1,5}\.|[A-H]\.?(?:[0-9]{1,2}(?:\.[0-9]{1,2})?)?)\s+([A-Z][^.!?]{1,80})$`)
)

// headingOf returns the heading in a single line of text, or "".
func headingOf(line string) string {
	l := strings.TrimSpace(line)
	if len(l) == 0 || len(l) > 90 {
		return ""
	}
	if m := numberedHeadingRE.FindStringSubmatch(l); m != nil {
		rest := m[1]
		if isInitial(l) && len(strings.Fields(rest)) < 2 && ClassifySection(rest) == SectionOther {
			return "" // "A. Author": an initial, not appendix A
		}
		// "3 We train ..." is a sentence, not a heading: headings are short and mostly capitalised words.
		if len(strings.Fields(rest)) <= 8 && !strings.HasSuffix(rest, ",") && capitalisedShare(rest) >= 0.5 {
			return l
		}
		if ClassifySection(rest) != SectionOther && len(strings.Fields(rest)) <= 6 {
			return l
		}
		return ""
	}
	bare := strings.Trim(l, " .:")
	if len(strings.Fields(bare)) <= 4 {
		if k := ClassifySection(bare); k != SectionOther && exactSectionName(bare) {
			return l
		}
	}
	return ""
}

// exactSectionName reports whether s (a bare line) is just a section name, e.g. "Related Work",
// "EXPERIMENTS", "Acknowledgements" — not "Data were collected" or "Model".
func exactSectionName(s string) bool {
	low := strings.ToLower(s)
	for _, sw := range sectionWords {
		for _, w := range sw.words {
			if low == w {
				// Single generic words must be capitalised as a heading would be.
				return s[0] >= 'A' && s[0] <= 'Z'
			}
		}
	}
	switch low {
	case "experiments and results", "experimental setup", "experimental results", "results and discussion",
		"materials and methods", "methods and materials", "conclusion and future work", "conclusions and future work",
		"implementation details", "training details", "related work and background", "broader impact", "ethics statement":
		return true
	}
	return false
}

func capitalisedShare(s string) float64 {
	words := strings.Fields(s)
	if len(words) == 0 {
		return 0
	}
	small := map[string]bool{"a": true, "an": true, "the": true, "of": true, "on": true, "and": true, "for": true,
		"in": true, "with": true, "to": true, "from": true, "vs": true, "via": true, "by": true, "at": true}
	n, caps := 0, 0
	for _, w := range words {
		if small[strings.ToLower(w)] {
			continue
		}
		n++
		if c := w[0]; c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			caps++
		}
	}
	if n == 0 {
		return 0
	}
	return float64(caps) / float64(n)
}

// isInitial reports a line starting with a single capital and a period ("A. Author").
func isInitial(l string) bool {
	return len(l) > 2 && l[0] >= 'A' && l[0] <= 'Z' && l[1] == '.' && (l[2] == ' ' || l[2] >= 'A' && l[2] <= 'Z')
}
