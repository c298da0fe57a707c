package extract

import (
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/afterlife-watch/afterlife/artifact"
)

// checkAgainstRef compares ScanLine with the reference scanner on one line. What the caller does
// with the answer is skip the line (ok and not may) or decode it; both scanners must take the same
// decision, except that the new one also decodes a paper whose glue word follows an escape
// ("\nonDukeMTMC": rawGlue), which the reference missed. (Which of "may" or "not ok" a line that
// is to be decoded gets can differ: the two-chain scanner may meet a bad byte in the second half
// before a name in the first.) It returns whether the decisions differed.
func checkAgainstRef(t *testing.T, m *Matcher, l []byte) bool {
	t.Helper()
	may, ok := m.ScanLine(l)
	rmay, rok := m.scanLineRef(l)
	skip, rskip := ok && !may, rok && !rmay
	if skip == rskip {
		return false
	}
	if skip || !rawGlue(l) || jsonField(l, "kind") != artifact.KindPaper {
		t.Fatalf("skip %v (may %v ok %v), reference skip %v (may %v ok %v): %.300q", skip, may, ok, rskip, rmay, rok, l)
	}
	return true
}

// scanCorpora are the committed corpora the scanner tests read line by line.
var scanCorpora = []string{"testdata/dev.jsonl", "testdata/heldout.jsonl", "testdata/heldout2.jsonl", "testdata/heldout3.jsonl",
	"testdata/bench_corpus.jsonl", "testdata/real/indexed.jsonl"}

// TestScanLineAgainstReference: the two-chain scanner gives the reference scanner's answers on
// every line of the test corpora (as written, re-encoded by Go, and with line breaks as escapes
// next to every name) and on generated lines, long ones (split in two halves) with names, escapes
// and separators placed around the split point, and broken ones.
func TestScanLineAgainstReference(t *testing.T) {
	m := testMatcher(t)
	var arts []artifact.Artifact
	lines := corpusLines(t, scanCorpora...)
	for _, line := range lines {
		checkAgainstRef(t, m, line)
		a, enc := goEncodings(t, line)
		arts = append(arts, a)
		for _, b := range enc {
			checkAgainstRef(t, m, b)
		}
	}
	if len(lines) < 500 {
		t.Fatalf("only %d corpus lines", len(lines))
	}
	// Generated lines: pieces of names (every pattern's registry spelling), separators, escapes
	// and filler, long enough to be split.
	var names []string
	for _, ts := range m.c.targets {
		names = append(names, ts[0].alias)
	}
	pieces := []string{" ", "  ", "-", "_", "\n", "\t", "é", "→", "\"", "\\", "/", "and", "on", "the", "A", "x", "1", " of", "MS", "Celeb", "1M"}
	filler := strings.Repeat("lorem ipsum dolor sit amet ", 12)
	kinds := []string{"paper", "model", "repository", "page", "torrent"}
	r := rand.New(rand.NewPCG(3, 4))
	hits, diffs := 0, 0
	for iter := 0; iter < 20000; iter++ {
		var sb strings.Builder
		if r.IntN(2) == 0 {
			sb.WriteString(filler[:r.IntN(len(filler))])
		}
		few := r.IntN(2) == 0 // mostly filler: the name, if any, lands in one half
		for k := r.IntN(40); k >= 0; k-- {
			switch r.IntN(4) {
			case 0:
				if few && r.IntN(8) != 0 {
					sb.WriteString(filler[:r.IntN(60)])
					continue
				}
				sb.WriteString(names[r.IntN(len(names))])
			case 1:
				sb.WriteString(filler[:r.IntN(60)])
			default:
				sb.WriteString(pieces[r.IntN(len(pieces))])
			}
		}
		a := artifact.Artifact{ID: "gen", Source: "web", Kind: kinds[r.IntN(len(kinds))], Title: "t", Text: sb.String()}
		if r.IntN(4) == 0 && len(arts) > 0 {
			a = arts[r.IntN(len(arts))]
			a.Text = filler + a.Text + filler // a corpus text, split elsewhere
		}
		b, _ := json.Marshal(a)
		if may, _ := m.ScanLine(b); may {
			hits++
		}
		if checkAgainstRef(t, m, b) {
			diffs++
		}
		// Broken lines: a byte replaced by a quote, a backslash, a control character or a brace.
		if len(b) > 2 {
			c := append([]byte{}, b...)
			c[1+r.IntN(len(c)-2)] = []byte{'"', '\\', 0x01, '{', '}', 'u', ' '}[r.IntN(7)]
			checkAgainstRef(t, m, c)
			checkAgainstRef(t, m, c[:r.IntN(len(c))])
		}
	}
	if hits < 1000 || hits > 19000 {
		t.Errorf("generated lines: %d of 20000 may match; the generator does not exercise both answers", hits)
	}
	t.Logf("generated: %d may match, %d more than the reference (glue after an escape)", hits, diffs)
}

// TestScanLinePartsAtEveryOffset: a name placed at every offset of long texts (so across every
// cut between the parts scanned at once, and at the end), written with separator runs and escapes,
// after a prefix of a name that a part must carry past its end, is found as the reference finds it.
func TestScanLinePartsAtEveryOffset(t *testing.T) {
	m := testMatcher(t)
	// "laion", "tiny" and "the" begin names ("laion 5b", "tiny images", "the pile") but are none
	filler := strings.Repeat("lorem ipsum laion dolor tiny sit amet, the ", 80)
	names := []string{"LAION-5B", "laion  -  \n\n5b", "ms celeb 1m", "MS1MV2", "\\u004dS1MV2", "Tiny Images", "the   Pile", "megaface 2",
		// escaped quotes and backslashes at every offset (also where a run or a part stops)
		`"MS1MV2" \ "laion" 5b\`, `\"`,
		// separator runs longer than a part's margin: a part carries the pending name to the end
		"laion" + strings.Repeat(" ", 600) + "5b", "laion" + strings.Repeat("\n", 300) + "5b"}
	for _, size := range []int{300, 700, 1100, 2100} {
		for _, name := range names {
			found := 0
			for p := 0; p <= size; p++ {
				text := filler[:p] + name + filler[p:size]
				b, _ := json.Marshal(artifact.Artifact{ID: "x", Source: "web", Kind: "page", Title: "t", Text: text})
				if strings.HasPrefix(name, "\\u") { // written as an escape in the line itself
					b = []byte(strings.Replace(string(b), strings.ReplaceAll(name, "\\", "\\\\"), name, 1))
				}
				if may, _ := m.ScanLine(b); may {
					found++
				}
				checkAgainstRef(t, m, b)
			}
			if found == 0 && name != `\"` {
				t.Errorf("%q never found in %d-byte texts", name, size)
			}
		}
	}
}

// TestScanScoredOnlyNeverHidesAScoredFinding: with ScanScoredOnly, a line the prefilter skips has
// no scored finding (what `match --scored-only` keeps), it skips every line the plain prefilter
// skips, and it does skip lines that name only context entries.
func TestScanScoredOnlyNeverHidesAScoredFinding(t *testing.T) {
	plain := testMatcher(t)
	m := testMatcher(t, ScanScoredOnly())
	lines := corpusLines(t, scanCorpora...)
	// Every pattern's spelling alone, after a training sentence, in every kind of artifact.
	for p, ts := range m.c.targets {
		for _, kind := range []string{"paper", "model", "repository", "torrent", "dataset"} {
			for _, text := range []string{"We train on " + ts[0].alias + ".", "Trained on " + m.c.patterns[p] + " and evaluated."} {
				b, _ := json.Marshal(artifact.Artifact{ID: "x", Source: "web", Kind: kind, Title: ts[0].alias, Text: text,
					Files: []artifact.File{{Path: ts[0].alias}}, Published: "2023-01-01"})
				lines = append(lines, b)
			}
		}
	}
	skipped, more := 0, 0
	for _, l := range lines {
		may, ok := m.ScanLine(l)
		pmay, pok := plain.ScanLine(l)
		if pok && !pmay && !(ok && !may) {
			t.Fatalf("the plain prefilter skips a line the scored one keeps: %.200q", l)
		}
		if !ok || may {
			continue
		}
		skipped++
		if pmay {
			more++
		}
		a, err := artifact.ParseLine(l)
		if err != nil {
			t.Fatalf("skipped an invalid line: %v", err)
		}
		for _, f := range m.Match(&a) {
			if f.Relation.Scored() != "" && !f.Context {
				t.Fatalf("skipped a line with the scored finding %+v: %.200q", f, l)
			}
		}
	}
	if more == 0 {
		t.Errorf("the scored prefilter skipped no line the plain one keeps (%d skipped)", skipped)
	}
	t.Logf("%d lines, %d skipped, %d of them only by the scored prefilter", len(lines), skipped, more)
}
