package render

import (
	"context"
	"strings"
	"testing"

	"github.com/afterlife-watch/afterlife/artifact"
	"github.com/afterlife-watch/afterlife/extract"
)

// "Actions by host" gives the registry's takedown route for every host it knows — also for copies
// the demo world serves on 127.0.0.1, by their source's host — and says so when it knows none.
func TestActionsByHostGiveTheRegistryRoute(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	begin(t, s, "run-1", t0)
	for _, a := range []artifact.Artifact{
		{ID: "hf:dataset:x/a", Source: artifact.SourceHuggingFace, Kind: artifact.KindDataset, URL: "https://huggingface.co/datasets/x/a", Title: "x/a"},
		{ID: "hf:dataset:x/b", Source: artifact.SourceHuggingFace, Kind: artifact.KindDataset, URL: "http://127.0.0.1:8700/huggingface/datasets/x/b", Title: "x/b"},
		{ID: "kaggle:dataset:y/c", Source: artifact.SourceKaggle, Kind: artifact.KindDataset, URL: "http://127.0.0.1:8700/kaggle/datasets/y/c", Title: "y/c"},
		{ID: "web:files.example.net/ms1m.tar", Source: artifact.SourceWeb, Kind: artifact.KindPage, URL: "https://files.example.net/ms1m.tar", Title: "ms1m.tar"},
	} {
		mustRecord(t, s, "run-1", t0, a, extract.Finding{ArtifactID: a.ID, Dataset: "ms-celeb-1m", Relation: extract.Copy, Confidence: 0.9})
	}
	s.FinishRun(ctx, "run-1", t0)
	rep, err := Build(ctx, s, registry(t), "", Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]HostActions{}
	for _, h := range rep.Datasets[0].Actions {
		got[h.Host+"|"+h.ServedAt] = h
	}
	for key, want := range map[string]string{
		"huggingface.co|":               "https://huggingface.co/content-policy",
		"huggingface.co|127.0.0.1:8700": "https://huggingface.co/content-policy",
		"kaggle.com|127.0.0.1:8700":     "https://www.kaggle.com/contact",
		"files.example.net|":            "",
	} {
		h, ok := got[key]
		if !ok {
			t.Errorf("no action group %q (have %v)", key, got)
			continue
		}
		if h.URL != want || h.Contact != (want != "") {
			t.Errorf("%s: route %q (known %v), want %q", key, h.URL, h.Contact, want)
		}
		if want == "" && !strings.Contains(h.How, "No contact for this host") {
			t.Errorf("%s: %q", key, h.How)
		}
	}
}

// A gone sighting says how it was found gone, in every format.
func TestGoneSaysHowInEveryFormat(t *testing.T) {
	out, _ := writeFixture(t) // run-2 saw the mirror answer 404
	for _, name := range []string{"ms-celeb-1m.html", "ms-celeb-1m.md", "report.json", "feeds/ms-celeb-1m.atom"} {
		body := strings.ReplaceAll(readOut(t, out, name), `\`, "")
		if !strings.Contains(body, "the host answered 404/410: no longer at its address") {
			t.Errorf("%s does not say how the mirror was found gone", name)
		}
	}
}

// Watched datasets with nothing found are listed as such: absence from the tables is never
// mistaken for not having looked.
func TestRetractedDatasetsWithNothingFoundAreListed(t *testing.T) {
	out, _ := writeFixture(t)
	rep, _ := readReport(t, out)
	nf := map[string]bool{}
	for _, d := range rep.NothingFound {
		nf[d.ID] = true
	}
	if !nf["megaface"] || nf["ms-celeb-1m"] || nf["books3"] || nf["lfw"] {
		t.Errorf("report.json nothing_found %v: want megaface (no sighting), not ms-celeb-1m or books3 (sighted) nor lfw (not a retraction)", rep.NothingFound)
	}
	for _, name := range []string{"index.html", "index.md"} {
		body := readOut(t, out, name)
		i := strings.Index(body, "Nothing found")
		if i < 0 || !strings.Contains(body[i:], "MegaFace") {
			t.Errorf("%s does not list MegaFace under nothing found", name)
		}
	}
}
