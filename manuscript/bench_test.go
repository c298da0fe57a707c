package manuscript

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/ledongthuc/pdf"
)

// benchPDF typesets a ten-page paper with groff once per benchmark.
func benchPDF(b *testing.B) []byte {
	b.Helper()
	var src strings.Builder
	src.WriteString(".TL\nA Ten Page Paper\n.AB\nWe study margins.\n.AE\n")
	for s, title := range []string{"Introduction", "Related Work", "Method", "Experiments", "Discussion"} {
		src.WriteString(".NH\n" + title + "\n")
		for p := 0; p < 8; p++ {
			src.WriteString(".PP\n")
			for k := 0; k < 7; k++ {
				src.WriteString("Deep networks learn hierarchical representations from large collections of labelled examples, and we train our ResNet-100 on MS1MV2.\n")
			}
		}
		if s < 4 {
			src.WriteString(".bp\n")
		}
	}
	p := groffPDF(b, b.TempDir(), "bench.pdf", src.String())
	data, err := os.ReadFile(p)
	if err != nil {
		b.Fatal(err)
	}
	return data
}

// BenchmarkPDFGlyphs compares the PDF library's Page.Content with pageGlyphs (per-page font
// tables, word spacing applied) on the same ten-page PDF.
func BenchmarkPDFGlyphs(b *testing.B) {
	data := benchPDF(b)
	rd, err := pdf.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		b.Fatal(err)
	}
	b.Run("library-Content", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			for pg := 1; pg <= rd.NumPage(); pg++ {
				_ = rd.Page(pg).Content()
			}
		}
	})
	b.Run("pageGlyphs", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			for pg := 1; pg <= rd.NumPage(); pg++ {
				_ = pageGlyphs(rd.Page(pg), rd.Page(pg).Resources())
			}
		}
	})
}

// BenchmarkCheckPDF is one manuscript end to end: read, extract, match, decide.
func BenchmarkCheckPDF(b *testing.B) {
	data := benchPDF(b)
	c := NewChecker(testRegistry(b))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		doc, err := ReadPDF(context.Background(), "bench.pdf", bytes.NewReader(data), int64(len(data)))
		if err != nil {
			b.Fatal(err)
		}
		if r := c.Check(context.Background(), doc); r.Verdict != Uses {
			b.Fatalf("verdict %s", r.Verdict)
		}
	}
}
