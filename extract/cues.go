package extract

import (
	"regexp"
	"strings"
)

// File-name patterns (structure, not relation cues: those live in configs/relations.yaml).
var (
	codeFileRE   = regexp.MustCompile(`(?i)(\.(py|ipynb|ya?ml|json|cfg|ini|toml|sh|md|rst|txt|m|lua|js|ts|go|rs|c|cc|cpp|h|java|r|jl)$|(^|/)(readme|license|makefile|dockerfile)[^/]*$)`)
	weightFileRE = regexp.MustCompile(`(?i)\.(pth|pt|ckpt|safetensors|onnx|h5|pb|tflite|gguf|params|caffemodel|bin|pkl|npz|tar)$`)
)

// clause returns the bounds of the clause around [start, end) in s: a sentence, a table row or a list
// item, at most maxClause bytes each side.
const maxClause = 320

func clause(s string, start, end int) (int, int) {
	lo := start
	for lo > 0 && start-lo < maxClause {
		c := s[lo-1]
		if c == '\n' {
			// a blank line, a table row, a heading or a list item starts a new clause
			if lo-2 < 0 || s[lo-2] == '\n' || isBlockStart(s, lo) || lineStartsBlock(s, lo-1) {
				break
			}
		}
		if (c == '.' || c == '!' || c == '?' || c == ';') && lo < len(s) && (s[lo] == ' ' || s[lo] == '\n') {
			break
		}
		lo--
	}
	hi := end
	for hi < len(s) && hi-end < maxClause {
		c := s[hi]
		if c == '\n' && (hi+1 >= len(s) || s[hi+1] == '\n' || isBlockStart(s, hi+1) || lineStartsBlock(s, hi)) {
			break
		}
		if (c == '.' || c == '!' || c == '?' || c == ';') && (hi+1 >= len(s) || s[hi+1] == ' ' || s[hi+1] == '\n') {
			break
		}
		hi++
	}
	return lo, hi
}

// isBlockStart reports whether the line at off starts a block (table row, heading, list item, fence).
func isBlockStart(s string, off int) bool {
	for off < len(s) && (s[off] == ' ' || s[off] == '\t') {
		off++
	}
	if off >= len(s) {
		return true
	}
	switch s[off] {
	case '|', '#', '-', '*', '>', '`':
		return true
	}
	return off+1 < len(s) && s[off] >= '0' && s[off] <= '9' && (s[off+1] == '.' || s[off+1] == ')')
}

// lineStartsBlock reports whether the line that ends at the newline nl is itself a block line.
func lineStartsBlock(s string, nl int) bool {
	i := strings.LastIndexByte(s[:nl], '\n') + 1
	return isBlockStart(s, i)
}

// stripMarkup lower-cases s, drops emphasis and code marks and folds line breaks and runs of
// white space into one space, so cues see plain words even across a wrapped line ("kept
// away\nfrom VGGFace2").
func stripMarkup(s string) string {
	s = strings.ToLower(s)
	s = markupReplacer.Replace(s)
	if strings.ContainsAny(s, "\n\t\r") || strings.Contains(s, "  ") {
		s = foldSpace(s)
	}
	return s
}

var markupReplacer = strings.NewReplacer("**", "", "__", "", "`", "", "*", "")

// foldSpace replaces every run of white space with one space, keeping a leading and a trailing one.
func foldSpace(s string) string {
	b := make([]byte, 0, len(s))
	sp := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == ' ' || c == '\n' || c == '\t' || c == '\r' {
			if !sp {
				b = append(b, ' ')
			}
			sp = true
			continue
		}
		sp = false
		b = append(b, c)
	}
	return string(b)
}

// lastBytes is the last n bytes of s (all of s when it is shorter): the window of text just before
// an occurrence that a cue reads.
func lastBytes(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// negatedBefore reports a negation cue in the window before an occurrence.
func negatedBefore(before string) bool {
	before = lastBytes(before, 70)
	if rules.notAvail.MatchString(before) {
		before = rules.notAvail.Regexp().ReplaceAllString(before, " ")
	}
	before = strings.ReplaceAll(before, "no longer", " ")
	before = strings.ReplaceAll(before, "not only", " ")
	return rules.negBefore.MatchString(before)
}

// negatedAfter reports a negation cue after an occurrence in its clause.
func negatedAfter(after string) bool {
	if rules.notAvail.MatchString(after) {
		after = rules.notAvail.Regexp().ReplaceAllString(after, " ")
	}
	return rules.negAfter.MatchString(after)
}

// Code shipped in a record: source files, archives named as code, "we release the training code".
var (
	sourceFileRE  = regexp.MustCompile(`\.(py|ipynb|sh|lua|m|c|cc|cpp|cu|h|go|rs|java|jl|r|js|ts)$`)
	codeArchiveRE = regexp.MustCompile(`(^|[^a-z])(code|src|source|scripts)([^a-z]|$).*\.(zip|tar|tar\.gz|tgz|tar\.xz|7z)$`)
)

// Exclusive training on something else ("trained only on LFW", "trained on CASIA-WebFace only"):
// another dataset named in the same clause is not what the artifact was trained on.
var (
	exclBreak = []string{";", ":", ",", " and ", " but ", " while ", " whereas ", " we ", " not ", " no "}
)

// exclusiveTraining reports whether a text states that its training was exclusive to one dataset.
func exclusiveTraining(low string) bool {
	if !strings.Contains(low, "only") && !strings.Contains(low, "exclusive") && !strings.Contains(low, "solely") &&
		!strings.Contains(low, "alone") && !strings.Contains(low, "purely") && !strings.Contains(low, "entirely") {
		return false
	}
	if !strings.Contains(low, "train") && !strings.Contains(low, "learn") && !strings.Contains(low, "fit") &&
		!strings.Contains(low, "built") && !strings.Contains(low, "developed") {
		return false
	}
	return rules.exclOnly.Regexp().MatchString(low) || rules.exclTail.Regexp().MatchString(low)
}

// exclusiveElsewhere reports whether the clause says the training was exclusive to a dataset other
// than the occurrence between before and after.
func exclusiveElsewhere(before, after string) bool {
	if !strings.Contains(before, "only") && !strings.Contains(after, "only") && !strings.Contains(before, "exclusive") &&
		!strings.Contains(after, "exclusive") && !strings.Contains(before, "solely") && !strings.Contains(after, "solely") &&
		!strings.Contains(before, "alone") && !strings.Contains(after, "alone") {
		return false
	}
	if rules.exclOnly.Regexp().MatchString(after) || rules.exclTail.Regexp().MatchString(after) || rules.exclTail.Regexp().MatchString(before) {
		return true
	}
	locs := rules.exclOnly.Regexp().FindAllStringIndex(before, -1)
	if len(locs) == 0 {
		return false
	}
	between := before[locs[len(locs)-1][1]:]
	if len(between) > 40 {
		return true
	}
	for _, b := range exclBreak {
		if strings.Contains(between, b) {
			return true
		}
	}
	return false
}
