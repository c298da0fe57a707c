package huggingface

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/afterlife-watch/afterlife/artifact"
	"github.com/afterlife-watch/afterlife/configs"
	"github.com/afterlife-watch/afterlife/crawler"
	"github.com/afterlife-watch/afterlife/crawler/webapi"
	"github.com/afterlife-watch/afterlife/crawler/webapi/webapitest"
)

func newSource(t *testing.T, base string, env map[string]string, opts map[string]string) *Source {
	t.Helper()
	src, err := New(configs.SourceConfig{BaseURL: base, MaxPages: 3, PageSize: 2, Options: opts}, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	return src.(*Source)
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return c
}

// handleInfo runs a model-info job against the replay server and returns the carried artifact.
func handleInfo(t *testing.T, srv *webapitest.Server, src *Source, repoID string) (crawler.Result, artifact.Artifact) {
	t.Helper()
	job := src.infoJob(KindModelInfo, "test", repoID, 0)
	res, err := src.Handle(ctx(t), job, webapitest.NewFetcher())
	if err != nil {
		t.Fatalf("%s: %v", repoID, err)
	}
	if len(res.Next) != 1 || res.Next[0].Kind != KindModelCard {
		t.Fatalf("%s: want one model-card follow-up, got %+v", repoID, res.Next)
	}
	a, err := webapi.DecodeArtifact(res.Next[0].Meta[webapi.MetaArtifact])
	if err != nil {
		t.Fatal(err)
	}
	return res, a
}

func filePaths(a artifact.Artifact) []string {
	var out []string
	for _, f := range a.Files {
		out = append(out, f.Path)
	}
	return out
}

// Every recorded /api/models/{id} body parses into the right artifact.
func TestRecordedModelInfo(t *testing.T) {
	recs := webapitest.Load(t, "testdata")
	srv := webapitest.Serve(t, recs)
	src := newSource(t, srv.URL, nil, nil)

	t.Run("bert-base-uncased", func(t *testing.T) {
		res, a := handleInfo(t, srv, src, "google-bert/bert-base-uncased")
		if a.ID != "hf:model:google-bert/bert-base-uncased" || a.Kind != artifact.KindModel || a.Title != "google-bert/bert-base-uncased" {
			t.Errorf("identity: %+v", a)
		}
		if a.URL != srv.URL+"/google-bert/bert-base-uncased" {
			t.Errorf("url %q", a.URL)
		}
		if !slices.Equal(a.DeclaredDatasets, []string{"bookcorpus", "wikipedia"}) {
			t.Errorf("declared %v", a.DeclaredDatasets)
		}
		if !slices.Contains(a.Tags, "arxiv:1810.04805") || !slices.Contains(a.Tags, "dataset:bookcorpus") {
			t.Errorf("tags %v", a.Tags)
		}
		if len(a.Files) != 16 || !slices.Contains(filePaths(a), "pytorch_model.bin") || a.Files[0].Size != nil {
			t.Errorf("files %v", filePaths(a))
		}
		if len(a.BaseModels) != 0 {
			t.Errorf("base models %v", a.BaseModels)
		}
		if got := res.Next[0].URL; got != srv.URL+"/google-bert/bert-base-uncased/resolve/main/README.md" {
			t.Errorf("card url %q", got)
		}
		if res.Next[0].Meta[webapi.MetaID] != a.ID {
			t.Errorf("card job meta id %q", res.Next[0].Meta[webapi.MetaID])
		}
	})
	t.Run("roberta-base-squad2", func(t *testing.T) {
		_, a := handleInfo(t, srv, src, "deepset/roberta-base-squad2")
		if !slices.Equal(a.BaseModels, []string{"FacebookAI/roberta-base"}) {
			t.Errorf("base models %v (cardData.base_model and base_model:finetune: tag must merge)", a.BaseModels)
		}
		if !slices.Equal(a.DeclaredDatasets, []string{"squad_v2"}) {
			t.Errorf("declared %v", a.DeclaredDatasets)
		}
		if a.Published != "" {
			t.Errorf("createdAt 2022-03-02T23:29:05Z means unknown; got published %q", a.Published)
		}
	})
	t.Run("flan-t5-xxl", func(t *testing.T) {
		_, a := handleInfo(t, srv, src, "google/flan-t5-xxl")
		if a.Published != "2022-10-21" {
			t.Errorf("published %q", a.Published)
		}
		for _, d := range []string{"svakulenk0/qrecc", "deepmind/code_contests", "gsm8k"} {
			if !slices.Contains(a.DeclaredDatasets, d) {
				t.Errorf("declared %v lacks %s", a.DeclaredDatasets, d)
			}
		}
		if len(a.Files) != 32 {
			t.Errorf("%d files", len(a.Files))
		}
	})
	t.Run("all-MiniLM-L6-v2", func(t *testing.T) {
		_, a := handleInfo(t, srv, src, "sentence-transformers/all-MiniLM-L6-v2")
		if len(a.DeclaredDatasets) < 21 || a.DeclaredDatasets[0] != "s2orc" || !slices.Contains(a.DeclaredDatasets, "embedding-data/WikiAnswers") {
			t.Errorf("declared %v", a.DeclaredDatasets)
		}
		if len(a.Files) != 30 {
			t.Errorf("%d files", len(a.Files))
		}
	})
	t.Run("stable-diffusion-2-1", func(t *testing.T) {
		_, a := handleInfo(t, srv, src, "stabilityai/stable-diffusion-2-1")
		if len(a.DeclaredDatasets) != 0 {
			t.Errorf("SD 2.1 declares no datasets (LAION only in prose), got %v", a.DeclaredDatasets)
		}
		if a.Published != "2022-12-06" || len(a.Files) != 28 {
			t.Errorf("published %q files %d", a.Published, len(a.Files))
		}
	})
	t.Run("FLUX expand answer", func(t *testing.T) {
		// ?expand=... answers carry only _id, id and the asked-for keys: still a valid artifact.
		rec := webapitest.Find(t, recs, "api_models_FLUX.1-dev_expand_inferenceProviderMapping.json")
		info, err := ParseInfo(rec.Body)
		if err != nil {
			t.Fatal(err)
		}
		a := src.Artifact(info, false)
		if a.ID != "hf:model:black-forest-labs/FLUX.1-dev" || len(a.Tags) != 0 || len(a.Files) != 0 {
			t.Errorf("%+v", a)
		}
		// With no siblings known, the adapter still asks for the card.
		res, err := src.Handle(ctx(t), crawler.Job{Kind: KindModelInfo, URL: srv.URL + rec.Path(), Meta: map[string]string{webapi.MetaID: a.ID}}, webapitest.NewFetcher())
		if err != nil || len(res.Next) != 1 || res.Next[0].Kind != KindModelCard {
			t.Errorf("res %+v err %v", res, err)
		}
	})
	t.Run("307 redirect of a legacy id", func(t *testing.T) {
		rec := webapitest.Find(t, recs, "api_models_bert-base-uncased_307_redirect.txt")
		if rec.Meta.Status != 307 {
			t.Fatalf("recording status %d", rec.Meta.Status)
		}
		// The recorded 307 sends the client to /api/models/google-bert/bert-base-uncased; the artifact
		// must carry the canonical id, not the legacy one asked for.
		srv.Route("/api/models/bert-base-uncased", rec.Name)
		job := src.infoJob(KindModelInfo, "test", "bert-base-uncased", 0)
		res, err := src.Handle(ctx(t), job, webapitest.NewFetcher())
		if err != nil {
			t.Fatal(err)
		}
		a, err := webapi.DecodeArtifact(res.Next[0].Meta[webapi.MetaArtifact])
		if err != nil {
			t.Fatal(err)
		}
		if a.ID != "hf:model:google-bert/bert-base-uncased" {
			t.Errorf("id after redirect %q", a.ID)
		}
	})
}

// Every recorded model card parses: text kept whole (CRLF front matter accepted), datasets from
// the front matter merged in.
func TestRecordedModelCards(t *testing.T) {
	recs := webapitest.Load(t, "testdata/model_cards")
	srv := webapitest.Serve(t, recs)
	src := newSource(t, srv.URL, nil, map[string]string{"card_path": "raw"})
	want := map[string]struct {
		declared []string
		phrase   string
	}{
		"CompVis/stable-diffusion-v1-4":      {nil, "LAION-2B(en)"},
		"EleutherAI/gpt-j-6b":                {[]string{"EleutherAI/pile"}, "The Pile"},
		"FacebookAI/roberta-base":            {[]string{"bookcorpus", "wikipedia"}, "BookCorpus"},
		"HuggingFaceM4/idefics-80b-instruct": {[]string{"HuggingFaceM4/OBELICS", "wikipedia", "facebook/pmd", "laion/laion2B-en"}, "OBELICS"},
		"LumiOpen/Poro-34B":                  {[]string{"cerebras/SlimPajama-627B", "bigcode/starcoderdata", "mc4", "allenai/dolma"}, "Excluding books3"},
		"mosaicml/mpt-7b-storywriter":        {[]string{"the_pile_books3"}, "books3"},
		"mosaicml/mpt-7b":                    {[]string{"mc4", "c4", "togethercomputer/RedPajama-Data-1T", "bigcode/the-stack", "allenai/s2orc"}, "StoryWriter"},
		"stabilityai/stablelm-2-12b":         {[]string{"tiiuae/falcon-refinedweb", "togethercomputer/RedPajama-Data-1T", "uonlp/CulturaX", "CarperAI/pilev2-dev", "bigcode/starcoderdata", "DataProvenanceInitiative/Commercially-Verified-Licenses"}, "without the *Books3* subset"},
	}
	if len(recs) != len(want) {
		t.Fatalf("%d recorded cards, %d expectations: every card needs one", len(recs), len(want))
	}
	for id, w := range want {
		t.Run(id, func(t *testing.T) {
			a := artifact.Artifact{ID: "hf:model:" + id, Source: Name, Kind: artifact.KindModel, Title: id}
			job := src.cardJob(crawler.Job{Dataset: "test"}, a, id, false)
			if !strings.HasSuffix(job.URL, "/"+id+"/raw/main/README.md") {
				t.Fatalf("card url %s", job.URL)
			}
			res, err := src.Handle(ctx(t), job, webapitest.NewFetcher())
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Artifacts) != 1 {
				t.Fatalf("%d artifacts", len(res.Artifacts))
			}
			got := res.Artifacts[0]
			rec := webapitest.Find(t, recs, strings.ReplaceAll(id, "/", "__")+".README.md")
			if got.Text != string(rec.Body) {
				t.Errorf("text is not the card (len %d vs %d)", len(got.Text), len(rec.Body))
			}
			if !slices.Equal(got.DeclaredDatasets, w.declared) {
				t.Errorf("declared %v, want %v", got.DeclaredDatasets, w.declared)
			}
			if !strings.Contains(strings.ToLower(got.Text), strings.ToLower(w.phrase)) {
				t.Errorf("text lacks %q", w.phrase)
			}
		})
	}
}

func TestFrontMatterLineEndings(t *testing.T) {
	for _, text := range []string{
		"---\ndatasets:\n- a\n- b/c\nbase_model: x/y\n---\n# body\n",
		"---\r\ndatasets:\r\n- a\r\n- b/c\r\nbase_model: x/y\r\n---\r\n# body\r\n",
		"\ufeff---\ndatasets: [a, b/c]\nbase_model: [x/y]\n---\n# body",
	} {
		a := artifact.Artifact{ID: "hf:model:o/n", Source: Name, Kind: artifact.KindModel}
		ApplyCard(&a, []byte(text))
		if !slices.Equal(a.DeclaredDatasets, []string{"a", "b/c"}) || !slices.Equal(a.BaseModels, []string{"x/y"}) {
			t.Errorf("%q: declared %v base %v", text, a.DeclaredDatasets, a.BaseModels)
		}
	}
	a := artifact.Artifact{ID: "hf:dataset:o/n", Source: Name, Kind: artifact.KindDataset}
	ApplyCard(&a, []byte("---\nsource_datasets:\n- original\n- extended|laion/laion2B-en\n- extended|other\n---\n"))
	if !slices.Equal(a.DeclaredDatasets, []string{"laion/laion2B-en"}) {
		t.Errorf("source_datasets: %v", a.DeclaredDatasets)
	}
	// Broken or absent front matter: the text is kept, nothing invented.
	for _, text := range []string{"# no front matter\ndatasets: [a]\n", "---\ndatasets: [a\n---\nbody", "---\nnever closed\n"} {
		a := artifact.Artifact{ID: "hf:model:o/n", Source: Name, Kind: artifact.KindModel}
		ApplyCard(&a, []byte(text))
		if a.Text != text || len(a.DeclaredDatasets) != 0 {
			t.Errorf("%q: %+v", text, a)
		}
	}
}
