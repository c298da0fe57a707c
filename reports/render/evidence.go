package render

import (
	"fmt"
	"sort"
	"strings"

	"github.com/afterlife-watch/afterlife/extract"
)

// Evidence in plain words: a steward reads "the file list contains FaceImageCroppedWithAlignment.tsv,
// a file of the original release", once, not "known-file @ files[0].path" three times. The rule
// and field stay in report.json and sightings.csv (and in each sentence's tooltip in HTML).

// Sentence is one piece of evidence told in words, with the rules it stands for.
type Sentence struct {
	Text string
	// Rules are the matcher's "rule @ field" it says, for reviewers.
	Rules string
}

// evidenceRank orders evidence from the strongest kind of fact to the weakest; a fact said by a
// stronger rule is not said again by a weaker one.
var evidenceRank = map[string]int{
	"infohash": 0, "known-file": 1, "known-model-file": 2, "file-size-fingerprint": 3, "file-size": 4,
	"declared-dataset": 5, "declared-base": 6, "base-model": 7, "lineage-store": 8, "card-model": 9,
	"weights-file-name": 10, "file-name": 11, "code-file-name": 12, "card-name": 13, "card-field": 14,
	"title-model": 15, "title-alias": 16, "text-model": 17, "text-file": 18, "text-alias": 19,
}

func rankOf(rule string) int {
	if r, ok := evidenceRank[strings.TrimSuffix(rule, "-weak")]; ok {
		return r
	}
	return len(evidenceRank)
}

// core is a snippet without its ellipses and spaces, lowercased: two snippets of one match (a
// short and a long excerpt) share it.
func core(s string) string {
	return strings.ToLower(strings.TrimSpace(strings.Trim(strings.TrimSpace(s), "…")))
}

// group is evidence of one kind (rule, part of the artifact, what it names) told in one sentence.
type group struct {
	e        extract.Evidence // the first, strongest
	snippets []string
	cores    []string
	rules    []string
}

// PlainEvidence tells a finding's evidence in sentences, strongest first, each fact once: the
// same excerpt found by two rules (a known file that is also named after the dataset) is said
// once, and evidence of one kind (three file names, two excerpts of the description) is one
// sentence.
func PlainEvidence(ev []extract.Evidence) []Sentence {
	idx := make([]int, len(ev))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return rankOf(ev[idx[a]].Rule) < rankOf(ev[idx[b]].Rule) })
	var gs []*group
	base := func(r string) string { return strings.TrimSuffix(r, "-weak") }
next:
	for _, i := range idx {
		e := ev[i]
		c := core(e.Snippet)
		rule := e.Rule + " @ " + e.Field
		for _, g := range gs { // the same fact, said by another rule or as a longer excerpt
			for _, gc := range g.cores {
				if c == gc || (base(g.e.Rule) == base(e.Rule) && c != "" && (strings.Contains(gc, c) || strings.Contains(c, gc))) {
					if !contains(g.rules, rule) {
						g.rules = append(g.rules, rule)
					}
					continue next
				}
			}
		}
		for _, g := range gs { // more of the same kind
			if base(g.e.Rule) == base(e.Rule) && where(g.e.Field) == where(e.Field) && g.e.Detail == e.Detail {
				g.snippets, g.cores = append(g.snippets, e.Snippet), append(g.cores, c)
				if !contains(g.rules, rule) {
					g.rules = append(g.rules, rule)
				}
				continue next
			}
		}
		gs = append(gs, &group{e: e, snippets: []string{e.Snippet}, cores: []string{c}, rules: []string{rule}})
	}
	out := make([]Sentence, len(gs))
	for i, g := range gs {
		out[i] = Sentence{Text: sentence(g), Rules: strings.Join(g.rules, "; ")}
	}
	return out
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// where says in words which part of the artifact a field is.
func where(field string) string {
	switch {
	case field == "title":
		return "the title"
	case field == "url":
		return "the address"
	case field == "text":
		return "the description"
	case strings.HasPrefix(field, "files["):
		return "the file list"
	case strings.HasPrefix(field, "tags["):
		return "the tags"
	case field == "card.datasets" || field == "card.dataset" || field == "datasets":
		return "the card's list of training data"
	case strings.HasPrefix(field, "card.base_model") || strings.HasPrefix(field, "base_model"):
		return "the card's base model"
	case strings.HasPrefix(field, "card."):
		return "the card's " + strings.TrimPrefix(field, "card.") + " field"
	}
	return field
}

// named says which dataset the evidence names, from its detail ("ms1mv2 → ms-celeb-1m", "alias
// of ms-celeb-1m").
func named(detail string) string {
	switch {
	case detail == "":
		return "the dataset"
	case strings.HasPrefix(detail, "alias of "):
		return strings.TrimPrefix(detail, "alias of ")
	case strings.Contains(detail, " → "):
		parts := strings.Split(detail, " → ")
		return parts[0] + " (from " + parts[len(parts)-1] + ")"
	}
	return detail
}

func quote(s string) string { return "“" + strings.TrimSpace(s) + "”" }

// list names up to 3 items, and how many more there are.
func list(items []string) string {
	if len(items) <= 3 {
		return strings.Join(items, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(items[:3], ", "), len(items)-3)
}

func sentence(g *group) string {
	e := g.e
	if e.Field == "fulltext" {
		// A paper read in full (crawler/fulltext): the detail says the verdict, the section and
		// page, and the PDF; the snippet is the sentence.
		return fmt.Sprintf("the paper's full text, %s: %s", e.Detail, quote(e.Snippet))
	}
	weak := strings.HasSuffix(e.Rule, "-weak")
	rule := strings.TrimSuffix(e.Rule, "-weak")
	n := len(g.snippets)
	w := where(e.Field)
	verb := "names"
	if strings.HasSuffix(w, "tags") {
		verb = "name"
	}
	var s string
	switch rule {
	case "infohash":
		s = fmt.Sprintf("its info-hash %s is %s", e.Snippet, strings.Replace(e.Detail, "known info-hash of", "a known torrent of", 1))
	case "known-file":
		s = fmt.Sprintf("the file list contains %s, a file of the original release", list(g.snippets))
		if n > 1 {
			s = fmt.Sprintf("the file list contains %s, files of the original release", list(g.snippets))
		}
	case "known-model-file":
		s = fmt.Sprintf("the file list contains %s: %s", list(g.snippets), e.Detail)
	case "file-size-fingerprint", "file-size":
		s = fmt.Sprintf("a file of exactly %s bytes", e.Snippet)
		if e.Detail != "" {
			s += ": " + e.Detail
		}
	case "declared-dataset", "declared-base":
		s = fmt.Sprintf("%s %s %s as training data", w, verb, named(e.Detail))
		if w == "the card's list of training data" {
			s = fmt.Sprintf("the card lists %s as training data", named(e.Detail))
		}
	case "base-model", "lineage-store":
		s = fmt.Sprintf("it is built on a model trained on it (%s)", e.Detail)
	case "weights-file-name", "file-name", "code-file-name":
		what := "a file is"
		if n > 1 {
			what = "files are"
		}
		s = fmt.Sprintf("%s named after %s: %s", what, named(e.Detail), list(g.snippets))
	default:
		s = fmt.Sprintf("%s %s %s", w, verb, named(e.Detail))
		if e.Snippet != "" {
			s += ": " + quote(e.Snippet)
		}
		switch {
		case n == 2:
			s += " (and once more)"
		case n > 2:
			s += fmt.Sprintf(" (and %d more times)", n-1)
		}
	}
	if weak {
		s += " (a weak sign on its own)"
	}
	return s
}

// plainEvidenceText is PlainEvidence in one line, for Markdown and feeds.
func plainEvidenceText(ev []extract.Evidence) string {
	ss := PlainEvidence(ev)
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = s.Text
	}
	return strings.Join(parts, "; ")
}

// ConfidenceWord says what a confidence means, in the words the report's legend uses.
func ConfidenceWord(c float64) string {
	switch {
	case c >= 0.9:
		return "strong"
	case c >= 0.6:
		return "likely"
	}
	return "weak"
}
