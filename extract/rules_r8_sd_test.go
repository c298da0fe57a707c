package extract

import (
	"testing"
)

// Round 8 (lead): a Stable Diffusion card that gives its base as a bare version (rules_r8.go). The
// two real cards fail before the rule (no finding: no lineage words next to "Stable Diffusion").
func TestRound8SDBareVersion(t *testing.T) {
	m := testMatcher(t)
	const (
		// YinanWusoymilk/hf-readme training_and_application/readme_files/SomaMythos_ChromaV5.md at
		// 1ab39f24f8f9548593ac6304367f31ae3ff45178 (an excerpt)
		chroma = "# Model Name: Chroma\n\nModel Filename: **ChromaV5**  \n\nVersion: 1.7\n=\n\nTrained with: **TheLastBen - fast-stable-diffusion**  \nBase Model: **v1.5**  &  **2.0**  \nNumber of Images: **19**  \nResolution: **512x512**  & **768x768**  \nSteps:**3000**  \n"
		// YinanWusoymilk/hf-readme training_and_application/readme_files/wavymulder_Analog-Diffusion.md
		// at 1ab39f24f8f9548593ac6304367f31ae3ff45178 (an excerpt)
		analog = "---\nlanguage:\n- en\nlicense: creativeml-openrail-m\ntags:\n- stable-diffusion\n- stable-diffusion-diffusers\n- text-to-image\n---\n\n**Analog Diffusion**\nThis is a dreambooth model trained on a diverse set of analog photographs.\n\nIn your prompt, use the activation token: `analog style`\n\nTrained from 1.5 with VAE.\n"
	)
	runScoredCases(t, m, []scoredCase{
		{"Base Model: v1.5 on a DreamBooth card", hubCard("SomaMythos/ChromaV5", chroma), []string{"laion-5b/model"}},
		{"Trained from 1.5 on a card tagged stable-diffusion", hubCard("wavymulder/Analog-Diffusion", analog), []string{"laion-5b/model"}},
		{"guard: a count, not a version", hubCard("g/counts", "A stable-diffusion LoRA trained on 1.5 million images of cats."), nil},
		{"guard: an SDXL card", hubCard("g/xl", "Stable Diffusion XL fine-tune. Base model: v1.0 of our earlier release, trained from 1.5 style data.", "stable-diffusion"), nil},
		{"guard: not a Stable Diffusion card", hubCard("g/llm", "A chat model. Base model: v1.5 of our assistant, trained from 2.0 checkpoints."), nil},
		{"guard: negated", hubCard("g/neg", "A stable-diffusion model, not trained from 1.5 but from scratch on our own data.", "stable-diffusion"), nil},
	})
}

// Round 8 (lead): a name under a training-data column of a table whose row links weights
// (rules_r8.go, r8ZooRow). The CVLface rows fail before the rule (MS1MV2 read as uses only).
func TestRound8ZooRow(t *testing.T) {
	m := testMatcher(t)
	// mk-minchul/CVLface docs/pages/pretrained_models.md at d3d09c93e53c5d5db9ec5c5fa96e5d77fe7a78d8 (the
	// header and two rows of the performance board)
	const board = "## Face Recognition Performance Board\n\n" +
		"| Arch          | Loss         | Dataset    | Link                                                                          | AVG   | LFW   | CPFLW | CFPFP | CALFW | AGEDB | IJBB@0.01 | IJBC@0.01 | TinyFace R1 | TinyFace R5 |\n" +
		"|---------------|--------------|------------|-------------------------------------------------------------------------------|-------|-------|-------|-------|-------|-------|-----------|-----------|-------------|-------------|\n" +
		"| IR101     [3] | AdaFace [2]  | MS1MV3     | [🤗](https://huggingface.co/minchul/cvlface_adaface_ir101_ms1mv3)             | 90.99 | 99.83 | 93.92 | 99.09 | 96.02 | 98.18 | 95.82     | 97.05     | 67.95       | 71.03       |\n" +
		"| IR101     [3] | AdaFace [2]  | MS1MV2     | [🤗](https://huggingface.co/minchul/cvlface_adaface_ir101_ms1mv2)             | 90.90 | 99.80 | 93.53 | 98.61 | 96.12 | 98.05 | 95.59     | 96.81     | 68.11       | 71.49       |\n"
	const header = "| Arch | Loss | Dataset | Link | LFW | IJBC |\n|---|---|---|---|---|---|\n"
	runScoredCases(t, m, []scoredCase{
		{"CVLface board: MS1MV2/MS1MV3 rows link Hub weights", ghFile("mk-minchul/CVLface/docs/pages/pretrained_models.md", board), []string{"ms-celeb-1m/model", "ms-celeb-1m/uses"}},
		{"guard: the same row without a link stays a score row", ghFile("g/nolink", header+"| IR101 | AdaFace | MS1MV2 | to be released | 99.80 | 96.81 |\n"), []string{"ms-celeb-1m/uses"}},
		{"guard: a Hub docs page is not weights", ghFile("g/docslink", header+"| IR101 | AdaFace | MS1MV2 | [docs](https://huggingface.co/docs/transformers) | 99.80 | 96.81 |\n"), []string{"ms-celeb-1m/uses"}},
		{"guard: a Hub dataset link is a copy, not weights", ghFile("g/dslink", header+"| IR101 | AdaFace | MS1MV2 | [data](https://huggingface.co/datasets/org/ms1mv2) | 99.80 | 96.81 |\n"), []string{"ms-celeb-1m/data"}},
	})
}

// Which header cells name a training-data column (r8ZooRow reads a name in such a column only).
func TestTrainColumnHeader(t *testing.T) {
	for _, c := range []struct {
		cell string
		want bool
	}{
		{"dataset", true}, {"training data", true}, {"train set", true}, {"training set", true},
		{"pretraining data", true}, {"trained on", true}, {"data", true},
		{"eval set", false}, {"test set", false}, {"benchmark", false}, {"lfw", false}, {"link", false},
	} {
		if got := trainColumnHeader.MatchString(c.cell); got != c.want {
			t.Errorf("%q: %v, want %v", c.cell, got, c.want)
		}
	}
}
