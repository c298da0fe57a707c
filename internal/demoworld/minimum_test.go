package demoworld

import (
	"fmt"
	"strings"
	"testing"

	"github.com/afterlife-watch/afterlife/artifact"
)

// worldOf is a world holding only the given artifacts (no planted files).
func worldOf(t *testing.T, ps ...Planted) *World {
	t.Helper()
	w, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	w.mu.Lock()
	w.planted = map[string][]Planted{}
	for _, p := range ps {
		w.planted[p.Source] = append(w.planted[p.Source], p)
	}
	w.views = map[int]*epochView{}
	w.mu.Unlock()
	return w
}

func sized(path string, n int64) artifact.File { return artifact.File{Path: path, Size: &n} }

// The minimum follows docs/scale.md's rule, counted here by hand on a world of a few artifacts.
func TestMinimumIsTheDocumentedRuleCountedByHand(t *testing.T) {
	model := func(id string, text string, bases ...string) Planted {
		p := Planted{Artifact: artifact.Artifact{ID: "hf:model:" + id, Source: hfSource, Kind: artifact.KindModel, Text: text}}
		for _, b := range bases {
			p.Tags = append(p.Tags, "base_model:finetune:"+b)
		}
		return p
	}
	var ps []Planted
	// A tree under the known model K: K has 1,001 children (two pages of 1,000); child c0 has
	// two children, c0's first child one; every other child is a leaf. 4 lineage listings; no
	// card for anything in the tree, though every node has a card.
	ps = append(ps, model("org/K", "card"))
	for i := 0; i < 1001; i++ {
		ps = append(ps, model(fmt.Sprintf("org/c%d", i), "card", "org/K"))
	}
	ps = append(ps, model("org/g0", "card", "org/c0"), model("org/g1", "card", "org/c0"), model("org/gg", "card", "org/g0"))
	// Outside the tree: a model whose base is not known (found by search: its card decides), a
	// model without a card, and K itself (a known model, listed by search or info). 3 models: 1
	// page; 2 cards (K and the stray).
	ps = append(ps, model("org/stray", "card", "other/base"), model("org/bare", ""))
	// Datasets: one with a card and sized files (card + info), one with a card and unsized files
	// (card), one with nothing (neither). 1 page.
	ds := func(id, text string, files ...artifact.File) Planted {
		return Planted{Artifact: artifact.Artifact{ID: "hf:dataset:" + id, Source: hfSource, Kind: artifact.KindDataset, Text: text, Files: files}}
	}
	ps = append(ps, ds("o/d1", "card", sized("a.zip", 1<<20)), ds("o/d2", "card", artifact.File{Path: "b.zip"}), ds("o/d3", ""))
	// GitHub: 150 repositories (2 pages), 100 with a README, 40 with files; 3 issues (1 page), 2
	// with comments.
	for i := 0; i < 150; i++ {
		p := Planted{Artifact: artifact.Artifact{ID: fmt.Sprintf("gh:repo:o/r%d", i), Source: ghSource, Kind: artifact.KindRepository}}
		if i < 100 {
			p.Text = "# readme"
		}
		if i%3 == 0 && i < 120 {
			p.Files = []artifact.File{{Path: "data.zip"}}
		}
		ps = append(ps, p)
	}
	for i := 0; i < 3; i++ {
		p := Planted{Artifact: artifact.Artifact{ID: fmt.Sprintf("gh:issue:o/r0#%d", i+1), Source: ghSource, Kind: artifact.KindIssue, Text: "body"}}
		if i > 0 {
			p.Extra = map[string]any{"comments": []any{map[string]any{"body": "a mirror"}}}
		}
		ps = append(ps, p)
	}
	// Torrents: 80, 79 with files: 1 catalogue, 79 .torrent files, 2 tracker scrapes (74 a scrape).
	for i := 0; i < 80; i++ {
		p := Planted{Artifact: artifact.Artifact{ID: fmt.Sprintf("at:%040x", i), Source: atSource, Kind: artifact.KindTorrent}}
		if i > 0 {
			p.Files = []artifact.File{{Path: "x.tar"}}
		}
		ps = append(ps, p)
	}
	// Papers: 2,001 on arXiv (2 pages), one with a full text (1 PDF); 26 Zenodo records (2 pages).
	for i := 0; i < 2001; i++ {
		p := Planted{Artifact: artifact.Artifact{ID: fmt.Sprintf("arxiv:2101.%05d", i), Source: "arxiv", Kind: artifact.KindPaper}}
		if i == 7 {
			p.Extra = map[string]any{"pdf": map[string]any{"sections": []any{map[string]any{"heading": "1", "text": "t"}}}}
		}
		ps = append(ps, p)
	}
	for i := 0; i < 26; i++ {
		ps = append(ps, Planted{Artifact: artifact.Artifact{ID: fmt.Sprintf("zenodo:%d", i), Source: "zenodo", Kind: artifact.KindDataset}})
	}
	// Kaggle: 21 datasets (2 pages of 20), 20 with a description, 10 with files.
	for i := 0; i < 21; i++ {
		p := Planted{Artifact: artifact.Artifact{ID: fmt.Sprintf("kaggle:dataset:o/k%d", i), Source: "kaggle", Kind: artifact.KindDataset}}
		if i > 0 {
			p.Text = "about"
		}
		if i < 10 {
			p.Files = []artifact.File{{Path: "k.csv"}}
		}
		ps = append(ps, p)
	}
	w := worldOf(t, ps...)
	m := w.Minimum(1, []string{"org/K", "nobody/unplanted"})
	want := map[string]map[string]int{
		"huggingface": {"lineage listings (one per parent with children)": 2 + 1 + 1,
			"model search pages (outside the lineage trees)": 1, "model cards (outside the lineage trees)": 2,
			"dataset search pages": 1, "dataset cards": 2, "dataset infos (file sizes)": 1},
		"github":           {"repository search pages": 2, "readmes": 100, "file trees": 40, "issue search pages": 1, "issue comments": 2},
		"academictorrents": {"catalogue": 1, ".torrent files": 79},
		"tracker":          {"scrapes": 2},
		"arxiv":            {"listing pages": 2, "full texts (PDFs)": 1},
		"zenodo":           {"listing pages": 2},
		"kaggle":           {"listing pages": 2, "dataset descriptions (GetDataset)": 20, "file lists (ListDatasetFiles)": 10},
	}
	for src, items := range want {
		got := m[src]
		total := 0
		for k, n := range items {
			total += n
			if got.Items[k] != n {
				t.Errorf("%s %q: %d, want %d (all: %v)", src, k, got.Items[k], n, got.Items)
			}
		}
		if got.Total != total || len(got.Items) != len(items) || got.Listing+got.Details != total {
			t.Errorf("%s: total %d (listing %d, details %d), items %v; want %d, %v", src, got.Total, got.Listing, got.Details, got.Items, total, items)
		}
	}
	if m["huggingface"].Artifacts != 1+1001+3+2+3 || m["tracker"].Artifacts != 80 {
		t.Errorf("artifacts: hf %d, tracker %d", m["huggingface"].Artifacts, m["tracker"].Artifacts)
	}
}

// At scale, each unit adds one lineage listing per parent of its six trees: the 13 hop-1
// fine-tunes, their first adapters (parents of hop 3), and the hop-3 models whose hop-4
// quantisation is in the epoch — counted here from the artifacts' shapes, apart from the rule.
func TestMinimumLineageListingsGrowWithTheTreesParents(t *testing.T) {
	var known []string
	for _, r := range lineageRoots {
		known = append(known, r.id)
	}
	lineage := func(scale, epoch int) (int, int) {
		w, err := New(Options{Scale: scale})
		if err != nil {
			t.Fatal(err)
		}
		hop4 := 0
		for _, p := range w.All(epoch) {
			if p.Source == hfSource && Shape(p) == "hop4-quantised" {
				hop4++
			}
		}
		return w.Minimum(epoch, known)[hfSource].Items["lineage listings (one per parent with children)"], hop4
	}
	for _, e := range []int{1, 2} {
		l2, h2 := lineage(2, e)
		l3, h3 := lineage(3, e)
		if want := l2 + len(lineageRoots)*2*scaleHop1 + (h3 - h2); l3 != want {
			t.Errorf("epoch %d: scale 3 has %d lineage listings, scale 2 %d: want %d (hop-4 models %d -> %d)", e, l3, l2, want, h2, h3)
		}
		if h3-h2 >= len(lineageRoots)*scaleHop1 || h3-h2 < len(lineageRoots)*scaleHop1*9/10 {
			t.Errorf("epoch %d: unit 2 has %d hop-4 models of %d hop-3", e, h3-h2, len(lineageRoots)*scaleHop1)
		}
	}
	// Nothing in a tree costs a card; what is outside does.
	w, err := New(Options{Scale: 2})
	if err != nil {
		t.Fatal(err)
	}
	cards := 0
	for _, p := range w.All(1) {
		if p.Source == hfSource && strings.HasPrefix(p.ID, "hf:model:") && p.Text != "" &&
			(Shape(p) == "planted" || Shape(p) == "copy" || Shape(p) == "hop1-prose") && len(hubBases(p)) == 0 {
			cards++
		}
	}
	if got := w.Minimum(1, known)[hfSource].Items["model cards (outside the lineage trees)"]; got < cards {
		t.Errorf("model cards %d, fewer than the %d models that declare no base", got, cards)
	}
}
