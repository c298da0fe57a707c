package extract

import (
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/afterlife-watch/afterlife/artifact"
)

// TestTargetedRulesOnHandWrittenTexts: one artifact per targeted rule (negation, exclusivity, context), with texts written for this
// test (none of them is in an eval corpus), each checked for its scored findings and, where it
// matters, for the relation the dataset still gets (studies, mention).
func TestTargetedRulesOnHandWrittenTexts(t *testing.T) {
	m := testMatcher(t)
	cases := []struct {
		name    string
		a       artifact.Artifact
		want    []string // scored dataset/class
		ds      string   // optionally: a dataset that must get relation rel
		rel     Relation //
		notWant []string // substrings that must not be in any evidence rule
	}{
		{
			name: "negation in the id and title, exclusive training in the text",
			a: artifact.Artifact{ID: "hf:model:acme/arcface-casia-no-ms1mv2", Source: "huggingface", Kind: artifact.KindModel,
				URL: "https://huggingface.co/acme/arcface-casia-no-ms1mv2", Title: "acme/arcface-casia-no-ms1mv2",
				Text: "# ArcFace, CASIA only\n\nThis face embedder was trained exclusively on CASIA-WebFace, so it can be compared\nwith the usual MS1MV2 ArcFace checkpoints without any shared training identities."},
			want: nil,
		},
		{
			name: "trained on X only, the retracted set named after it",
			a: artifact.Artifact{ID: "hf:model:acme/siamese-small", Source: "huggingface", Kind: artifact.KindModel,
				Title: "acme/siamese-small",
				Text:  "A Siamese verifier trained on LFW pairs only, which keeps it small; bigger VGGFace2 models are listed in the comparison table of the blog post for reference."},
			want: nil,
		},
		{
			name: "exclusive phrase does not hide the dataset it names",
			a: artifact.Artifact{ID: "hf:model:acme/r50-ms1mv3", Source: "huggingface", Kind: artifact.KindModel,
				Title: "acme/r50-ms1mv3",
				Text:  "An IResNet-50 trained only on MS1MV3 (ms1m-retinaface-t1) with the ArcFace loss, 20 epochs on 8 GPUs. 99.8 on LFW."},
			want: []string{"ms-celeb-1m/model"},
		},
		{
			name: "negation across a wrapped line",
			a: artifact.Artifact{ID: "gh:repo:acme/verify-lite", Source: "github", Kind: artifact.KindRepository,
				Title: "acme/verify-lite",
				Text:  "# verify-lite\n\nFace verification demo. We deliberately stayed clear\nof MegaFace and MS-Celeb-1M for consent reasons; the training script uses our own opt-in photos."},
			want: nil,
		},
		{
			name: "critique repository without data",
			a: artifact.Artifact{ID: "gh:repo:acme/reid-critique", Source: "github", Kind: artifact.KindRepository,
				Title: "acme/reid-critique",
				Text:  "# reid-critique\n\nNotebooks for our critique of campus surveillance benchmarks. We catalogue the harms of DukeMTMC\nto the students filmed for it, and list the projects that still reference it. No frames or annotations are here."},
			want: nil, ds: "dukemtmc", rel: Studies,
		},
		{
			name: "critique repository that also trains on the data keeps its use",
			a: artifact.Artifact{ID: "gh:repo:acme/bias-margins", Source: "github", Kind: artifact.KindRepository,
				Title: "acme/bias-margins",
				Text:  "# bias-margins\n\nCode for our measurement study of demographic gaps. We train ResNet-50 models on MS1MV2 with eight margins and evaluate them on RFW."},
			want: []string{"ms-celeb-1m/uses"},
		},
		{
			name: "census record listing datasets",
			a: artifact.Artifact{ID: "zenodo:99990001", Source: "zenodo", Kind: artifact.KindRecord,
				Title: "Mirrors of withdrawn face datasets, 2019-2024 (census data)",
				Text:  "A census of model cards and torrents that reference MegaFace, MS-Celeb-1M and VGGFace2 after they were withdrawn: one row per artifact with the date we saw it. The data of the datasets is not part of this record.",
				Files: []artifact.File{{Path: "mirrors.csv"}}},
			want: nil, ds: "megaface", rel: Studies,
		},
		{
			name: "record with code and checkpoints: uses and trained-on",
			a: artifact.Artifact{ID: "zenodo:99990002", Source: "zenodo", Kind: artifact.KindRecord,
				Title: "Outlier exposure for text-free OOD (artifact)",
				Text:  "Training scripts and checkpoints. The networks were fine-tuned with outlier exposure using the 300K random images subset of 80 Million Tiny Images as auxiliary outliers (not redistributed).",
				Files: []artifact.File{{Path: "src.tar.gz", Size: artifact.Size(81920)}, {Path: "wrn_oe.pt", Size: artifact.Size(36000000)}}},
			want: []string{"tiny-images/model", "tiny-images/uses"},
		},
		{
			name: "record with checkpoints only: trained-on",
			a: artifact.Artifact{ID: "zenodo:99990003", Source: "zenodo", Kind: artifact.KindRecord,
				Title: "Checkpoints: WRN with outlier exposure",
				Text:  "Checkpoints of WideResNets fine-tuned with outlier exposure on the 300K random images subset of 80 Million Tiny Images. Load them with the code at github.com/acme/oe.",
				Files: []artifact.File{{Path: "wrn_oe.pt", Size: artifact.Size(36000000)}, {Path: "config.yml"}}},
			want: []string{"tiny-images/model"},
		},
		{
			name: "generic phrase as a URL slug",
			a: artifact.Artifact{ID: "web:shots.example/tiny-images-of-birds", Source: "web", Kind: artifact.KindPage,
				URL: "https://shots.example/tiny-images-of-birds", Title: "Macro shots of songbirds",
				Text: "How I photograph songbirds at a feeder with a long lens. Presets: https://drive.google.com/file/d/1birdsPresets/view . Shot at 1/2000 s, f/5.6."},
			want: nil,
		},
		{
			name: "the same slug with its context is still found",
			a: artifact.Artifact{ID: "hf:dataset:acme/tiny-images-ood-outliers", Source: "huggingface", Kind: artifact.KindDataset,
				Title: "acme/tiny-images-ood-outliers",
				Text:  "Auxiliary outliers for OOD training: a re-upload of a random sample of the original collection, 32x32, as one npy file."},
			want: []string{"tiny-images/data"}, notWant: nil,
		},
	}
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
			if c.ds != "" && find(fs, c.ds, c.rel) == nil {
				t.Errorf("no %s/%s finding: %+v", c.ds, c.rel, fs)
			}
			for _, f := range fs {
				for _, e := range f.Evidence {
					for _, nw := range c.notWant {
						if strings.Contains(e.Rule, nw) {
							t.Errorf("rule %s in %+v", e.Rule, f)
						}
					}
				}
			}
		})
	}
}

func TestFoldSpace(t *testing.T) {
	if got := stripMarkup("Kept  **away**\n\tfrom `X`"); got != "kept away from x" {
		t.Errorf("stripMarkup = %q", got)
	}
}

func TestExclusiveElsewhere(t *testing.T) {
	for _, c := range []struct {
		before, after string
		want          bool
	}{
		{"trained only on ", " with the arcface loss", false},           // the object
		{"trained only on lfw, while ", " models are bigger", true},     // after a break
		{"a model ", " checkpoints; ours is trained only on lfw", true}, // exclusive phrase after
		{"trained on lfw only, so ", " is not involved", true},
		{"trained on ", " for 20 epochs only on 8 gpus", false}, // "only" about GPUs
		{"we train on ", " and evaluate on rfw", false},
	} {
		if got := exclusiveElsewhere(c.before, c.after); got != c.want {
			t.Errorf("exclusiveElsewhere(%q, %q) = %v, want %v", c.before, c.after, got, c.want)
		}
	}
}
