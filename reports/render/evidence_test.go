package render

import (
	"context"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/afterlife-watch/afterlife/artifact"
	"github.com/afterlife-watch/afterlife/extract"
)

// Issue 17, "what a steward should see": evidence in plain words, once — "the file list contains
// FaceImageCroppedWithAlignment.tsv, a file of the original release", not "known-file @
// files[0].path" three times — and the confidence explained.
func TestEvidenceInPlainWordsOnce(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	begin(t, s, "run-1", t0)
	a := artifact.Artifact{ID: "hf:dataset:x/msceleb-tsv", Source: artifact.SourceHuggingFace, Kind: artifact.KindDataset,
		URL: "https://huggingface.co/datasets/x/msceleb-tsv", Title: "x/msceleb-tsv"}
	ev := []extract.Evidence{
		{Field: "files[0].path", Rule: "known-file", Snippet: "FaceImageCroppedWithAlignment.tsv", Detail: "known file FaceImageCroppedWithAlignment.tsv"},
		{Field: "files[0].path", Rule: "file-name", Snippet: "FaceImageCroppedWithAlignment.tsv", Detail: "alias of ms-celeb-1m"},
		{Field: "files[0].path", Rule: "file-name", Snippet: "FaceImageCroppedWithAlignment.tsv", Detail: "msceleb → ms-celeb-1m"},
		{Field: "text", Rule: "text-alias", Snippet: "…trained on MS1MV2 for…", Detail: "ms1mv2 → ms-celeb-1m"},
		{Field: "text", Rule: "text-alias", Snippet: "…the MS1MV2 release…", Detail: "ms1mv2 → ms-celeb-1m"},
	}
	mustRecord(t, s, "run-1", t0, a, extract.Finding{ArtifactID: a.ID, Dataset: "ms-celeb-1m", Relation: extract.Copy, Confidence: 0.99, Evidence: ev})
	s.FinishRun(ctx, "run-1", t0)
	out := t.TempDir()
	if _, err := Write(ctx, s, registry(t), "", out); err != nil {
		t.Fatal(err)
	}
	tags := regexp.MustCompile(`<[^>]*>`)
	for _, name := range []string{"ms-celeb-1m.html", "ms-celeb-1m.md"} {
		body := readOut(t, out, name)
		text := tags.ReplaceAllString(body, " ") // what a reader sees (HTML attributes dropped)
		if strings.HasSuffix(name, ".md") {
			text = strings.ReplaceAll(body, `\`, "")
		}
		if !strings.Contains(text, "the file list contains FaceImageCroppedWithAlignment.tsv, a file of the original release") {
			t.Errorf("%s: the known file is not said in plain words", name)
		}
		if n := strings.Count(text, "FaceImageCroppedWithAlignment.tsv"); n != 1 {
			t.Errorf("%s: the file is named %d times in the evidence, want once", name, n)
		}
		for _, jargon := range []string{"known-file @", "file-name @", "files[0].path"} {
			if strings.Contains(text, jargon) {
				t.Errorf("%s shows the matcher's rule %q to the reader", name, jargon)
			}
		}
		if !strings.Contains(text, "named ms1mv2 (from ms-celeb-1m)") && !strings.Contains(text, "names ms1mv2 (from ms-celeb-1m)") {
			t.Errorf("%s: the derivative named in the text is not explained", name)
		}
		if !strings.Contains(text, "0.99 strong") && !strings.Contains(text, "0.99  strong") {
			t.Errorf("%s: confidence 0.99 is not explained as strong", name)
		}
		if !strings.Contains(text, "strong") || !strings.Contains(text, "(0.90 and over)") || !strings.Contains(text, "lowers it") {
			t.Errorf("%s: no legend saying what the confidence means and what lowers it", name)
		}
	}
	// The rules stay available to reviewers: in the HTML tooltip, report.json and the CSV.
	if body := readOut(t, out, "ms-celeb-1m.html"); !strings.Contains(body, `title="known-file @ files[0].path; file-name @ files[0].path`) {
		t.Error("the HTML lost the matcher's rules (tooltip)")
	}
	if csv := readOut(t, out, "sightings.csv"); !strings.Contains(csv, "known-file @ files[0].path") {
		t.Error("sightings.csv lost the matcher's rules")
	}
}

// The server's sightings search filters by confidence.
func TestServerFiltersSightingsByConfidence(t *testing.T) {
	ts := httptest.NewServer(NewServer(fixtureStore(t), registry(t), "", nil))
	defer ts.Close()
	resp, body := fetch(t, "GET", ts.URL+"/sightings?min_conf=0.9", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("HTTP %d", resp.StatusCode)
	}
	for _, want := range []string{"gh:repo:someone/ms1m-mirror", "web:page:books3-dl"} { // 0.95, 0.9
		if !strings.Contains(body, want) {
			t.Errorf("min_conf=0.9 lost %s", want)
		}
	}
	for _, not := range []string{"arxiv:2101.00001", "someone/face-finetune"} { // 0.7, 0.6
		if strings.Contains(body, not) {
			t.Errorf("min_conf=0.9 kept %s", not)
		}
	}
	if resp, _ := fetch(t, "GET", ts.URL+"/sightings?min_conf=2", nil); resp.StatusCode != 400 {
		t.Errorf("min_conf=2: HTTP %d, want 400", resp.StatusCode)
	}
}
