package extract

import (
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/afterlife-watch/afterlife/configs"
)

type targetKind uint8

const (
	tAlias    targetKind = iota // a name of the dataset or of a derivative
	tWeak                       // a weak name (alias rule)
	tNegative                   // a phrase that is never the dataset
	tFile                       // a known file name
	tModel                      // a known model's id, name or weight file
	tInfohash                   // a known torrent info-hash
	tSize                       // a known file size (digits): only for the raw-line prefilter
	tTrigger                    // a lineage-in-prose trigger name: runs the prose rules, never a hit
)

// target is what a pattern stands for.
type target struct {
	entry         int // index into Matcher.entries
	deriv         int // derivative index, -1 for the entry itself
	model         int // index into Matcher.models, -1 if none
	kind          targetKind
	alias         string   // the registry spelling
	caseSensitive bool     // compare letters and digits exactly
	ident         bool     // an identifier (tiny_images, the_pile): never matched across white space
	requires      []string // normalized context words, any of which must occur in the artifact
	before        string   // weak alias accepted without requires before this date
	// slug is, for an identifier, the weak rule of the same name (tiny_images ~ "Tiny Images"): an
	// occurrence spelled without the underscore (a URL or repo slug such as tiny-images-of-cats)
	// is only that generic phrase and needs the rule's context.
	slug *target
}

// entry is a compiled registry dataset.
type entry struct {
	d         *configs.Dataset
	retracted bool
	of        int // for context entries: the retracted entry they are a version of, else -1
}

// model is a compiled known model.
type model struct {
	entry int
	km    *configs.KnownModel
	via   string // derivative id, if any
}

// fileTarget is a known file name or size.
type fileTarget struct {
	entry, deriv int
	name         string
	size         int64
}

type compiled struct {
	entries  []entry
	models   []model
	patterns []string
	targets  [][]target // by pattern id
	ac       *automaton
	files    map[string][]fileTarget // lower-case base name
	sizes    map[int64][]fileTarget
	mfiles   map[string][]int // lower-case weight file base name → models
	modelIDs map[string][]int // lower-case hub id → models
	hashes   map[string]int   // info-hash → entry
	prose    []proseRule      // lineage in prose, with the entry each rule leads to
	// official: the registry's original hosts that are pages (not files), lower-case, without the
	// scheme or a trailing slash: a link to one is the landing page, not a shared copy
	official []string
}

type proseRule struct {
	entry int
	rule  *configs.LineageRule
}

// minFingerprintSize is the smallest known-file size used as a fingerprint on its own.
const minFingerprintSize = 64 << 20

func compile(reg *configs.Registry) *compiled {
	c := &compiled{
		files: map[string][]fileTarget{}, sizes: map[int64][]fileTarget{}, mfiles: map[string][]int{},
		modelIDs: map[string][]int{}, hashes: map[string]int{},
	}
	index := map[string]int{}
	for i := range reg.Datasets {
		d := &reg.Datasets[i]
		c.entries = append(c.entries, entry{d: d, retracted: d.IsRetraction(), of: -1})
		index[d.ID] = i
		for _, h := range d.OriginalHosts {
			if u := officialKey(h); u != "" && !dataFileURL(u) {
				c.official = append(c.official, u)
			}
		}
	}
	for i := range c.entries {
		if of := c.entries[i].d.Of; of != "" && !c.entries[i].retracted {
			if j, ok := index[of]; ok {
				c.entries[i].of = j
			}
		}
	}
	patID := map[string]int{}
	var weakRules map[string]*target // alnum lower-case name → weak rule, of the entry being compiled
	add := func(alias string, t target) {
		t.ident = strings.Contains(alias, "_") && !strings.ContainsAny(alias, " \t")
		if t.ident && t.kind != tWeak {
			t.slug = weakRules[strings.ToLower(alnum(alias))]
		}
		for _, v := range variants(alias) {
			id, ok := patID[v]
			if !ok {
				id = len(c.patterns)
				patID[v] = id
				c.patterns = append(c.patterns, v)
				c.targets = append(c.targets, nil)
			}
			dup := false
			for _, o := range c.targets[id] {
				dup = dup || (o.entry == t.entry && o.deriv == t.deriv && o.model == t.model && o.kind == t.kind &&
					o.caseSensitive == t.caseSensitive && o.ident == t.ident && o.before == t.before && len(o.requires) == len(t.requires))
			}
			if !dup {
				c.targets[id] = append(c.targets[id], t)
			}
		}
	}
	ruleTarget := func(ei, di int, r configs.AliasRule) target {
		t := target{entry: ei, deriv: di, model: -1, kind: tWeak, alias: r.Alias, caseSensitive: r.CaseSensitive, before: r.Before}
		for _, w := range r.Requires {
			if n := normalize(w); n != "" {
				t.requires = append(t.requires, n)
			}
		}
		if len(t.requires) == 0 && t.before == "" {
			t.kind = tAlias // only case-sensitive
		}
		return t
	}
	addRule := func(ei, di int, r configs.AliasRule) { add(r.Alias, ruleTarget(ei, di, r)) }
	addFile := func(ei, di int, f configs.KnownFile) {
		ft := fileTarget{entry: ei, deriv: di, name: f.Name, size: f.Size}
		base := strings.ToLower(path.Base(f.Name))
		c.files[base] = append(c.files[base], ft)
		if f.Size >= minFingerprintSize {
			c.sizes[f.Size] = append(c.sizes[f.Size], ft)
			add(fmt.Sprint(f.Size), target{entry: ei, deriv: di, model: -1, kind: tSize, alias: f.Name})
		}
		// A file name in text (a download link, a loader path) is also evidence, if specific enough.
		if strings.ContainsAny(f.Name, "._-") && len(f.Name) >= 8 {
			add(f.Name, target{entry: ei, deriv: di, model: -1, kind: tFile, alias: f.Name})
		}
	}
	for ei := range c.entries {
		d := c.entries[ei].d
		weakRules = map[string]*target{}
		for _, r := range d.AliasRules {
			if t := ruleTarget(ei, -1, r); t.kind == tWeak && !t.caseSensitive {
				weakRules[strings.ToLower(alnum(r.Alias))] = &t
			}
		}
		for _, a := range d.Aliases {
			add(a, target{entry: ei, deriv: -1, model: -1, kind: tAlias, alias: a})
		}
		for _, r := range d.AliasRules {
			addRule(ei, -1, r)
		}
		for _, p := range d.NegativePhrases {
			add(p, target{entry: ei, deriv: -1, model: -1, kind: tNegative, alias: p})
		}
		for di := range d.Derivatives {
			dv := &d.Derivatives[di]
			if !dv.CarriesData {
				continue
			}
			for _, a := range dv.Aliases {
				add(a, target{entry: ei, deriv: di, model: -1, kind: tAlias, alias: a})
			}
			for _, r := range dv.AliasRules {
				addRule(ei, di, r)
			}
			for _, f := range dv.KnownFiles {
				addFile(ei, di, f)
			}
		}
		for _, f := range d.KnownFiles {
			addFile(ei, -1, f)
		}
		for _, h := range d.InfoHashes {
			c.hashes[strings.ToLower(h)] = ei
			add(h, target{entry: ei, deriv: -1, model: -1, kind: tInfohash, alias: h})
		}
		for mi := range d.KnownModels {
			km := &d.KnownModels[mi]
			idx := len(c.models)
			c.models = append(c.models, model{entry: ei, km: km, via: km.Via})
			t := target{entry: ei, deriv: derivIndex(d, km.Via), model: idx, kind: tModel}
			if km.ID != "" {
				c.modelIDs[strings.ToLower(km.ID)] = append(c.modelIDs[strings.ToLower(km.ID)], idx)
				t.alias = km.ID
				add(km.ID, t)
			}
			for _, a := range km.Aliases {
				t.alias = a
				add(a, t)
			}
			for _, f := range km.Files {
				base := strings.ToLower(path.Base(f))
				c.mfiles[base] = append(c.mfiles[base], idx)
				t.alias = f
				add(f, t)
			}
		}
	}
	for _, r := range rules.prose {
		ei, ok := index[r.Dataset]
		if !ok {
			continue // a rule for a dataset this registry does not hold
		}
		c.prose = append(c.prose, proseRule{entry: ei, rule: r})
		for _, w := range r.Triggers {
			add(w, target{entry: ei, deriv: -1, model: -1, kind: tTrigger, alias: w})
		}
	}
	c.ac = buildAutomaton(c.patterns)
	return c
}

func derivIndex(d *configs.Dataset, id string) int {
	if id == "" {
		return -1
	}
	for i := range d.Derivatives {
		if d.Derivatives[i].ID == id {
			return i
		}
	}
	return -1
}

// Aliases returns every name the matcher looks for (registry spellings, not variants), sorted:
// the baseline matcher and the grep benchmark use it.
func Aliases(reg *configs.Registry) []string {
	seen := map[string]bool{}
	var out []string
	addA := func(a string) {
		if a = strings.TrimSpace(a); a != "" && !seen[strings.ToLower(a)] {
			seen[strings.ToLower(a)] = true
			out = append(out, a)
		}
	}
	for i := range reg.Datasets {
		d := &reg.Datasets[i]
		if !d.IsRetraction() {
			continue
		}
		for _, a := range d.Aliases {
			addA(a)
		}
		for _, r := range d.AliasRules {
			addA(r.Alias)
		}
		for _, dv := range d.Derivatives {
			if !dv.CarriesData {
				continue
			}
			for _, a := range dv.Aliases {
				addA(a)
			}
			for _, r := range dv.AliasRules {
				addA(r.Alias)
			}
		}
	}
	sort.Strings(out)
	return out
}
