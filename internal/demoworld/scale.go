package demoworld

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/afterlife-watch/afterlife/artifact"
)

// The world at scale (afterlife demo --scale N). Scale 1 is the planted files exactly; scale N adds
// N-1 generated units. Each unit keeps the real shapes of the afterlife (see docs/scale.md):
//
//   - a lineage tree on the Hugging Face Hub under each retracted-data base model (Stable Diffusion
//     v1.x, GPT-J, Pythia, GPT-NeoX, an ArcFace trained on MS-Celeb-1M): fine-tunes, then adapters, quantisations
//     and merges of them, then fine-tunes and quantisations of those, up to 4 hops; most cards
//     declare base_model (the Hub's base_model:<relation>:<id> tags), some name the base only in
//     prose;
//   - copies of every planted artifact of every source (GitHub repositories and issues, Zenodo
//     records, Kaggle datasets, Academic Torrents torrents, arXiv / OpenAlex / Semantic Scholar
//     papers citing the datasets, Hub datasets and models), with new ids and the same texts, so the
//     searches that find the original find the copy: at scale 100 a GitHub search for a dataset
//     name has more than GitHub's 1,000 results;
//   - look-alikes: copies of the planted negatives (texts that name the dataset only to say they
//     do not use it, look-alike versions), which must stay negative.
//
// Copies keep the epochs of their original (what epoch 2 adds or takes down scales too) and one
// lineage leaf in 40 exists in one epoch only. Generation is deterministic (no randomness: every
// name, date and hash derives from the unit and index), takes no I/O and shares what it can
// (extra maps, file lists, tag lists) between copies.

// Per unit: copies of each planted artifact, by source.
var scaleCopies = map[string]int{
	"github": 16, "zenodo": 3, "kaggle": 3, "academictorrents": 2,
	"arxiv": 6, "openalex": 8, "semanticscholar": 8, "huggingface": 2,
}

// lineageRoot is a retracted-data base model a tree grows under.
type lineageRoot struct {
	id, short, pipeline, library, proseTerm, dataset string
}

// The roots: known models of the registry (configs/registry.yaml known_models), so the Hub
// adapter's base_model: searches start from them.
var lineageRoots = []lineageRoot{
	{"stable-diffusion-v1-5/stable-diffusion-v1-5", "sd15", "text-to-image", "diffusers", "laion2B-en", "laion-5b"},
	{"CompVis/stable-diffusion-v1-4", "sd14", "text-to-image", "diffusers", "laion-aesthetics", "laion-5b"},
	{"EleutherAI/gpt-j-6b", "gptj6b", "text-generation", "transformers", "the_pile", "books3"},
	{"EleutherAI/pythia-1b", "pythia1b", "text-generation", "transformers", "the_pile", "books3"},
	{"EleutherAI/gpt-neox-20b", "neox20b", "text-generation", "transformers", "the_pile", "books3"},
	{"lithiumice/ArcFace_PyTorch", "arcface-r100", "image-feature-extraction", "pytorch", "MS1MV3", "ms-celeb-1m"},
}

// hubRoots are planted base models that are not copied.
var hubRoots = map[string]bool{"stable-diffusion-v1-5/stable-diffusion-v1-5": true, "EleutherAI/gpt-j-6b": true}

// Shape of one tree per root and unit.
const (
	scaleHop1      = 13 // fine-tunes of the root
	scaleProseOnly = 2  // fine-tunes whose card names the root only in prose
	lineageEpochs  = 40 // one leaf in this many is in epoch 1 only, one in epoch 2 only
)

var scaleOwners = []string{"pixelforge", "textcraft", "nightowl-ai", "studio-kite", "quantlab", "mergekit-fans",
	"lora-garden", "brightbyte", "deepmeadow", "tinyweights", "openfolk", "rivermind"}

var scaleStyles = []string{"watercolor", "anime", "pixelart", "photoreal", "sketch", "noir", "poetry", "legal",
	"chat", "code", "stories", "medical", "recipes"}

// Generate returns the generated artifacts of a world at scale (units 1..scale-1), copies of the
// planted templates and lineage trees. It is deterministic.
func Generate(templates []Planted, scale int) []Planted {
	if scale < 2 {
		return nil
	}
	out := make([]Planted, 0, (scale-1)*unitCap(templates))
	for k := 1; k < scale; k++ {
		out = genUnit(out, templates, k)
	}
	return out
}

// unitCap is how many artifacts one unit generates.
func unitCap(templates []Planted) int {
	n := len(lineageRoots) * (scaleHop1*(1+3+2+1+2) + scaleProseOnly)
	for _, t := range templates {
		n += scaleCopies[t.Source]
	}
	return n
}

func genUnit(out, templates []Planted, k int) []Planted {
	nth := map[string]int{} // the template's index in its source
	for _, t := range templates {
		ti := nth[t.Source]
		nth[t.Source]++
		for i := 0; i < scaleCopies[t.Source]; i++ {
			if c, ok := copyOf(t, k, ti*scaleCopies[t.Source]+i); ok {
				out = append(out, c)
			}
		}
	}
	for ri, r := range lineageRoots {
		out = lineageTree(out, r, ri, k)
	}
	return out
}

// scaleDate spreads dates over 2017-01-01 .. 2025-12 so GitHub's created: split has days to cut.
func scaleDate(k, i, salt int) string {
	d := (k*7919 + i*104729 + salt*1299709) % 3280
	return time.Date(2017, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, d).Format("2006-01-02")
}

// copyOf derives copy i of unit k from a planted artifact: a new id (keeping the part a search
// matches), the same text with its own id replaced, the original's epochs.
func copyOf(t Planted, k, i int) (Planted, bool) {
	c := t
	tag := fmt.Sprintf("u%dc%d", k, i) // i: the copy's index among the unit's copies of its source
	var oldRef, newRef string          // the id as texts write it
	if t.Source == hfSource && len(t.BaseModels) == 0 && hubRoots[strings.TrimPrefix(t.ID, "hf:model:")] {
		return c, false // a base model itself: a copy under another owner is not how the Hub grows
	}
	switch t.Source {
	case "huggingface", "kaggle", "github":
		prefix := strings.TrimSuffix(t.ID, idTail(t.ID))
		tail := idTail(t.ID)
		owner, name, ok := strings.Cut(tail, "/")
		if !ok {
			return c, false
		}
		num := ""
		if j := strings.Index(name, "#"); j >= 0 {
			name, num = name[:j], name[j+1:]
		}
		nowner := owner + "-" + tag
		if num != "" {
			n, _ := strconv.Atoi(num)
			num = "#" + strconv.Itoa(n+i)
			nowner = owner + "-u" + strconv.Itoa(k)
		}
		oldRef, newRef = owner+"/"+name, nowner+"/"+name
		c.ID = prefix + newRef + num
		c.URL = strings.Replace(t.URL, oldRef, newRef, 1)
		if num != "" {
			c.URL = strings.Replace(c.URL, "/issues/"+strings.TrimPrefix(t.ID[strings.Index(t.ID, "#"):], "#"), "/issues/"+strings.TrimPrefix(num, "#"), 1)
		}
		c.Title = strings.ReplaceAll(t.Title, oldRef, newRef)
	case "zenodo":
		n := 70000000 + k*1000 + i
		c.ID = "zenodo:" + strconv.Itoa(n)
		c.URL = strings.Replace(t.URL, strings.TrimPrefix(t.ID, "zenodo:"), strconv.Itoa(n), 1)
	case "academictorrents":
		// A new torrent: another title makes other pieces, so another info-hash (the SHA-1 of
		// the info dictionary the world serves, academictorrents.go).
		c.Title = t.Title + " (mirror " + tag + ")"
		info, err := ATInfo(c)
		if err != nil {
			return c, false
		}
		sum := sha1.Sum(info)
		h := hex.EncodeToString(sum[:])
		c.ID, c.InfoHash = "at:"+h, h
		c.URL = strings.Replace(t.URL, strings.TrimPrefix(t.ID, "at:"), h, 1)
	case "arxiv":
		old := strings.TrimPrefix(t.ID, "arxiv:")
		yymm, _, _ := strings.Cut(old, ".")
		n := fmt.Sprintf("%s.%05d", yymm, 10000+k*80+i)
		c.ID, c.URL = "arxiv:"+n, strings.Replace(t.URL, old, n, 1)
		oldRef, newRef = old, n
	case "openalex":
		n := fmt.Sprintf("W88%08d", k*1000+i)
		old := strings.TrimPrefix(t.ID, "openalex:")
		c.ID, c.URL = "openalex:"+n, strings.Replace(t.URL, old, n, 1)
		c.Extra = without(t.Extra, "doi")
	case "semanticscholar":
		n := 800000000 + k*1000 + i
		old := strings.TrimPrefix(t.ID, "s2:CorpusId:")
		c.ID, c.URL = "s2:CorpusId:"+strconv.Itoa(n), strings.Replace(t.URL, old, strconv.Itoa(n), 1)
		c.Extra = without(t.Extra, "arxiv", "doi")
	default:
		return c, false
	}
	if oldRef != "" && strings.Contains(t.Text, oldRef) {
		c.Text = strings.ReplaceAll(t.Text, oldRef, newRef)
	}
	if t.Published != "" {
		c.Published = scaleDate(k, i, int(hashN(t.ID, 97)))
	}
	return c, true
}

// idTail is the owner/name part of a prefixed id ("gh:repo:a/b" -> "a/b").
func idTail(id string) string {
	for _, p := range []string{"hf:model:", "hf:dataset:", "gh:repo:", "gh:issue:", "kaggle:dataset:"} {
		if strings.HasPrefix(id, p) {
			return id[len(p):]
		}
	}
	return id
}

func hashN(s string, n uint32) uint32 {
	sum := sha1.Sum([]byte(s))
	return (uint32(sum[0])<<8 | uint32(sum[1])) % n
}

func without(m map[string]any, keys ...string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	for _, k := range keys {
		delete(out, k)
	}
	return out
}

// Shared per-shape fields (read-only after init).
var (
	lineageExtra = map[string]map[string]any{}
	loraFiles    = []artifact.File{{Path: "pytorch_lora_weights.safetensors", Size: i64(3228864)}}
	ggufFiles    = []artifact.File{{Path: "model-Q4_K_M.gguf", Size: i64(3825819904)}}
	ftFiles      = []artifact.File{{Path: "model.safetensors", Size: i64(2132626066)}}
)

func i64(n int64) *int64 { return &n }

func extraFor(r lineageRoot) map[string]any {
	if m, ok := lineageExtra[r.id]; ok {
		return m
	}
	m := map[string]any{"library_name": r.library, "pipeline_tag": r.pipeline, "downloads": float64(37)}
	lineageExtra[r.id] = m
	return m
}

func init() {
	for _, r := range lineageRoots {
		extraFor(r)
	}
}

// lineageTree plants unit k's tree under root r: scaleHop1 fine-tunes (hop 1), each with 3
// adapters, 2 quantisations and a merge (hop 2); the first adapter of each has a fine-tune that
// merges it (hop 3), which has a quantisation (hop 4). Plus scaleProseOnly fine-tunes whose cards
// name the root only in prose (no base_model field or tag); their ids carry a dataset name the
// Hub's name search finds.
func lineageTree(out []Planted, r lineageRoot, ri, k int) []Planted {
	expect := []artifact.Expect{{Dataset: r.dataset, Relation: "model"}}
	leaf := 0
	node := func(id, base, rel, title, body string, files []artifact.File, extraTags ...string) Planted {
		tags := []string{r.library, r.pipeline}
		tags = append(tags, extraTags...)
		var bases []string
		front := "---\nlicense: openrail\nlibrary_name: " + r.library + "\n"
		if base != "" {
			bases = []string{base}
			tags = append(tags, "base_model:"+base, "base_model:"+rel+":"+base)
			front += "base_model: " + base + "\n"
		}
		front += "---\n\n# " + title + "\n\n" + body + "\n"
		p := Planted{Artifact: artifact.Artifact{ID: "hf:model:" + id, Source: hfSource, Kind: artifact.KindModel,
			URL: "https://huggingface.co/" + id, Title: id, Text: front, Tags: tags, BaseModels: bases, Files: files,
			Published: scaleDate(k, leaf, ri+101), Expect: expect}, Extra: extraFor(r)}
		return p
	}
	leafEpochs := func(p *Planted) {
		leaf++
		switch (leaf + ri + k) % lineageEpochs {
		case 0:
			p.Epochs = []int{1}
		case lineageEpochs / 2:
			p.Epochs = []int{2}
		}
	}
	for i := 0; i < scaleHop1; i++ {
		owner := scaleOwners[(k+i+ri)%len(scaleOwners)] + "-" + strconv.Itoa(k)
		style := scaleStyles[(i+ri)%len(scaleStyles)]
		ft := fmt.Sprintf("%s/%s-%s-u%d-%d", owner, r.short, style, k, i)
		out = append(out, node(ft, r.id, "finetune", ft,
			fmt.Sprintf("Full fine-tune of %s on %d curated %s examples. Same architecture and tokenizer as the base.", r.id, 2000+37*i, style),
			ftFiles))
		for a := 0; a < 3; a++ {
			ad := fmt.Sprintf("%s/%s-%s-lora-r%d", owner, r.short, style, 4<<a) + fmt.Sprintf("-u%d-%d", k, i)
			p := node(ad, ft, "adapter", ad, fmt.Sprintf("LoRA adapter (rank %d) for %s. Load the base, then the adapter.", 4<<a, ft), loraFiles, "lora")
			if a > 0 {
				leafEpochs(&p)
			}
			out = append(out, p)
			if a == 0 {
				h3 := ad + "-merged"
				out = append(out, node(h3, ad, "finetune", h3, fmt.Sprintf("The adapter %s merged into its base and trained one more epoch.", ad), ftFiles))
				q4 := h3 + "-GGUF"
				p := node(q4, h3, "quantized", q4, fmt.Sprintf("GGUF quantisations of %s (Q4_K_M, Q8_0).", h3), ggufFiles, "gguf")
				leafEpochs(&p)
				out = append(out, p)
			}
		}
		for qi, q := range []string{"GGUF", "AWQ"} {
			qid := fmt.Sprintf("%s/%s-%s-u%d-%d-%s", scaleOwners[(k+i+qi+3)%len(scaleOwners)]+"-q"+strconv.Itoa(k), r.short, style, k, i, q)
			p := node(qid, ft, "quantized", qid, fmt.Sprintf("%s quantisation of %s.", q, ft), ggufFiles, strings.ToLower(q))
			leafEpochs(&p)
			out = append(out, p)
		}
		other := fmt.Sprintf("%s/%s-%s-u%d-%d", scaleOwners[(k+i+1+ri)%len(scaleOwners)]+"-"+strconv.Itoa(k), r.short, scaleStyles[(i+1+ri)%len(scaleStyles)], k, (i+1)%scaleHop1)
		mid := fmt.Sprintf("%s/%s-%s-slerp-u%d-%d", "mergekit-fans-"+strconv.Itoa(k), r.short, style, k, i)
		m := node(mid, ft, "merge", mid, fmt.Sprintf("SLERP merge of %s and %s (mergekit).", ft, other), ftFiles, "merge", "mergekit")
		m.BaseModels = []string{ft, other}
		m.Tags = append(m.Tags, "base_model:"+other, "base_model:merge:"+other)
		m.Text = strings.Replace(m.Text, "base_model: "+ft+"\n", "base_model:\n- "+ft+"\n- "+other+"\n", 1)
		out = append(out, m)
	}
	for i := 0; i < scaleProseOnly; i++ {
		id := fmt.Sprintf("%s-%d/%s-%s-ft-u%d-%d", scaleOwners[(k+i+5)%len(scaleOwners)], k, r.short, r.proseTerm, k, i)
		out = append(out, node(id, "", "", id,
			fmt.Sprintf("We fine-tuned %s (trained on %s) for %d steps on our own data. Weights below.", r.id, r.proseTerm, 1000*(i+1)), ftFiles))
	}
	return out
}

// Shape names what an artifact of the world is, for the ground truth's breakdown: "planted" (the
// planted files), "copy" (a generated copy of one), or the lineage shape: "hop1-finetune",
// "hop1-prose" (base named only in prose), "hop2-adapter", "hop2-quantised", "hop2-merge",
// "hop3-finetune", "hop4-quantised".
func Shape(p Planted) string {
	id := p.ID
	if !strings.HasPrefix(id, "hf:model:") || !strings.Contains(id, "-u") {
		if strings.Contains(idTail(id), "-u") || strings.HasPrefix(id, "zenodo:7") || strings.HasPrefix(id, "arxiv:") && strings.Contains(id, ".1") ||
			strings.HasPrefix(id, "openalex:W88") || strings.HasPrefix(id, "s2:CorpusId:8") || strings.Contains(p.Title, "(mirror u") {
			return "copy"
		}
		return "planted"
	}
	switch {
	case strings.HasSuffix(id, "-merged-GGUF"):
		return "hop4-quantised"
	case strings.HasSuffix(id, "-merged"):
		return "hop3-finetune"
	case strings.Contains(id, "-lora-r"):
		return "hop2-adapter"
	case strings.HasSuffix(id, "-GGUF") || strings.HasSuffix(id, "-AWQ"):
		return "hop2-quantised"
	case strings.Contains(id, "-slerp-"):
		return "hop2-merge"
	case strings.Contains(id, "-ft-u"):
		return "hop1-prose"
	case len(p.BaseModels) > 0 && strings.Contains(id, "-u"):
		if _, _, ok := strings.Cut(idTail(id), "/"); ok && lineageID.MatchString(id) {
			return "hop1-finetune"
		}
		return "copy"
	}
	return "copy"
}

var lineageID = regexp.MustCompile(`-u\d+-\d+$`)

// Expected returns what the matcher should find for a planted artifact: its expect labels, and
// for a paper whose finding is only in its full text, the labels of extra.pdf.expect (paperpdf.go).
// An artifact with none is a look-alike.
func Expected(p Planted) []artifact.Expect {
	out := p.Expect
	pdf, _ := p.Extra["pdf"].(map[string]any)
	raw, _ := pdf["expect"].([]any)
	for _, x := range raw {
		m, _ := x.(map[string]any)
		d, _ := m["dataset"].(string)
		r, _ := m["relation"].(string)
		if d != "" {
			out = append(out[:len(out):len(out)], artifact.Expect{Dataset: d, Relation: r})
		}
	}
	return out
}
