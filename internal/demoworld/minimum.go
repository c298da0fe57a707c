package demoworld

import (
	"slices"
	"strings"
)

// The fewest requests that list and decide the planted world of an epoch (docs/scale.md, "The
// minimum number of requests"). It is a lower bound no crawler can beat on this world, whatever
// it knows in advance: it counts
//
//   - listing pages at the largest page each source's listing API serves, for every planted
//     artifact (afterlife and look-alikes: a look-alike must be seen to be decided negative); the
//     Hub's lineage trees cost one listing per parent that has children (filter=base_model:<id>
//     lists one generation: the Hub has no query for a whole tree), and nothing for a leaf (the
//     listing's childrenModelCount says it has none);
//   - the per-artifact requests whose content the listing does not carry and the matcher reads,
//     only where that content exists: a Hub model's card unless a lineage listing lists it (its
//     tags name the base model: the listing decides), a Hub dataset's card and, where its files
//     have sizes, its info (list answers name files without sizes; a copy is judged by them), a GitHub repository's
//     README and (where it has files) its file tree, an issue's comments where it has some, a
//     paper's PDF where only its full text names the dataset, a torrent's .torrent where it has
//     files (the catalogue carries title, description, info-hash and size, so not the details
//     page), and one tracker scrape per 74 info-hashes;
//
// and nothing for queries that find nothing (a name search per dataset alias: they depend on the
// registry, not on the world) nor for what a crawler cannot know without asking (an empty README,
// a repository without files, a leaf's empty children listing): a real run pays those, so the
// ratio of a good run is a little above 1.
//
// MinimumPage is the largest page of each source's listing API (the Academic Torrents catalogue is
// one file; the tracker's is the info-hashes one scrape URL of about 2,000 bytes carries).
var MinimumPage = map[string]int{
	"huggingface": 1000, "github": 100, "zenodo": 25, "kaggle": 20, "academictorrents": 1 << 30,
	"arxiv": 2000, "openalex": 200, "semanticscholar": 1000, "tracker": 74,
}

// SourceMinimum is the minimum of one source, itemised.
type SourceMinimum struct {
	// Artifacts is how many planted artifacts the source holds in the epoch.
	Artifacts int `json:"artifacts"`
	// Listing is the listing pages; Details the per-artifact requests; Total their sum.
	Listing int `json:"listing"`
	Details int `json:"details"`
	Total   int `json:"total"`
	// Items breaks Total down by what is asked ("lineage listings", "cards", "readmes", ...).
	Items map[string]int `json:"items"`
}

func (m *SourceMinimum) add(item string, n int, listing bool) {
	if n == 0 {
		return
	}
	if m.Items == nil {
		m.Items = map[string]int{}
	}
	m.Items[item] += n
	if listing {
		m.Listing += n
	} else {
		m.Details += n
	}
	m.Total += n
}

func pages(n, page int) int { return (n + page - 1) / page }

// Minimum is the fewest requests that list and decide the planted world of epoch e, per source
// (tracker included). knownModels are the Hub ids the lineage listings start from (the registry's
// known models): a model is in a lineage tree when a chain of declared base models leads from it
// to one of them.
func (w *World) Minimum(e int, knownModels []string) map[string]*SourceMinimum {
	out := map[string]*SourceMinimum{}
	for _, src := range append(Sources(), "tracker") {
		out[src] = &SourceMinimum{}
	}
	for _, src := range Sources() {
		ps, _ := w.view(e, src)
		m := out[src]
		m.Artifacts = len(ps)
		switch src {
		case hfSource:
			hubMinimum(m, ps, knownModels)
		case ghSource:
			var repos, issues int
			for i := range ps {
				p := &ps[i]
				if strings.HasPrefix(p.ID, "gh:issue:") {
					issues++
					if len(ghComments(*p)) > 0 {
						m.add("issue comments", 1, false)
					}
					continue
				}
				repos++
				if p.Text != "" {
					m.add("readmes", 1, false)
				}
				if len(p.Files) > 0 {
					m.add("file trees", 1, false)
				}
			}
			m.add("repository search pages", pages(repos, MinimumPage[src]), true)
			m.add("issue search pages", pages(issues, MinimumPage[src]), true)
		case kaggleSource:
			// The listing (ListDatasets) carries neither the description nor the files.
			m.add("listing pages", pages(len(ps), MinimumPage[src]), true)
			for i := range ps {
				if ps[i].Text != "" {
					m.add("dataset descriptions (GetDataset)", 1, false)
				}
				if len(ps[i].Files) > 0 {
					m.add("file lists (ListDatasetFiles)", 1, false)
				}
			}
		case atSource:
			m.add("catalogue", pages(len(ps), MinimumPage[src]), true)
			for i := range ps {
				if len(ps[i].Files) > 0 {
					m.add(".torrent files", 1, false)
				}
			}
			out["tracker"].Artifacts = len(ps)
			out["tracker"].add("scrapes", pages(len(ps), MinimumPage["tracker"]), true)
		default:
			m.add("listing pages", pages(len(ps), MinimumPage[src]), true)
			for i := range ps {
				if _, ok := FullTextOf(ps[i]); ok {
					m.add("full texts (PDFs)", 1, false)
				}
			}
		}
	}
	return out
}

// hubMinimum: one lineage listing page (1,000 children) per parent with children in a tree under
// a known model; the other repos in pages of 1,000 per kind; a card per repo outside the trees
// that has text.
func hubMinimum(m *SourceMinimum, ps []Planted, knownModels []string) {
	children := map[string][]int{} // lower-cased parent id -> model indices
	var datasets, others int
	for i := range ps {
		p := &ps[i]
		if !strings.HasPrefix(p.ID, "hf:model:") {
			continue
		}
		for _, b := range hubBases(*p) {
			children[b] = append(children[b], i)
		}
	}
	inTree := make([]bool, len(ps))
	queue := make([]string, 0, len(knownModels))
	seen := map[string]bool{}
	for _, k := range knownModels {
		if k = strings.ToLower(k); !seen[k] {
			seen[k] = true
			queue = append(queue, k)
		}
	}
	for len(queue) > 0 {
		parent := queue[0]
		queue = queue[1:]
		cs := children[parent]
		m.add("lineage listings (one per parent with children)", pages(len(cs), MinimumPage[hfSource]), true)
		for _, i := range cs {
			inTree[i] = true
			id := strings.ToLower(strings.TrimPrefix(ps[i].ID, "hf:model:"))
			if !seen[id] {
				seen[id] = true
				queue = append(queue, id)
			}
		}
	}
	for i := range ps {
		p := &ps[i]
		switch {
		case inTree[i]:
		case strings.HasPrefix(p.ID, "hf:dataset:"):
			datasets++
			if p.Text != "" {
				m.add("dataset cards", 1, false)
			}
			for _, f := range p.Files {
				if f.Size != nil {
					// A list answer names a repo's files without sizes; a copy is judged by them.
					m.add("dataset infos (file sizes)", 1, false)
					break
				}
			}
		default:
			others++
			if p.Text != "" {
				m.add("model cards (outside the lineage trees)", 1, false)
			}
		}
	}
	m.add("model search pages (outside the lineage trees)", pages(others, MinimumPage[hfSource]), true)
	m.add("dataset search pages", pages(datasets, MinimumPage[hfSource]), true)
}

// hubBases are the lower-cased base models a Hub model declares (card base_model, base_model:
// tags with or without a relation), each once.
func hubBases(p Planted) []string {
	var out []string
	add := func(b string) {
		b = strings.ToLower(b)
		if b != "" && !slices.Contains(out, b) {
			out = append(out, b)
		}
	}
	for _, b := range p.BaseModels {
		add(b)
	}
	for _, t := range p.Tags {
		rest, ok := strings.CutPrefix(t, "base_model:")
		if !ok {
			continue
		}
		if rel, parent, ok := strings.Cut(rest, ":"); ok && slices.Contains(hfRelations, rel) {
			add(parent)
		} else {
			add(rest)
		}
	}
	return out
}
