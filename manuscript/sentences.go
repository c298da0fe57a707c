package manuscript

import "strings"

// Span is a byte range [Start, End) of a block's text.
type Span struct{ Start, End int }

var abbreviations = map[string]bool{
	"e.g": true, "i.e": true, "al": true, "fig": true, "figs": true, "sec": true, "secs": true, "eq": true,
	"eqs": true, "vs": true, "cf": true, "tab": true, "no": true, "resp": true, "approx": true, "ref": true,
	"refs": true, "dr": true, "prof": true, "mr": true, "ms": true, "st": true, "vol": true, "pp": true,
	"ch": true, "chap": true, "appx": true, "app": true, "table": false,
}

// Sentences splits text into sentence spans. A sentence ends at '.', '!' or '?' followed by space
// and an upper-case letter, digit, bracket or quote — not after "et al.", "e.g.", "Fig." and the like.
func Sentences(text string) []Span {
	var out []Span
	start := 0
	n := len(text)
	for i := 0; i < n; i++ {
		c := text[i]
		if c != '.' && c != '!' && c != '?' {
			continue
		}
		j := i + 1
		for j < n && (text[j] == '"' || text[j] == '\'' || text[j] == ')') {
			j++
		}
		if j >= n {
			break
		}
		if text[j] != ' ' && text[j] != '\n' && text[j] != '\t' {
			continue
		}
		k := j
		for k < n && (text[k] == ' ' || text[k] == '\n' || text[k] == '\t') {
			k++
		}
		if k >= n {
			break
		}
		next := text[k]
		if !(next >= 'A' && next <= 'Z' || next >= '0' && next <= '9' || next == '[' || next == '(' || next == '"' || next >= 0x80) {
			continue
		}
		if c == '.' {
			w := lastWord(text[start:i])
			if abbreviations[strings.ToLower(w)] || (len(w) == 1 && w[0] >= 'A' && w[0] <= 'Z') {
				continue
			}
		}
		if s := trimSpan(text, start, j); s.End > s.Start {
			out = append(out, s)
		}
		start = k
		i = k - 1
	}
	if s := trimSpan(text, start, n); s.End > s.Start {
		out = append(out, s)
	}
	return out
}

func lastWord(s string) string {
	i := len(s)
	for i > 0 && s[i-1] != ' ' && s[i-1] != '\n' && s[i-1] != '(' && s[i-1] != '\t' {
		i--
	}
	return s[i:]
}

func trimSpan(text string, a, b int) Span {
	for a < b && (text[a] == ' ' || text[a] == '\n' || text[a] == '\t') {
		a++
	}
	for b > a && (text[b-1] == ' ' || text[b-1] == '\n' || text[b-1] == '\t') {
		b--
	}
	return Span{a, b}
}

// SentenceAt returns the span of the sentence containing byte offset off.
func SentenceAt(spans []Span, off int) Span {
	for _, s := range spans {
		if off >= s.Start && off < s.End {
			return s
		}
	}
	for _, s := range spans {
		if off < s.Start {
			return s
		}
	}
	if len(spans) > 0 {
		return spans[len(spans)-1]
	}
	return Span{}
}
