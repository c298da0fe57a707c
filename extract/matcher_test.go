package extract

import (
	"fmt"
	"os"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/afterlife-watch/afterlife/artifact"
	"github.com/afterlife-watch/afterlife/configs"
)

func testMatcher(t testing.TB, opts ...Option) *Matcher {
	t.Helper()
	reg, err := configs.LoadRegistry("")
	if err != nil {
		t.Fatal(err)
	}
	return New(reg, opts...)
}

// find returns the finding for (dataset, relation), or nil.
func find(fs []Finding, ds string, rel Relation) *Finding {
	for i := range fs {
		if fs[i].Dataset == ds && fs[i].Relation == rel {
			return &fs[i]
		}
	}
	return nil
}

// scored returns "dataset/class" for every afterlife finding.
func scored(fs []Finding) []string {
	var out []string
	for _, f := range fs {
		if c := f.Relation.Scored(); c != "" && !f.Context {
			out = append(out, f.Dataset+"/"+c)
		}
	}
	return out
}

func TestVariantsAndNormalize(t *testing.T) {
	if got := normalize("  MS-Celeb__1M (v1) "); got != "ms celeb 1m v1" {
		t.Fatalf("normalize = %q", got)
	}
	v := variants("MS-Celeb-1M")
	for _, want := range []string{"ms celeb 1m", "msceleb1m", "msceleb 1m", "ms celeb1m"} {
		found := false
		for _, x := range v {
			found = found || x == want
		}
		if !found {
			t.Errorf("variants(MS-Celeb-1M) = %v, missing %q", v, want)
		}
	}
}

func TestAliasSpellingsAndWordBoundaries(t *testing.T) {
	m := testMatcher(t)
	for _, tc := range []struct {
		text string
		want bool
	}{
		{"We train on MS-Celeb-1M.", true},
		{"We train on ms_celeb_1m.", true},
		{"We train on MSCeleb1M.", true},
		{"We train on the MS Celeb 1M set.", true},
		{"We train on MS1M.", true},
		{"We train on XMS1MY.", false},       // inside another word
		{"We train on ms1m2020data.", false}, // inside another token
		{"We train on emsceleb.", false},
	} {
		a := &artifact.Artifact{ID: "p", Source: "arxiv", Kind: "paper", Text: tc.text}
		got := find(m.Match(a), "ms-celeb-1m", Uses) != nil
		if got != tc.want {
			t.Errorf("%q: uses ms-celeb-1m = %v, want %v (%+v)", tc.text, got, tc.want, m.Match(a))
		}
	}
}

func TestVersionLookAlikes(t *testing.T) {
	m := testMatcher(t)
	cases := []struct {
		name, kind, text string
		declared         []string
		notScored        string
	}{
		{"re-laion", "dataset", "A mirror of Re-LAION-5B research-safe parquet files.", nil, "laion-5b"},
		{"winter21", "model", "ViT pretrained on ImageNet-21k (Winter 2021 release, winter21_whole.tar.gz).", nil, "imagenet-21k-fall11"},
		{"in1k", "model", "ResNet-50 trained on ImageNet-1k (ILSVRC2012) only.", nil, "imagenet-21k-fall11"},
		{"pile-uc", "model", "GPT-2 trained on pile-uncopyrighted, the Pile without Books3.", []string{"monology/pile-uncopyrighted"}, "books3"},
		{"excluded", "model", "Trained on The Pile; we excluded Books3 before tokenisation.", nil, "books3"},
	}
	for _, tc := range cases {
		a := &artifact.Artifact{ID: tc.name, Source: "huggingface", Kind: tc.kind, Text: tc.text, DeclaredDatasets: tc.declared}
		fs := m.Match(a)
		for _, s := range scored(fs) {
			if strings.HasPrefix(s, tc.notScored+"/") {
				t.Errorf("%s: scored %s as afterlife: %+v", tc.name, s, fs)
			}
		}
	}
	// ... while the original versions do match.
	a := &artifact.Artifact{ID: "sd", Source: "huggingface", Kind: "dataset", Title: "laion2B-en-mirror", Text: "Copy of laion2B-en parquet files."}
	if f := find(m.Match(a), "laion-5b", Copy); f == nil {
		t.Errorf("laion2B-en mirror not a copy of laion-5b: %+v", m.Match(a))
	}
	// The look-alike itself is reported under its own id, as context.
	a = &artifact.Artifact{ID: "rl", Source: "huggingface", Kind: "dataset", Title: "relaion2B-en-research-safe"}
	fs := m.Match(a)
	if len(fs) != 1 || fs[0].Dataset != "re-laion-5b" || !fs[0].Context {
		t.Errorf("re-laion dataset: %+v", fs)
	}
}

func TestStructuredFieldsAndLineage(t *testing.T) {
	m := testMatcher(t)
	a := &artifact.Artifact{ID: "hf:model:x/lora", Source: "huggingface", Kind: "model",
		Text: "---\nbase_model: CompVis/stable-diffusion-v1-4\ntags:\n- lora\n---\n# A LoRA\nTrained on my own drawings.\n"}
	f := find(m.Match(a), "laion-5b", TrainedOn)
	if f == nil {
		t.Fatalf("front-matter base_model not followed: %+v", m.Match(a))
	}
	wantChain := []string{"hf:model:x/lora", "CompVis/stable-diffusion-v1-4", "laion-5b"}
	if !reflect.DeepEqual(f.Chain, wantChain) {
		t.Errorf("chain = %v, want %v", f.Chain, wantChain)
	}
	if ev := f.Evidence[0]; ev.Field != "card.base_model" || a.Text[ev.Start:ev.End] != "CompVis/stable-diffusion-v1-4" {
		t.Errorf("evidence = %+v (text there: %q)", ev, a.Text[ev.Start:ev.End])
	}
	// HF tags, base model through a derivative (The Pile) to Books3.
	a = &artifact.Artifact{ID: "hf:model:y/neo", Source: "huggingface", Kind: "model", Text: "A chat fine-tune.",
		Tags: []string{"base_model:finetune:EleutherAI/pythia-1.4b-deduped"}}
	f = find(m.Match(a), "books3", TrainedOn)
	if f == nil || f.Via == "" || !strings.Contains(strings.Join(f.Chain, ">"), "the-pile>books3") {
		t.Errorf("pythia tag lineage: %+v", m.Match(a))
	}
	// dataset: tags are declared datasets.
	a = &artifact.Artifact{ID: "hf:model:z", Source: "huggingface", Kind: "model", Text: "A model.", Tags: []string{"dataset:EleutherAI/pile"}}
	if find(m.Match(a), "books3", TrainedOn) == nil {
		t.Errorf("dataset: tag: %+v", m.Match(a))
	}
}

type fakeLineage map[string][]Taint

func (f fakeLineage) TaintOf(id string) []Taint { return f[id] }

func TestLineageStore(t *testing.T) {
	m := testMatcher(t, WithLineage(fakeLineage{
		"org/arcface-ft": {{Dataset: "ms-celeb-1m", Chain: []string{"ms1mv3", "ms-celeb-1m"}}},
	}))
	a := &artifact.Artifact{ID: "hf:model:me/arcface-ft2", Source: "huggingface", Kind: "model", Text: "Fine-tune.", BaseModels: []string{"org/arcface-ft"}}
	f := find(m.Match(a), "ms-celeb-1m", TrainedOn)
	if f == nil {
		t.Fatalf("stored lineage not used: %+v", m.Match(a))
	}
	if want := []string{"hf:model:me/arcface-ft2", "org/arcface-ft", "ms1mv3", "ms-celeb-1m"}; !reflect.DeepEqual(f.Chain, want) {
		t.Errorf("chain = %v, want %v", f.Chain, want)
	}
	// Chains stored by earlier runs start with the model's own artifact id: not repeated.
	m2 := testMatcher(t, WithLineage(fakeLineage{
		"org/arcface-ft": {{Dataset: "ms-celeb-1m", Chain: []string{"hf:model:org/arcface-ft", "ms1mv3", "ms-celeb-1m"}}},
	}))
	if f := find(m2.Match(a), "ms-celeb-1m", TrainedOn); f == nil || len(f.Chain) != 4 || f.Chain[1] != "org/arcface-ft" {
		t.Errorf("stored chain: %+v", f)
	}
	// Without the store the same artifact is clean.
	if fs := testMatcher(t).Match(a); len(scored(fs)) != 0 {
		t.Errorf("without lineage: %+v", fs)
	}
}

func TestFileFingerprints(t *testing.T) {
	m := testMatcher(t)
	// A renamed torrent: no name matches, but the file size is the size of tiny_images.bin.
	a := &artifact.Artifact{ID: "at:x", Source: "academictorrents", Kind: "torrent", Title: "batch_b",
		Files: []artifact.File{{Path: "batch_b/blob.bin", Size: artifact.Size(243615796224)}, {Path: "readme.txt", Size: artifact.Size(10)}}}
	f := find(m.Match(a), "tiny-images", Copy)
	if f == nil || f.Evidence[0].Rule != "file-size-fingerprint" {
		t.Fatalf("renamed torrent: %+v", m.Match(a))
	}
	// A known info-hash alone.
	a = &artifact.Artifact{ID: "dht:x", Source: "dht", Kind: "torrent", Title: "x", InfoHash: "35E83806D9362A57BE736F370C821960EB2F2A01"}
	if find(m.Match(a), "oxford-town-centre", Copy) == nil {
		t.Errorf("infohash: %+v", m.Match(a))
	}
	// Weight file names carry the training set.
	a = &artifact.Artifact{ID: "hf:model:w", Source: "huggingface", Kind: "model", Title: "w",
		Files: []artifact.File{{Path: "weights/20180402-114759-vggface2.pt"}}}
	if find(m.Match(a), "vggface2", TrainedOn) == nil {
		t.Errorf("facenet weights: %+v", m.Match(a))
	}
}

func TestContextClassification(t *testing.T) {
	m := testMatcher(t)
	cases := []struct {
		kind, text string
		want       Relation
	}{
		{"paper", "We audit the captions of LAION-400M for harmful content; we did not train any model.", Studies},
		{"paper", "Datasets such as MS-Celeb-1M have been withdrawn by their creators. We use our own data.", Mention},
		{"paper", "We train ResNet-50 on MS1MV2 and evaluate on IJB-C.", Uses},
		{"model", "Trained on a custom web mix. We excluded Books3 and other shadow libraries.", Mention},
		{"issue", "Sorry, we can't share DukeMTMC-reID; it was withdrawn in 2019.", Mention},
		{"issue", "DukeMTMC-reID is here: https://drive.google.com/file/d/abc/view", Copy},
	}
	for _, tc := range cases {
		a := &artifact.Artifact{ID: "x", Source: "web", Kind: tc.kind, Text: tc.text}
		fs := m.Match(a)
		found := false
		for _, f := range fs {
			if !f.Context {
				found = found || f.Relation == tc.want
				if f.Relation.Scored() != "" && tc.want.Scored() == "" {
					t.Errorf("%q: scored %s %s", tc.text, f.Dataset, f.Relation)
				}
			}
		}
		if !found {
			t.Errorf("%q: want %s, got %+v", tc.text, tc.want, fs)
		}
	}
}

func TestPostRetractionAndOrder(t *testing.T) {
	m := testMatcher(t)
	a := &artifact.Artifact{ID: "arxiv:1", Source: "arxiv", Kind: "paper", Published: "2021-05-01",
		Text: "We train on VGGFace2 and evaluate on the MegaFace Challenge and on DukeMTMC-reID."}
	fs := m.Match(a)
	var ids []string
	for _, f := range fs {
		ids = append(ids, f.Dataset)
		if f.Dataset == "vggface2" && !f.PostRetraction {
			t.Errorf("vggface2 retracted 2020-12, paper 2021-05: not post-retraction: %+v", f)
		}
		seen := map[[2]int]bool{}
		for _, ev := range f.Evidence {
			k := [2]int{ev.Start, ev.End}
			if ev.Field == "text" && seen[k] {
				t.Errorf("duplicate evidence %+v", ev)
			}
			seen[k] = true
		}
	}
	if want := []string{"megaface", "dukemtmc", "vggface2"}; !reflect.DeepEqual(ids, want) {
		t.Errorf("order = %v, want registry order %v", ids, want)
	}
	for _, f := range fs {
		if f.Dataset == "dukemtmc" && !f.PostRetraction {
			t.Errorf("dukemtmc (2019-04-25) not post-retraction for 2021-05-01")
		}
		if f.Confidence <= 0 || f.Confidence > 1 {
			t.Errorf("confidence %v out of range", f.Confidence)
		}
		for _, ev := range f.Evidence {
			if ev.Field == "text" && (ev.Start < 0 || ev.End > len(a.Text) || ev.Start >= ev.End) {
				t.Errorf("bad offsets %+v", ev)
			}
		}
	}
}

func TestMatchConcurrentAndDeterministic(t *testing.T) {
	m := testMatcher(t)
	f, err := os.Open("testdata/dev.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	arts, err := artifact.ReadAll(f, "dev.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	want := make([]string, len(arts))
	for i := range arts {
		want[i] = fmt.Sprintf("%+v", m.Match(&arts[i]))
	}
	var wg sync.WaitGroup
	errs := make(chan string, 8*len(arts))
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range arts {
				if got := fmt.Sprintf("%+v", m.Match(&arts[i])); got != want[i] {
					errs <- arts[i].ID
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for id := range errs {
		t.Errorf("%s: findings differ between calls", id)
	}
}

// TestMatchBoundedOnHostileInput: an artifact made of nothing but aliases is matched in bounded time.
func TestMatchBoundedOnHostileInput(t *testing.T) {
	m := testMatcher(t)
	text := strings.Repeat("MS1M LAION-5B Re-LAION-5B The Pile Books3 ", 40000) // 200k occurrences
	a := &artifact.Artifact{ID: "x", Source: "web", Kind: "page", Text: text, Title: text[:1000]}
	fs := m.Match(a)
	if len(fs) == 0 {
		t.Error("no findings at all")
	}
}

// scoredCase is one case of a rule table: an artifact and the scored findings (dataset/class) the
// matcher must give it (nil: none).
type scoredCase struct {
	name string
	a    artifact.Artifact
	want []string
}

// runScoredCases matches every case and compares its scored findings, order ignored.
func runScoredCases(t *testing.T, m *Matcher, cases []scoredCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fs := m.Match(&c.a)
			got := scored(fs)
			sort.Strings(got)
			want := append([]string(nil), c.want...)
			sort.Strings(want)
			if !reflect.DeepEqual(got, want) && !(len(got) == 0 && len(want) == 0) {
				t.Errorf("scored %v, want %v; findings %+v", got, want, fs)
			}
		})
	}
}
