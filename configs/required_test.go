package configs

import (
	"bufio"
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestRequiredLiterals(t *testing.T) {
	for _, c := range []struct {
		pattern string
		want    []string // nil: no constraint
	}{
		{`\.(pth|pt|ckpt)\b|releases/download|weights\b`, []string{".pt", "weights", ".ckpt", "releases/download"}},
		{`\bpre-?train(s|ed)?\b`, []string{"pretrain", "pre-train"}},
		{`\b(train|fine-?tun(e|ed))\b on`, []string{"train on", "finetune on", "finetuned on", "fine-tune on", "fine-tuned on"}},
		// a part with \w+ or .* in it: the most selective other part
		{`\bbased on \w+ (data|corpus)`, []string{"based on "}},
		// a branch with nothing fixed in it: no constraint
		{`\b(mirror|\w+ed copy|[a-z]+)\b`, nil},
		{`(foo)?bar|baz`, []string{"bar", "baz"}},
		{`x*`, nil},
		{`(?i)weights`, nil}, // the text's case is not known
		{`[-_ ]model`, []string{" model", "-model", "_model"}},
		{`(ab)+c`, []string{"ab"}},
		{`^$`, nil},
		{"a\uFFFDb|c", nil}, // U+FFFD matches an invalid byte too
	} {
		got := requiredLiterals(c.pattern)
		slices.Sort(got)
		want := slices.Clone(c.want)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s: got %q, want %q", c.pattern, got, want)
		}
	}
}

// Soundness on material nobody here wrote: every match of every cue and prose lineage rule in the
// real corpus texts (public READMEs, cards and abstracts, extract/testdata/real) contains one of
// the literals derived from its pattern. A wrong derivation would make MatchString skip a match.
func TestRequiredLiteralsHoldOnRealTexts(t *testing.T) {
	r, err := LoadRelations("")
	if err != nil {
		t.Fatal(err)
	}
	texts := realTexts(t)
	type rule struct {
		name string
		re   *regexp.Regexp
		need []string
	}
	var rules []rule
	for n, c := range r.Cues {
		rules = append(rules, rule{n, c.re, c.need})
	}
	for i := range r.LineageProse {
		l := r.LineageProse[i]
		rules = append(rules, rule{"lineage_prose/" + l.Dataset, l.re, l.need})
	}
	derived, matches := 0, 0
	for _, ru := range rules {
		if ru.need == nil {
			continue
		}
		derived++
		for _, s := range texts {
			for _, m := range ru.re.FindAllString(s, -1) {
				matches++
				if !containsAny(m, ru.need) {
					t.Errorf("%s: match %q contains none of %q", ru.name, m, ru.need)
				}
			}
		}
	}
	if derived < len(rules)/2 || matches < 1000 {
		t.Errorf("only %d of %d rules have a derived set, %d matches checked", derived, len(rules), matches)
	}
	t.Logf("%d of %d rules have a derived set; %d matches in %d texts checked", derived, len(rules), matches, len(texts))
}

func realTexts(t *testing.T) []string {
	t.Helper()
	f, err := os.Open("../extract/testdata/real/indexed.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<24)
	var out []string
	for sc.Scan() {
		var a struct{ Title, Text string }
		if err := json.Unmarshal(sc.Bytes(), &a); err != nil {
			t.Fatal(err)
		}
		low := strings.ToLower(a.Title + "\n" + a.Text)
		out = append(out, low)
		out = append(out, strings.Split(low, "\n")...) // line-anchored patterns see each line alone
	}
	if len(out) < 500 {
		t.Fatalf("only %d texts", len(out))
	}
	return out
}
