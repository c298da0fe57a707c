package extract

import (
	"testing"

	"github.com/afterlife-watch/afterlife/artifact"
)

// Round 8 (lead): a Stable Diffusion card that gives its base as a bare version (rules_r8.go). The
// two real cards fail before the rule (no finding: no lineage words next to "Stable Diffusion").
func TestRound8SDBareVersion(t *testing.T) {
	m := testMatcher(t)
	card := func(id, text string, tags ...string) artifact.Artifact {
		return artifact.Artifact{ID: "hf:model:" + id, Source: "huggingface", Kind: artifact.KindModel, Title: id, Text: text, Tags: tags}
	}
	const (
		// YinanWusoymilk/hf-readme training_and_application/readme_files/SomaMythos_ChromaV5.md at
		// 1ab39f24f8f9548593ac6304367f31ae3ff45178 (an excerpt)
		chroma = "# Model Name: Chroma\n\nModel Filename: **ChromaV5**  \n\nVersion: 1.7\n=\n\nTrained with: **TheLastBen - fast-stable-diffusion**  \nBase Model: **v1.5**  &  **2.0**  \nNumber of Images: **19**  \nResolution: **512x512**  & **768x768**  \nSteps:**3000**  \n"
		// YinanWusoymilk/hf-readme training_and_application/readme_files/wavymulder_Analog-Diffusion.md
		// at 1ab39f24f8f9548593ac6304367f31ae3ff45178 (an excerpt)
		analog = "---\nlanguage:\n- en\nlicense: creativeml-openrail-m\ntags:\n- stable-diffusion\n- stable-diffusion-diffusers\n- text-to-image\n---\n\n**Analog Diffusion**\nThis is a dreambooth model trained on a diverse set of analog photographs.\n\nIn your prompt, use the activation token: `analog style`\n\nTrained from 1.5 with VAE.\n"
	)
	runScoredCases(t, m, []scoredCase{
		{"Base Model: v1.5 on a DreamBooth card", card("SomaMythos/ChromaV5", chroma), []string{"laion-5b/model"}},
		{"Trained from 1.5 on a card tagged stable-diffusion", card("wavymulder/Analog-Diffusion", analog), []string{"laion-5b/model"}},
		{"guard: a count, not a version", card("g/counts", "A stable-diffusion LoRA trained on 1.5 million images of cats."), nil},
		{"guard: an SDXL card", card("g/xl", "Stable Diffusion XL fine-tune. Base model: v1.0 of our earlier release, trained from 1.5 style data.", "stable-diffusion"), nil},
		{"guard: not a Stable Diffusion card", card("g/llm", "A chat model. Base model: v1.5 of our assistant, trained from 2.0 checkpoints."), nil},
		{"guard: negated", card("g/neg", "A stable-diffusion model, not trained from 1.5 but from scratch on our own data.", "stable-diffusion"), nil},
	})
}
