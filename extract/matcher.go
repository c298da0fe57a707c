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

// Matcher matches artifacts against the registry. It is safe for concurrent use: everything it
// compiles in New is read-only afterwards, and per-call scratch space comes from a pool.
type Matcher struct {
	reg     *configs.Registry
	lineage Lineage
	c       *compiled
	pool    sync.Pool
}

// New builds a matcher for the registry: aliases, variants, file names, sizes, info-hashes and
// known models are compiled once into one automaton and a few maps.
func New(reg *configs.Registry, opts ...Option) *Matcher {
	m := &Matcher{reg: reg, c: compile(reg)}
	for _, o := range opts {
		o(m)
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
