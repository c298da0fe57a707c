package manuscript

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/afterlife-watch/afterlife/artifact"
	"github.com/afterlife-watch/afterlife/configs"
	"github.com/afterlife-watch/afterlife/extract"
)

// DefaultMaxEvidence is how many evidence items a verdict lists (the strongest first).
const DefaultMaxEvidence = 5

// Checker decides verdicts for manuscripts. It is safe for concurrent use.
type Checker struct {
	reg         *configs.Registry
	m           *extract.Matcher
	loc         *locator
	papers      []datasetPaper
	maxEvidence int
}

type datasetPaper struct {
	// An uncertain paper (the ImageNet paper under ImageNet-21k, which every ImageNet-1k paper
	// cites) is listed when the dataset is found in the text, but never makes a verdict or a
	// citation evidence on its own.
	dataset string
	paper   configs.Paper
	title   string // normalised
}

// NewChecker builds a checker over the registry; opts go to the extract matcher.
func NewChecker(reg *configs.Registry, opts ...extract.Option) *Checker {
	c := &Checker{reg: reg, m: extract.New(reg, opts...), loc: newLocator(reg), maxEvidence: DefaultMaxEvidence}
	for _, d := range reg.Retracted() {
		for _, p := range d.Papers {
			c.papers = append(c.papers, datasetPaper{dataset: d.ID, paper: p, title: normTitle(p.Title)})
		}
	}
	return c
}

// SetMaxEvidence changes how many evidence items each verdict lists (at least 1).
func (c *Checker) SetMaxEvidence(n int) {
	if n > 0 {
		c.maxEvidence = n
	}
}

// Evidence is one place in the manuscript that supports a verdict.
type Evidence struct {
	Verdict  Verdict  `json:"verdict"` // what this sentence alone says
	Location Location `json:"location"`
	Section  string   `json:"section"`      // the heading as written
	Kind     Section  `json:"section_kind"` // its role
	Sentence string   `json:"sentence"`
	Match    string   `json:"match"`           // the words found
	Via      string   `json:"via,omitempty"`   // derivative or model id
	Chain    []string `json:"chain,omitempty"` // e.g. MS1MV2 → MS-Celeb-1M
	Rule     string   `json:"rule"`            // matcher rule, "lineage-name" or "citation"
	Reason   string   `json:"reason"`
	Cited    string   `json:"cited,omitempty"` // the citation key in the sentence that points at the dataset's paper
	Score    float64  `json:"score"`
}

// DatasetVerdict is the answer for one retracted dataset.
type DatasetVerdict struct {
	Dataset     string      `json:"dataset"`
	Name        string      `json:"name"`
	Status      string      `json:"status"`
	RetractedOn string      `json:"retracted_on,omitempty"`
	Verdict     Verdict     `json:"verdict"`
	Confidence  float64     `json:"confidence"`
	Chains      [][]string  `json:"chains,omitempty"` // distinct lineage chains among the evidence of use
	Evidence    []Evidence  `json:"evidence"`
	Total       int         `json:"evidence_total"` // all evidence found, of which Evidence lists the strongest
	References  []Reference `json:"references,omitempty"`
}

// Report is the check of one manuscript.
type Report struct {
	Manuscript string           `json:"manuscript"`
	Format     string           `json:"format"`
	Title      string           `json:"title,omitempty"`
	Pages      int              `json:"pages,omitempty"`
	Files      []string         `json:"files,omitempty"`
	Verdict    Verdict          `json:"verdict"` // the strongest verdict over all datasets
	Datasets   []DatasetVerdict `json:"datasets"`
	Warnings   []string         `json:"warnings,omitempty"`
	Error      *ReportError     `json:"error,omitempty"`
	// Timing splits the time spent on this manuscript (not serialised).
	Timing Timing `json:"-"`
}

// ReportError is a read error in a report (batch and JSON output).
type ReportError struct {
	Kind    ErrorKind `json:"kind"`
	Message string    `json:"message"`
}

// Timing is where the time of one check went.
type Timing struct {
	Read  time.Duration // reading the file and extracting text
	Match time.Duration // matching and deciding
}

// Uses reports whether any dataset is used.
func (r *Report) Uses() bool { return r.Verdict == Uses }

// candidate is one located (dataset, sentence) before aggregation.
type candidate struct {
	dataset string
	ev      Evidence
	first   bool // in the title/abstract/introduction: the work's stated purpose
}

var citeMarkerRE = regexp.MustCompile(`\[([^\[\]]{1,200})\]`)

// Check decides the verdicts for a read document.
func (c *Checker) Check(ctx context.Context, doc *Document) *Report {
	start := time.Now()
	rep := &Report{Manuscript: doc.Name, Format: doc.Format, Title: doc.Title, Pages: doc.Pages, Files: doc.Files, Warnings: doc.Warnings}
	refsByDataset, keyDataset, certain := c.citedPapers(doc.References)
	var cands []candidate
	for bi := range doc.Blocks {
		if err := ctx.Err(); err != nil {
			// Stopped midway: a verdict from part of the manuscript would be wrong. Blocks are at
			// most MaxBlockBytes, so this is checked often.
			rep := ErrorReport(doc.Name, fmt.Errorf("checked %d of %d blocks: %w", bi, len(doc.Blocks), err))
			rep.Format, rep.Title, rep.Pages, rep.Files, rep.Warnings = doc.Format, doc.Title, doc.Pages, doc.Files, doc.Warnings
			rep.Timing.Match = time.Since(start)
			return rep
		}
		bl := &doc.Blocks[bi]
		if bl.Kind == SectionReferences || bl.Kind.Weight() == 0 {
			continue
		}
		cands = append(cands, c.checkBlock(doc, bi, bl, keyDataset)...)
	}
	rep.Datasets = c.aggregate(cands, refsByDataset, certain)
	if rep.Datasets == nil {
		rep.Datasets = []DatasetVerdict{} // JSON: [] rather than null for a clean manuscript
	}
	rep.Verdict = None
	for _, dv := range rep.Datasets {
		if rank(dv.Verdict) < rank(rep.Verdict) {
			rep.Verdict = dv.Verdict
		}
	}
	rep.Timing.Match = time.Since(start)
	return rep
}

func rank(v Verdict) int {
	switch v {
	case Uses:
		return 0
	case Studies:
		return 1
	case Mentions:
		return 2
	}
	return 3
}

// checkBlock runs the matcher on one block and locates each finding's sentences.
func (c *Checker) checkBlock(doc *Document, bi int, bl *Block, keyDataset map[string]string) []candidate {
	a := artifact.Artifact{ID: fmt.Sprintf("%s#%d", doc.Name, bi), Source: artifact.SourceWeb, Kind: artifact.KindPaper, Text: bl.Text}
	findings := c.m.Match(&a)
	lower := asciiLower(bl.Text)
	spans := Sentences(bl.Text)
	type key struct {
		dataset string
		sent    int
	}
	seen := map[key]int{}
	var out []candidate
	add := func(dataset string, s, e int, rel extract.Relation, rule, via string, chain []string, cited string) {
		d, ok := c.reg.Get(dataset)
		if !ok || !d.IsRetraction() {
			return
		}
		sp := SentenceAt(spans, s)
		k := key{dataset, sp.Start}
		sentence := bl.Text[sp.Start:sp.End]
		title := doc.Title != "" && bl.Kind == SectionFront && strings.Contains(doc.Title, strings.TrimSpace(sentence))
		cu := classify(sentence, bl.Kind, rel, title)
		ev := Evidence{Verdict: cu.verdict, Location: bl.LocAt(s), Section: bl.Section, Kind: bl.Kind,
			Sentence: clip(sentence, 600), Match: bl.Text[s:e], Via: via, Chain: chain, Rule: rule, Reason: cu.reason,
			Cited: cited, Score: round2(cu.strength * bl.Kind.Weight())}
		if ev.Section == "" {
			ev.Section = string(bl.Kind)
		}
		cand := candidate{dataset: dataset, ev: ev,
			first: title || bl.Kind == SectionAbstract || bl.Kind == SectionIntro || bl.Kind == SectionFront}
		if i, dup := seen[k]; dup {
			// One sentence, one piece of evidence: keep the stronger reading, and the lineage.
			o := &out[i]
			if rank(cand.ev.Verdict) < rank(o.ev.Verdict) || cand.ev.Score > o.ev.Score && cand.ev.Verdict == o.ev.Verdict {
				if cand.ev.Via == "" {
					cand.ev.Via, cand.ev.Chain = o.ev.Via, o.ev.Chain
				}
				*o = cand
			} else if o.ev.Via == "" && via != "" {
				o.ev.Via, o.ev.Chain, o.ev.Match = via, chain, cand.ev.Match
			}
			return
		}
		seen[k] = len(out)
		out = append(out, cand)
	}
	located := map[string]bool{}
	var names []hit // registry names in the block, found once, for lineage the matcher left out
	namesDone := false
	for _, f := range findings {
		hits := 0
		for _, ev := range f.Evidence {
			if ev.Field == "text" && ev.End > ev.Start && ev.Start >= 0 && ev.End <= len(bl.Text) {
				s, e, via, chain := ev.Start, ev.End, f.Via, c.chainOf(f, a.ID)
				if len(chain) == 0 {
					// "DukeMTMC" matched inside "DukeMTMC-reID": name the derivative and show the chain.
					if !namesDone {
						names, namesDone = c.loc.find(lower, nil), true
					}
					for _, h := range names {
						if h.n.dataset == f.Dataset && h.n.kind != nameAlias && h.start <= s && e <= h.end {
							s, e, via, chain = h.start, h.end, h.n.via, h.n.chain
							break
						}
					}
				}
				add(f.Dataset, s, e, f.Relation, "matcher:"+ev.Rule, via, chain, "")
				hits++
			}
		}
		if hits > 0 {
			located[f.Dataset] = true
			continue
		}
		// The matcher found the dataset but gave no offsets: point at its names in the block.
		for _, h := range c.loc.find(lower, func(n *name) bool { return n.dataset == f.Dataset }) {
			via, chain := h.n.via, h.n.chain
			if len(f.Chain) > 0 {
				chain = c.chainOf(f, a.ID)
			}
			add(f.Dataset, h.start, h.end, f.Relation, "matcher:"+firstRule(f), via, chain, "")
			hits++
		}
		if hits == 0 {
			for _, ev := range f.Evidence {
				if ev.Snippet == "" {
					continue
				}
				if j := strings.Index(lower, asciiLower(ev.Snippet)); j >= 0 {
					add(f.Dataset, j, j+len(ev.Snippet), f.Relation, "matcher:"+ev.Rule, f.Via, c.chainOf(f, a.ID), "")
					hits++
					break
				}
			}
		}
		if hits > 0 {
			located[f.Dataset] = true
		}
	}
	// Citations of a dataset's own paper: "[guo2016ms]" (LaTeX) or "[12]" (numbered lists).
	if len(keyDataset) > 0 {
		for _, m := range citeMarkerRE.FindAllStringSubmatchIndex(bl.Text, -1) {
			for _, k := range strings.Split(bl.Text[m[2]:m[3]], ",") {
				k = strings.TrimSpace(k)
				ds, ok := keyDataset[k]
				if !ok {
					ds, ok = keyDataset["["+k+"]"]
				}
				if ok {
					add(ds, m[0], m[1], "", "citation", "", nil, k)
				}
			}
		}
	}
	return out
}

func firstRule(f extract.Finding) string {
	if len(f.Evidence) > 0 {
		return f.Evidence[0].Rule
	}
	return "match"
}

func (c *Checker) chainOf(f extract.Finding, artifactID string) []string {
	var ch []string
	switch {
	case len(f.Chain) > 0:
		ch = c.loc.displayChain(f.Chain, artifactID)
	case f.Via != "":
		ch = c.loc.displayChain([]string{f.Via, f.Dataset}, "")
	}
	if len(ch) < 2 {
		return nil // the dataset itself: no lineage to show
	}
	return ch
}

// aggregate turns candidates into one verdict per dataset.
func (c *Checker) aggregate(cands []candidate, refs map[string][]Reference, certain map[string]bool) []DatasetVerdict {
	by := map[string][]candidate{}
	for _, cd := range cands {
		by[cd.dataset] = append(by[cd.dataset], cd)
	}
	for ds := range refs {
		if _, ok := by[ds]; !ok && certain[ds] {
			by[ds] = nil // cited only
		}
	}
	var out []DatasetVerdict
	for ds, cs := range by {
		d, _ := c.reg.Get(ds)
		dv := DatasetVerdict{Dataset: ds, Name: d.Name, Status: d.Status, RetractedOn: d.RetractedOn, References: refs[ds], Total: len(cs)}
		stated, used, studied := false, false, false
		best := map[Verdict]float64{}
		for _, cd := range cs {
			switch cd.ev.Verdict {
			case Studies:
				studied = true
				if cd.first {
					stated = true
				}
			case Uses:
				used = true
			}
			best[cd.ev.Verdict] = max(best[cd.ev.Verdict], cd.ev.Score)
		}
		switch {
		case stated:
			dv.Verdict = Studies // an audit handles the data to study it: the stated purpose decides
		case used:
			dv.Verdict = Uses
		case studied:
			dv.Verdict = Studies
		default:
			dv.Verdict = Mentions
		}
		dv.Confidence = best[dv.Verdict]
		if len(cs) == 0 {
			dv.Confidence = 0.3 // the dataset's paper is in the bibliography, never named in the text
		}
		if len(refs[ds]) > 0 && dv.Confidence > 0 {
			dv.Confidence = min(1, dv.Confidence+0.05)
		}
		dv.Confidence = round2(dv.Confidence)
		sort.SliceStable(cs, func(i, j int) bool {
			a, b := cs[i].ev, cs[j].ev
			if (a.Verdict == dv.Verdict) != (b.Verdict == dv.Verdict) {
				return a.Verdict == dv.Verdict
			}
			if a.Score != b.Score {
				return a.Score > b.Score
			}
			if a.Location.Page != b.Location.Page {
				return a.Location.Page < b.Location.Page
			}
			return a.Location.Line < b.Location.Line
		})
		seenChain := map[string]bool{}
		for _, cd := range cs {
			if cd.ev.Verdict == Uses && len(cd.ev.Chain) > 1 {
				k := strings.Join(cd.ev.Chain, "\x00")
				if !seenChain[k] {
					seenChain[k] = true
					dv.Chains = append(dv.Chains, cd.ev.Chain)
				}
			}
		}
		for i, cd := range cs {
			if i >= c.maxEvidence {
				break
			}
			dv.Evidence = append(dv.Evidence, cd.ev)
		}
		if dv.Evidence == nil {
			dv.Evidence = []Evidence{}
		}
		out = append(out, dv)
	}
	sort.Slice(out, func(i, j int) bool {
		if rank(out[i].Verdict) != rank(out[j].Verdict) {
			return rank(out[i].Verdict) < rank(out[j].Verdict)
		}
		return out[i].Dataset < out[j].Dataset
	})
	return out
}

// citedPapers finds the bibliography entries that are a retracted dataset's own paper (by arXiv id,
// DOI or title) and maps their citation keys to the dataset.
func (c *Checker) citedPapers(refs []Reference) (map[string][]Reference, map[string]string, map[string]bool) {
	by := map[string][]Reference{}
	keys := map[string]string{}
	certain := map[string]bool{}
	for _, r := range refs {
		ra, rd := NormArXiv(r.ArXiv), normDOI(r.DOI)
		rt, rx := normTitle(r.Title), ""
		for _, p := range c.papers {
			hit := p.paper.ArXiv != "" && ra != "" && NormArXiv(p.paper.ArXiv) == ra ||
				p.paper.DOI != "" && rd != "" && normDOI(p.paper.DOI) == rd ||
				len(p.title) >= 16 && rt != "" && (rt == p.title || strings.Contains(rt, p.title))
			if !hit && len(p.title) >= 24 {
				if rx == "" {
					rx = normTitle(r.Text)
				}
				hit = strings.Contains(rx, p.title)
			}
			if !hit {
				continue
			}
			r := r
			r.Text = clip(r.Text, 400)
			by[p.dataset] = append(by[p.dataset], r)
			if !p.paper.Uncertain {
				certain[p.dataset] = true
				if r.Key != "" {
					keys[r.Key] = p.dataset
				}
			}
			break
		}
	}
	return by, keys, certain
}

// normTitle lower-cases and keeps letters and digits, single-spaced, for title comparison.
func normTitle(s string) string {
	var b strings.Builder
	space := false
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteRune(r)
		} else {
			space = true
		}
	}
	return b.String()
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && s[cut]&0xC0 == 0x80 {
		cut--
	}
	return s[:cut] + "…"
}

func round2(f float64) float64 { return float64(int(f*100+0.5)) / 100 }
