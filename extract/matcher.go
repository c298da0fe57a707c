package extract

import (
	"sync"

	"github.com/afterlife-watch/afterlife/artifact"
	"github.com/afterlife-watch/afterlife/configs"
)

// Taint says that a model is known to be trained on a dataset, and through what chain.
type Taint struct {
	Dataset string
	Chain   []string // e.g. ["org/finetune", "CompVis/stable-diffusion-v1-4", "laion-5b"]
}

// Lineage answers, for a model id, which datasets it is already known to be tainted by (models
// found and stored by earlier runs). The registry's known models are always consulted as well.
type Lineage interface {
	TaintOf(modelID string) []Taint
}

// Option configures a Matcher.
type Option func(*Matcher)

// WithLineage adds a lookup of models already found (the store implements it).
func WithLineage(l Lineage) Option { return func(m *Matcher) { m.lineage = l } }

// ScanScoredOnly makes ScanLine answer for scored findings only (afterlife of a retracted
// dataset: Scored() != "" and not Context), for callers that keep no other findings (`match
// --scored-only`): a line whose names are all context entries (look-alikes, re-releases, active
// datasets) need not be decoded then. Match itself is unchanged.
func ScanScoredOnly() Option { return func(m *Matcher) { m.scoredOnly = true } }

// Matcher matches artifacts against the registry. It is safe for concurrent use: everything it
// compiles in New is read-only afterwards, and per-call scratch space comes from a pool.
type Matcher struct {
	reg     *configs.Registry
	lineage Lineage
	c       *compiled
	pool    sync.Pool
	// scan is the automaton ScanLine runs: c.ac, or with ScanScoredOnly a copy that reports only
	// the patterns that can lead to a scored finding
	scan       *automaton
	scoredOnly bool
}

// New builds a matcher for the registry: aliases, variants, file names, sizes, info-hashes and
// known models are compiled once into one automaton and a few maps.
func New(reg *configs.Registry, opts ...Option) *Matcher {
	m := &Matcher{reg: reg, c: compile(reg)}
	for _, o := range opts {
		o(m)
	}
	m.scan = m.c.ac
	if m.scoredOnly {
		m.scan = m.c.scoredScan()
	}
	m.pool.New = func() any { return &scratch{} }
	return m
}

// scratch is per-call working memory, reused across calls.
type scratch struct {
	raw []rawHit
}

// Match returns the findings for one artifact, at most one per (dataset, relation), ordered by
// dataset (registry order) then relation. Findings for context entries (look-alikes, re-releases,
// active datasets) carry their own dataset id and Context=true; they are never reported as the
// retracted dataset they resemble.
func (m *Matcher) Match(a *artifact.Artifact) []Finding {
	sc := m.pool.Get().(*scratch)
	defer m.pool.Put(sc)
	st := newMatchState(m, a, sc)
	if !st.collect() {
		return nil
	}
	return st.decide()
}

// scoredScan returns a copy of the automaton whose raw-line scan reports only patterns that can
// lead to a scored finding. A finding's dataset is the entry of the signals it is decided on, and
// a signal's entry is that of the pattern's target (or of a known file, size or info-hash, which
// are patterns of the same entry), so a finding for a retracted dataset needs a pattern of a
// retracted entry; the one exception is a lineage-in-prose trigger, which runs every prose rule
// around it, so triggers are always reported. Look-alike patterns only change the decision for a
// retracted entry that has signals of its own.
func (c *compiled) scoredScan() *automaton {
	rel := make([]bool, len(c.patterns))
	for p, ts := range c.targets {
		for _, t := range ts {
			if c.entries[t.entry].retracted || t.kind == tTrigger {
				rel[p] = true
			}
		}
	}
	a := *c.ac
	states := len(a.outOff) - 1
	a.keep = make([]bool, states)
	for q := 0; q < states; q++ {
		for _, id := range a.outs[a.outOff[q]:a.outOff[q+1]] {
			a.keep[q] = a.keep[q] || rel[id]
		}
	}
	return &a
}
