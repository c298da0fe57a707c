package extract

import (
	"strings"

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

// Matcher matches artifacts against the registry. It is safe for concurrent use.
type Matcher struct {
	reg     *configs.Registry
	lineage Lineage
}

// New builds a matcher for the registry.
func New(reg *configs.Registry, opts ...Option) *Matcher {
	m := &Matcher{reg: reg}
	for _, o := range opts {
		o(m)
	}
	return m
}

// Match returns the findings for one artifact, at most one per (dataset, relation), ordered by
// dataset then relation.
//
// PLACEHOLDER until the detection issue lands: a plain case-insensitive alias search that reports
// every hit as a mention.
func (m *Matcher) Match(a *artifact.Artifact) []Finding {
	var out []Finding
	hay := strings.ToLower(a.Title + "\n" + a.Text)
	for _, d := range m.reg.Retracted() {
		for _, al := range d.Aliases {
			if i := strings.Index(hay, strings.ToLower(al)); i >= 0 {
				out = append(out, Finding{ArtifactID: a.ID, Dataset: d.ID, Relation: Mention, Confidence: 0.3,
					Evidence: []Evidence{{Field: "text", Rule: "alias-substring", Snippet: al}}})
				break
			}
		}
	}
	return out
}
