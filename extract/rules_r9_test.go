package extract

import (
	"testing"
)

// Round 9 (lead): a known model named only for its tokenizer is not weights trained on its data,
// as a model named only as an architecture is not (the architecture_only cue in
// configs/relations.yaml; issue 14, "what must stay negative"). The Dolma case fails before the
// cue change: the GPT-NeoX-20B link in the tagger table was read as a Pile-trained model, so
// books3 trained-on (round 9's one false alarm that no label judgement explains).
func TestRound9TokenizerIsNotWeights(t *testing.T) {
	m := testMatcher(t)
	// allenai/dolma docs/taggers.md at 031d8f22a953aeeed71b5993076205febad3ca99 (two table rows of
	// the tagger list; the record in testdata/real is the whole file)
	const dolma = "| Name | Description |\n|---|---|\n" +
		"| `olmo_pretokenizer_v1` | Count the number of tokens in each document using pre-tokenizer used by [OLMo v1](allenai.org/olmo), which is a the same as [GPT Neo-X 20B](https://huggingface.co/EleutherAI/gpt-neox-20b). |\n" +
		"| `olmo_pretokenizer_with_paragraphs_v1` | Count the number of tokens in each document and each paragraph using pre-tokenizer used by [OLMo v1](allenai.org/olmo), which is a the same as [GPT Neo-X 20B](https://huggingface.co/EleutherAI/gpt-neox-20b). |\n"
	runScoredCases(t, m, []scoredCase{
		{"GPT-NeoX-20B as the pre-tokenizer", ghFile("allenai/dolma/docs/taggers.md", dolma), nil},
		{"guard: the same link as a fine-tuning base", ghFile("g/ft", "We fine-tuned [GPT Neo-X 20B](https://huggingface.co/EleutherAI/gpt-neox-20b) on our chat data and release the weights."), []string{"books3/model"}},
	})
}
