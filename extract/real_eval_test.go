package extract

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/afterlife-watch/afterlife/artifact"
	"github.com/afterlife-watch/afterlife/configs"
)

// The real-text corpus of issue 14 (testdata/real/README.md): labels.jsonl is committed (labels,
// split, provenance, sha256 of each text); dev.jsonl and test.jsonl hold the texts and are kept out
// of commits, so the score tests skip where they are absent.

type realLabel struct {
	ID         string            `json:"id"`
	Kind       string            `json:"kind"`
	Expect     []artifact.Expect `json:"expect"`
	Reason     string            `json:"reason"`
	Split      string            `json:"split"`
	Provenance struct {
		Repository string `json:"repository"`
		Path       string `json:"path"`
		Commit     string `json:"commit"`
		Bytes      []int  `json:"bytes"`
		SHA256     string `json:"sha256"`
		// Rounds 4 and 5 added dev records taken from the public file index directly (read_file),
		// whose texts are committed in indexed.jsonl: they carry the text length instead of a byte
		// range of a fetched snapshot, and are not in the local dev.jsonl.
		Round int `json:"round"`
		Chars int `json:"chars"`
	} `json:"provenance"`
}

func readRealLabels(t *testing.T) []realLabel {
	t.Helper()
	f, err := os.Open("testdata/real/labels.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []realLabel
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 1<<16), 1<<20)
	for sc.Scan() {
		var l realLabel
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("labels.jsonl line %d: %v", len(out)+1, err)
		}
		out = append(out, l)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestRealCorpusManifest checks the committed labels: size, negatives, every relation in both splits,
// labels valid against the registry, provenance complete.
func TestRealCorpusManifest(t *testing.T) {
	reg, err := configs.LoadRegistry("")
	if err != nil {
		t.Fatal(err)
	}
	labels := readRealLabels(t)
	if len(labels) < 250 {
		t.Fatalf("%d records, want at least 250", len(labels))
	}
	hex40, hex64 := regexp.MustCompile(`^[0-9a-f]{40}$`), regexp.MustCompile(`^[0-9a-f]{64}$`)
	ids := map[string]bool{}
	neg := 0
	rel := map[string]map[string]int{"dev": {}, "test": {}}
	datasets := map[string]bool{}
	for _, l := range labels {
		if ids[l.ID] {
			t.Errorf("duplicate id %s", l.ID)
		}
		ids[l.ID] = true
		if l.Split != "dev" && l.Split != "test" {
			t.Errorf("%s: split %q", l.ID, l.Split)
		}
		p := l.Provenance
		span := len(p.Bytes) == 2 && p.Bytes[0] < p.Bytes[1] || p.Round >= 4 && p.Chars > 0 && l.Split == "dev"
		if p.Repository == "" || p.Path == "" || !hex40.MatchString(p.Commit) || !hex64.MatchString(p.SHA256) || !span || l.Reason == "" {
			t.Errorf("%s: incomplete provenance or reason: %+v", l.ID, p)
		}
		if len(l.Expect) == 0 {
			neg++
		}
		for _, e := range l.Expect {
			d, ok := reg.Get(e.Dataset)
			if !ok || !d.IsRetraction() {
				t.Errorf("%s: label dataset %q is not a retracted registry dataset", l.ID, e.Dataset)
			}
			switch e.Relation {
			case "data", "model", "uses":
			default:
				t.Errorf("%s: relation %q", l.ID, e.Relation)
			}
			rel[l.Split][e.Relation]++
			datasets[e.Dataset] = true
		}
	}
	if share := float64(neg) / float64(len(labels)); share < 0.35 {
		t.Errorf("negatives %.2f of the corpus, want about 0.40 (at least 0.35)", share)
	}
	for _, s := range []string{"dev", "test"} {
		for _, r := range []string{"data", "model", "uses"} {
			if rel[s][r] < 10 {
				t.Errorf("%s split has %d %s labels", s, rel[s][r], r)
			}
		}
	}
	if len(datasets) < 12 {
		t.Errorf("%d registry datasets labelled, want 12 (hrt-transgender has no positive text)", len(datasets))
	}
}

// loadRealSplit reads testdata/real/<split>.jsonl and checks every text against the committed hash.
func loadRealSplit(t *testing.T, split string, labels map[string]realLabel) []artifact.Artifact {
	t.Helper()
	file := "testdata/real/" + split + ".jsonl"
	f, err := os.Open(file)
	if errors.Is(err, fs.ErrNotExist) {
		t.Skipf("%s is not present: the texts are kept out of commits (testdata/real/README.md)", file)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	arts, err := artifact.ReadAll(f, file)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, l := range labels {
		if l.Split == split && l.Provenance.Round < 4 {
			n++ // round-4 and round-5 records live only in indexed.jsonl
		}
	}
	if len(arts) != n {
		t.Fatalf("%s: %d records, labels.jsonl has %d for this split", file, len(arts), n)
	}
	for i := range arts {
		a := &arts[i]
		l, ok := labels[a.ID]
		if !ok || l.Split != split {
			t.Fatalf("%s: %s is not a %s record of labels.jsonl", file, a.ID, split)
		}
		sum := sha256.Sum256([]byte(a.Text))
		if hex.EncodeToString(sum[:]) != l.Provenance.SHA256 {
			t.Fatalf("%s: text of %s does not match its committed sha256", file, a.ID)
		}
		if len(a.Expect) != len(l.Expect) {
			t.Fatalf("%s: labels of %s differ from labels.jsonl", file, a.ID)
		}
	}
	return arts
}

func realScores(t *testing.T, split string) (*Score, *Score) {
	reg, err := configs.LoadRegistry("")
	if err != nil {
		t.Fatal(err)
	}
	labels := map[string]realLabel{}
	for _, l := range readRealLabels(t) {
		labels[l.ID] = l
	}
	arts := loadRealSplit(t, split, labels)
	m := New(reg)
	sc, base := Evaluate("matcher", arts, reg, m.Match), Evaluate("baseline", arts, reg, NewBaseline(reg).Match)
	t.Logf("%s (%d): P=%.2f R=%.2f F1=%.2f | dataset level P=%.2f R=%.2f | data F1=%.2f model F1=%.2f uses F1=%.2f | baseline F1=%.2f | FP rate on negatives %.2f",
		split, sc.N, sc.Overall.Precision, sc.Overall.Recall, sc.Overall.F1, sc.Dataset.Precision, sc.Dataset.Recall,
		sc.ByClass["data"].F1, sc.ByClass["model"].F1, sc.ByClass["uses"].F1, base.Overall.F1, sc.FPRate())
	return sc, base
}

type floors struct {
	p, r, f1, data, model, uses, overBaseline, dataset float64
}

func checkFloors(t *testing.T, split string, sc, base *Score, f floors) {
	t.Helper()
	check := func(name string, got, want float64) {
		if got < want {
			t.Errorf("%s: %s %.3f below the floor %.2f", split, name, got, want)
		}
	}
	check("precision", sc.Overall.Precision, f.p)
	check("recall", sc.Overall.Recall, f.r)
	check("F1", sc.Overall.F1, f.f1)
	check("data F1", sc.ByClass["data"].F1, f.data)
	check("model F1", sc.ByClass["model"].F1, f.model)
	check("uses F1", sc.ByClass["uses"].F1, f.uses)
	check("F1 over the alias baseline", sc.Overall.F1-base.Overall.F1, f.overBaseline)
	check("dataset-level F1", sc.Dataset.F1, f.dataset)
	if t.Failed() && !strings.Contains(split, "test") {
		// record-level errors only for the dev split: the test split is read as aggregate numbers
		t.Logf("misses %v\nfalse alarms %v", sc.Misses, sc.FalseAlarms)
	}
}

// TestEvalRealTest scores the held-out test split. The floors are the numbers reached (rounded
// down), so a regression fails; they are below issue 14's targets (P ≥ 0.90, R ≥ 0.85, F1 ≥ 0.85
// per relation), which this matcher does not reach on the test split — see docs/detection.md.
func TestEvalRealTest(t *testing.T) {
	sc, base := realScores(t, "test")
	checkFloors(t, "test", sc, base, floors{p: 0.82, r: 0.80, f1: 0.81, data: 0.87, model: 0.80, uses: 0.80, overBaseline: 0.30, dataset: 0.90})
}

// TestEvalRealDev scores the dev split the rules were tuned on (not an estimate; a regression guard).
func TestEvalRealDev(t *testing.T) {
	sc, base := realScores(t, "dev")
	checkFloors(t, "dev", sc, base, floors{p: 0.96, r: 0.97, f1: 0.97, data: 0.97, model: 0.98, uses: 0.93, overBaseline: 0.45, dataset: 0.98})
}
