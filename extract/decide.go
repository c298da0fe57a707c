package extract

import (
	"path"
	"sort"
	"strings"

	"github.com/afterlife-watch/afterlife/artifact"
)

// artifactCues are computed once per artifact.
type artifactCues struct {
	study    bool // an audit or critique
	dataLink bool // a link to a data-sharing place
	refusal  bool // a maintainer refusing to share
	listMode bool // a list of withdrawn datasets (names with notices, no use)
	curated  bool // a curated list of resources (an awesome-list): names are mentions unless a cue says use
	// weights (links to or ships released weights) and ported (says its weights were ported or
	// converted) are read only by some repository rules: computed on first use (whole-text regexps
	// are the costly part of a match).
	lazy *lazyCues
	// exclusive: a model card that says it was trained only on one dataset ("trained exclusively on
	// CASIA-WebFace"): other datasets it names need a training cue of their own.
	exclusive bool
}

func (st *matchState) artifactCues() artifactCues {
	a := st.a
	// Only the cues a kind's rules read are computed: whole-text regexps are the costly part.
	var ac artifactCues
	low := st.lowered()
	switch a.Kind {
	case artifact.KindPaper, artifact.KindRecord:
		ac.study = rules.study.MatchString(stripMarkup(low))
	case artifact.KindRepository:
		ac.study = rules.study.MatchString(stripMarkup(low))
		ac.curated = st.curatedList()
		ac.lazy = &lazyCues{a: a, low: low}
	case artifact.KindModel:
		ac.exclusive = exclusiveTraining(low) // the patterns allow any white space between words
	case artifact.KindDataset, artifact.KindTorrent:
	default:
		ac.dataLink = rules.dataLink.MatchString(low)
		ac.refusal = ac.dataLink && rules.refusal.MatchString(low)
	}
	if a.Kind == artifact.KindRepository || a.Kind == artifact.KindPage {
		depr, use := 0, 0
		seen := map[int]bool{}
		for _, s := range st.sigs {
			if s.kind != sigText || !st.c.entries[s.entry].retracted {
				continue
			}
			if s.cues&(cTrain|cEval|cNumRow|cWeights) != 0 {
				use++
			}
			if s.cues&cDepr != 0 && !seen[s.entry] {
				seen[s.entry] = true
				depr++
			}
		}
		ac.listMode = depr >= 3 && use == 0
	}
	return ac
}

type lazyCues struct {
	a                       *artifact.Artifact
	low                     string
	weightsDone, portedDone bool
	weights, ported         bool
}

func (l *lazyCues) hasWeights() bool {
	if !l.weightsDone {
		low := l.low
		l.weights = hasWeights(l.a) || (strings.Contains(low, "releases/download/") || strings.Contains(low, "huggingface.co/")) && rules.releasedWeights.MatchString(low) ||
			rules.providesModels.MatchString(low) || rules.modelSection.MatchString(low) && rules.weightsLink.MatchString(low) ||
			rulesR5.releasedWeights.MatchString(low) || rulesR5.modelsOnHost.MatchString(low) // round 5 (rules_r5.go)
		l.weightsDone = true
	}
	return l.weights
}

func (l *lazyCues) isPorted() bool {
	if !l.portedDone {
		l.ported = rules.ported.MatchString(l.low)
		l.portedDone = true
	}
	return l.ported
}

// decision collects the evidence for one relation of one entry.
type decision struct {
	rel  Relation
	sigs []*signal
}

// signalsByEntry groups the match's signals by registry entry; the entries in ascending order.
func (st *matchState) signalsByEntry() ([]int, map[int][]*signal) {
	byEntry := map[int][]*signal{}
	var order []int
	for i := range st.sigs {
		s := &st.sigs[i]
		if _, ok := byEntry[s.entry]; !ok {
			order = append(order, s.entry)
		}
		byEntry[s.entry] = append(byEntry[s.entry], s)
	}
	sort.Ints(order)
	return order, byEntry
}

func (st *matchState) decide() []Finding {
	ac := st.artifactCues()
	order, byEntry := st.signalsByEntry()
	var out []Finding
	for _, ei := range order {
		out = append(out, st.decideEntry(ei, byEntry[ei], ac)...)
	}
	return out
}

// isText reports whether a signal comes from free text or the title (cue-dependent evidence).
func isText(s *signal) bool {
	switch s.kind {
	case sigText, sigTitle, sigFileRef, sigModelRef, sigTag:
		return true
	}
	return false
}

func (st *matchState) decideEntry(ei int, sigs []*signal, ac artifactCues) []Finding {
	a := st.a
	// Look-alikes of this entry (context entries whose `of` is ei) present in the artifact.
	lookAlikeDeclared, lookAlikeAny := false, false
	for i := range st.sigs {
		s := &st.sigs[i]
		if st.c.entries[s.entry].of != ei || s.neg || rules.lookalikeExempt[st.c.entries[s.entry].d.ID] {
			continue
		}
		lookAlikeAny = true
		if s.kind == sigDeclared || s.kind == sigTitle || s.kind == sigDataFile {
			lookAlikeDeclared = true
		}
	}
	// The dataset itself explicitly excluded ("without the Books3 subset", "we excluded Books3").
	rootNegated := false
	for _, s := range sigs {
		if s.kind == sigText && s.deriv < 0 && s.model < 0 && s.neg && !s.weak {
			rootNegated = true
		}
	}
	var live []*signal
	e := st.c.entries[ei]
	for _, s := range sigs {
		if s.deriv >= 0 && s.deriv < len(e.d.Derivatives) && e.d.Derivatives[s.deriv].Uncertain {
			s.unc = true // Glint360K → MS-Celeb-1M: never a confident finding (a mention at most)
		}
		if s.kind == sigProse && rootNegated {
			continue // "Trained on The Pile; we excluded Books3"
		}
		if (s.weak || s.kind == sigProse) && lookAlikeAny {
			continue // an ambiguous name or generic lineage when the look-alike is named: it is the look-alike
		}
		if isText(s) {
			if rootNegated && s.deriv >= 0 {
				s.neg = true // "The Pile, without Books3": the derivative's copy of the root is gone
			}
			if lookAlikeDeclared || s.cues&cLookAlike != 0 {
				s.neg = true
			}
		}
		live = append(live, s)
	}
	if len(live) == 0 {
		return nil
	}
	pos := func(pred func(s *signal) bool) []*signal {
		var o []*signal
		for _, s := range live {
			if !s.neg && !s.unc && pred(s) {
				o = append(o, s)
			}
		}
		return o
	}
	kinds := func(ks ...sigKind) func(s *signal) bool {
		return func(s *signal) bool {
			for _, k := range ks {
				if s.kind == k {
					return true
				}
			}
			return false
		}
	}
	textNamed := func(s *signal) bool { return s.kind == sigText || s.kind == sigFileRef || s.kind == sigTitle }
	var ds []decision
	addD := func(r Relation, ss []*signal) {
		if len(ss) > 0 {
			ds = append(ds, decision{rel: r, sigs: ss})
		}
	}
	dataEv := pos(kinds(sigDataFile, sigSize, sigInfohash, sigDataPath))
	switch a.Kind {
	case artifact.KindModel:
		ev := pos(kinds(sigModelFile, sigBase, sigLineage, sigWeightsPath, sigDeclared, sigTitle, sigProse))
		ev = append(ev, pos(func(s *signal) bool {
			if s.cues&(cArchOnly|cPassing) != 0 && s.cues&cTrain == 0 {
				return false // "based off of the GPT-J architecture", credits
			}
			if s.cues&cOther != 0 {
				return false // under "Models finetuned off MPT-7B": another model's data
			}
			switch s.kind {
			case sigText, sigFileRef:
				evalOnly := s.cues&(cEval|cNumRow) != 0 && s.cues&cTrain == 0
				if s.cues&cBackground != 0 && s.cues&cOwnUse == 0 {
					return false // "unlike GPT-J, which was trained on The Pile": someone else's data
				}
				if ac.exclusive && s.cues&cTrain == 0 {
					return false // "trained only on LFW … VGGFace2 models are listed for reference"
				}
				return !evalOnly && s.cues&cDepr == 0 || s.cues&cTrain != 0
			case sigModelRef:
				if s.cues&cArchOnly != 0 && s.cues&cLineage == 0 {
					return false // "a structure similar to GPT-J-6B, trained from scratch": not its weights
				}
				return s.cues&(cLineage|cTrain) != 0
			}
			return false
		})...)
		addD(TrainedOn, ev)
	case artifact.KindDataset, artifact.KindTorrent, artifact.KindRecord:
		if a.Kind == artifact.KindRecord && ac.study && len(dataEv) == 0 {
			addD(Studies, pos(textNamed))
			break
		}
		weights := a.Kind == artifact.KindRecord && hasWeights(a)
		if weights {
			ev := pos(kinds(sigModelFile, sigWeightsPath))
			ev = append(ev, pos(func(s *signal) bool { return textNamed(s) && s.cues&cTrain != 0 })...)
			addD(TrainedOn, ev)
			if codeRelease(a) {
				// Code and the weights it trained (rule 2 of the labelling rules): uses and trained-on.
				addD(Uses, pos(func(s *signal) bool {
					return textNamed(s) && s.kind != sigTitle && s.cues&(cTrain|cUseNear|cEval) != 0 &&
						(s.cues&cBackground == 0 || s.cues&cOwnUse != 0)
				}))
			}
			break
		}
		ev := append([]*signal{}, dataEv...)
		ev = append(ev, pos(kinds(sigDeclared, sigTitle))...)
		ev = append(ev, pos(func(s *signal) bool {
			if s.kind != sigText && s.kind != sigFileRef {
				return false
			}
			return a.Kind == artifact.KindTorrent || s.cues&(cHost|cDerive) != 0
		})...)
		if len(ev) > 0 {
			addD(dataRelation(ev), ev)
		}
	case artifact.KindPaper:
		ev := pos(func(s *signal) bool {
			if !textNamed(s) || s.kind == sigTitle {
				return false
			}
			if s.cues&cBackground != 0 && s.cues&cOwnUse == 0 {
				return false
			}
			if ac.study && s.cues&cOwnUse == 0 {
				return false
			}
			return s.cues&cUseNear != 0 && s.cues&cPassing == 0
		})
		if !ac.study {
			ev = append(ev, pos(kinds(sigProse))...)
		}
		addD(Uses, ev)
		if len(ev) == 0 && ac.study {
			addD(Studies, pos(textNamed))
		}
	case artifact.KindRepository:
		if ac.listMode {
			break
		}
		if ac.study {
			// An audit's code and data: studies, unless it ships the data or trains on it itself.
			addD(Copy, pos(kinds(sigDataFile, sigSize, sigInfohash)))
			addD(Studies, pos(func(s *signal) bool { return textNamed(s) && s.cues&cOwnUse == 0 }))
			addD(Uses, pos(func(s *signal) bool { return textNamed(s) && s.cues&cOwnUse != 0 }))
			break
		}
		copyEv := pos(kinds(sigDataFile, sigSize, sigInfohash, sigDataPath))
		// A section that hands out the files (a Data Zoo row, a heading followed by Drive/Baidu
		// links, a wget loop over parquet files), or a known file named in a URL or download
		// command: the repository ships or links copies (labelling rule 1: data, not uses).
		copyEv = append(copyEv, pos(func(s *signal) bool {
			if s.cues&(cPassing|cTarget|cZoo) != 0 {
				return false
			}
			switch s.kind {
			case sigText, sigTitle, sigFileRef:
				return s.cues&(cShare|cURL) != 0
			}
			return false
		})...)
		// the home of a derived dataset: the title names it and the text says what it is built from
		if title := pos(kinds(sigTitle)); len(title) > 0 {
			for _, s := range live {
				if !s.neg && s.kind == sigText && s.cues&cDerive != 0 && s.cues&(cPassing|cBackground) == 0 {
					copyEv = append(copyEv, title...)
					break
				}
			}
		}
		copyEv = append(copyEv, st.r5CopyEv(live)...) // round 5 (rules_r5.go)
		if len(copyEv) > 0 {
			addD(dataRelation(copyEv), copyEv)
		}
		model := pos(kinds(sigModelFile, sigWeightsPath))
		model = append(model, pos(func(s *signal) bool {
			if s.cues&(cTarget|cPassing|cArchOnly) != 0 {
				return false // evaluated on as a transfer target; credits; an architecture
			}
			if textNamed(s) && s.cues&cZoo != 0 {
				return true
			}
			// a weight file named beside it; not where the repository hands out the data itself
			// ("python convert.py ./face_ids.pth ./laion400m-meta": an input of the data recipe)
			if textNamed(s) && s.cues&cWeights != 0 && s.cues&cShare == 0 && len(copyEv) == 0 {
				return true
			}
			// code that trains on the dataset and releases weights (labelling rule 2)
			if textNamed(s) && s.cues&cTrain != 0 && s.cues&cShare == 0 && (s.cues&cBackground == 0 || s.cues&cOwnUse != 0) && ac.lazy.hasWeights() {
				return true
			}
			switch s.kind {
			case sigModelRef:
				return s.cues&cURL != 0 || s.cues&(cLineage|cZoo) != 0 && ac.lazy.hasWeights()
			case sigProse:
				return rules.lineage.MatchString(strings.ToLower(s.ev.Snippet)) || ac.lazy.hasWeights()
			}
			return false
		})...)
		model = append(model, st.r5ModelEv(live, ac.lazy.low)...) // round 5 (rules_r5.go)
		model = append(model, st.r6ghModelEv(live, ac.lazy.low)...)
		addD(TrainedOn, model)
		if len(copyEv) == 0 {
			uses := pos(func(s *signal) bool {
				if s.cues&cPassing != 0 || s.cues&cOwnUse == 0 && ac.lazy.isPorted() {
					return false // credits; ported weights are shipped, not trained here
				}
				if v, ok := st.r6ghUses(s, ac.lazy.low); ok { // round 6 (ghgen) (rules_r6_ghgen.go)
					return v
				}
				switch s.kind {
				case sigCodePath, sigDeclared:
					return true
				case sigProse:
					// "training of a language model on the Pile" in a repository that links no weights
					snip := strings.ToLower(s.ev.Snippet)
					return !ac.lazy.hasWeights() && rules.train.MatchString(snip) && !rules.lineage.MatchString(snip)
				case sigText, sigFileRef, sigTitle:
					if s.cues&cBackground != 0 && s.cues&cOwnUse == 0 {
						return false // "such as MS1M and CASIA": someone else's training set
					}
					if ac.curated && s.cues&(cTrain|cEval|cNumRow|cUseNear|cTarget) == 0 {
						return false // an awesome-list or reading list names datasets; it does not use them
					}
					return s.cues&cDepr == 0 || s.cues&(cTrain|cEval|cNumRow) != 0
				}
				return false
			})
			addD(Uses, uses)
		}
	default: // issues, pages
		ev := pos(kinds(sigInfohash))
		if ac.dataLink && !ac.refusal {
			for _, s := range live {
				if textNamed(s) && s.cues&cDisclaim == 0 {
					ev = append(ev, s)
				}
			}
		}
		addD(Copy, ev)
	}
	scored := false
	for _, d := range ds {
		if d.rel.Scored() != "" {
			scored = true
		}
	}
	if !scored {
		rel := Mention
		if ac.study {
			rel = Studies
		}
		if len(ds) == 0 || ds[0].rel != Studies {
			ds = append(ds[:0], decision{rel: rel, sigs: live})
		}
	}
	return st.findings(ei, ds)
}

func hasWeights(a *artifact.Artifact) bool {
	for _, f := range a.Files {
		p := strings.ToLower(f.Path)
		if weightFileRE.MatchString(p) && !strings.HasSuffix(p, ".tar") && !strings.HasSuffix(p, ".bin") && !strings.HasSuffix(p, ".pkl") && !strings.HasSuffix(p, ".npz") {
			return true
		}
	}
	return false
}

// codeRelease reports whether a record ships code beside its weights: a source file, an archive
// named as code, or text that says the code or scripts are released here.
func codeRelease(a *artifact.Artifact) bool {
	for _, f := range a.Files {
		p := strings.ToLower(path.Base(f.Path))
		if sourceFileRE.MatchString(p) || codeArchiveRE.MatchString(p) {
			return true
		}
	}
	return rules.codeRelease.MatchString(stripMarkup(a.Title + "\n" + a.Text))
}

// dataRelation is derivative when the data is reached through a derivative or described as built
// from it, copy otherwise.
func dataRelation(ev []*signal) Relation {
	best := ev[0]
	for _, s := range ev {
		if rules.strength[s.kind] > rules.strength[best.kind] {
			best = s
		}
	}
	if best.deriv >= 0 {
		return Derivative
	}
	for _, s := range ev {
		if s.kind == sigText && s.cues&cDerive != 0 && s.cues&cHost == 0 {
			return Derivative
		}
	}
	return Copy
}

// findings turns decisions into findings with confidence and evidence.
func (st *matchState) findings(ei int, ds []decision) []Finding {
	e := st.c.entries[ei]
	seen := map[Relation]bool{}
	var out []Finding
	for _, d := range ds {
		if seen[d.rel] {
			continue
		}
		seen[d.rel] = true
		f := Finding{ArtifactID: st.a.ID, Dataset: e.d.ID, Relation: d.rel, Context: !e.retracted}
		sigs := append([]*signal{}, d.sigs...)
		sort.SliceStable(sigs, func(i, j int) bool { return sigStrength(sigs[i]) > sigStrength(sigs[j]) })
		// Confidence: noisy-or of the evidence, each piece discounted by its cues.
		miss := 1.0
		for _, s := range sigs {
			miss *= 1 - sigStrength(s)*rules.adj.EvidenceDiscount
		}
		conf := min(1-miss, rules.adj.MaxConfidence) // never certain: evidence is read, not verified
		switch d.rel {
		case Mention:
			conf = min(conf, rules.adj.MentionCap)
		case Studies:
			conf = min(conf, rules.adj.StudiesCap)
		}
		f.Confidence = float64(int(conf*1000+0.5)) / 1000
		type evKey struct {
			field      string
			start, end int
			rule       string
		}
		seenEv := map[evKey]bool{}
		for _, s := range sigs {
			if len(f.Evidence) == 5 {
				break
			}
			k := evKey{s.ev.Field, s.ev.Start, s.ev.End, s.ev.Rule}
			if seenEv[k] {
				continue
			}
			seenEv[k] = true
			f.Evidence = append(f.Evidence, s.ev)
		}
		best := sigs[0]
		if best.model >= 0 {
			f.Via = modelName(st.c.models[best.model])
		} else if best.deriv >= 0 {
			f.Via = e.d.Derivatives[best.deriv].ID
		}
		if len(best.chain) > 0 {
			f.Chain = append([]string{st.a.ID}, best.chain...)
			if f.Chain[len(f.Chain)-1] != e.d.ID {
				f.Chain = append(f.Chain, e.d.ID)
			}
		}
		f.PostRetraction = e.retracted && after(st.a.Published, e.d.RetractedOn)
		out = append(out, f)
	}
	sort.SliceStable(out, func(i, j int) bool { return relOrder(out[i].Relation) < relOrder(out[j].Relation) })
	return out
}

func sigStrength(s *signal) float64 {
	v := rules.strength[s.kind]
	if s.weak {
		v -= rules.adj.WeakPenalty
	}
	if s.neg {
		v *= rules.adj.NegatedFactor
	}
	if isText(s) {
		if s.cues&(cTrain|cUseNear|cHost) != 0 {
			v += rules.adj.CueBonus
		}
		if s.cues&(cBackground|cDepr) != 0 {
			v -= rules.adj.BackgroundPenalty
		}
	}
	return max(0.05, min(v, 0.99))
}

func relOrder(r Relation) int {
	for i, x := range Relations {
		if x == r {
			return i
		}
	}
	return len(Relations)
}

// after reports whether the date published (YYYY-MM-DD) is after the retraction date (YYYY,
// YYYY-MM or YYYY-MM-DD), comparing at the retraction date's precision.
func after(published, retracted string) bool {
	if published == "" || retracted == "" || len(published) < len(retracted) {
		return false
	}
	return published[:len(retracted)] > retracted
}
