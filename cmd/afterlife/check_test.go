package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// The check command is tested through the built binary: exit codes are what a pipeline sees.

// TestCheckCommand builds the binary once and runs the command tests against it.
func TestCheckCommand(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "afterlife")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	t.Run("ExitCodesAndJSON", func(t *testing.T) { testCheckExitCodesAndJSON(t, bin) })
	t.Run("BatchCSV", func(t *testing.T) { testCheckBatchCSV(t, bin) })
	t.Run("ArXivThroughTheSourceAdapter", func(t *testing.T) { testCheckArXiv(t, bin) })
}

func groffTo(t *testing.T, path, src string) {
	t.Helper()
	if _, err := exec.LookPath("groff"); err != nil {
		t.Skipf("groff is not installed (CI installs it via .ci/run): %v", err)
	}
	cmd := exec.Command("groff", "-ms", "-Tpdf")
	cmd.Stdin = strings.NewReader(src)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("groff: %v", err)
	}
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
}

const usesMS = ".TL\nFace Margins\n.NH\nExperiments\n.PP\nWe train our ResNet-100 on MS1MV2 for 20 epochs.\n"
const cleanMS = ".TL\nSharper Networks\n.NH\nExperiments\n.PP\nWe train on ImageNet-1k for 90 epochs and report top-1 accuracy on the validation images.\n"

func runCheckBin(t *testing.T, bin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	reg := filepath.Join("..", "..", "manuscript", "testdata", "registry.yaml")
	cmd := exec.Command(bin, append([]string{"--registry", reg, "check"}, args...)...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		code = ee.ExitCode()
	default:
		t.Fatalf("run: %v", err)
	}
	return o.String(), e.String(), code
}

func testCheckExitCodesAndJSON(t *testing.T, bin string) {
	dir := t.TempDir()
	uses, clean := filepath.Join(dir, "uses.pdf"), filepath.Join(dir, "clean.pdf")
	groffTo(t, uses, usesMS)
	groffTo(t, clean, cleanMS)
	broken := filepath.Join(dir, "broken.pdf")
	if err := os.WriteFile(broken, []byte("%PDF-1.4\nnot really"), 0o644); err != nil {
		t.Fatal(err)
	}

	out, _, code := runCheckBin(t, bin, "--format", "json", uses)
	if code != checkExitUses {
		t.Fatalf("uses.pdf exit %d, want %d\n%s", code, checkExitUses, out)
	}
	var doc struct {
		Uses        bool `json:"uses"`
		Manuscripts []struct {
			Verdict  string `json:"verdict"`
			Datasets []struct {
				Dataset  string     `json:"dataset"`
				Verdict  string     `json:"verdict"`
				Chains   [][]string `json:"chains"`
				Evidence []struct {
					Location struct{ Page, Line int } `json:"location"`
					Section  string                   `json:"section"`
					Sentence string                   `json:"sentence"`
				} `json:"evidence"`
			} `json:"datasets"`
		} `json:"manuscripts"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("json: %v\n%s", err, out)
	}
	if !doc.Uses || len(doc.Manuscripts) != 1 || len(doc.Manuscripts[0].Datasets) != 1 {
		t.Fatalf("json %+v", doc)
	}
	d := doc.Manuscripts[0].Datasets[0]
	ev := d.Evidence[0]
	if d.Dataset != "ms-celeb-1m" || d.Verdict != "uses" || strings.Join(d.Chains[0], ">") != "MS1MV2>MS-Celeb-1M" ||
		ev.Location.Page != 1 || ev.Section != "1. Experiments" || ev.Sentence != "We train our ResNet-100 on MS1MV2 for 20 epochs." {
		t.Errorf("dataset verdict %+v", d)
	}

	if out, _, code := runCheckBin(t, bin, clean); code != checkExitClean || !strings.Contains(out, "clean") {
		t.Errorf("clean.pdf exit %d, want 0\n%s", code, out)
	}
	if _, stderr, code := runCheckBin(t, bin, broken); code != checkExitError || !strings.Contains(stderr, "could not be read") {
		t.Errorf("broken.pdf exit %d, want 1 (%s)", code, stderr)
	}
	// Uses wins over a read error: the gate must close.
	if _, _, code := runCheckBin(t, bin, broken, uses); code != checkExitUses {
		t.Errorf("broken+uses exit %d, want 3", code)
	}
	if out, stderr, code := runCheckBin(t, bin, "--doi", "10.1007/978-3-319-46487-9_6"); code != checkExitError || !strings.Contains(out, "offline") {
		t.Errorf("--doi exit %d (%s%s)", code, out, stderr)
	}
	if _, _, code := runCheckBin(t, bin, "--format", "yaml", clean); code != checkExitError {
		t.Errorf("bad --format exit %d", code)
	}
}

func testCheckBatchCSV(t *testing.T, bin string) {
	dir := t.TempDir()
	groffTo(t, filepath.Join(dir, "a.pdf"), usesMS)
	groffTo(t, filepath.Join(dir, "b.pdf"), cleanMS)
	if err := os.WriteFile(filepath.Join(dir, "c.pdf"), []byte("not a pdf"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A sentence a spreadsheet would run as a formula.
	if err := os.WriteFile(filepath.Join(dir, "d.md"), []byte("## Experiments\n\n=HYPERLINK(\"x\") We use MegaFace for testing.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "verdicts.csv")
	_, stderr, code := runCheckBin(t, bin, "--batch", dir, "--out", out, "--jobs", "2")
	if code != checkExitUses {
		t.Fatalf("batch exit %d, want 3 (%s)", code, stderr)
	}
	if !strings.Contains(stderr, "checked 4 manuscripts: 2 use retracted data") || !strings.Contains(stderr, "1 unreadable") {
		t.Errorf("summary %q", stderr)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	// header + 3 readable manuscripts × 5 retracted datasets + 1 error row
	if len(rows) != 1+3*5+1 {
		t.Fatalf("%d rows", len(rows))
	}
	var sawUses, sawErr, sawDefused bool
	for _, r := range rows[1:] {
		name := filepath.Base(r[0])
		switch {
		case name == "a.pdf" && r[3] == "ms-celeb-1m":
			sawUses = r[5] == "uses" && r[7] == "MS1MV2 → MS-Celeb-1M" && r[8] == "p. 1, line 3"
		case name == "c.pdf":
			sawErr = r[5] == "error" && r[12] == "unsupported-format"
		case name == "d.md" && r[3] == "megaface":
			sawDefused = r[5] == "uses" && strings.HasPrefix(r[10], "'=HYPERLINK")
		case name == "b.pdf" && r[5] != "none":
			t.Errorf("clean manuscript row %v", r)
		}
	}
	if !sawUses || !sawErr || !sawDefused {
		t.Errorf("uses row %v, error row %v, defused formula %v\n%v", sawUses, sawErr, sawDefused, rows)
	}
}

func testCheckArXiv(t *testing.T, bin string) {
	feeds := map[string]string{
		"1605.08386": "arxiv_id_list_single_2026.xml",
		"2101.00001": "arxiv_id_list_derived_ms1mv2.xml",
		"9999.99999": "arxiv_unknown_id_empty_feed_2026.xml",
	}
	var asked []string
	var times []time.Time
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/query" {
			http.NotFound(w, r)
			return
		}
		id := r.URL.Query().Get("id_list")
		mu.Lock()
		asked = append(asked, id)
		times = append(times, time.Now())
		mu.Unlock()
		f, ok := feeds[id]
		if !ok {
			http.Error(w, "unexpected id", http.StatusBadRequest)
			return
		}
		b, err := os.ReadFile(filepath.Join("testdata", "check", f))
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		w.Header().Set("Content-Type", "application/atom+xml; charset=utf-8")
		w.Write(b)
	}))
	defer srv.Close()
	watch := filepath.Join(t.TempDir(), "watch.yaml")
	if err := os.WriteFile(watch, []byte("contact: https://example.invalid/afterlife-test\nallow_loopback: true\nsources:\n  arxiv:\n    enabled: true\n    base_url: "+srv.URL+"/api\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, stderr, code := runCheckBin(t, bin, "--config", watch, "--format", "json", "--arxiv", "2101.00001", "--arxiv", "1605.08386", "--arxiv", "9999.99999")
	if code != checkExitUses {
		t.Fatalf("exit %d, want 3\n%s\n%s", code, out, stderr)
	}
	var doc struct {
		Manuscripts []struct {
			Manuscript string `json:"manuscript"`
			Title      string `json:"title"`
			Verdict    string `json:"verdict"`
			Datasets   []struct {
				Dataset string `json:"dataset"`
				Verdict string `json:"verdict"`
			} `json:"datasets"`
			Error *struct{ Kind string } `json:"error"`
		} `json:"manuscripts"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Manuscripts) != 3 {
		t.Fatalf("%+v", doc)
	}
	m0, m1, m2 := doc.Manuscripts[0], doc.Manuscripts[1], doc.Manuscripts[2]
	if m0.Manuscript != "arxiv:2101.00001" || m0.Verdict != "uses" || len(m0.Datasets) != 1 || m0.Datasets[0].Dataset != "ms-celeb-1m" {
		t.Errorf("derived paper: %+v", m0)
	}
	if m1.Title != "Heat-bath random walks with Markov bases" || m1.Verdict != "none" || m1.Error != nil {
		t.Errorf("recorded paper: %+v", m1)
	}
	if m2.Error == nil || m2.Error.Kind != "not-found" {
		t.Errorf("unknown id: %+v", m2)
	}
	mu.Lock()
	defer mu.Unlock()
	if strings.Join(asked, ",") != "2101.00001,1605.08386,9999.99999" {
		t.Fatalf("server asked for %v", asked)
	}
	// arXiv's documented limit, one request every three seconds, holds across the ids.
	for i := 1; i < len(times); i++ {
		if gap := times[i].Sub(times[i-1]); gap < 2900*time.Millisecond {
			t.Errorf("requests %d and %d only %v apart", i-1, i, gap)
		}
	}
}
