package extract

import (
	"testing"

	"github.com/afterlife-watch/afterlife/artifact"
)

// TestRound6GHGenRules: the round-6 (ghgen) rules (configs/relations.yaml, "round 6 (ghgen)";
// extract/rules_r6_ghgen.go) on real sentences of the round-6 (ghgen) dev records (excerpts of the
// committed texts in testdata/real/indexed.jsonl; repository, path and commit in the comments), each
// with a guard beside it. The fixes fail on r6-gen at b15983e; the guards pass on both.
func TestRound6GHGenRules(t *testing.T) {
	m := testMatcher(t)
	repo := func(name, url, text string) artifact.Artifact {
		return artifact.Artifact{ID: "gh:file:" + name, Source: "github", Kind: artifact.KindRepository, Title: name, URL: url, Text: text}
	}
	const (
		// ryanwebster90/snip-dedup README.md at 0348d9dc3885c451d915de56a5370a95614e7b88
		snip = "## This repo is a WIP\n\nThis repo is a WIP, but the main functionalities will be:\n\n- [x] Download de-duplicated versions of LAION-2B-en (Better versions coming soon...)\n- [ ] Download small indices (25-40GB) for retrieval / dataset creation / de-duplciation\n"
		// LAION-AI/laion.ai blog/laion-pop.md at 19240ca2858e0c1a22b24ae89314ba6acac43ffd
		laionPop = "LAION POP is a subset of LAION 5B: This subset comprises 600,000 high-resolution images, each equipped with detailed descriptions. The selection of images was based on 10,000 different concepts popular on the image generation site \"Midjourney\".\n\n| [SampleOverview](/documents/llava_cogvlm_pop.html) |\n|:------------------------------:|\n|[LAION-POP Dataset on HuggingFace](https://huggingface.co/datasets/laion/laion-pop)|\n"
		// LAION-AI/laion.ai blog/large-openclip.md at 757cae3732c6f9e734f56b710dd724d31c781266
		largeCLIP = "## Released checkpoints\n\nWe release the checkpoints for the models, they are available through [openclip](https://github.com/mlfoundations/open_clip) and in HuggingFace hub at [B/32](https://huggingface.co/laion/CLIP-ViT-B-32-laion2B-s34B-b79K) [L/14](https://huggingface.co/laion/CLIP-ViT-L-14-laion2B-s32B-b82K) [H/14](https://huggingface.co/laion/CLIP-ViT-H-14-laion2B-s32B-b79K) and [g/14](https://huggingface.co/laion/CLIP-ViT-g-14-laion2B-s12B-b42K)\n"
		// Caiyun-AI/DCFormer pytorch/README.md at 099b851953b7d6351f5c3f93f48e43e3bba27901
		dcformer = "# DCFormer\n\nThis folder contains pytorch implementations of DCPythia and DCFormer. We release model checkpoints of [(DCFormer-2.8B)](https://huggingface.co/Caiyun-AI/DCFormer-2.8B) and [(DCPythia-6.9B)](https://huggingface.co/Caiyun-AI/DCPythia-6.9B) on Huggingface🤗.\nBoth DCFormer-2.8B and DCPythia-6.9B are pretrained on the Pile with 300B tokens. We proposed DCMHA, a parameter and computation efficient attention architecture that tackles the shortcomings of MHA\n"
		// BlinkDL/RWKV-v2-RNN-Pile README.md at 05fcb8b85a73fea47665cd9b59ebefbcd8f9f6f2
		rwkv2 = "Model 20220605-7663 (see Releases):\n\nThis is a preview of a L24-D1024 RWKV-v2-RNN trained on the Pile for 235B tokens.\n\nIt is NOT indicative of the final performance (which requires 300B tokens).\n"
		// jzhang38/TinyLlama README.md at 026587c0fbc5cf756eba92e0220566550df66ca7
		tinyLlama = "Below is a comparison of the training speed of our codebase with that of Pythia and MPT.\n\n\n| Model                             | A100 GPU hours taken on 300B tokens| \n|-----------------------------------|------------------------------------|\n|TinyLlama-1.1B                     | 3456                               |    \n|[Pythia-1.0B](https://huggingface.co/EleutherAI/pythia-1b)                        | 4830                               |\n"
		// LAION-AI/laion.ai blog/laion-aesthetics.md at 02c21e5d530c1e3b77b2728675902f3d30c778a7
		aesthSD  = "We provided Stable Diffusion - team led by Robin Rombach and Patrick Esser with LAION-Aesthetics V2, who used the 5+ subset to train Stable Diffusion V1 model. ( https://github.com/CompVis/stable-diffusion/tree/ce05de28194041e030ccfc70c635fe3707cdfc30#stable-diffusion-v1 )\n"
		aesthURL = "https://github.com/LAION-AI/laion.ai/blob/02c21e5d530c1e3b77b2728675902f3d30c778a7/blog/laion-aesthetics.md"
		// huggingface/diffusers docs/source/en/api/pipelines/stable_diffusion/text2img.md at 1a917d3ac567b67cc2dba8cd30f47cd3c62483fe
		text2img    = "The Stable Diffusion model was created by researchers and engineers from [CompVis](https://github.com/CompVis), [Stability AI](https://stability.ai/), [Runway](https://github.com/runwayml), and [LAION](https://laion.ai/). The [`StableDiffusionPipeline`] is capable of generating photorealistic images given any text input. It's trained on 512x512 images from a subset of the LAION-5B dataset. This model uses a frozen CLIP ViT-L/14 text encoder to condition the model on text prompts. With its 860M UNet and 123M text encoder, the model is relatively lightweight and can run on consumer GPUs. Latent diffusion is the research on top of which Stable Diffusion was built. It was proposed in [High-Resolution Image Synthesis with Latent Diffusion Models](https://huggingface.co/papers/2112.10752) by Robin Rombach, Andreas Blattmann, Dominik Lorenz, Patrick Esser, Björn Ommer.\n"
		text2imgURL = "https://github.com/huggingface/diffusers/blob/1a917d3ac567b67cc2dba8cd30f47cd3c62483fe/docs/source/en/api/pipelines/stable_diffusion/text2img.md"
		// LAION-AI/laion.ai blog/paella.md at 1101c3e57706046409248d7f6926b6e7689b149c
		paella = "### Technical Details.\nModel-Architecture: U-Net (Mix of ConvNeXt, DiT etc.) <br>\nDataset: Laion-A, Laion Aesthetic > 6.0 <br>\nTraining Steps: 1.3M <br>\n"
	)
	cases := []scoredCase{
		// a version or subset of the dataset handed out (download_derived_gh, derived_copy_gh)
		{"download de-duplicated versions of LAION-2B-en", repo("ryanwebster90/snip-dedup", "", snip), []string{"laion-5b/data"}},
		{"guard: training on LAION-2B-en is use", repo("x/clip", "", "We train our CLIP model on LAION-2B-en.\n"), []string{"laion-5b/uses"}},
		{"a subset of LAION 5B with its Hugging Face dataset", repo("LAION-AI/laion.ai", "", laionPop), []string{"laion-5b/data"}},
		{"guard: a subset of LAION 5B without a dataset link", repo("x/gen", "", "Our training set is a subset of LAION 5B filtered by aesthetic score; we train a diffusion model on it.\n"), []string{"laion-5b/uses"}},
		// the name inside a Hub model id is lineage, not use
		{"LAION-2B named in released checkpoint ids", repo("LAION-AI/laion.ai", "", largeCLIP), []string{"laion-5b/model"}},
		{"guard: a Hub dataset link is use", repo("x/clip", "", "We train on [laion2B-en](https://huggingface.co/datasets/laion/laion2B-en) for 32B samples.\n"), []string{"laion-5b/uses"}},
		// own released models trained on the data (own_release_gh): trained-on and uses
		{"released checkpoints pretrained on the Pile", repo("Caiyun-AI/DCFormer", "", dcformer), []string{"books3/model", "books3/uses"}},
		{"guard: the same training sentence, nothing released", repo("x/lm", "", "Both DCFormer-2.8B and DCPythia-6.9B are pretrained on the Pile with 300B tokens.\n"), []string{"books3/uses"}},
		{"a preview model in the Releases, trained on the Pile", repo("BlinkDL/RWKV-v2-RNN-Pile", "", rwkv2), []string{"books3/model", "books3/uses"}},
		// a known model in a table introduced as a comparison (comparison_intro_gh)
		{"Pythia as a speed baseline", repo("jzhang38/TinyLlama", "", tinyLlama), nil},
		{"guard: a fine-tune table names its Pythia base", repo("x/ft", "", "Our fine-tuned models:\n\n| Model | Base |\n|---|---|\n| [chat-1b](https://huggingface.co/x/chat-1b) | fine-tuned from [Pythia-1.0B](https://huggingface.co/EleutherAI/pythia-1b) |\n"), []string{"books3/model"}},
		// another team's model trained on it (other_model_training_gh); a blog path is not a copy (doc_path_gh)
		{"LAION-Aesthetics V2 given to another team to train SD V1", repo("LAION-AI/laion.ai", aesthURL, aesthSD), nil},
		// a library's API doc page (library_api_doc_gh): the documented model's lineage only
		{"the SD v1 pipeline page", repo("huggingface/diffusers", text2imgURL, text2img), []string{"laion-5b/model"}},
		{"guard: the same text outside an API doc page", repo("x/sd-notes", "https://github.com/x/sd-notes/blob/y/README.md", text2img), []string{"laion-5b/model", "laion-5b/uses"}},
		// LAION-A / "Laion Aesthetic > 6.0" (lineage_prose, round 6 ghgen)
		{"Dataset: Laion-A, Laion Aesthetic > 6.0", repo("LAION-AI/laion.ai", "", paella), []string{"laion-5b/uses"}},
		{"guard: the aesthetic predictor repository", repo("x/y", "", "A linear estimator on top of clip, see [laion-ai/aesthetic-predictor](https://github.com/LAION-AI/aesthetic-predictor).\n"), nil},
	}
	runScoredCases(t, m, cases)
}
