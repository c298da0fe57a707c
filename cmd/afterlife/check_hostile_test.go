package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// loopingPDF is the report's kind of file: a PDF of a few hundred bytes whose /Pages /Kids
// contains itself.
func loopingPDF() []byte {
	content := "BT /F1 12 Tf 72 720 Td (We train our ResNet-100 on MS1MV2.) Tj ET"
	objs := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [2 0 R 3 0 R] /Count 2 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
		fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(content), content),
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
	}
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n")
	offs := make([]int, len(objs))
	for i, o := range objs {
		offs[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, off := range offs {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, xref)
	return b.Bytes()
}

// `check --batch` over a folder holding a looping PDF: the command ends, the PDF gets an error
// row, every other manuscript its verdict, and the CSV is written. Before, the PDF hung the
// command for ever (SIGTERM included) and nothing was written.
func TestCheckBatchWithLoopingPDFWritesEveryVerdict(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute) // safety net only
	defer cancel()
	dir := t.TempDir()
	files := map[string]string{
		"loop.pdf":  string(loopingPDF()),
		"uses.txt":  "Experiments\n\nWe train our ResNet-100 on MS1MV2 for twenty epochs.\n",
		"clean.md":  "## Experiments\n\nWe train on CIFAR-10 for ten epochs.\n",
		"audit.txt": "Introduction\n\nWe audit MegaFace for consent and report what we found.\n",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(t.TempDir(), "verdicts.csv")
	reg := filepath.Join("..", "..", "manuscript", "testdata", "registry.yaml")
	cmd := exec.CommandContext(ctx, binary(t), "--registry", reg, "check", "--batch", dir, "--out", out, "--jobs", "2")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("check --batch hung on the looping PDF (killed at the safety deadline)\n%s", stderr.String())
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != checkExitUses {
		t.Fatalf("exit %v, want %d\n%s", err, checkExitUses, stderr.String())
	}
	t.Logf("looping PDF of %d bytes; %s", len(files["loop.pdf"]), strings.TrimSpace(stderr.String()))
	if !strings.Contains(stderr.String(), "checked 4 manuscripts") || !strings.Contains(stderr.String(), "1 unreadable") {
		t.Errorf("summary %q", stderr.String())
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatalf("no CSV: %v", err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]string{}
	for _, r := range rows[1:] {
		name := filepath.Base(r[0])
		switch {
		case name == "loop.pdf":
			seen[name] = r[5] + "/" + r[12]
		case r[5] != "none" || seen[name] == "":
			seen[name] = r[5]
		}
	}
	want := map[string]string{"loop.pdf": "error/broken", "uses.txt": "uses", "clean.md": "none", "audit.txt": "studies"}
	for name, v := range want {
		if seen[name] != v {
			t.Errorf("%s: %q, want %q (rows %v)", name, seen[name], v, rows)
		}
	}
}
