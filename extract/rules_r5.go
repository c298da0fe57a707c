package extract

import (
	"regexp"
	"strings"

	"github.com/afterlife-watch/afterlife/artifact"
	"github.com/afterlife-watch/afterlife/configs"
)

// Round 5 (issue 14, branch r5-rules2): rules from the errors of the 86 round-5 dev records
// (testdata/real/README.md, "Round 5"). The cues are the "Round 5" part of `cues` in
// configs/relations.yaml; the hooks into the shared code are one line each (collect.go filter,
// signals.go cues, section.go proseSignals, decide.go repository branch).

// Cue bits of round 5 (after cOther, the last bit of collect.go).
const (
	cRecipe uint32 = cOther << (iota + 1) // a recipe that downloads and prepares the data (data_recipe)
	cBundle                               // the artifact holds the dataset itself (bundle, a data file as link text)
)

type ruleSetR5 struct {
	seeAlso, partOf, archList, bundle, recipe, otherModel, othersWork, createdHere, releasedWeights, comparison, relatedLabel, modelsOnHost *configs.Cue
}

// r5State holds the round-5 artifact-wide cues of one Match call, computed on first use.
type r5State struct {
	done                bool
	othersWork, curated bool
	// comments are the HTML comments of the text, [start, end) pairs, found once per call
	commentsDone bool
	comments     [][2]int
	// clause caches the clause-wide round-5 bits (architecture list, recipe) per clause
	clause map[cueKey]uint32
}

func (st *matchState) r5Artifact() *r5State {
	r := &st.r5
	if !r.done {
		r.done = true
		if st.a.Kind == artifact.KindRepository {
			r.othersWork = rulesR5.othersWork.MatchString(st.lowered())
			r.curated = st.curatedList()
		}
	}
	return r
}

var rulesR5 = mustRulesR5()

func mustRulesR5() *ruleSetR5 {
	r := embeddedRelations()
	c := r.Cues
	return &ruleSetR5{seeAlso: c["see_also"], partOf: c["part_of"], archList: c["architecture_list"],
		bundle: c["bundle"], recipe: c["data_recipe"], otherModel: c["other_model_pretrained"],
		othersWork: c["others_work"], createdHere: c["created_here"], releasedWeights: c["released_weights_r5"], comparison: c["comparison"],
		relatedLabel: c["related_label"], modelsOnHost: c["models_on_host"]}
}

// r5Drop reports whether an occurrence is not the dataset: text commented out in HTML
// ("<!-- - MSCeleb-1M: 5.8M images … -->"), and a name run into a longer identifier by an
// underscore in a title or URL ("datasets/the_pile_stack_exchange/": a component, not The Pile).
func (st *matchState) r5Drop(h *hit) bool {
	if h.field == fText && st.inTextComment(h.start) {
		return true
	}
	if h.field == fURL || h.field == fTitle {
		s := h.src
		if h.end+1 < len(s) && s[h.end] == '_' && isLetter(s[h.end+1]) && h.t.kind != tFile {
			return true
		}
	}
	return false
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// inTextComment reports whether off lies inside an HTML comment of the text. The comments are
// found once per call (one pass over the text), so a text with many names costs no more.
func (st *matchState) inTextComment(off int) bool {
	r := &st.r5
	if !r.commentsDone {
		r.commentsDone = true
		r.comments = htmlComments(st.a.Text)
	}
	for _, c := range r.comments {
		if off >= c[0] && off < c[1] {
			return true
		}
	}
	return false
}

// htmlComments returns the [start, end) ranges of the HTML comments of s ("<!-- … -->"; an
// unclosed comment runs to the end).
func htmlComments(s string) [][2]int {
	var out [][2]int
	for i := 0; ; {
		j := strings.Index(s[i:], "<!--")
		if j < 0 {
			return out
		}
		j += i
		k := strings.Index(s[j+4:], "-->")
		if k < 0 {
			return append(out, [2]int{j, len(s)})
		}
		out = append(out, [2]int{j, j + 4 + k + 3})
		i = j + 4 + k + 3
	}
}

// dataLinkTextRE is a markdown link whose text is a data file ("[`oxford_town_center.mp4`](…/sample.mp4)").
var dataLinkTextRE = regexp.MustCompile("^[\\w.-]*\\.(mp4|avi|zip|tar|tar\\.gz|tgz|npy|parquet|mat|7z|rar|bin|pkl|pickle|tsv|rec)`?\\]\\((https?://[^)\\s]+)\\)")

// weightArgRE is a weight file given as a command-line argument without a URL
// ("--weights output/…/save.ckpt-100000"): a local training output, not released weights.
var weightArgRE = regexp.MustCompile(`--[\w-]+[ =]+[^\s]*\.(ckpt|pth|pt|h5|pb|pkl)(-\d+)?\b`)

// r5Cues adds and clears cue bits of one text or title occurrence (called at the end of cues()).
func (st *matchState) r5Cues(s *signal, h *hit, lo, hi int, before, after string) {
	src := h.src
	near := lastBytes(before, 120)
	// "Also see [laion5B](…)"; "is part of EleutherAI/The Pile dataset"
	if rulesR5.seeAlso.MatchString(near) || rulesR5.partOf.MatchString(near) || rulesR5.createdHere.MatchString(near) {
		s.cues |= cPassing
	}
	if h.field == fText {
		if u := urlAround(src, h.start, h.end); u != "" {
			// a name inside a link target: the words before the link decide ("Also see [laion5B](https://laion.ai/laion-5b-…)")
			if i := strings.LastIndex(src[lo:h.start], "]("); i >= 0 {
				if o := strings.LastIndexByte(src[lo:lo+i], '['); o >= 0 {
					b := stripMarkup(src[lo : lo+o])
					if rulesR5.seeAlso.MatchString(b) {
						s.cues |= cPassing
					}
					if st.r5Artifact().curated && s.cues&cOwnUse == 0 {
						s.cues |= cPassing // a curated list links a repository or paper that carries the name
					}
				}
			}
		}
	}
	// a leaderboard of results copied from papers, notes on a paper: cited, not used
	if st.r5Artifact().othersWork && s.cues&cOwnUse == 0 {
		s.cues |= cPassing
	}
	// "OpenCLIP's pre-trained model on LAION-400m", "outperforming ViT-L with supervised
	// pre-training on ImageNet-22K": another model's data
	if rulesR5.otherModel.MatchString(near) || rulesR5.comparison.MatchString(near) {
		s.cues |= cBackground
	}
	s.cues |= st.r5ClauseBits(h.name, src, lo, hi)
	// "This package contains the "Brainwash" dataset" (not "… contains the X evaluation code")
	if rulesR5.bundle.MatchString(near) && !bundleCodeRE.MatchString(after) {
		s.cues |= cBundle
	}
	if h.field == fText {
		// a data file as a link's text, linked to a file that is not an official page
		if m := dataLinkTextRE.FindStringSubmatch(src[h.end:min(len(src), h.end+400)]); m != nil && !isOfficial(m[2], st.c.official) {
			s.cues |= cBundle | cURL
		}
		// "datasets such as LAION400M" in a training or using sentence is the artifact's own data
		if s.cues&cBackground != 0 && (s.cues&cTrain != 0 || rules.use.MatchString(near)) && strings.HasSuffix(strings.TrimRight(before, " "), "such as") {
			if !rules.background.MatchString(strings.TrimSuffix(strings.TrimRight(before, " "), "such as")) && !rulesR5.otherModel.MatchString(near) &&
				!rules.bgAfter.MatchString(after) && datasetsSuchAsRE.MatchString(before) {
				s.cues &^= cBackground
			}
		}
		// a paper's benchmark list after a colon: "evaluated using … 16 other publicly available
		// datasets: VIPeR, GRID, CAVIAR, DukeMTMC4ReID, …"
		if st.a.Kind == artifact.KindPaper && s.cues&(cEval|cTrain) != 0 && s.cues&cUseNear == 0 && colonListRE.MatchString(before) {
			s.cues |= cUseNear
		}
		// a link on a file host in the section belongs to the name nearest to it: "[LFW @ BaiduNetdisk](…)"
		// is LFW's copy, not that of MS-Celeb-1M named in the paragraph above
		// (bounded: on a text with very many names the section decides, as before)
		if s.cues&cShare != 0 && len(st.hits) <= 512 && urlAround(src, h.start, h.end) == "" && !st.ownShareLink(s, h, hi) {
			s.cues &^= cShare
		}
		// a bundle shared above and described here: "- reid_dataset [[GoogleDriver]](…)" then
		// "- The reid_dataset including Market-1501 (with CamStyle), DukeMTMC-reID (with CamStyle)"
		if s.cues&(cShare|cBundle) == 0 && st.sharedBundle(src, lo, h.start) {
			s.cues |= cBundle
		}
		// a list item under a label over related work ("**Similar Benchmarks**:\n- The Pile")
		if label := labelAbove(src, lo); label != "" && rulesR5.relatedLabel.MatchString(stripMarkup(label)) {
			s.cues |= cPassing
		}
		// a name inside the value of a command-line flag that is a path or bucket, not a download
		// ("--laion_shards s3://…/laion5b/laion2B-data/{000000..231349}.tar"): the training input
		if flagArgRE.MatchString(src[max(0, h.start-120):h.start]) {
			s.cues &^= cShare | cURL
			s.cues |= cUseNear
		}
		// a weight file given as a local path in a command: a training output
		if s.cues&cWeights != 0 && !strings.Contains(src[lo:hi], "http") && weightArgRE.MatchString(src[lo:hi]) {
			s.cues &^= cWeights
		}
	}
}

// flagArgRE is a command-line flag followed by the start of a path or bucket value that runs up
// to the name (no space in between).
var flagArgRE = regexp.MustCompile(`--[\w-]+[ =]+["']?(s3://|gs://|/|\./)[^\s"']*$`)

// bundleIncludingRE is a named bundle followed by what it holds, up to the name ("the
// reid_dataset including Market-1501 (with CamStyle), ").
var bundleIncludingRE = regexp.MustCompile(`\b([a-z0-9]+(?:[_-][a-z0-9]+)+|[a-z0-9]+_?data(?:set)?s?)\s+(?:including|includes|contains|consists of)\b[^.\n]{0,200}$`)

// sharedBundle reports whether the text before the name in its clause [lo, start) describes a
// named bundle ("reid_dataset including …") that a line above, in the same section, hands out on a
// file host.
func (st *matchState) sharedBundle(src string, lo, start int) bool {
	before := strings.ToLower(src[lo:start])
	if !strings.Contains(before, "includ") && !strings.Contains(before, "contain") && !strings.Contains(before, "consist") {
		return false
	}
	m := bundleIncludingRE.FindStringSubmatch(before)
	if m == nil {
		return false
	}
	name := m[1]
	from := max(0, lo-1500)
	for _, h := range headingsAbove(src, lo) {
		if h.level < 7 {
			from = max(from, h.off)
			break
		}
	}
	for _, line := range strings.Split(strings.ToLower(src[from:lo]), "\n") {
		if strings.Contains(line, name) && rules.share.MatchString(line) && !rules.modelSection.MatchString(line) {
			return true
		}
	}
	return false
}

// labelAbove returns the nearest line above the list item that starts at lo when that line is
// not itself a list item (the label over a list), or "".
func labelAbove(src string, lo int) string {
	t := strings.TrimLeft(src[lo:], " \t")
	if !strings.HasPrefix(t, "- ") && !strings.HasPrefix(t, "* ") && !strings.HasPrefix(t, "+ ") {
		return ""
	}
	i := lo
	for n := 0; n < 30 && i > 0; n++ {
		p := strings.LastIndexByte(src[:i-1], '\n') + 1
		line := strings.TrimSpace(src[p : i-1])
		i = p
		if line == "" {
			return ""
		}
		if strings.HasPrefix(line, "- ") || strings.HasPrefix(line, "* ") || strings.HasPrefix(line, "+ ") {
			continue
		}
		return line
	}
	return ""
}

var (
	bundleCodeRE     = regexp.MustCompile(`^\W*([\w-]+\W+){0,2}(code|implementation|evaluation|training|baseline|models?|weights|scripts?|toolkit|loaders?|results?|experiments?|configs?|configurations?|checkpoints?|demos?|examples?|benchmarks?|protocols?|splits?|support)\b`)
	datasetsSuchAsRE = regexp.MustCompile(`\b(datasets?|data|corpora|corpus) such as\s*$`)
	colonListRE      = regexp.MustCompile(`\b(datasets?|benchmarks?)\s*:\s*([\w+.-]+( [\w+.-]+)?, ){1,20}$`)
)

// r5ClauseBits returns the clause-wide bits of [lo, hi), computed once per clause.
func (st *matchState) r5ClauseBits(name, src string, lo, hi int) uint32 {
	r := &st.r5
	k := cueKey{name, lo, hi, -1, -1}
	if b, ok := r.clause[k]; ok {
		return b
	}
	var b uint32
	w := stripMarkup(withoutLinkTargets(src[lo:hi]))
	if rulesR5.archList.MatchString(w) {
		b |= cArchOnly
	}
	if rulesR5.recipe.MatchString(w) {
		b |= cRecipe
	}
	if r.clause == nil {
		r.clause = map[cueKey]uint32{}
	}
	r.clause[k] = b
	return b
}

// withoutLinkTargets drops markdown link targets ("[scripts](https://…) to download" reads
// "[scripts] to download").
func withoutLinkTargets(s string) string {
	if !strings.Contains(s, "](") {
		return s
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "](")
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		j := strings.IndexByte(s[i:], ')')
		if j < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i+1])
		s = s[i+j+1:]
	}
}

// ownShareLink reports whether a file-host link in the section after the clause [.., hi) of the
// occurrence h belongs to it: a link whose text or line names no other registry name. Links
// written as "[LFW @ BaiduNetdisk](…)" belong to LFW.
func (st *matchState) ownShareLink(s *signal, h *hit, hi int) bool {
	src := h.src
	end := sectionWindow(src, hi)
	lo := s.lo
	win := src[lo:end]
	low := strings.ToLower(win)
	if !rules.share.MatchString(low) {
		return true // the share came from a heading above: keep it
	}
	found := false
	rest := 0
	for {
		k := strings.Index(win[rest:], "](")
		if k < 0 {
			break
		}
		k += rest
		c := strings.IndexByte(win[k:], ')')
		if c < 0 {
			break
		}
		u := win[k+2 : k+c]
		rest = k + c
		if !rules.share.MatchString(strings.ToLower(u)) || isOfficial(u, st.c.official) {
			continue
		}
		o := strings.LastIndexByte(win[:k], '[')
		if o < 0 {
			return true
		}
		found = true
		// the link's text names another entry and not this one, or names something besides the
		// host ("[AgeDB-30 @ BaiduNetdisk]"): it is that one's copy
		self, other := st.namesIn(src, lo+o, lo+k, s.entry)
		if self || !other && !namesNonHost(win[o+1:k]) {
			return true
		}
	}
	// no markdown link on a file host (a bare URL or a command): the section decides
	return !found
}

// namesNonHost reports whether a link text names something other than a file host or a
// download ("AgeDB-30 @ BaiduNetdisk" does; "Google Drive", "[BaiduYun]", "link" do not).
func namesNonHost(text string) bool {
	t := strings.ToLower(text)
	for _, w := range hostWords {
		t = strings.ReplaceAll(t, w, " ")
	}
	for _, w := range []string{"netdisk", "yun", "driver", "code", "password", "extract"} {
		t = strings.ReplaceAll(t, w, " ")
	}
	n := 0
	for i := 0; i < len(t); i++ {
		if isLetter(t[i]) {
			n++
		}
	}
	return n >= 3
}

// namesIn reports whether [a, b) of src holds a name of entry (self) or of another entry (other).
func (st *matchState) namesIn(src string, a, b, entry int) (self, other bool) {
	for i := range st.hits {
		g := &st.hits[i]
		if g.dropped || g.src != src || g.start < a || g.end > b || g.t.kind == tNegative {
			continue
		}
		if g.t.entry == entry {
			self = true
		} else {
			other = true
		}
	}
	return self, other
}

// r5ProseSkip reports whether lineage in prose found at m0 in the clause [lo, hi) of low is not
// lineage: model families listed as architectures, or a comparison with another model before it
// ("outperforming ViT-L with supervised pre-training on ImageNet-22K").
func r5ProseSkip(low string, lo, hi int, m []int) bool {
	if rulesR5.archList.MatchString(low[lo:hi]) {
		return true
	}
	// the checkpoint family's data name: the last "imagenet"/"in2" in the match
	mt := low[m[0]:m[1]]
	k := max(strings.LastIndex(mt, "imagenet"), strings.LastIndex(mt, "in2"))
	if k < 0 {
		return false
	}
	return rulesR5.comparison.MatchString(low[max(lo, m[0]+k-160) : m[0]+k])
}

// r5CopyEv returns the round-5 evidence that a repository hands out the data: a recipe that
// downloads and prepares it (in the name's clause, or artifact-wide for the dataset the title or
// first sentence names), a bundle ("This package contains the X dataset"), a data file as a link
// text, and a `datasets` loader card's own dataset (its pretty_name or its directory).
func (st *matchState) r5CopyEv(live []*signal) []*signal {
	var out []*signal
	card := st.datasetCard()
	recipeArt := -1 // lazily: does the artifact hold a recipe anywhere
	for _, s := range live {
		if s.neg || s.unc || s.cues&(cPassing|cTarget|cZoo|cBackground) != 0 {
			continue
		}
		switch s.kind {
		case sigText, sigTitle, sigFileRef:
		default:
			continue
		}
		if s.cues&(cRecipe|cBundle) != 0 {
			out = append(out, s)
			continue
		}
		if card && s.kind == sigTitle && st.cardSubject(s) {
			out = append(out, s)
			continue
		}
		// the dataset the artifact is about: its title, or the first clause of the text when that
		// clause neither trains nor evaluates ("A set of tools to work with [laion](…) dataset.")
		subject := s.kind == sigTitle && s.field == fTitle || s.kind == sigText && s.field == fText && s.lo == 0 && s.cues&(cTrain|cEval|cNumRow) == 0
		if subject {
			if recipeArt < 0 {
				recipeArt = 0
				if rulesR5.recipe.MatchString(stripMarkup(withoutLinkTargets(st.a.Text))) {
					recipeArt = 1
				}
			}
			if recipeArt == 1 {
				out = append(out, s)
			}
		}
	}
	return out
}

// datasetCardKeys are front-matter keys of a Hugging Face dataset card.
var datasetCardKeys = []string{"\npretty_name:", "\nsize_categories:", "\nsource_datasets:", "\ndataset_info:", "\nannotations_creators:", "\ntask_categories:"}

// datasetCard reports whether the artifact is a dataset card (a `datasets` loader's README): its
// front matter has dataset-card keys, or the text has a "Dataset Summary" section.
func (st *matchState) datasetCard() bool {
	t := st.a.Text
	if st.hasFM {
		fm := t[:min(len(t), st.fm.End)]
		n := 0
		for _, k := range datasetCardKeys {
			if strings.Contains(fm, k) {
				n++
			}
		}
		if n >= 2 {
			return true
		}
	}
	return strings.Contains(t, "### Dataset Summary")
}

// cardSubject reports whether a title-like signal names the card's own dataset: its pretty_name, or
// the directory of a `datasets/<name>/` path that the name ends.
func (st *matchState) cardSubject(s *signal) bool {
	if s.ev.Rule == "card-name" {
		return true
	}
	if s.field != fURL {
		return false
	}
	u := st.a.URL
	if s.ev.End > len(u) || s.ev.End <= s.ev.Start {
		return false
	}
	if !strings.Contains(strings.ToLower(u[:s.ev.Start]), "/datasets/") {
		return false
	}
	return s.ev.End == len(u) || u[s.ev.End] == '/'
}

// r5ModelEv returns the round-5 evidence that a repository releases weights trained on a dataset:
// the repository says so without the usual words ("saved model weights … for three datasets can
// be downloaded", "Models (+RE) (… Link …) are released", "`h5` models in Google drive") and
// reports its own results on the dataset (a results row, "we achieve Rank@1=94.4% on Duke-MTMC"):
// code that trains and releases weights (labelling rule 2). Transfer targets, credits,
// background and copies are left out.
func (st *matchState) r5ModelEv(live []*signal, low string) []*signal {
	// only where the repository names no training set of its own: then what it reports results on
	// is what its models were trained on (re-ID code); a face repository that trains on MS1MV2
	// and evaluates on MegaFace keeps MegaFace a benchmark
	for i := range st.sigs {
		if st.sigs[i].cues&cTrain != 0 && !st.sigs[i].neg {
			return nil
		}
	}
	checked := false
	var out []*signal
	for _, s := range live {
		if s.neg || s.unc || s.cues&(cTarget|cPassing|cArchOnly|cBackground|cShare|cOther) != 0 {
			continue
		}
		if s.kind != sigText || s.cues&(cEval|cNumRow|cUseNear) == 0 {
			continue
		}
		if !checked {
			// low is the lower-cased title and text the decision already holds
			if !rulesR5.releasedWeights.MatchString(low) && !rulesR5.modelsOnHost.MatchString(low) {
				return nil
			}
			checked = true
		}
		out = append(out, s)
	}
	return out
}
