package extract

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// TestAutomatonAgainstNaive checks the automaton against the definition: a pattern occurs where
// its normalized form occurs between separators in the normalized text; offsets point at it.
func TestAutomatonAgainstNaive(t *testing.T) {
	patterns := []string{"ms celeb 1m", "ms1m", "celeb", "ms", "laion 5b", "re laion 5b", "a b", "b a b"}
	a := buildAutomaton(patterns)
	r := rand.New(rand.NewPCG(1, 2))
	pieces := []string{"MS", "ms", "-", "_", " ", "Celeb", "1M", "ms1m", "LAION", "5B", "Re", "a", "b", "B", ".", "\n", "é", "x"}
	for iter := 0; iter < 5000; iter++ {
		var sb strings.Builder
		for k := r.IntN(14); k >= 0; k-- {
			sb.WriteString(pieces[r.IntN(len(pieces))])
		}
		s := sb.String()
		hits := a.scan(s, nil)
		got := map[int]int{}
		for _, h := range hits {
			got[int(h.pat)]++
			if normalize(s[h.start:h.end]) != patterns[h.pat] {
				t.Fatalf("%q: hit %q at %d..%d is not %q", s, s[h.start:h.end], h.start, h.end, patterns[h.pat])
			}
			if (h.start > 0 && symOf[s[h.start-1]] != symSep) || (h.end < len(s) && symOf[s[h.end]] != symSep) {
				t.Fatalf("%q: hit %q at %d..%d not on word boundaries", s, s[h.start:h.end], h.start, h.end)
			}
		}
		norm := " " + normalize(s) + " "
		for id, p := range patterns {
			want := 0
			for i := 0; i+len(p)+2 <= len(norm); i++ {
				if norm[i:i+len(p)+2] == " "+p+" " {
					want++
				}
			}
			if got[id] != want {
				t.Fatalf("%q: %q found %d times, want %d", s, p, got[id], want)
			}
		}
	}
}
