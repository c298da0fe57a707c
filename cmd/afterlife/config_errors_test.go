package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Issue 17, item 5, through the CLI: a config or registry mistake stops the command with one line
// naming the file, the line and the key, before anything is created on disk; `registry validate`
// rejects an impossible date.
func TestConfigMistakesStopBeforeAnythingIsCreated(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	tmp := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(tmp, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cases := []struct {
		file, body string
		want       []string
	}{
		{"typo.yaml", "contact: x\nworkerz: 4\nsources:\n  github: {enabled: true}\n", []string{"typo.yaml:2:", "workerz", `"workers"`}},
		{"source.yaml", "contact: x\nsources:\n  githubb:\n    enabled: true\n", []string{"source.yaml:3:", `unknown source "githubb"`, `"github"`}},
		{"none.yaml", "contact: x\nsources:\n  github:\n    enabled: false\n", []string{"none.yaml:2:", "no source is enabled"}},
		{"empty.yaml", "", []string{"empty.yaml:1:", "the file is empty"}},
	}
	for _, c := range cases {
		cfg := write(c.file, c.body)
		data, out := filepath.Join(tmp, "data-"+c.file), filepath.Join(tmp, "out-"+c.file)
		for _, args := range [][]string{
			{"scan", "--config", cfg, "--data", data, "--out", out, "--progress", "never"},
			{"schedule", "--config", cfg, "--data", data, "--every", "@daily", "--max-runs", "1"},
		} {
			_, stderr, code := runCLI(ctx, t, nil, args...)
			if code == 0 {
				t.Errorf("%s %s: accepted", args[0], c.file)
				continue
			}
			if lines := strings.Split(strings.TrimSpace(stderr), "\n"); len(lines) != 1 {
				t.Errorf("%s %s: want one line, got:\n%s", args[0], c.file, stderr)
			}
			for _, w := range c.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("%s %s: stderr lacks %q: %s", args[0], c.file, w, stderr)
				}
			}
			for _, d := range []string{data, out} {
				if _, err := os.Stat(d); !os.IsNotExist(err) {
					t.Errorf("%s %s: %s was created before the config was checked", args[0], c.file, d)
				}
			}
		}
	}
	reg := write("reg.yaml", "datasets:\n  - id: a\n    name: A\n    status: withdrawn\n    retracted_on: '2021-13-45'\n    sources: [s]\n")
	_, stderr, code := runCLI(ctx, t, nil, "registry", "validate", reg)
	if code == 0 || !strings.Contains(stderr, "reg.yaml:5:") || !strings.Contains(stderr, "2021-13-45") {
		t.Errorf("registry validate with 2021-13-45: exit %d: %s", code, stderr)
	}
	demoOut := filepath.Join(tmp, "demo-out")
	if _, stderr, code := runCLI(ctx, t, nil, "demo", "--registry", reg, "--out", demoOut); code == 0 || !strings.Contains(stderr, "reg.yaml:5:") {
		t.Errorf("demo with a bad registry: exit %d: %s", code, stderr)
	}
	if _, err := os.Stat(demoOut); !os.IsNotExist(err) {
		t.Errorf("demo with a bad registry created %s", demoOut)
	}
}
