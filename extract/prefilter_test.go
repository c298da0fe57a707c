package extract

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/afterlife-watch/afterlife/artifact"
)

// TestScanLineNeverHidesAFinding: whenever the prefilter says a line cannot match, decoding and
// matching it gives no finding and the line is valid.
func TestScanLineNeverHidesAFinding(t *testing.T) {
	m := testMatcher(t)
	var lines [][]byte
	for _, line := range corpusLines(t, "testdata/dev.jsonl", "testdata/heldout.jsonl", "testdata/heldout2.jsonl") {
		_, enc := goEncodings(t, line)
		lines = append(append(lines, line), enc...)
	}
	lines = append(lines,
		[]byte(`{"id":"x","source":"web","kind":"page","title":"t","text":"clean text about cats"}`),
		[]byte(`{"id":"x","source":"web","kind":"page","title":"t","text":"We train on \u004dS1MV2."}`),
		// names glued to a short word (papers), to an escaped arrow, and to CJK text
		[]byte(`{"id":"arxiv:1","source":"arxiv","kind":"paper","title":"t","text":"We evaluate on MARS andDukeMTMC-VideoReID."}`),
		[]byte(`{"id":"x","source":"web","kind":"page","title":"t","text":"Results: Market\u2192DukeMTMC-reID."}`),
		// a glue word right after an escape: the raw bytes read "nonDukeMTMC", the text "\nonDukeMTMC"
		[]byte(`{"id":"arxiv:2","source":"arxiv","kind":"paper","title":"t","text":"We evaluate on MARS\nonDukeMTMC-VideoReID."}`),
		[]byte(`{"id":"x","source":"github","kind":"repository","title":"t","text":"数据集MS1MV2下载"}`),
		[]byte(`{"id":"x","source":"dht","kind":"torrent","title":"t","files":[{"path":"a.bin","size":243615796224}]}`),
	)
	skipped := 0
	for _, l := range lines {
		may, ok := m.ScanLine(l)
		var a artifact.Artifact
		if err := json.Unmarshal(l, &a); err != nil {
			t.Fatalf("test line invalid: %v", err)
		}
		if !ok {
			t.Errorf("valid line judged not ok: %.80s", l)
			continue
		}
		if !may {
			skipped++
			if fs := m.Match(&a); len(fs) > 0 {
				t.Errorf("prefilter skipped a line with findings %+v: %.100s", fs, l)
			}
		}
	}
	if skipped == 0 {
		t.Error("the prefilter never skipped a line")
	}
	for _, bad := range []string{`{not json`, `{"id":"a","source":"web","kind":"page"`, `{"id":"a","source":"nowhere","kind":"page"}`, `{"id":"a","source":"web","kind":"page","text":"x\`, `garbage`} {
		if _, ok := m.ScanLine([]byte(bad)); ok {
			t.Errorf("bad line judged ok: %s", bad)
		}
	}
}

// corpusLines reads the lines of JSONL corpora, in file order.
func corpusLines(t *testing.T, files ...string) [][]byte {
	t.Helper()
	var lines [][]byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, splitLines(b)...)
	}
	return lines
}

// goEncodings decodes a corpus line and returns the artifact and two encodings of it by Go: as it
// is (escapes differ from Python's), and with every space a line break (escapes next to names).
func goEncodings(t *testing.T, line []byte) (artifact.Artifact, [][]byte) {
	t.Helper()
	var a artifact.Artifact
	if err := json.Unmarshal(line, &a); err != nil {
		t.Fatal(err)
	}
	b1, _ := json.Marshal(a)
	nl := a
	nl.Text = strings.ReplaceAll(a.Text, " ", "\n")
	b2, _ := json.Marshal(nl)
	return a, [][]byte{b1, b2}
}
