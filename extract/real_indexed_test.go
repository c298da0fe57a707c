package extract

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"testing"

	"github.com/afterlife-watch/afterlife/artifact"
	"github.com/afterlife-watch/afterlife/configs"
)

// testdata/real/indexed.jsonl is the part of the real-text corpus that is committed with its texts:
// the records whose text was found again, byte for byte (or with LF line endings where the index
// serves the file with LF), in the public file index read with the session's read_file tool
// (provenance.index: repository, path, commit, read_file id, sha256 of the committed text). The
// other records' texts came only from fetched snapshots and stay out of commits (README.md here).
// So these tests run on every clean clone; the full-corpus tests (real_eval_test.go) need the
// local texts.

type indexedProvenance struct {
	Index struct {
		Tool        string `json:"tool"`
		Repository  string `json:"repository"`
		Path        string `json:"path"`
		Commit      string `json:"commit"`
		ReadFileID  string `json:"read_file_id"`
		LineEndings string `json:"line_endings"`
		SHA256      string `json:"sha256"`
	} `json:"index"`
}

// loadIndexed reads indexed.jsonl, checks each record against labels.jsonl (same id, split and
// labels) and its text against the index hash, and returns the records of split.
func loadIndexed(t *testing.T, split string) []artifact.Artifact {
	t.Helper()
	const file = "testdata/real/indexed.jsonl"
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%s: %v (it is committed)", file, err)
	}
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	arts, err := artifact.ReadAll(f, file)
	if err != nil {
		t.Fatal(err)
	}
	labels := map[string]realLabel{}
	for _, l := range readRealLabels(t) {
		labels[l.ID] = l
	}
	// The provenance and split fields are not part of the interchange format: read them again.
	type extra struct {
		ID         string            `json:"id"`
		Split      string            `json:"split"`
		Provenance indexedProvenance `json:"provenance"`
	}
	var extras []extra
	for _, line := range splitLines(raw) {
		var e extra
		if err := json.Unmarshal(line, &e); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		extras = append(extras, e)
	}
	if len(extras) != len(arts) {
		t.Fatalf("%s: %d lines, %d records", file, len(extras), len(arts))
	}
	var out []artifact.Artifact
	for i, a := range arts {
		e := extras[i]
		l, ok := labels[a.ID]
		if !ok || e.ID != a.ID || e.Split != l.Split {
			t.Fatalf("%s: %s is not a %s record of labels.jsonl", file, a.ID, e.Split)
		}
		if len(a.Expect) != len(l.Expect) {
			t.Fatalf("%s: labels of %s differ from labels.jsonl", file, a.ID)
		}
		p := e.Provenance.Index
		sum := sha256.Sum256([]byte(a.Text))
		if p.Tool != "read_file" || p.Repository == "" || p.Path == "" || len(p.Commit) != 40 || p.ReadFileID == "" ||
			hex.EncodeToString(sum[:]) != p.SHA256 {
			t.Fatalf("%s: %s: index provenance incomplete or text does not match its hash: %+v", file, a.ID, p)
		}
		if e.Split == split {
			out = append(out, a)
		}
	}
	return out
}

func splitLines(b []byte) [][]byte {
	var out [][]byte
	for len(b) > 0 {
		i := 0
		for i < len(b) && b[i] != '\n' {
			i++
		}
		if i > 0 {
			out = append(out, b[:i])
		}
		if i == len(b) {
			break
		}
		b = b[i+1:]
	}
	return out
}

func indexedScores(t *testing.T, split string) (*Score, *Score) {
	t.Helper()
	reg, err := configs.LoadRegistry("")
	if err != nil {
		t.Fatal(err)
	}
	arts := loadIndexed(t, split)
	if len(arts) < 90 {
		t.Fatalf("%d indexed %s records, want at least 90", len(arts), split)
	}
	m := New(reg)
	sc, base := Evaluate("matcher", arts, reg, m.Match), Evaluate("baseline", arts, reg, NewBaseline(reg).Match)
	t.Logf("indexed %s (%d): P=%.2f R=%.2f F1=%.2f | dataset level P=%.2f R=%.2f | data F1=%.2f model F1=%.2f uses F1=%.2f | baseline F1=%.2f",
		split, sc.N, sc.Overall.Precision, sc.Overall.Recall, sc.Overall.F1, sc.Dataset.Precision, sc.Dataset.Recall,
		sc.ByClass["data"].F1, sc.ByClass["model"].F1, sc.ByClass["uses"].F1, base.Overall.F1)
	return sc, base
}

// TestEvalRealIndexedTest scores the committed part of the held-out test split. Floors are the
// numbers measured when it was committed, rounded down: a regression guard that runs on every
// clean clone, not a new estimate (the full test split is the estimate). Round 6 corrected two
// test labels after a blind re-annotation (testdata/real/README.md), which lowered recall, data
// and model; the floors follow the corrected labels.
func TestEvalRealIndexedTest(t *testing.T) {
	sc, base := indexedScores(t, "test")
	checkFloors(t, "indexed test", sc, base, floors{p: 0.82, r: 0.81, f1: 0.82, data: 0.86, model: 0.82, uses: 0.79, overBaseline: 0.33, dataset: 0.89})
}

// TestEvalRealIndexedDev scores the committed part of the dev split (tuned on): the 101 records of
// the original corpus, the 62 round-4 records and the 86 round-5 records taken from the index
// directly (provenance.round). The round-5 records were chosen where the matcher is weakest (uses
// in prose, weights, close negatives) and pulled every dev number down (to P 0.82 / R 0.85 / F1
// 0.84); the round-5 rules (rules_r5.go, branch r5-rules2) were tuned on their errors and raised
// dev to P 0.95 / R 0.94 / F1 0.94. Round 6 (face) added 45 dev records drawn like the original
// corpus (face-recognition, re-ID, OOD, tracking and ViT READMEs/docs and pasted abstracts): with
// them, on the rules of main, dev (294) is P 0.94 / R 0.92 / F1 0.93 (data 0.93, model 0.94, uses
// 0.92, dataset level 0.97); the round-6 rules (rules_r6_face.go) were tuned on their errors and
// raised dev (294) to P 0.95 / R 0.94 / F1 0.94 (data 0.95, model 0.95, uses 0.93, dataset level
// 0.99). A second round-6 batch of 11 dev records (provenance.batch 2), scored first on the round-6
// rules, pulled dev (305) to P 0.92 / R 0.92 / F1 0.92; floors lowered to that for the added
// records only; the batch-2 rules (data-download sections, links introduced as the trained model,
// DeiT and "with/without pre-training on ImageNet-21k" lineage, likeness comparisons, "train" as a
// data split in paths) raised dev (305) to P 0.95 / R 0.94 / F1 0.95 (data 0.95, model 0.95, uses
// 0.93, dataset level 0.99). The floors are the numbers rounded down: a regression guard on text the rules were tuned
// on, not an estimate (docs/detection.md, "Real texts").
// Round 6 (gen) added 58 dev records (mostly model cards, where the alias baseline does well; two
// copies no alias names: BLIP's "LAION115M" json files, a Datasette copy of improved_aesthetics_6plus;
// LAION's own pointer list read as a LAION-400M use); with them and the round-6 rules dev is
// P 0.95 / R 0.94 / F1 0.94, data 0.93, uses 0.91, dataset level 0.98 (0.976), 0.46 over the
// baseline, so four floors were lowered for that record set (data 0.95 → 0.92, uses 0.92 → 0.91,
// over baseline 0.48 → 0.45, dataset level 0.98 → 0.97); the 249 earlier records score as before.
// Round 6 (ghgen) added 37 dev records (GitHub READMEs and docs in the generative domain; first run
// F1 0.68). All three round-6 record sets and rules together, dev (400): P 0.95 / R 0.94 / F1 0.95,
// data 0.94, model 0.96, uses 0.93, dataset level 0.98, 0.49 over the baseline; floors rounded down.
// Round 7 added 71 dev records drawn like the test split, labels frozen before scoring (first run
// P 0.88 / R 0.71 / F1 0.78); dev (471) on the same rules: P 0.95 / R 0.91 / F1 0.93, model 0.95,
// uses 0.90, dataset level 0.96, 0.44 over the baseline. Six floors were lowered for that record set
// (harder records, no rule changed); the 400 earlier records score as before. With the round-7
// benchmark-list rule (rules_r7.go): P 0.95 / R 0.92 / F1 0.93, uses 0.91 (3 more true triples, all
// in round 7; the 400 earlier records unchanged).
// Round 8 added 49 blind dev records (labels frozen before scoring; first run P 0.89 / R 0.82 /
// F1 0.85); dev (520) with the round-8 eval cue ("91.3% on … Megaface"): P 0.94 / R 0.92 / F1 0.93,
// data 0.937, model 0.930, 0.42 over the baseline. Three floors were lowered for that record set
// (harder records; the 471 earlier records score as before). With the round-8 SD bare-version rule
// (rules_r8.go): model 0.936, 2 more true triples (both in round 8); with the zoo-row rule: model
// 0.942, 2 more (CVLface's board, round 8).
// Round 9 added 40 blind dev records drawn to the test split's mix (18 cards, 22 GitHub READMEs/docs;
// labels frozen in 2229744 before scoring; first run P 0.73 / R 0.76 / F1 0.75); dev (560) on the
// same rules: P 0.930 / R 0.917 / F1 0.924, data 0.94, model 0.93, uses 0.91, dataset level 0.954,
// 0.415 over the baseline. Three floors were lowered for that record set (precision 0.94 → 0.93,
// over baseline 0.42 → 0.41, dataset level 0.96 → 0.95): harder records, no rule changed; the 520
// earlier records score P 0.94 / R 0.93 / F1 0.94 on the same rules.
func TestEvalRealIndexedDev(t *testing.T) {
	sc, base := indexedScores(t, "dev")
	checkFloors(t, "indexed dev", sc, base, floors{p: 0.93, r: 0.91, f1: 0.92, data: 0.93, model: 0.93, uses: 0.89, overBaseline: 0.41, dataset: 0.95})
}
