package fulltext_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/afterlife-watch/afterlife/configs"
	"github.com/afterlife-watch/afterlife/extract"
	"github.com/afterlife-watch/afterlife/internal/demoworld"
	"github.com/afterlife-watch/afterlife/manuscript"
)

// BenchmarkReadAndDecide is the CPU a full-text check adds per paper once its PDF is in: reading
// the PDF (the demo's abstract-silent MS1MV2 paper, 1 page) and the run's matcher deciding on it.
func BenchmarkReadAndDecide(b *testing.B) {
	reg, err := configs.LoadRegistry("")
	if err != nil {
		b.Fatal(err)
	}
	w, err := demoworld.New(demoworld.Options{})
	if err != nil {
		b.Fatal(err)
	}
	const id = "openalex:W9912020561"
	pdf, ok := w.PaperPDFOf(id)
	p, found := w.Find("openalex", id)
	if !ok || !found {
		b.Fatal("demo paper not planted")
	}
	m := manuscript.NewChecker(reg).WithFullText(extract.New(reg))
	b.SetBytes(int64(len(pdf)))
	b.ReportAllocs()
	for b.Loop() {
		doc, err := manuscript.ReadPDF(context.Background(), id, bytes.NewReader(pdf), int64(len(pdf)))
		if err != nil {
			b.Fatal(err)
		}
		a := p.Artifact
		a.FullText = doc
		if len(m.FullTextFindings(&a)) == 0 {
			b.Fatal("no finding")
		}
	}
}
