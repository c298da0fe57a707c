package manuscript

import (
	"bytes"
	"compress/zlib"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// buildPDF writes a PDF whose objects are objs (object i+1 is objs[i], without "obj"/"endobj"),
// with a correct cross-reference table and object 1 as the catalog.
func buildPDF(objs []string) []byte {
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

func pdfStream(s string) string {
	return fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(s), s)
}

const helvetica = "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"

// A page that says something (object 4 is its content, 5 its font).
func textPageObjs(parent int, text string) (page, content, font string) {
	return fmt.Sprintf("<< /Type /Page /Parent %d 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>", parent),
		pdfStream("BT /F1 12 Tf 72 720 Td (" + text + ") Tj ET"), helvetica
}

// hostilePDFs are page trees that loop or explode, each a few hundred bytes.
func hostilePDFs() map[string][]byte {
	page, content, font := textPageObjs(2, "We train our ResNet-100 on MS1MV2 for twenty epochs and report accuracy.")
	out := map[string][]byte{
		// The report's 660-byte file: /Pages /Kids contains itself.
		"kids-contain-self": buildPDF([]string{"<< /Type /Catalog /Pages 2 0 R >>",
			"<< /Type /Pages /Kids [2 0 R 3 0 R] /Count 2 >>", page, content, font}),
		// Two /Pages nodes that are each other's kid.
		"kids-cycle": buildPDF([]string{"<< /Type /Catalog /Pages 2 0 R >>",
			"<< /Type /Pages /Kids [6 0 R 3 0 R] /Count 3 >>", page, content, font,
			"<< /Type /Pages /Parent 2 0 R /Kids [2 0 R] /Count 2 >>"}),
		// A page whose /Parent chain loops and never names /Resources (inherited attributes).
		"parent-loop": buildPDF([]string{"<< /Type /Catalog /Pages 2 0 R >>",
			"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
			"<< /Type /Page /Parent 6 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>", content, font,
			"<< /Type /Pages /Parent 6 0 R /Kids [3 0 R] /Count 1 >>"}),
	}
	return out
}

// readBounded runs ReadPDF with a safety deadline and fails the test if it does not come back
// (the page-tree loop never checked its context: it would spin for ever).
func readBounded(t *testing.T, name string, data []byte) (*Document, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second) // safety net only
	defer cancel()
	type result struct {
		doc *Document
		err error
	}
	done := make(chan result, 1)
	go func() {
		doc, err := ReadPDF(ctx, name, bytes.NewReader(data), int64(len(data)))
		done <- result{doc, err}
	}()
	select {
	case r := <-done:
		if ctx.Err() != nil {
			t.Fatalf("%s: returned only at the safety deadline: %v", name, r.err)
		}
		return r.doc, r.err
	case <-time.After(30 * time.Second):
		t.Fatalf("%s: ReadPDF did not return 10 s after its context ended (it does not check it)", name)
	}
	return nil, nil
}

// A PDF whose page tree loops or fans out is refused as broken, at once, naming the page tree —
// not by a deadline, and without hanging.
func TestPDFPageTreeLoopsAreRefused(t *testing.T) {
	for name, data := range hostilePDFs() {
		t.Run(name, func(t *testing.T) {
			_, err := readBounded(t, name+".pdf", data)
			var me *Error
			if !errors.As(err, &me) || me.Kind != ErrBroken || !strings.Contains(err.Error(), "page tree") {
				t.Fatalf("%d-byte PDF: err = %v; want a broken-PDF error naming the page tree", len(data), err)
			}
			if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
				t.Fatalf("refused by the deadline, not by the bound: %v", err)
			}
		})
	}
}

// A tree 16 levels deep where every node lists the next one four times: 4^16 (four billion) paths
// to one page in 16 objects. Its /Count says 3: three pages are read (as the PDF library reads the
// first /Count pages), with a warning, after a walk bounded by that count.
func TestPDFPageTreeRepeatedSubtreeIsReadToItsCount(t *testing.T) {
	page, content, font := textPageObjs(2, "We train our ResNet-100 on MS1MV2 for twenty epochs and report accuracy.")
	objs := []string{"<< /Type /Catalog /Pages 6 0 R >>", "<< /Type /Pages /Kids [3 0 R] /Count 1 >>", page, content, font}
	for lvl := 0; lvl < 16; lvl++ {
		kid := fmt.Sprintf("%d 0 R", 7+lvl)
		if lvl == 15 {
			kid = "3 0 R"
		}
		objs = append(objs, fmt.Sprintf("<< /Type /Pages /Kids [%s %s %s %s] /Count 3 >>", kid, kid, kid, kid))
	}
	doc, err := readBounded(t, "fan-out.pdf", buildPDF(objs))
	if err != nil {
		t.Fatal(err)
	}
	if doc.Pages != 3 || len(doc.Warnings) != 1 || !strings.Contains(doc.Warnings[0], "more pages than its /Count") {
		t.Fatalf("pages %d warnings %q", doc.Pages, doc.Warnings)
	}
}

// The same trees, well formed, still read: the bound does not refuse an honest PDF.
func TestPDFPageTreeBoundKeepsHonestTrees(t *testing.T) {
	page, content, font := textPageObjs(2, "We train our ResNet-100 on MS1MV2 for twenty epochs and report accuracy.")
	// Two levels: /Pages 2 -> /Pages 6 -> page 3.
	page = strings.Replace(page, "/Parent 2 0 R", "/Parent 6 0 R", 1)
	data := buildPDF([]string{"<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [6 0 R] /Count 1 >>", page, content, font,
		"<< /Type /Pages /Parent 2 0 R /Kids [3 0 R] /Count 1 /Resources << /Font << /F1 5 0 R >> >> >>"})
	doc, err := readBounded(t, "honest.pdf", data)
	if err != nil {
		t.Fatal(err)
	}
	if doc.Pages != 1 || len(doc.Blocks) == 0 || !strings.Contains(doc.Blocks[0].Text, "MS1MV2") {
		t.Fatalf("pages %d blocks %+v", doc.Pages, doc.Blocks)
	}
}

// In a batch, the looping PDF gets an error verdict and every other file its own verdict: one
// hostile submission does not hold the rest back.
func TestBatchWithLoopingPDFGivesEveryFileAVerdict(t *testing.T) {
	dir := t.TempDir()
	for name, data := range hostilePDFs() {
		if err := os.WriteFile(filepath.Join(dir, name+".pdf"), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "uses.txt"), []byte("Experiments\n\nWe train our ResNet-100 on MS1MV2 for twenty epochs.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "clean.md"), []byte("## Experiments\n\nWe train on CIFAR-10 for ten epochs.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	paths, err := BatchInputs(dir)
	if err != nil {
		t.Fatal(err)
	}
	c := NewChecker(testRegistry(t))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second) // safety net only
	defer cancel()
	done := make(chan []*Report, 1)
	go func() { done <- c.Batch(ctx, Reader{}, paths, 2, nil) }()
	var reps []*Report
	select {
	case reps = <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("Batch did not return 10 s after its context ended")
	}
	if ctx.Err() != nil {
		t.Fatal("Batch returned only at the safety deadline")
	}
	for _, r := range reps {
		name := filepath.Base(r.Manuscript)
		switch {
		case strings.HasSuffix(name, ".pdf"):
			if r.Error == nil || r.Error.Kind != ErrBroken {
				t.Errorf("%s: %+v, want a broken-PDF error", name, r.Error)
			}
		case name == "uses.txt":
			if r.Error != nil || r.Verdict != Uses {
				t.Errorf("%s: verdict %s error %+v", name, r.Verdict, r.Error)
			}
		case name == "clean.md":
			if r.Error != nil || r.Verdict != None {
				t.Errorf("%s: verdict %s error %+v", name, r.Verdict, r.Error)
			}
		}
	}
}

// flateStream is a /FlateDecode stream object holding s.
func flateStream(t *testing.T, s string) string {
	t.Helper()
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	if _, err := zw.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	zw.Close()
	return fmt.Sprintf("<< /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream", z.Len(), z.String())
}

// A page whose compressed content stream expands to millions of glyphs (tens of KB on disk) is
// refused as too large, within a bounded allocation, instead of placing every glyph.
func TestPDFContentBombIsRefused(t *testing.T) {
	cases := map[string]string{
		// 4 M glyphs in 800 K "(AAAAA) Tj" operators: 8 MB of content.
		"glyphs": "BT /F1 12 Tf 72 720 Td " + strings.Repeat("(AAAAA) Tj ", 800_000) + "ET",
		// 64 MB of path operators: no glyph at all, only work.
		"operators": strings.Repeat("0 0 m 1 1 l S\n", 64<<20/14),
	}
	for name, content := range cases {
		t.Run(name, func(t *testing.T) {
			page, _, font := textPageObjs(2, "")
			data := buildPDF([]string{"<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [3 0 R] /Count 1 >>", page,
				flateStream(t, content), font})
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := readBounded(t, "bomb.pdf", data)
			runtime.ReadMemStats(&after)
			alloc := after.TotalAlloc - before.TotalAlloc
			t.Logf("%d-byte PDF, %d MB of content: %v; %d MiB allocated", len(data), len(content)>>20, err, alloc>>20)
			var me *Error
			if !errors.As(err, &me) || me.Kind != ErrTooLarge {
				t.Errorf("err = %v; want a too-large error", err)
			}
			if alloc > 256<<20 {
				t.Errorf("reading allocated %d MiB (bound 256 MiB)", alloc>>20)
			}
		})
	}
}
