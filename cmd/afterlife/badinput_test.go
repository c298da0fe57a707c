package main

import (
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Issue 17, item 6: `match` and `report --artifacts` treat bad input the same way: skip the bad
// line, count it, show the first few with their line numbers, go on, and exit non-zero; a binary
// file does not print hundreds of lines.
func TestBadInputLinesSameForMatchAndReport(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	tmp := t.TempDir()
	good := func(id, text string) string {
		return `{"id":"` + id + `","source":"huggingface","kind":"model","url":"https://huggingface.co/` + id + `","title":"` + id + `","text":"` + text + `"}`
	}
	mixed := filepath.Join(tmp, "mixed.jsonl")
	os.WriteFile(mixed, []byte(strings.Join([]string{
		good("x/face-a", "Trained on MS-Celeb-1M."),
		`{not json`,
		good("x/face-b", "Trained on MegaFace."),
		`{"id":"c","source":"nowhere","kind":"model"}`,
		good("x/face-c", "Trained on MS1MV2."),
	}, "\n")+"\n"), 0o644)

	_, mstderr, mcode := runCLI(ctx, t, nil, "match", mixed)
	out := filepath.Join(tmp, "out")
	_, rstderr, rcode := runCLI(ctx, t, nil, "report", "--artifacts", mixed, "--out", out)
	for name, c := range map[string]struct {
		stderr string
		code   int
	}{"match": {mstderr, mcode}, "report --artifacts": {rstderr, rcode}} {
		if c.code != 1 {
			t.Errorf("%s: exit %d, want 1 (bad lines were skipped)", name, c.code)
		}
		for _, want := range []string{"mixed.jsonl:2:", "mixed.jsonl:4:", "2 bad line(s)"} {
			if !strings.Contains(c.stderr, want) {
				t.Errorf("%s: stderr lacks %q:\n%s", name, want, c.stderr)
			}
		}
	}
	b, err := os.ReadFile(filepath.Join(out, "report.json"))
	if err != nil {
		t.Fatalf("report --artifacts wrote no report after skipping the bad lines: %v", err)
	}
	for _, id := range []string{"x/face-a", "x/face-b", "x/face-c"} {
		if !strings.Contains(string(b), "hf:model:"+id) && !strings.Contains(string(b), `"`+id+`"`) {
			t.Errorf("report.json lacks %s, a good line after a bad one", id)
		}
	}

	// A binary file: many "lines" of noise, a few lines of output.
	bin := filepath.Join(tmp, "photo.jpg")
	r := rand.New(rand.NewPCG(1, 2))
	noise := make([]byte, 256<<10)
	for i := range noise {
		noise[i] = byte(r.UintN(256))
	}
	os.WriteFile(bin, noise, 0o644)
	for _, args := range [][]string{{"match", bin}, {"report", "--artifacts", bin, "--out", filepath.Join(tmp, "out2")}} {
		_, stderr, code := runCLI(ctx, t, nil, args...)
		lines := strings.Split(strings.TrimSpace(stderr), "\n")
		if code != 1 || len(lines) > shownBadLines+4 {
			t.Errorf("%s on a binary file: exit %d, %d lines of errors (want 1 and at most %d):\n%.2000s", args[0], code, len(lines), shownBadLines+4, stderr)
		}
		if !strings.Contains(stderr, "photo.jpg:1: binary data") {
			t.Errorf("%s on a binary file does not say it is binary:\n%.1000s", args[0], stderr)
		}
	}
}
