package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

// runReportCLI runs the root command in process with args and returns stdout and the error.
func runReportCLI(t *testing.T, args ...string) (string, error) {
	t.Helper()
	// Flags keep their values between Execute calls in one process: reset report's and serve's.
	for _, name := range []string{"report", "serve"} {
		c, _, err := rootCmd.Find([]string{name})
		if err != nil {
			t.Fatal(err)
		}
		c.Flags().VisitAll(func(f *pflag.Flag) {
			if sv, ok := f.Value.(pflag.SliceValue); ok {
				sv.Replace(nil)
			} else {
				f.Value.Set(f.DefValue)
			}
			f.Changed = false
		})
	}
	saved := g // global flags (--data, ...) too, so other tests see their defaults
	defer func() { g = saved }()
	var out, errw bytes.Buffer
	rootCmd.SetOut(&out)
	rootCmd.SetErr(&errw)
	rootCmd.SetArgs(args)
	defer rootCmd.SetArgs(nil)
	err := rootCmd.Execute()
	return out.String(), err
}

// TestReportFromArtifactsFile: `afterlife report --artifacts FILE --out DIR` renders every output
// with no crawl and no store, and prints a machine-readable summary when piped.
func TestReportFromArtifactsFile(t *testing.T) {
	dir := t.TempDir()
	arts := filepath.Join(dir, "crawl.jsonl")
	os.WriteFile(arts, []byte(`{"id":"hf:model:x/face","source":"huggingface","kind":"model","url":"https://huggingface.co/x/face","title":"x/face <script>alert(1)</script>","text":"Trained on MS-Celeb-1M."}`+"\n"), 0o644)
	out := filepath.Join(dir, "out")
	stdout, err := runReportCLI(t, "--data", filepath.Join(dir, "data"), "report", "--artifacts", arts, "--out", out)
	if err != nil {
		t.Fatal(err)
	}
	var sum reportSummary
	if err := json.Unmarshal([]byte(stdout), &sum); err != nil || sum.RunID != "artifacts-crawl" || sum.Datasets < 1 || len(sum.Files) < 10 {
		t.Fatalf("summary %q: %+v %v", stdout, sum, err)
	}
	for _, f := range []string{"report.json", "index.html", "ms-celeb-1m.md", "graph.graphml", "graph.dot", "sightings.csv", "feeds/ms-celeb-1m.atom"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("missing %s", f)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "data")); !os.IsNotExist(err) {
		t.Error("--artifacts created a store in the data directory")
	}
}

func TestReportAndServeErrors(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--data", dir, "report", "--out", dir}, "no store at"},
		{[]string{"report", "--artifacts", filepath.Join(dir, "nope.jsonl")}, "nope.jsonl"},
		{[]string{"report", "--artifacts", "x.jsonl", "--run", "r1"}, "exclude each other"},
		{[]string{"--data", dir, "report", "--webhook", "ftp://x"}, "not an http(s) URL"},
		{[]string{"--data", dir, "serve", "--listen", "0.0.0.0:0", "--token-env", "AFTERLIFE_TEST_NO_SUCH_VAR"}, "not loopback"},
		{[]string{"--data", dir, "serve", "--listen", "127.0.0.1:0"}, "no store at"},
	}
	for _, c := range cases {
		_, err := runReportCLI(t, c.args...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v, want %q", c.args, err, c.want)
		}
	}
}
