package extract

import (
	"strings"

	"github.com/afterlife-watch/afterlife/artifact"
)

// maxHits bounds the occurrences considered per artifact (hostile input).
const maxHits = 4096

// hitSignals turns the surviving occurrences into signals, with the cues of their clause.
func (st *matchState) hitSignals() {
	if len(st.hits) > maxHits {
		st.hits = st.hits[:maxHits]
	}
	for i := range st.hits {
		h := &st.hits[i]
		if h.dropped || h.t.kind == tNegative {
			continue
		}
		t := h.t
		s := signal{entry: t.entry, deriv: t.deriv, model: t.model, weak: t.kind == tWeak || h.weak, field: h.field, src: h.src}
		s.ev = Evidence{Field: h.name, Start: h.start, End: h.end, Snippet: snippet(h.src, h.start, h.end), Detail: st.detail(t)}
		if t.model >= 0 {
			s.chain = st.modelChain(t.model)
		} else if t.deriv >= 0 {
			s.chain = []string{st.c.entries[t.entry].d.Derivatives[t.deriv].ID, st.c.entries[t.entry].d.ID}
		}
		field := h.field
		key := ""
		if field == fText && st.hasFM && h.start < st.fm.End {
			key = st.frontKey(h.start, h.end)
			if key == "" {
				continue // a key or a fence, not a value
			}
			field = fFront
			s.ev.Field = "card." + key
		}
		switch {
		case t.kind == tInfohash:
			s.kind = sigInfohash
			s.ev.Rule = "infohash"
		case field == fDeclared || (field == fFront && (key == "datasets" || key == "dataset")) || (field == fTag && strings.HasPrefix(strings.ToLower(h.src), "dataset:")):
			s.kind = sigDeclared
			s.ev.Rule = "declared-dataset"
		case field == fBase || (field == fFront && strings.HasPrefix(key, "base_model")) || (field == fTag && strings.HasPrefix(strings.ToLower(h.src), "base_model:")):
			if t.model < 0 {
				s.kind = sigDeclared // a dataset named as base model: treat as declared
				s.ev.Rule = "declared-base"
			} else {
				s.kind = sigBase
				s.ev.Rule = "base-model"
			}
		case field == fFile:
			if t.model >= 0 {
				s.kind = sigModelFile
				s.ev.Rule = "known-model-file"
			} else if weightFileRE.MatchString(h.src) && !strings.HasSuffix(strings.ToLower(h.src), ".tar") && !strings.HasSuffix(strings.ToLower(h.src), ".bin") {
				s.kind = sigWeightsPath
				s.ev.Rule = "weights-file-name"
			} else if codeFileRE.MatchString(h.src) {
				s.kind = sigCodePath
				s.ev.Rule = "code-file-name"
			} else {
				s.kind = sigDataPath
				s.ev.Rule = "file-name"
			}
		case field == fFront || field == fTag:
			if t.model >= 0 {
				s.kind = sigModelRef
				s.ev.Rule = "card-model"
			} else {
				s.kind = sigTag
				s.ev.Rule = "card-field"
			}
			if key == "pretty_name" || key == "model_name" {
				s.kind = sigTitle
				s.ev.Rule = "card-name"
			}
		case field == fTitle || field == fURL:
			s.kind = sigTitle
			s.ev.Rule = "title-alias"
			if t.model >= 0 {
				s.kind = sigModelRef
				s.ev.Rule = "title-model"
			}
			st.cues(&s, h)
		default: // free text
			switch {
			case t.model >= 0:
				s.kind = sigModelRef
				s.ev.Rule = "text-model"
			case t.kind == tFile:
				s.kind = sigFileRef
				s.ev.Rule = "text-file"
			default:
				s.kind = sigText
				s.ev.Rule = "text-alias"
			}
			st.cues(&s, h)
		}
		if s.weak {
			s.ev.Rule += "-weak"
		}
		st.add(s)
	}
	st.lookAlikeClauses()
}

// frontKey returns the front-matter key whose value holds [start, end), or "".
func (st *matchState) frontKey(start, end int) string {
	for _, v := range st.fm.Values {
		if start >= v.Start && end <= v.End {
			return v.Key
		}
	}
	return ""
}

func (st *matchState) detail(t *target) string {
	e := st.c.entries[t.entry].d
	switch {
	case t.model >= 0:
		return strings.Join(st.modelChain(t.model), " → ")
	case t.deriv >= 0:
		return e.Derivatives[t.deriv].ID + " → " + e.ID
	}
	return "alias of " + e.ID
}

// cueKey identifies an occurrence (or, with start=end=-1, a whole clause) for the cue caches.
type cueKey struct {
	field              string
	lo, hi, start, end int
}

type cueVal struct {
	cues uint32
	neg  bool
}

// cues computes the clause cues and the negation of one free-text or title occurrence. Clause-wide
// cues are computed once per clause, position-dependent ones once per occurrence.
func (st *matchState) cues(s *signal, h *hit) {
	src := h.src
	lo, hi := clause(src, h.start, h.end)
	s.lo, s.hi = lo, hi
	if st.cueCache == nil {
		st.cueCache = map[cueKey]cueVal{}
	}
	occ := cueKey{h.name, lo, hi, h.start, h.end}
	if v, ok := st.cueCache[occ]; ok {
		s.cues, s.neg = v.cues, v.neg
		return
	}
	before := stripMarkup(src[lo:h.start])
	after := stripMarkup(src[h.end:hi])
	ck := cueKey{h.name, lo, hi, -1, -1}
	whole, ok := st.cueCache[ck]
	if !ok {
		w := stripMarkup(src[lo:hi])
		set := func(bit uint32, ok bool) {
			if ok {
				whole.cues |= bit
			}
		}
		set(cTrain, rules.train.MatchString(w))
		set(cEval, rules.eval.MatchString(w))
		set(cHost, rules.host.MatchString(w))
		set(cDerive, rules.derive.MatchString(w))
		set(cDepr, rules.depr.MatchString(w))
		set(cNumRow, rules.numRow.MatchString(src[lo:hi]))
		set(cLineage, rules.lineage.MatchString(w))
		set(cDisclaim, rules.disclaim.MatchString(w))
		set(cArchOnly, rules.archOnly.MatchString(w))
		if isHeaderRow(src, lo, hi) && rules.trainColumn.MatchString(strings.ToLower(src[lo:hi])) {
			// "| Backbone | Dataset | Method | LFW | MegaFace |": the names in the header are score
			// columns (evaluated on), the training set is what the Dataset column says in each row
			whole.cues |= cEval | cTarget
		}
		if strings.HasPrefix(strings.TrimLeft(src[lo:hi], " \t"), "|") {
			// a table row: the header row says what a column is ("| Model | Training data |")
			if hs := headingsAbove(src, lo); len(hs) > 0 && hs[0].level == 7 && hs[0].off < lo {
				set(cTrain, rules.train.MatchString(hs[0].text))
			}
		}
		if h.field == fText {
			whole.cues |= sectionCues(src, lo, hi, st.c.official)
			for _, hd := range headingsAbove(src, lo) {
				if hd.level < 7 {
					if hd.off < lo && rules.refsHeading.MatchString(hd.text) {
						whole.cues |= cPassing // under "## References" / "## Citation": someone else's paper, not a use
					}
					break
				}
			}
			if st.a.Kind == artifact.KindModel {
				for _, hd := range headingsAbove(src, lo) {
					if hd.level < 7 {
						if rules.otherModels.MatchString(hd.text) {
							whole.cues |= cOther
						}
						break
					}
				}
			}
		}
		st.cueCache[ck] = whole
	}
	s.cues = whole.cues
	// weights in the clause, not counting the name itself ("laion_face_ids.pth" is data)
	if rules.weights.MatchString(before + " " + after) {
		s.cues |= cWeights
	}
	s.neg = negatedBefore(before) || negatedAfter(after)
	set := func(bit uint32, ok bool) {
		if ok {
			s.cues |= bit
		}
	}
	near := lastBytes(before, 120)
	afterNear := after
	if len(afterNear) > 50 {
		afterNear = afterNear[:50]
	}
	set(cUseNear, rules.train.MatchString(near) || rules.eval.MatchString(near) || rules.use.MatchString(near) || rules.afterUse.MatchString(afterNear))
	set(cBackground, rules.background.MatchString(before) || rules.bgAfter.MatchString(after))
	set(cOwnUse, rules.ownUse.MatchString(before))
	set(cPassing, rules.passing.MatchString(near))
	set(cTarget, transferTarget(before))
	// one side of a transfer pair ("Market→Duke", "Duke -> Market"): a cross-domain evaluation
	set(cUseNear, transferTarget(before) || transferSource(after))
	if h.field == fText {
		if u := urlAround(src, h.start, h.end); u != "" {
			// a name inside a URL: only that URL can hand out the files
			s.cues &^= cShare
			if rules.share.MatchString(strings.ToLower(u)) && s.cues&cZoo == 0 && !isOfficial(u, st.c.official) {
				s.cues |= cShare
			}
			if dataFileURL(u) {
				s.cues |= cURL // "…/data/tiny_images.bin": a direct link to the file
			}
		} else if share, ok := linkShare(src, h.end, st.c.official); ok {
			// the name is a link's text: that link and the host links after it decide
			s.cues &^= cShare
			if share && s.cues&cZoo == 0 {
				s.cues |= cShare
			}
		}
	}
	if t := h.t; t.kind == tFile || t.kind == tModel {
		raw := strings.ToLower(src[lo:hi])
		set(cURL, strings.Contains(raw, "http") || strings.Contains(raw, "wget") || strings.Contains(raw, "curl"))
	}
	st.r5Cues(s, h, lo, hi, before, after)    // round 5 (rules_r5.go)
	st.r6Cues(s, h, lo, hi, before, after)    // round 6 (face) (rules_r6_face.go)
	st.r6GenCues(s, h, lo, hi, before, after) // round 6 (gen) (rules_r6_gen.go)
	st.r6ghCues(s, h, lo, hi, before, after)  // round 6 (ghgen) (rules_r6_ghgen.go)
	r7Cues(s, before, after)                  // round 7 (rules_r7.go)
	st.r8ZooRow(s, h, lo, hi)                 // round 8 (rules_r8.go)
	if s.cues&cDisclaim != 0 {
		s.neg = true
	}
	if !s.neg && s.cues&cLineage == 0 && exclusiveElsewhere(before, after) {
		s.neg = true // "trained only on LFW; … MS-Celeb-1M …": someone else's data
	}
	st.cueCache[occ] = cueVal{s.cues, s.neg}
}

// lookAlikeClauses marks signals whose clause also names a look-alike of their dataset.
func (st *matchState) lookAlikeClauses() {
	for i := range st.sigs {
		s := &st.sigs[i]
		if s.hi <= s.lo {
			continue
		}
		for j := range st.hits {
			h := &st.hits[j]
			if h.dropped || h.src != s.src || h.start < s.lo || h.end > s.hi {
				continue
			}
			if of := st.c.entries[h.t.entry].of; of == s.entry && !rules.lookalikeExempt[st.c.entries[h.t.entry].d.ID] {
				s.cues |= cLookAlike
				break
			}
		}
	}
}

// snippet is a short one-line excerpt around [start, end).
func snippet(s string, start, end int) string {
	const pad = 40
	lo, hi := max(0, start-pad), min(len(s), end+pad)
	for lo > 0 && lo < len(s) && s[lo]&0xC0 == 0x80 {
		lo--
	}
	for hi < len(s) && s[hi]&0xC0 == 0x80 {
		hi++
	}
	out := strings.Join(strings.Fields(s[lo:hi]), " ")
	if lo > 0 {
		out = "…" + out
	}
	if hi < len(s) {
		out += "…"
	}
	return out
}

// isHeaderRow reports whether the clause [lo, hi) is a markdown table's header row: a row followed by
// a delimiter row ("|---|:---:|").
func isHeaderRow(src string, lo, hi int) bool {
	if !strings.HasPrefix(strings.TrimLeft(src[lo:hi], " \t"), "|") {
		return false
	}
	e := strings.IndexByte(src[hi:], '\n')
	if e < 0 {
		return false
	}
	next := src[hi+e+1:]
	if n := strings.IndexByte(next, '\n'); n >= 0 {
		next = next[:n]
	}
	next = strings.TrimSpace(next)
	if !strings.HasPrefix(next, "|") || !strings.Contains(next, "-") {
		return false
	}
	return strings.Trim(next, "|-: \t\r") == ""
}
