package huggingface

import (
	"slices"
	"strings"
	"testing"

	"github.com/afterlife-watch/afterlife/artifact"
	"github.com/afterlife-watch/afterlife/configs"
	"github.com/afterlife-watch/afterlife/crawler/webapi/webapitest"
	"github.com/afterlife-watch/afterlife/internal/demoworld"
)

// testRegistry is a registry shaped like configs/registry.yaml (aliases from research's draft).
func testRegistry() []*configs.Dataset {
	return []*configs.Dataset{
		{ID: "ms-celeb-1m", Name: "MS-Celeb-1M", Aliases: []string{"MS-Celeb-1M", "MS Celeb", "MSCeleb", "MS1M", "msceleb"},
			Derivatives: []configs.Derivative{{ID: "ms1mv2", Aliases: []string{"MS1MV2", "MS1M-ArcFace", "faces_emore"}, CarriesData: true}, {ID: "ms1mv3", Aliases: []string{"MS1MV3", "MS1M-RetinaFace", "ms1m-retinaface-t1"}, CarriesData: true}},
			Papers:      []configs.Paper{{ArXiv: "1607.08221"}}},
		{ID: "megaface", Name: "MegaFace", Aliases: []string{"MegaFace", "MF2"}},
		{ID: "tiny-images", Name: "80 Million Tiny Images", Aliases: []string{"Tiny Images", "80M Tiny Images", "tiny_images"}},
		{ID: "dukemtmc", Name: "DukeMTMC", Aliases: []string{"DukeMTMC", "DukeMTMC-reID"}},
		{ID: "imagenet-21k-fall11", Name: "ImageNet-21k (Fall 2011)", Aliases: []string{"ImageNet-21k", "fall11", "fall11_whole"}},
		{ID: "laion-5b", Name: "LAION-5B", Aliases: []string{"LAION-5B", "laion2B-en", "laion2B-multi"},
			KnownModels: []configs.KnownModel{{ID: "stable-diffusion-v1-5/stable-diffusion-v1-5"}}},
		{ID: "books3", Name: "Books3", Aliases: []string{"Books3", "the_pile_books3"},
			KnownModels: []configs.KnownModel{{ID: "EleutherAI/gpt-j-6b", Via: "the-pile"}}},
		{ID: "vggface2", Name: "VGGFace2", Aliases: []string{"VGGFace2", "VGG2"}},
		{ID: "brainwash", Name: "Brainwash", Aliases: []string{"Brainwash"}},
	}
}

func plantedIDs(t *testing.T, epoch int) []string {
	t.Helper()
	all, err := demoworld.LoadPlanted()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, p := range all {
		if p.Source == Name && p.InEpoch(epoch) {
			out = append(out, p.ID)
		}
	}
	slices.Sort(out)
	return out
}

// The adapter finds the whole planted Hugging Face afterlife through the queries it plans, and the
// next epoch's changes: a takedown disappears from its listing, new uploads appear, and the re-scan
// of unchanged repos is answered with 304s.
func TestDemoWorld(t *testing.T) {
	world, err := demoworld.New(demoworld.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := demoworld.Start(world, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	src := newSource(t, srv.URL+"/huggingface", nil, nil)
	f := webapitest.NewFetcher()

	got, err := webapitest.Crawl(ctx(t), src, f, testRegistry(), 5000)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Errors) > 0 {
		t.Fatalf("errors: %v", got.Errors)
	}
	want := plantedIDs(t, 1)
	if len(want) < 12 {
		t.Fatalf("only %d planted HF artifacts in epoch 1", len(want))
	}
	var ids []string
	for id := range got.Artifacts {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	if !slices.Equal(ids, want) {
		t.Fatalf("found %v\nplanted %v", ids, want)
	}
	// Fields that matter, as the Hub would serve them.
	arc := got.Artifacts["hf:model:visionid-lab/arcface-r100-ms1mv3"]
	// A model hit is read from its listing (file names, no sizes: only the detail route has them).
	if i := slices.IndexFunc(arc.Files, func(f artifact.File) bool { return f.Path == "ms1mv3_arcface_r100_fp16.pth" }); i < 0 {
		t.Errorf("arcface files %+v", arc.Files)
	}
	if !slices.Equal(arc.DeclaredDatasets, []string{"ms1mv3"}) || arc.Published != "2024-09-02" || !strings.Contains(arc.Text, "MS1M-RetinaFace") {
		t.Errorf("arcface %+v", arc)
	}
	sd := got.Artifacts["hf:model:pixelforge/sd15-watercolor"]
	if !slices.Equal(sd.BaseModels, []string{"stable-diffusion-v1-5/stable-diffusion-v1-5"}) || !slices.Contains(sd.Tags, "base_model:finetune:stable-diffusion-v1-5/stable-diffusion-v1-5") {
		t.Errorf("sd fine-tune %+v", sd)
	}
	lora := got.Artifacts["hf:model:pixelforge/sd15-watercolor-lora-ink"]
	if !slices.Equal(lora.BaseModels, []string{"pixelforge/sd15-watercolor"}) {
		t.Errorf("grandchild %+v", lora)
	}
	xss := got.Artifacts["hf:model:pwnlab/megaface-detector"]
	if !strings.Contains(xss.Text, "<script>alert(1)</script>") {
		t.Errorf("hostile text must be kept verbatim (reports escape it): %q", xss.Text)
	}
	emore := got.Artifacts["hf:dataset:facecorpus-mirror/faces_emore"]
	if emore.Kind != artifact.KindDataset || emore.URL != srv.URL+"/huggingface/datasets/facecorpus-mirror/faces_emore" || len(emore.Files) < 4 {
		t.Errorf("faces_emore %+v", emore)
	}
	if len(got.Gone) != 0 {
		t.Errorf("gone in a fresh world: %v", got.Gone)
	}
	var books3 []string
	for _, l := range got.Listings {
		if l.Scope == "huggingface:search-datasets:search=Books3" { // the_pile_books3's hits are Books3's
			books3 = l.IDs
		}
	}
	if !slices.Equal(books3, []string{"hf:dataset:bookworm-data/the_pile_books3-mirror"}) {
		t.Errorf("books3 listing %v", books3)
	}
	firstRequests := len(f.Requests)

	// Epoch 2: the Books3 mirror is taken down, two uploads are new.
	world.SetEpoch(2)
	got2, err := webapitest.Crawl(ctx(t), src, f, testRegistry(), 5000)
	if err != nil || len(got2.Errors) > 0 {
		t.Fatalf("epoch 2: %v %v", err, got2.Errors)
	}
	if _, ok := got2.Artifacts["hf:dataset:bookworm-data/the_pile_books3-mirror"]; ok {
		t.Error("taken-down mirror still found")
	}
	for _, id := range []string{"hf:dataset:crowdcv/brainwash-heads", "hf:model:mobileface/arcface-mbf-ms1mv3-distilled"} {
		if _, ok := got2.Artifacts[id]; !ok {
			t.Errorf("new upload %s not found", id)
		}
	}
	for _, l := range got2.Listings {
		if l.Scope == "huggingface:search-datasets:search=the_pile_books3" && len(l.IDs) != 0 {
			t.Errorf("books3 listing in epoch 2: %v", l.IDs)
		}
	}
	// Unchanged repos came back 304 and parsed from the cache.
	var conditional int
	for _, r := range f.Requests[firstRequests:] {
		if r.Header.Get("If-None-Match") != "" {
			conditional++
		}
	}
	if conditional < len(want)/2 {
		t.Errorf("only %d conditional requests in the re-scan", conditional)
	}
	// The detail endpoint of a repo missing from this epoch answers 404 → gone.
	res, err := src.Handle(ctx(t), src.infoJob(KindDatasetInfo, "books3", "bookworm-data/the_pile_books3-mirror", 0), f)
	if err != nil || !slices.Equal(res.Gone, []string{"hf:dataset:bookworm-data/the_pile_books3-mirror"}) {
		t.Errorf("gone %v err %v", res.Gone, err)
	}
}

// With the project's own registry, every planted artifact is reachable (the registry must carry
// the aliases and known models the planted afterlife uses).
func TestDemoWorldWithEmbeddedRegistry(t *testing.T) {
	reg, err := configs.LoadRegistry("")
	if err != nil {
		t.Fatal(err)
	}
	world, err := demoworld.New(demoworld.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := demoworld.Start(world, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	src := newSource(t, srv.URL+"/huggingface", nil, nil)
	got, err := webapitest.Crawl(ctx(t), src, webapitest.NewFetcher(), reg.Retracted(), 20000)
	if err != nil {
		t.Fatal(err)
	}
	// Every planted artifact of epoch 1, negatives included, must be reachable: negatives only test
	// the matcher if the crawl brings them in.
	for _, id := range plantedIDs(t, 1) {
		if _, found := got.Artifacts[id]; !found {
			t.Errorf("planted %s not reachable from the embedded registry's queries", id)
		}
	}
	if len(got.Errors) > 0 {
		t.Errorf("errors: %v", got.Errors)
	}
}
