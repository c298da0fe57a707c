package extract

import (
	"regexp"
	"slices"
	"strings"

	"github.com/afterlife-watch/afterlife/artifact"
)

// Round 8 (lead, issue 14): a Stable Diffusion model card that gives its base as a bare version
// ("Base Model: **v1.5** & **2.0**", "Trained from 1.5 with VAE") descends from a model trained on
// LAION-5B subsets, as one that writes "fine-tuned from Stable Diffusion v1.5" does (the first
// laion-5b rule of lineage_prose). The version is read as Stable Diffusion's only on a model card
// that is about Stable Diffusion (tagged stable-diffusion, or naming it), and not when the card
// names SDXL or SD 3 anywhere. Six dev cards over rounds 7 and 8 give their base this way or not at
// all; this rule reads the two that write the version after lineage words.

var (
	// sdBareVersion: lineage words, up to 6 bytes of markup or punctuation, a v1.1–v1.5 or
	// v2.0/v2.1 version (optionally "sd"/"sd " before it).
	sdBareVersion = regexp.MustCompile(`\b(base model|base|trained (from|on|with)|fine-?tuned (from|on)|finetuned (from|on)|based on|built on|made (from|with))\W{0,6}(sd ?)?v?(1\.[1-5]|2\.[01])\b`)
	// sdNotAVersion: what follows a number that is a count or a size, not a version ("trained on
	// 1.5 million images", "1.5k steps").
	sdNotAVersion = regexp.MustCompile(`^\s*(m|b|k|million|billion|thousand|%|x|epochs?|steps?|hours?|images?|gb|tb)\b`)
	// sdOtherBase: a card that names a base of another family is not read by version alone.
	sdOtherBase = regexp.MustCompile(`\b(sdxl|sd ?xl|xl|sd ?3|stable diffusion 3|stable-diffusion-3|3\.5|flux|kandinsky|pixart|if-i)\b`)
)

// sdCard reports whether the model card a (low: its lower-cased text) is about Stable Diffusion.
func sdCard(a *artifact.Artifact, low string) bool {
	if slices.ContainsFunc(a.Tags, func(t string) bool { return strings.EqualFold(t, "stable-diffusion") }) {
		return true
	}
	return strings.Contains(low, "stable-diffusion") || strings.Contains(low, "stable diffusion") || strings.Contains(low, "stablediffusion")
}

// r8SDBareVersion adds the laion-5b lineage signal for a Stable Diffusion card that gives its base
// as a bare version (called from collect after the prose rules).
func (st *matchState) r8SDBareVersion() {
	a := st.a
	if a.Kind != artifact.KindModel {
		return
	}
	low := st.loweredText()
	if !sdCard(a, low) || sdOtherBase.MatchString(low) {
		return
	}
	entry := -1
	for _, p := range st.c.prose {
		if p.rule.Dataset == "laion-5b" {
			entry = p.entry
			break
		}
	}
	if entry < 0 || slices.ContainsFunc(st.sigs, func(s signal) bool { return s.entry == entry && s.kind == sigProse }) {
		return // no base found that way, or the prose rules already read one
	}
	for _, m := range sdBareVersion.FindAllStringIndex(low, 8) {
		if sdNotAVersion.MatchString(low[m[1]:min(len(low), m[1]+16)]) {
			continue
		}
		if rules.negBefore.MatchString(low[max(0, m[0]-16):m[0]]) {
			continue // "not trained from 1.5"
		}
		ev := Evidence{Field: "text", Start: m[0], End: m[1], Rule: "lineage-prose",
			Detail: "lineage in prose → laion-5b (a Stable Diffusion card's base written as a bare version)"}
		if len(low) == len(a.Text) {
			ev.Snippet = snippet(a.Text, m[0], m[1])
		} else {
			ev.Start, ev.End = 0, 0
			ev.Snippet = snippet(low, m[0], m[1])
		}
		st.add(signal{entry: entry, deriv: -1, model: -1, kind: sigProse, field: fText, ev: ev})
		return
	}
}

// Round 8 (lead, issue 14, "Model Zoo / Pretrained models tables … links to weights on Hugging
// Face"): a name in a table row's cell under a training-data column ("| Arch | Loss | Dataset |
// Link | AVG | LFW | …" → "| IR101 | AdaFace | MS1MV2 | [🤗](https://huggingface.co/minchul/cvlface_adaface_ir101_ms1mv2) | …")
// is the training set of the weights that row links: a Hugging Face model repository (not a
// dataset, a Space or a docs page), a release asset or a weight file. The row's scores still say the text
// evaluates them (uses); the link says it hands out weights trained on the name (model).

// trainColumnHeader: a header cell that names the training data.
var trainColumnHeader = regexp.MustCompile(`^(pre-?)?(training |train )?(dataset|data|data ?set|set|corpus)$|^train(ing)?[ -]?(set|data)$|^trained on$`)

var (
	// rowHubURL: a Hugging Face link in a row, up to the end of the URL (hubModelURL says whether it
	// is a model's); rowWeightFile: a release asset or a weight file.
	rowHubURL     = regexp.MustCompile(`https?://huggingface\.co/[^\s)\]|"'<>]*`)
	rowWeightFile = regexp.MustCompile(`releases/download/|\.(pth|pt|ckpt|safetensors|onnx|caffemodel|params)\b`)
)

// rowLinksWeights reports whether a table row links weights: a release asset, a weight file or a
// Hugging Face model repository (not a dataset, a Space or a docs page: hubModelURL).
func rowLinksWeights(row string) bool {
	low := strings.ToLower(row)
	return rowWeightFile.MatchString(low) || slices.ContainsFunc(rowHubURL.FindAllString(low, -1), hubModelURL)
}

func (st *matchState) r8ZooRow(s *signal, h *hit, lo, hi int) {
	src := h.src
	if h.field != fText || s.cues&(cWeights|cShare) != 0 {
		return
	}
	row := src[lo:hi]
	// the link first: most rows link nothing, and finding the header row scans back through the table
	if !strings.HasPrefix(strings.TrimLeft(row, " \t"), "|") || !rowLinksWeights(row) || isHeaderRow(src, lo, hi) {
		return
	}
	hs := headingsAbove(src, lo)
	if len(hs) == 0 || hs[0].level != 7 || hs[0].off >= lo {
		return
	}
	col := strings.Count(src[lo:h.start], "|") - 1 // the name's cell, counting from the first
	header := strings.Split(strings.Trim(strings.TrimSpace(hs[0].text), "|"), "|")
	if col >= 0 && col < len(header) && trainColumnHeader.MatchString(strings.TrimSpace(header[col])) {
		s.cues |= cWeights
	}
}
