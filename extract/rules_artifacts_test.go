package extract

import "github.com/afterlife-watch/afterlife/artifact"

// The artifacts the round-7, -8 and -9 rule tests build around a real text: an arXiv abstract, a
// Hugging Face model card, a GitHub file.

func arxivPaper(id, text string) artifact.Artifact {
	return artifact.Artifact{ID: "arxiv:" + id, Source: "arxiv", Kind: artifact.KindPaper, Title: "t", Text: text}
}

func hubCard(id, text string, tags ...string) artifact.Artifact {
	return artifact.Artifact{ID: "hf:model:" + id, Source: "huggingface", Kind: artifact.KindModel, Title: id, Text: text, Tags: tags}
}

func ghFile(id, text string) artifact.Artifact {
	return artifact.Artifact{ID: "gh:file:" + id, Source: "github", Kind: artifact.KindRepository, Title: id, Text: text}
}
