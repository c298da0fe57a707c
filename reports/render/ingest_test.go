package render

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/afterlife-watch/afterlife/artifact"
	"github.com/afterlife-watch/afterlife/reports"
)

const artifactsJSONL = `{"id":"hf:model:evil/card","source":"huggingface","kind":"model","url":"https://huggingface.co/evil/card","title":"<script>window.__pwned=1</script> face model","text":"Trained on MS-Celeb-1M. <img src=x onerror=\"window.__pwned=2\">"}
{"id":"hf:dataset:mirror/books3","source":"huggingface","kind":"dataset","url":"https://huggingface.co/datasets/mirror/books3","title":"Books3 mirror","text":"A copy of Books3.","files":[{"path":"books3.tar.gz","size":39516981435}]}

{"id":"gh:repo:x/unrelated","source":"github","kind":"repository","url":"https://github.com/x/unrelated","title":"Nothing to see","text":"A web framework."}
`

func TestIngestArtifactsRendersEveryOutput(t *testing.T) {
	ctx := context.Background()
	st, err := reports.OpenTempStore()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Dir(st.Path())
	reg := registry(t)
	runID, err := IngestArtifacts(ctx, st, reg, strings.NewReader(artifactsJSONL), "my-crawl.jsonl", t0)
	if err != nil {
		t.Fatal(err)
	}
	if runID != "artifacts-my-crawl" {
		t.Errorf("run id %q", runID)
	}
	run, err := st.GetRun(ctx, runID)
	if err != nil || !run.Complete || len(run.Sources) != 2 || run.Sources[0].Name != "github" || run.Sources[1].Artifacts != 2 {
		t.Fatalf("run: %+v %v", run, err)
	}
	if a, ok, _ := st.Artifact(ctx, "gh:repo:x/unrelated"); !ok || a.Title != "Nothing to see" {
		t.Error("unmatched artifact not stored")
	}
	out := t.TempDir()
	files, err := Write(ctx, st, reg, runID, out)
	if err != nil {
		t.Fatal(err)
	}
	rep, _ := readReport(t, out)
	ids := map[string]bool{}
	for _, d := range rep.Datasets {
		for _, s := range d.Sightings {
			ids[d.ID+" "+s.Artifact.ID] = true
		}
	}
	// Whatever the matcher decides about relations, it must find these two datasets.
	if !ids["ms-celeb-1m hf:model:evil/card"] || !ids["books3 hf:dataset:mirror/books3"] {
		t.Errorf("sightings: %v", ids)
	}
	for _, f := range files {
		switch filepath.Ext(f) {
		case ".html":
			b, _ := os.ReadFile(f)
			checkHTMLInert(t, filepath.Base(f), b)
		}
	}
	for _, want := range []string{"graph.graphml", "graph.dot", "graph.json", "sightings.csv", "timeseries.csv", "feeds/books3.atom", "index.html", "books3.md"} {
		if _, err := os.Stat(filepath.Join(out, want)); err != nil {
			t.Errorf("missing %s", want)
		}
	}
	st.Close()
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("temp store %s left behind", dir)
	}
}

func TestIngestArtifactsBadLineNamesItAndRecordsNothing(t *testing.T) {
	ctx := context.Background()
	st := openTest(t)
	bad := artifactsJSONL + `{"id":"x","source":"nowhere","kind":"model"}` + "\n"
	_, err := IngestArtifacts(ctx, st, registry(t), strings.NewReader(bad), "crawl.jsonl", t0)
	var le *artifact.LineError
	if !errors.As(err, &le) || le.Line != 5 || !strings.Contains(err.Error(), "crawl.jsonl:5") {
		t.Fatalf("error %v, want crawl.jsonl:5", err)
	}
	if runs, _ := st.Runs(ctx, 0); len(runs) != 0 {
		t.Errorf("a failed ingest left %d runs", len(runs))
	}
}

func TestIngestArtifactsSameFileSameBytes(t *testing.T) {
	ctx := context.Background()
	reg := registry(t)
	var outs [2][]byte
	for i := range outs {
		st := openTest(t)
		runID, err := IngestArtifacts(ctx, st, reg, strings.NewReader(artifactsJSONL), "c.jsonl", t0)
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		if _, err := Write(ctx, st, reg, runID, dir); err != nil {
			t.Fatal(err)
		}
		outs[i], _ = os.ReadFile(filepath.Join(dir, "report.json"))
	}
	if !bytes.Equal(outs[0], outs[1]) {
		t.Error("two ingests of the same file render different report.json")
	}
}
