package extract

import (
	"fmt"
	"path"
	"strings"

	"github.com/afterlife-watch/afterlife/artifact"
)

type fieldKind uint8

const (
	fTitle fieldKind = iota
	fText
	fURL
	fTag
	fDeclared
	fBase
	fFile
	fFront // a value of the card's YAML front matter
)

// sigKind is the kind of evidence a signal is.
type sigKind uint8

const (
	sigText        sigKind = iota // a name in free text
	sigTitle                      // a name in the title or URL
	sigFileRef                    // a known file named in free text
	sigDeclared                   // declared datasets: declared_datasets, card datasets:, dataset: tags
	sigBase                       // a known model as the declared base model
	sigLineage                    // a base model found by earlier runs (Lineage)
	sigModelRef                   // a known model named in free text
	sigModelFile                  // a known model's weight file in the file list
	sigWeightsPath                // a weight file whose name carries the dataset's name
	sigDataPath                   // a data file path that carries the dataset's name
	sigCodePath                   // a code or config file path that carries the dataset's name
	sigDataFile                   // a known data file in the file list
	sigSize                       // a known file size in the file list
	sigInfohash                   // a known info-hash
	sigTag                        // a name in a plain tag or another card field
	sigProse                      // lineage written in prose (configs/relations.yaml lineage_prose)
)

// Cue bits of a signal's clause.
const (
	cTrain uint32 = 1 << iota
	cEval
	cUseNear
	cHost
	cDerive
	cBackground
	cDepr
	cWeights
	cNumRow
	cLineage
	cDisclaim
	cLookAlike
	cOwnUse
	cShare    // the name's section hands out files (a Drive/Baidu link, a wget loop) outside a model list
	cZoo      // the name is in a model list (model zoo, pretrained models) that links weights
	cPassing  // acknowledgements and credits before the name
	cArchOnly // a model name used only as an architecture
	cTarget   // the target of a transfer ("Market1501 -> DukeMTMC-reID"): evaluated on, not trained on
	cURL      // a known file named inside a URL or a download command
	cOther    // under a heading about other models (variants, fine-tunes of this one)
)

type hit struct {
	t          *target
	field      fieldKind
	name       string // field name for evidence: text, title, tags[2], files[0].path, card.datasets
	src        string // the field value
	start, end int
	fmKey      string
	dropped    bool
	weak       bool // a strong name spelled like its generic weak form (tiny-images for tiny_images)
}

type signal struct {
	entry, deriv, model int
	kind                sigKind
	weak                bool
	neg                 bool
	unc                 bool // reaches the dataset only through a derivative the registry marks uncertain
	cues                uint32
	ev                  Evidence
	chain               []string
	field               fieldKind
	lo, hi              int // clause bounds (text fields)
	src                 string
}

type matchState struct {
	m     *Matcher
	c     *compiled
	a     *artifact.Artifact
	sc    *scratch
	fm    FrontMatter
	hasFM bool
	hits  []hit
	sigs  []signal
	hay   string // normalized artifact, for `requires` checks (lazy)
	// trigger: a lineage-in-prose trigger name occurs (configs/relations.yaml lineage_prose), at
	// these places of the title or text; the prose rules run only around them
	trigger  bool
	triggers []trigPos
	// cueCache holds clause and occurrence cues (many targets share an occurrence).
	cueCache map[cueKey]cueVal
	// weak memoizes weakOK per target: it searches the whole artifact, and a long text names
	// one weak target many times (that made matching quadratic in the text).
	weak map[*target]bool
	r5   r5State // round-5 artifact cues, computed lazily (rules_r5.go)
	// low is the lower-cased title and text ("title\ntext"), made once per call by lowered(); the
	// round-5 cues (during collect) and the artifact cues (in decide) both read it, and curated
	// memoizes the curated-list cue over it.
	low                  string
	lowText              int // where the text starts in low
	lowDone              bool
	curatedDone, curated bool
}

// lowered returns the lower-cased title and text, computed once per call.
func (st *matchState) lowered() string {
	if !st.lowDone {
		title := strings.ToLower(st.a.Title)
		st.low, st.lowText, st.lowDone = title+"\n"+strings.ToLower(st.a.Text), len(title)+1, true
	}
	return st.low
}

// loweredText is the text's part of lowered(): strings.ToLower(a.Text), lowered once.
func (st *matchState) loweredText() string {
	st.lowered()
	return st.low[st.lowText:]
}

// curatedList reports whether the artifact is a curated list of resources (the curated_list cue
// over lowered()), computed once per call.
func (st *matchState) curatedList() bool {
	if !st.curatedDone {
		st.curated, st.curatedDone = rules.curatedList.MatchString(st.lowered()), true
	}
	return st.curated
}

func newMatchState(m *Matcher, a *artifact.Artifact, sc *scratch) *matchState {
	return &matchState{m: m, c: m.c, a: a, sc: sc}
}

// collect finds every occurrence and turns them into signals. It returns false when nothing in
// the artifact refers to any registry entry (the common, fast case).
func (st *matchState) collect() bool {
	a := st.a
	st.scan(fTitle, "title", a.Title)
	st.scan(fText, "text", a.Text)
	if a.Kind == artifact.KindPaper {
		st.scanGlued(fTitle, "title", a.Title)
		st.scanGlued(fText, "text", a.Text)
	}
	st.scan(fURL, "url", a.URL)
	for i, t := range a.Tags {
		st.scan(fTag, fmt.Sprintf("tags[%d]", i), t)
	}
	for i, d := range a.DeclaredDatasets {
		st.scan(fDeclared, fmt.Sprintf("declared_datasets[%d]", i), d)
	}
	for i, b := range a.BaseModels {
		st.scan(fBase, fmt.Sprintf("base_models[%d]", i), b)
	}
	for i, f := range a.Files {
		st.scan(fFile, fmt.Sprintf("files[%d].path", i), f.Path)
	}
	st.fileSignals()
	if a.InfoHash != "" {
		if ei, ok := st.c.hashes[strings.ToLower(a.InfoHash)]; ok {
			st.add(signal{entry: ei, deriv: -1, model: -1, kind: sigInfohash, field: fURL,
				ev: Evidence{Field: "infohash", Rule: "infohash", Snippet: a.InfoHash, Detail: "known info-hash of " + st.c.entries[ei].d.ID}})
		}
	}
	st.lineageSignals()
	if st.trigger {
		st.proseSignals()
	}
	st.r8SDBareVersion() // round 8 (rules_r8.go)
	if len(st.hits) == 0 && len(st.sigs) == 0 {
		return false
	}
	if len(st.hits) > 0 {
		if fm, ok := ParseFrontMatter(a.Text); ok {
			st.fm, st.hasFM = fm, true
		}
		st.filter()
		st.hitSignals()
	}
	return len(st.sigs) > 0
}

func (st *matchState) scan(f fieldKind, name, s string) {
	if s == "" {
		return
	}
	raw := st.c.ac.scan(s, st.sc.raw[:0])
	st.sc.raw = raw[:0]
	for _, r := range raw {
		for i := range st.c.targets[r.pat] {
			switch st.c.targets[r.pat][i].kind {
			case tSize:
				continue
			case tTrigger:
				st.trigger = true
				if f == fTitle || f == fText {
					st.triggers = append(st.triggers, trigPos{f, r.start, r.end})
				}
				continue
			}
			if len(st.hits) >= maxHits {
				return // bounded work on hostile input: the first maxHits occurrences decide
			}
			st.hits = append(st.hits, hit{t: &st.c.targets[r.pat][i], field: f, name: name, src: s, start: r.start, end: r.end})
		}
	}
}

func (st *matchState) add(s signal) { st.sigs = append(st.sigs, s) }

// glueWords are the short words that PDF and feed extraction glue to the next name
// ("andDukeMTMC-VideoReID", "onMegaFace").
var glueWords = []string{"and", "or", "on", "of", "in", "the", "with", "from", "for", "to", "by", "as", "at", "using", "including", "via", "like"}

// gluedAt returns the length of the glue word that ends right before s[i] when s[i] starts a name
// glued to it: s[i] is upper case, the run of letters before it is exactly a glue word, in lower case.
func gluedAt[T string | []byte](s T, i int) int {
	if i == 0 || s[i] < 'A' || s[i] > 'Z' || s[i-1] < 'a' || s[i-1] > 'z' {
		return 0
	}
	j := i - 1
	for j > 0 && s[j-1] >= 'a' && s[j-1] <= 'z' {
		j--
	}
	if i-j > 9 || j > 0 && symOf[s[j-1]] != symSep {
		return 0
	}
	w := string(s[j:i]) // at most 9 bytes
	for _, g := range glueWords {
		if w == g {
			return len(w)
		}
	}
	return 0
}

// hasGlue reports whether s has a name glued to a short word; the first test skips almost every byte.
func hasGlue[T string | []byte](s T) bool {
	for i := 1; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			if p := s[i-1]; p >= 'a' && p <= 'z' && gluedAt(s, i) > 0 {
				return true
			}
		}
	}
	return false
}

// scanGlued finds names glued to a preceding short word (papers only: their abstracts come through
// PDF and feed extraction). It scans a copy with a space inserted at each glue point and keeps
// only the occurrences that start right at one, mapped back to the original offsets.
func (st *matchState) scanGlued(f fieldKind, name, s string) {
	if !hasGlue(s) {
		return
	}
	var glue []int
	for i := 1; i < len(s); i++ {
		if gluedAt(s, i) > 0 {
			glue = append(glue, i)
		}
	}
	var b strings.Builder
	b.Grow(len(s) + len(glue))
	prev := 0
	for _, g := range glue {
		b.WriteString(s[prev:g])
		b.WriteByte(' ')
		prev = g
	}
	b.WriteString(s[prev:])
	cp := b.String()
	// orig maps an offset of cp to one of s: every glue point before it shifted it by one
	orig := func(k int) int {
		n := 0
		for _, g := range glue {
			if g+n < k {
				n++
			}
		}
		return k - n
	}
	raw := st.c.ac.scan(cp, nil)
	for _, r := range raw {
		start := orig(r.start)
		isGlue := false
		for _, g := range glue {
			if g == start {
				isGlue = true
				break
			}
		}
		if !isGlue {
			continue // found by the ordinary scan
		}
		for i := range st.c.targets[r.pat] {
			switch st.c.targets[r.pat][i].kind {
			case tSize, tTrigger:
				continue
			}
			if len(st.hits) >= maxHits {
				return
			}
			st.hits = append(st.hits, hit{t: &st.c.targets[r.pat][i], field: f, name: name, src: s, start: start, end: orig(r.end)})
		}
	}
}

type trigPos struct {
	field      fieldKind
	start, end int
}

// fileSignals looks up file names and sizes in the known files and known model weights.
func (st *matchState) fileSignals() {
	for i, f := range st.a.Files {
		base := strings.ToLower(path.Base(f.Path))
		field := fmt.Sprintf("files[%d].path", i)
		for _, ft := range st.c.files[base] {
			st.add(signal{entry: ft.entry, deriv: ft.deriv, model: -1, kind: sigDataFile, field: fFile,
				ev: Evidence{Field: field, Start: 0, End: len(f.Path), Snippet: f.Path, Rule: "known-file", Detail: "known file " + ft.name}})
			if f.Size != nil && ft.size > 0 && *f.Size == ft.size {
				st.add(signal{entry: ft.entry, deriv: ft.deriv, model: -1, kind: sigSize, field: fFile,
					ev: Evidence{Field: fmt.Sprintf("files[%d].size", i), Snippet: fmt.Sprint(*f.Size), Rule: "file-size",
						Detail: fmt.Sprintf("name and size %d match %s", ft.size, ft.name)}})
			}
		}
		if f.Size != nil {
			for _, ft := range st.c.sizes[*f.Size] {
				if strings.EqualFold(path.Base(ft.name), base) {
					continue // reported above
				}
				st.add(signal{entry: ft.entry, deriv: ft.deriv, model: -1, kind: sigSize, field: fFile,
					ev: Evidence{Field: fmt.Sprintf("files[%d].size", i), Snippet: fmt.Sprintf("%s (%d bytes)", f.Path, *f.Size),
						Rule: "file-size-fingerprint", Detail: fmt.Sprintf("size %d is the size of %s (renamed copy)", ft.size, ft.name)}})
			}
		}
		for _, mi := range st.c.mfiles[base] {
			md := st.c.models[mi]
			st.add(signal{entry: md.entry, deriv: derivIndex(st.c.entries[md.entry].d, md.via), model: mi, kind: sigModelFile, field: fFile,
				chain: st.modelChain(mi),
				ev:    Evidence{Field: field, Snippet: f.Path, Rule: "known-model-file", Detail: "weights of " + modelName(md)}})
		}
	}
}

// lineageSignals asks the Lineage store about declared base models the registry does not know.
func (st *matchState) lineageSignals() {
	if st.m.lineage == nil {
		return
	}
	for i, b := range st.baseModelIDs() {
		if _, known := st.c.modelIDs[strings.ToLower(b)]; known {
			continue
		}
		for _, t := range st.m.lineage.TaintOf(b) {
			ei := st.entryIndex(t.Dataset)
			if ei < 0 {
				continue
			}
			chain := append([]string{b}, t.Chain...)
			if len(t.Chain) > 0 && sameModel(t.Chain[0], b) {
				chain = append([]string{b}, t.Chain[1:]...) // stored chains start with the model itself
			}
			st.add(signal{entry: ei, deriv: -1, model: -1, kind: sigLineage, field: fBase, chain: chain,
				ev: Evidence{Field: fmt.Sprintf("base_model[%d]", i), Snippet: b, Rule: "lineage-store",
					Detail: strings.Join(chain, " → ")}})
		}
	}
}

// baseModelIDs returns the declared base models: base_models, card base_model and base_model tags.
func (st *matchState) baseModelIDs() []string {
	out := append([]string{}, st.a.BaseModels...)
	for _, t := range st.a.Tags {
		if strings.HasPrefix(t, "base_model:") {
			parts := strings.Split(t, ":")
			out = append(out, parts[len(parts)-1])
		}
	}
	if fm, ok := ParseFrontMatter(st.a.Text); ok {
		out = append(out, fm.Get("base_model")...)
	}
	return out
}

func (st *matchState) entryIndex(id string) int {
	for i := range st.c.entries {
		if st.c.entries[i].d.ID == id {
			return i
		}
	}
	return -1
}

func modelName(md model) string {
	if md.km.ID != "" {
		return md.km.ID
	}
	return md.km.Name
}

// modelChain is model → derivative → dataset.
func (st *matchState) modelChain(mi int) []string {
	md := st.c.models[mi]
	chain := []string{modelName(md)}
	if md.via != "" {
		chain = append(chain, md.via)
	}
	return append(chain, st.c.entries[md.entry].d.ID)
}

// normHay is the normalized artifact, padded with spaces, for `requires` word checks.
func (st *matchState) normHay() string {
	if st.hay == "" {
		var b strings.Builder
		b.WriteByte(' ')
		for _, s := range []string{st.a.Title, st.a.Text, strings.Join(st.a.Tags, " "), strings.Join(st.a.DeclaredDatasets, " ")} {
			b.WriteString(normalize(s))
			b.WriteByte(' ')
		}
		for _, f := range st.a.Files {
			b.WriteString(normalize(f.Path))
			b.WriteByte(' ')
		}
		st.hay = b.String()
	}
	return st.hay
}

// filter drops occurrences that are not the dataset: weak names without their context, wrong case,
// negative phrases, product names, and names inside a longer name of another entry (Re-LAION-5B
// contains LAION-5B; pile-uncopyrighted is not The Pile).
func (st *matchState) filter() {
	for i := range st.hits {
		h := &st.hits[i]
		t := h.t
		if st.r5Drop(h) { // round 5: HTML comments, names run into a longer identifier (rules_r5.go)
			h.dropped = true
			continue
		}
		if t.caseSensitive && alnum(h.src[h.start:h.end]) != alnum(t.alias) {
			h.dropped = true
			continue
		}
		if t.ident && strings.ContainsAny(h.src[h.start:h.end], " \t\r\n") {
			h.dropped = true
			continue
		}
		if t.kind == tWeak && !st.weakOK(t) && !weakInBenchmarkList(h) { // round 7: rules_r7.go
			h.dropped = true
			continue
		}
		if t.slug != nil && !strings.Contains(h.src[h.start:h.end], "_") {
			if !st.weakOK(t.slug) {
				h.dropped = true
				continue
			}
			h.weak = true
		}
		if (h.field == fTitle || h.field == fText) && h.end < len(h.src) && h.src[h.end] == ' ' && h.end+1 < len(h.src) &&
			h.src[h.end+1] >= 'A' && h.src[h.end+1] <= 'Z' && rules.product.Regexp().MatchString(strings.ToLower(h.src[h.end:min(len(h.src), h.end+14)])) {
			h.dropped = true
		}
	}
	for i := range st.hits {
		h := &st.hits[i]
		if h.dropped || h.t.kind == tNegative {
			continue
		}
		for j := range st.hits {
			g := &st.hits[j]
			if i == j || g.src != h.src || g.field != h.field || g.start >= h.end || h.start >= g.end {
				continue
			}
			if g.t.kind == tNegative && g.t.entry == h.t.entry {
				if g.start <= h.start && g.end >= h.end {
					h.dropped = true // "MegaFace Studio", "Duke University"
					break
				}
				continue // "vision.cs.duke.edu/DukeMTMC" is more than the negative "duke.edu" inside it
			}
			if g.dropped || g.t.entry == h.t.entry {
				continue
			}
			if g.end-g.start > h.end-h.start && g.start <= h.start && g.end >= h.end {
				h.dropped = true // inside a longer name of another entry
				break
			}
		}
	}
}

func (st *matchState) weakOK(t *target) bool {
	if ok, seen := st.weak[t]; seen {
		return ok
	}
	ok := st.weakOKUncached(t)
	if st.weak == nil {
		st.weak = map[*target]bool{}
	}
	st.weak[t] = ok
	return ok
}

func (st *matchState) weakOKUncached(t *target) bool {
	if t.before != "" && st.a.Published != "" && st.a.Published < t.before {
		return true
	}
	hay := st.normHay()
	for _, w := range t.requires {
		if strings.Contains(hay, " "+w+" ") {
			return true
		}
	}
	return trainedOn(hay, normalize(t.alias))
}

// trainVerbs are the normalized training verbs that make a weak alias the training data whatever
// the nouns around it ("we train our detector on MegaFace and evaluate on IJB-C").
var trainVerbs = []string{" train ", " trains ", " trained ", " training ", " pretrain ", " pretrained ",
	" pre trained ", " finetune ", " finetuned ", " fine tune ", " fine tuned ", " fine tuning "}

// trainVerbWindow is how far before "on <alias>" a training verb may stand (normalized bytes,
// about eight words: "train our face detector on", not the previous sentence's verb).
const trainVerbWindow = 48

// trainedOn reports whether hay (normalized, space-delimited) says something was trained on alias:
// a training verb within trainVerbWindow before "on [the] <alias>".
func trainedOn(hay, alias string) bool {
	if alias == "" {
		return false
	}
	for _, needle := range []string{" on " + alias + " ", " on the " + alias + " "} {
		for from := 0; ; {
			i := strings.Index(hay[from:], needle)
			if i < 0 {
				break
			}
			i += from
			window := hay[max(0, i-trainVerbWindow) : i+1]
			for _, v := range trainVerbs {
				if strings.Contains(window, v) {
					return true
				}
			}
			from = i + 1
		}
	}
	return false
}

// sameModel reports whether a stored chain element ("hf:model:org/x" or "org/x") names model id.
func sameModel(elem, id string) bool {
	if i := strings.Index(elem, ":model:"); i >= 0 {
		elem = elem[i+len(":model:"):]
	}
	return strings.EqualFold(elem, id)
}
