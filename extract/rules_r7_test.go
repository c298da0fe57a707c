package extract

import (
	"testing"
)

// TestRound7BenchmarkListRule: a weak name in an enumeration of benchmark datasets, and "such as"
// introducing the text's own benchmarks (rules_r7.go; configs/relations.yaml "round 7") on sentences
// of three round-7 dev abstracts (arXiv abstracts as
// kept in AMDS123/amds123.github.io; paths and commits in the comments, whole texts in
// testdata/real/indexed.jsonl), each with guards. The three fixes fail on main at cf3d75e (the
// abstracts had no finding); the guards pass on both.
func TestRound7BenchmarkListRule(t *testing.T) {
	m := testMatcher(t)
	const (
		// _posts/2018-12-02-Anchor-Box-Optimization-for-Object-Detection.md at 5a4c4fb04ed7b684d0d64e3f2af378e61c2723d7
		anchor = "The extra training cost is almost negligible and it has no impact on the inference time cost. Exhaustive experiments also demonstrate that the proposed anchor optimization method consistently achieves significant improvement ($\\ge 1\\%$ mAP absolute gain) over the baseline method on several benchmark datasets including Pascal VOC 07+12, MS COCO and Brainwash. Meanwhile, the robustness is also verified towards different anchor box initialization methods, which greatly simplifies the problem of anchor box design."
		// _posts/2019-08-05-Attribute-Guided-Coupled-GAN-for-Cross-Resolution-Face-Recognition.md at 81e629359f2e01f0db32c9a560528f199d6cf1f7
		coupled = "In addition to projecting the images into a common subspace, the coupled network also predicts facial attributes to improve the cross-resolution face recognition. The efficacy of our approach compared with the state-of-the-art is demonstrated using the LFWA, Celeb-A, SCFace and UCCS datasets."
		// _posts/2019-07-22-Switchable-Normalization-for-Learning-to-Normalize-Deep-Representation.md at 67a49de38471c7fabc1c1c3ed9323afc5da61096
		switchable = "Third, SN does not have sensitive hyper-parameter, unlike group normalization that searches the number of groups as a hyper-parameter. Without bells and whistles, SN outperforms its counterparts on various challenging benchmarks, such as ImageNet, COCO, CityScapes, ADE20K, MegaFace, and Kinetics. Analyses of SN are also presented to answer the following three questions: (a) Is it useful to allow each normalization layer to select its own normalizer?"
	)
	cases := []scoredCase{
		{"Brainwash listed after Pascal VOC and MS COCO", arxivPaper("1812.00469", anchor), []string{"brainwash/uses"}},
		{"UCCS listed among face datasets", arxivPaper("1908.01790", coupled), []string{"uccs/uses"}},
		// "such as" introducing the text's own benchmarks (r7Cues) and its guards
		{"MegaFace in the benchmarks an abstract outperforms on", arxivPaper("1907.10473", switchable), []string{"megaface/uses"}},
		{"guard: the same list in related work", arxivPaper("g4", "Prior work evaluated face recognition on benchmarks such as LFW, IJB-C and MegaFace, which we do not use."), nil},
		{"guard: unlike methods evaluated on such benchmarks", arxivPaper("g5", "Unlike methods that report results on face benchmarks such as LFW and MegaFace, we study fairness."), nil},
		// guards: not an enumeration with a known benchmark, or no benchmark at all
		{"guard: Brainwash as a verb beside COCO, not listed", arxivPaper("g1", "We train on MS COCO. Advertising can brainwash viewers, and we study it."), nil},
		{"guard: UCCS underwater set among underwater sets", arxivPaper("g2", "Our enhancement network is evaluated on the UIEB, EUVP and UCCS datasets of underwater images."), nil},
		{"guard: a long gap is not a list", arxivPaper("g3", "We report results on MS COCO, while the remaining analysis of our detector considers Brainwash."), nil},
	}
	runScoredCases(t, m, cases)
}

func TestEnumerationGap(t *testing.T) {
	for _, c := range []struct {
		gap  string
		want bool
	}{
		{", ", true},
		{" and ", true},
		{", ms coco and ", true},
		{", cityscapes, ade20k, ", true},
		{" ", false}, // no separator
		{", while the remaining analysis of our detector considers ", false}, // an item of 7 words
		{". we also use ", false}, // a sentence boundary
		{" (and ", false},         // brackets
	} {
		if got := enumerationGap(c.gap); got != c.want {
			t.Errorf("enumerationGap(%q) = %v, want %v", c.gap, got, c.want)
		}
	}
}

// TestRound7SDToolIsNotLineage: the first Stable Diffusion lineage rule (configs/relations.yaml
// lineage_prose) no longer reads a tool for SD's users, or a model id ending in
// "-stable-diffusion", as a fine-tune of SD (round 7: a ViT NSFW detector's card, excerpt below);
// guards keep an adapter and a fine-tune of SD.
func TestRound7SDToolIsNotLineage(t *testing.T) {
	m := testMatcher(t)
	// YinanWusoymilk/hf-readme training_and_application/readme_files/AdamCodd_vit-base-nsfw-detector.md at 1ab39f24f8f9548593ac6304367f31ae3ff45178
	const nsfw = "**<u>New [07/30]</u>**: I created a new ViT model specifically to detect NSFW/SFW images for stable diffusion usage (read the disclaimer below for the reason): [**AdamCodd/vit-nsfw-stable-diffusion**](https://huggingface.co/AdamCodd/vit-nsfw-stable-diffusion).\n"
	runScoredCases(t, m, []scoredCase{
		{"an NSFW detector for stable diffusion usage", hubCard("AdamCodd/vit-base-nsfw-detector", nsfw), nil},
		{"guard: a LoRA for Stable Diffusion v1.5", hubCard("x/lora", "A LoRA for Stable Diffusion v1.5 trained on 40 pictures of my cat.\n"), []string{"laion-5b/model"}},
		{"guard: a fine-tuned Stable Diffusion", hubCard("x/ft", "This is the fine-tuned Stable Diffusion model trained on screenshots from a popular animation studio.\n"), []string{"laion-5b/model"}},
	})
}
