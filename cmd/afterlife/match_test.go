package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/afterlife-watch/afterlife/artifact"
	"github.com/afterlife-watch/afterlife/configs"
	"github.com/afterlife-watch/afterlife/extract"
)

func newTestMatcher(t *testing.T) *extract.Matcher {
	t.Helper()
	reg, err := configs.LoadRegistry("")
	if err != nil {
		t.Fatal(err)
	}
	return extract.New(reg)
}

// TestMatchStreamDevAsIs: the dev set, read as is, gives findings with the required keys, in input order.
func TestMatchStreamDevAsIs(t *testing.T) {
	f, err := os.Open("testdata/dev.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out, errw bytes.Buffer
	st, err := matchStream(f, "dev.jsonl", &out, &errw, newTestMatcher(t), 4, func(extract.Finding) bool { return true })
	if err != nil || st.bad != 0 || st.artifacts != 45 {
		t.Fatalf("stats %+v err %v stderr %s", st, err, errw.String())
	}
	sc := bufio.NewScanner(&out)
	sc.Buffer(nil, 1<<20)
	n, lastIdx := 0, -1
	ids := []string{}
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"artifact_id", "dataset", "relation", "confidence", "evidence"} {
			if _, ok := m[k]; !ok {
				t.Fatalf("finding lacks %s: %s", k, sc.Text())
			}
		}
		id := m["artifact_id"].(string)
		if len(ids) == 0 || ids[len(ids)-1] != id {
			ids = append(ids, id)
		}
		n++
	}
	if n != st.findings || n < 31 {
		t.Errorf("%d findings (stats %d)", n, st.findings)
	}
	// Input order is kept across workers: ids appear in the file's order.
	raw, _ := os.ReadFile("testdata/dev.jsonl")
	for _, id := range ids {
		i := strings.Index(string(raw), `"id": "`+id+`"`)
		if i < lastIdx {
			t.Errorf("%s out of input order", id)
		}
		lastIdx = i
	}
}

// TestMatchStreamBadLines: bad lines are reported with their line numbers, the rest goes on.
func TestMatchStreamBadLines(t *testing.T) {
	in := strings.Join([]string{
		`{"id":"a","source":"arxiv","kind":"paper","url":"u","title":"t","text":"We train ResNet-50 on MS1MV2."}`,
		`{not json`,
		``,
		`{"id":"b","source":"nowhere","kind":"paper","title":"t"}`,
		`{"id":"c","source":"arxiv","kind":"paper","url":"u","title":"t","text":"We evaluate on the MegaFace Challenge."}`,
	}, "\n")
	var out, errw bytes.Buffer
	st, err := matchStream(strings.NewReader(in), "in.jsonl", &out, &errw, newTestMatcher(t), 2, func(f extract.Finding) bool { return f.Relation.Scored() != "" })
	if err != nil {
		t.Fatal(err)
	}
	if st.bad != 2 || st.artifacts != 2 {
		t.Errorf("stats %+v", st)
	}
	for _, want := range []string{"in.jsonl:2:", "in.jsonl:4:", "source"} {
		if !strings.Contains(errw.String(), want) {
			t.Errorf("stderr lacks %q: %s", want, errw.String())
		}
	}
	if !strings.Contains(out.String(), `"artifact_id":"a"`) || !strings.Contains(out.String(), `"artifact_id":"c"`) {
		t.Errorf("findings after a bad line lost: %s", out.String())
	}
}

// TestEvalCommandLastLine runs `afterlife eval --corpus --baseline` end to end.
func TestEvalCommandLastLine(t *testing.T) {
	var out, errw bytes.Buffer
	rootCmd.SetOut(&out)
	rootCmd.SetErr(&errw)
	rootCmd.SetArgs([]string{"eval", "--corpus", "testdata/dev.jsonl", "--baseline"})
	defer rootCmd.SetArgs(nil)
	if err := rootCmd.Execute(); err != nil {
		t.Fatalf("%v: %s", err, errw.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	last := lines[len(lines)-1]
	if !strings.HasPrefix(last, "eval: precision=") || !strings.HasSuffix(last, " n=45") {
		t.Errorf("last line %q", last)
	}
	if !strings.Contains(out.String(), "baseline") {
		t.Error("no baseline column")
	}
	// A corpus that does not exist is a clear error.
	rootCmd.SetArgs([]string{"eval", "--corpus", "testdata/nope.jsonl"})
	err := rootCmd.Execute()
	var pe *os.PathError
	if err == nil || !errors.As(err, &pe) {
		t.Errorf("missing corpus: err = %v", err)
	}
}

func TestRegistryValidateCommand(t *testing.T) {
	dir := t.TempDir()
	bad := dir + "/bad.yaml"
	if err := os.WriteFile(bad, []byte("datasets:\n  - id: x\n    name: X\n    status: nope\n    sources: [s]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errw bytes.Buffer
	rootCmd.SetOut(&out)
	rootCmd.SetErr(&errw)
	defer rootCmd.SetArgs(nil)
	rootCmd.SetArgs([]string{"registry", "validate", bad})
	err := rootCmd.Execute()
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != 1 || !strings.Contains(errw.String(), bad+":4: field datasets[0].status") {
		t.Errorf("err %v stderr %q", err, errw.String())
	}
	out.Reset()
	rootCmd.SetArgs([]string{"registry", "show", "laion-5b", "--format", "json"})
	if err := rootCmd.Execute(); err != nil {
		t.Fatal(err)
	}
	var d map[string]any
	if err := json.Unmarshal(out.Bytes(), &d); err != nil || d["id"] != "laion-5b" {
		t.Errorf("show json: %v %s", err, out.String())
	}
}

// TestMatchStreamBlocksAndLongLines: lines crossing the 1 MiB read blocks, a line longer than
// artifact.MaxLine (reported, skipped) and a last line without a newline all come out right, and
// the --fast prefilter gives the same findings as the default (every line decoded).
func TestMatchStreamBlocksAndLongLines(t *testing.T) {
	var b strings.Builder
	n := 0
	for b.Len() < 3<<20 {
		fmt.Fprintf(&b, `{"id":"a%d","source":"arxiv","kind":"paper","title":"t","text":"%s We train ResNet-50 on MS1MV2."}`+"\n", n, strings.Repeat("filler words ", 40+n%50))
		n++
	}
	b.WriteString(`{"id":"huge","source":"arxiv","kind":"paper","text":"` + strings.Repeat("x", artifact.MaxLine) + `"}` + "\n")
	fmt.Fprintf(&b, `{"id":"last","source":"arxiv","kind":"paper","text":"We evaluate on the MegaFace Challenge."}`)
	m := newTestMatcher(t)
	keep := func(f extract.Finding) bool { return f.Relation.Scored() != "" }
	var fast, strictOut, errw bytes.Buffer
	st, err := matchStreamOpts(strings.NewReader(b.String()), "big", &fast, &errw, m, 2, keep, true)
	if err != nil {
		t.Fatal(err)
	}
	if st.artifacts != n+1 || st.bad != 1 || st.findings != n+1 {
		t.Errorf("stats %+v, want %d artifacts, 1 bad, %d findings", st, n+1, n+1)
	}
	if !strings.Contains(errw.String(), fmt.Sprintf("big:%d: line longer than", n+1)) {
		t.Errorf("stderr %q", errw.String())
	}
	if _, err := matchStreamOpts(strings.NewReader(b.String()), "big", &strictOut, io.Discard, m, 2, keep, false); err != nil {
		t.Fatal(err)
	}
	if fast.String() != strictOut.String() {
		t.Error("--fast and the default differ")
	}
	if !strings.Contains(fast.String(), `"artifact_id":"last"`) {
		t.Error("last line without newline lost")
	}
}

// badButBalanced is invalid JSON (a missing comma) that names nothing in the registry and balances
// its quotes and braces: only full decoding can see that it is bad.
const badButBalanced = `{"id":"q","source":"arxiv","kind":"paper","url":"u","title":"t" "text":"plain words about gardening"}`

// TestMatchDefaultValidatesEveryLine: by default a bad line that names nothing is still reported
// (bad input gets a clear error); --fast is the documented exception.
func TestMatchDefaultValidatesEveryLine(t *testing.T) {
	in := strings.Join([]string{
		`{"id":"a","source":"arxiv","kind":"paper","url":"u","title":"t","text":"We train ResNet-50 on MS1MV2."}`,
		badButBalanced,
		`{"id":"n","source":"arxiv","kind":"paper","url":"u","title":"t","text":"nothing in the registry here"}`,
	}, "\n") + "\n"
	m := newTestMatcher(t)
	keep := func(f extract.Finding) bool { return f.Relation.Scored() != "" }
	var out, errw bytes.Buffer
	st, err := matchStream(strings.NewReader(in), "in.jsonl", &out, &errw, m, 2, keep)
	if err != nil {
		t.Fatal(err)
	}
	if st.bad != 1 || st.artifacts != 2 || st.findings != 1 {
		t.Errorf("default: stats %+v, want 1 bad, 2 artifacts, 1 finding", st)
	}
	if !strings.Contains(errw.String(), "in.jsonl:2: invalid JSON") {
		t.Errorf("default: stderr %q lacks the bad line", errw.String())
	}
	var fout, ferrw bytes.Buffer
	fst, err := matchStreamOpts(strings.NewReader(in), "in.jsonl", &fout, &ferrw, m, 2, keep, true)
	if err != nil {
		t.Fatal(err)
	}
	if fout.String() != out.String() {
		t.Errorf("--fast findings differ from the default's:\n%s\n%s", fout.String(), out.String())
	}
	t.Logf("--fast on the same input: stats %+v (the structure check cannot see a missing comma)", fst)
}

// TestMatchCommandFlags runs `afterlife match` end to end: the default exits non-zero on the
// bad line; --fast with --strict is refused.
func TestMatchCommandFlags(t *testing.T) {
	dir := t.TempDir()
	file := dir + "/in.jsonl"
	body := `{"id":"a","source":"arxiv","kind":"paper","url":"u","title":"t","text":"We train ResNet-50 on MS1MV2."}` + "\n" + badButBalanced + "\n"
	if err := os.WriteFile(file, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) (string, string, error) {
		var out, errw bytes.Buffer
		rootCmd.SetOut(&out)
		rootCmd.SetErr(&errw)
		rootCmd.SetArgs(args)
		defer rootCmd.SetArgs(nil)
		err := rootCmd.Execute()
		return out.String(), errw.String(), err
	}
	out, errs, err := run("match", "--scored-only", file)
	if err == nil || !strings.Contains(errs, "in.jsonl:2: invalid JSON") || !strings.Contains(out, `"artifact_id":"a"`) {
		t.Errorf("default: err %v, stderr %q, out %q", err, errs, out)
	}
	if _, _, err := run("match", "--fast", "--strict", file); err == nil || !strings.Contains(err.Error(), "--fast and --strict") {
		t.Errorf("--fast --strict: %v", err)
	}
	// cobra keeps flag values between Execute calls on the shared root: reset them.
	for _, f := range []string{"fast", "strict", "scored-only"} {
		if c, _, _ := rootCmd.Find([]string{"match"}); c != nil {
			_ = c.Flags().Set(f, "false")
		}
	}
}
