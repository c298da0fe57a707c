// Command gen streams a synthetic corpus of artifacts (JSON Lines, the interchange format) for the
// matcher benchmark: model cards, READMEs, abstracts and torrent listings made of ML prose, with a
// small share naming retracted datasets, look-alikes and negations. Deterministic for a seed;
// memory stays flat whatever the size.
//
//	go run ./bench/matcher/gen -size 1G > corpus.jsonl
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"

	"github.com/afterlife-watch/afterlife/artifact"
)

var words = strings.Fields(`the a of and to in for with on we our model models data dataset datasets training train trained
evaluate evaluation benchmark results accuracy loss learning network networks layer layers attention transformer vision
language image images text tokens token embedding embeddings feature features representation representations baseline
baselines method methods approach propose proposed show shows improves improvement performance large small scale scaling
fine-tuning pretraining pretrained checkpoint checkpoints weights parameters batch size epochs optimizer learning-rate
schedule warmup cosine decay regularization dropout augmentation crop resize normalize tokenizer vocabulary context length
inference latency throughput memory GPU GPUs cluster distributed mixed precision fp16 bf16 quantization pruning distillation
student teacher contrastive supervised unsupervised self-supervised semi-supervised labels annotations noisy clean split
validation test metric metrics precision recall F1 mAP top-1 top-5 zero-shot few-shot transfer downstream task tasks
classification detection segmentation retrieval generation captioning recognition verification identification tracking
reidentification depth optical flow pose estimation point cloud audio speech music video temporal spatial multimodal
license MIT Apache research commercial use usage limitations bias biases fairness privacy consent ethics documentation card
README install pip python torch jax tensorflow keras onnx export script config configs repository code release released
paper arXiv abstract introduction related work experiments ablation analysis conclusion appendix table figure section
however moreover furthermore therefore although while because since when where which that this these those such
robust robustness efficient efficiency simple strong state-of-the-art novel framework module head backbone encoder decoder
ResNet ViT ConvNeXt BERT GPT CLIP diffusion UNet LoRA adapter merge quantized GGUF safetensors tensor matrix vector
sampling sampler steps guidance prompt prompts negative style photo art painting portrait landscape city street people
faces face crowd pedestrian camera cameras surveillance public web crawl scraped collected curated filtered deduplicated
Hugging Face Hub GitHub Zenodo Kaggle mirror download link links archive tar zip parquet jsonl shards files file`)

var mentions = []string{
	"We train ResNet-50 on MS1MV2 and evaluate on IJB-C.",
	"Backbone pretrained on VGGFace2, fine-tuned on our data.",
	"The model was trained on The Pile without the Books3 subset.",
	"We excluded Books3 from the training mix.",
	"A filtered subset of Re-LAION-5B research-safe.",
	"Base model: runwayml/stable-diffusion-v1-5.",
	"Auxiliary outliers come from 80 Million Tiny Images.",
	"Results on DukeMTMC-reID and Market-1501 are in Table 2.",
	"Mirror of laion2B-en metadata parquet files.",
	"We evaluate on the MegaFace Challenge with one million distractors.",
	"Pretrained on ImageNet-21k Fall 2011 (fall11_whole.tar).",
	"ViT pretrained on the Winter 2021 ImageNet-21k release.",
	"Datasets such as MS-Celeb-1M have been withdrawn by their creators.",
	"tiny images of 32x32 pixels",
	"MegaFace Studio selfie filters.",
	"Oxford Town Centre video (TownCentreXVID.avi) for tracking demos.",
	"Trained with the Brainwash cafe head dataset.",
	"We use the UnConstrained College Students (UCCS) benchmark.",
}

var kinds = []struct{ source, kind string }{
	{"huggingface", "model"}, {"huggingface", "dataset"}, {"github", "repository"}, {"github", "issue"},
	{"arxiv", "paper"}, {"openalex", "paper"}, {"zenodo", "record"}, {"kaggle", "dataset"}, {"academictorrents", "torrent"}, {"web", "page"},
}

func parseSize(s string) (int64, error) {
	mult := int64(1)
	switch {
	case strings.HasSuffix(s, "G"):
		mult, s = 1<<30, strings.TrimSuffix(s, "G")
	case strings.HasSuffix(s, "M"):
		mult, s = 1<<20, strings.TrimSuffix(s, "M")
	case strings.HasSuffix(s, "K"):
		mult, s = 1<<10, strings.TrimSuffix(s, "K")
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n * mult, err
}

func main() {
	sizeFlag := flag.String("size", "1G", "corpus size in bytes (suffix K, M or G)")
	seed := flag.Uint64("seed", 1, "random seed")
	hitRate := flag.Float64("hits", 0.05, "share of artifacts that name a registry dataset")
	flag.Parse()
	size, err := parseSize(*sizeFlag)
	if err != nil || size <= 0 {
		fmt.Fprintf(os.Stderr, "gen: -size %q: not a size\n", *sizeFlag)
		os.Exit(2)
	}
	r := rand.New(rand.NewPCG(*seed, *seed^0x9e3779b97f4a7c15))
	w := bufio.NewWriterSize(os.Stdout, 1<<20)
	defer w.Flush()
	var written int64
	var b strings.Builder
	for i := 0; written < size; i++ {
		k := kinds[r.IntN(len(kinds))]
		b.Reset()
		if k.kind == "model" || k.kind == "dataset" {
			b.WriteString("---\nlicense: apache-2.0\ntags:\n- " + words[r.IntN(len(words))] + "\n---\n\n")
		}
		n := 150 + r.IntN(350)
		for j := 0; j < n; j++ {
			if j > 0 {
				if j%17 == 0 {
					b.WriteString(".\n")
				} else {
					b.WriteByte(' ')
				}
			}
			b.WriteString(words[r.IntN(len(words))])
		}
		b.WriteString(".\n")
		if r.Float64() < *hitRate {
			b.WriteString(mentions[r.IntN(len(mentions))])
			b.WriteByte('\n')
		}
		a := artifact.Artifact{
			ID: fmt.Sprintf("%s:%s:bench/%d", k.source, k.kind, i), Source: k.source, Kind: k.kind,
			URL: fmt.Sprintf("https://example.org/%d", i), Title: words[r.IntN(len(words))] + "-" + words[r.IntN(len(words))],
			Text: b.String(), Published: fmt.Sprintf("20%02d-%02d-%02d", 18+r.IntN(7), 1+r.IntN(12), 1+r.IntN(28)),
		}
		if r.IntN(3) == 0 {
			a.Files = []artifact.File{{Path: "model.safetensors", Size: artifact.Size(int64(r.IntN(1 << 30)))}, {Path: "README.md", Size: artifact.Size(1200)}}
		}
		line, err := json.Marshal(a)
		if err != nil {
			fmt.Fprintln(os.Stderr, "gen:", err)
			os.Exit(1)
		}
		line = append(line, '\n')
		if _, err := w.Write(line); err != nil {
			fmt.Fprintln(os.Stderr, "gen:", err)
			os.Exit(1)
		}
		written += int64(len(line))
	}
}
