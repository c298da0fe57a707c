package configs

import (
	"regexp/syntax"
	"slices"
	"strings"
	"unicode/utf8"
)

// Required literals: a pre-check derived from a pattern itself, the way RE2's prefilter and code
// search's trigram index do it. requiredLiterals returns strings such that every match of the
// pattern contains at least one of them (nil when no such set was found: the pattern can match
// text without any fixed string in it, or the analysis gave up). A cue checks it after its
// reviewed gate and before the regexp, so it can only skip a regexp that would not have matched:
// the result of MatchString never changes, only its cost. Hand gates stay the reviewed pre-check
// (and catch a wrong pattern edit); the derived set is usually sharper, because a gate literal
// like "." or "train" must cover every branch while the derived set lists each branch's own
// literal (".pth", ".ckpt", "releases/download", …).

const (
	maxExact    = 64 // largest set of exact strings tracked for a sub-expression
	maxRequired = 64 // largest required set worth checking (each is a strings.Contains, ~20-50 ns on a clause)
)

// litInfo is what the analysis knows about a sub-expression: exact lists every string it can
// match (small, finite languages: "pre-?train(s|ed)?"), otherwise need lists strings one of which
// every match contains; neither means nothing is known.
type litInfo struct {
	exact   []string
	isExact bool
	need    []string // nil: no constraint
}

func anyInfo() litInfo              { return litInfo{} }
func exactInfo(s ...string) litInfo { return litInfo{exact: s, isExact: true} }

// required turns what is known into a required set: exact strings are each a match, so one of
// them is in every match; a set holding "" constrains nothing.
func (li litInfo) required() []string {
	if li.isExact {
		return prune(li.exact)
	}
	return li.need
}

func requiredLiterals(pattern string) []string {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return nil
	}
	need := analyse(re.Simplify()).required()
	if len(need) == 0 || len(need) > maxRequired {
		return nil
	}
	return need
}

func analyse(re *syntax.Regexp) litInfo {
	switch re.Op {
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText, syntax.OpEndText,
		syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return exactInfo("")
	case syntax.OpLiteral:
		if re.Flags&syntax.FoldCase != 0 || slices.Contains(re.Rune, utf8.RuneError) {
			// (?i): the text's case is not known here; U+FFFD also matches an invalid byte, which
			// strings.Contains would not find
			return anyInfo()
		}
		return exactInfo(string(re.Rune))
	case syntax.OpCharClass:
		return classInfo(re)
	case syntax.OpCapture:
		return analyse(re.Sub[0])
	case syntax.OpQuest:
		sub := analyse(re.Sub[0])
		if sub.isExact && len(sub.exact) < maxExact {
			return exactInfo(append(slices.Clone(sub.exact), "")...)
		}
		return anyInfo()
	case syntax.OpPlus:
		return litInfo{need: analyse(re.Sub[0]).required()}
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return litInfo{need: analyse(re.Sub[0]).required()}
		}
		return anyInfo()
	case syntax.OpConcat:
		return concatInfo(re.Sub)
	case syntax.OpAlternate:
		return alternateInfo(re.Sub)
	}
	return anyInfo() // OpAnyChar, OpAnyCharNotNL, OpStar, OpNoMatch
}

// classInfo: a small class without case folding is a set of one-character strings ("[-_ ]").
func classInfo(re *syntax.Regexp) litInfo {
	if re.Flags&syntax.FoldCase != 0 {
		return anyInfo()
	}
	var out []string
	for i := 0; i+1 < len(re.Rune); i += 2 {
		lo, hi := re.Rune[i], re.Rune[i+1]
		if hi-lo >= 8 || len(out)+int(hi-lo)+1 > 8 {
			return anyInfo()
		}
		for r := lo; r <= hi; r++ {
			if !utf8.ValidRune(r) || r == utf8.RuneError {
				return anyInfo()
			}
			out = append(out, string(r))
		}
	}
	return exactInfo(out...)
}

// concatInfo: runs of exact parts multiply into exact strings while the product stays small; the
// whole needs what any one part needs (every match of a concatenation contains a match of each
// part), so the most selective candidate is kept: a run, or a part alone where a run grew too big.
func concatInfo(subs []*syntax.Regexp) litInfo {
	cur := exactInfo("")
	var best []string
	allExact := true
	consider := func(need []string) {
		if len(need) > 0 && better(need, best) {
			best = need
		}
	}
	for _, s := range subs {
		li := analyse(s)
		if li.isExact {
			consider(prune(li.exact))
		}
		if li.isExact && cur.isExact && len(cur.exact)*len(li.exact) <= maxExact {
			cur = exactInfo(cross(cur.exact, li.exact)...)
			consider(prune(cur.exact))
			continue
		}
		allExact = false
		if li.isExact {
			cur = li
		} else {
			consider(li.need)
			cur = exactInfo("")
		}
	}
	if allExact {
		return cur
	}
	return litInfo{need: best}
}

// alternateInfo: every match is a match of one branch, so the union of the branches' sets works
// when every branch has one.
func alternateInfo(subs []*syntax.Regexp) litInfo {
	var exact, need []string
	allExact := true
	for _, s := range subs {
		li := analyse(s)
		if allExact && li.isExact && len(exact)+len(li.exact) <= maxExact {
			exact = append(exact, li.exact...)
			need = append(need, li.exact...)
			continue
		}
		allExact = false
		r := li.required()
		if len(r) == 0 {
			return anyInfo()
		}
		need = append(need, r...)
	}
	if allExact {
		return exactInfo(exact...)
	}
	need = prune(need)
	if len(need) == 0 {
		return anyInfo()
	}
	return litInfo{need: need}
}

func cross(a, b []string) []string {
	out := make([]string, 0, len(a)*len(b))
	for _, x := range a {
		for _, y := range b {
			out = append(out, x+y)
		}
	}
	return out
}

// prune drops strings that contain another one of the set (finding the shorter one is implied)
// and duplicates; a set holding "" constrains nothing (nil).
func prune(set []string) []string {
	s := slices.Clone(set)
	slices.SortFunc(s, func(a, b string) int { return len(a) - len(b) })
	var out []string
	for _, x := range s {
		if x == "" {
			return nil
		}
		if !slices.ContainsFunc(out, func(y string) bool { return strings.Contains(x, y) }) {
			out = append(out, x)
		}
	}
	return out
}

// better prefers a set whose shortest string is longer (rarer in text: "is part of " over " of "),
// then a smaller set (fewer strings.Contains).
func better(a, b []string) bool {
	if len(b) == 0 {
		return true
	}
	ma, mb := minLen(a), minLen(b)
	if ma != mb {
		return ma > mb
	}
	return len(a) < len(b)
}

func minLen(s []string) int {
	m := -1
	for _, x := range s {
		if m < 0 || len(x) < m {
			m = len(x)
		}
	}
	return m
}
