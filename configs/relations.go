package configs

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"
)

//go:embed relations.yaml
var defaultRelations []byte

// DefaultRelationsName is how errors name the embedded relation rules.
const DefaultRelationsName = "configs/relations.yaml (embedded)"

// Relations are the matcher's relation rules: named cue patterns and the evidence strengths behind a
// finding's confidence (configs/relations.yaml).
type Relations struct {
	SchemaVersion int                `yaml:"schema_version"`
	Strengths     map[string]float64 `yaml:"strengths"`
	Adjust        Adjustments        `yaml:"adjust"`
	Cues          map[string]*Cue    `yaml:"cues"`
	// ClauseLookalikeExempt are look-alike ids a clause may name beside their dataset without
	// making the dataset's name a mention (ImageNet-1k beside ImageNet-21k).
	ClauseLookalikeExempt []string `yaml:"clause_lookalike_exempt"`
	// LineageProse ties a base model or checkpoint family named in free text to a dataset.
	LineageProse []*LineageRule `yaml:"lineage_prose"`

	File string `yaml:"-"`
}

// Adjustments change a piece of evidence's strength and cap a finding's confidence.
type Adjustments struct {
	CueBonus          float64 `yaml:"cue_bonus"`
	BackgroundPenalty float64 `yaml:"background_penalty"`
	WeakPenalty       float64 `yaml:"weak_penalty"`
	NegatedFactor     float64 `yaml:"negated_factor"`
	EvidenceDiscount  float64 `yaml:"evidence_discount"`
	MaxConfidence     float64 `yaml:"max_confidence"`
	MentionCap        float64 `yaml:"mention_cap"`
	StudiesCap        float64 `yaml:"studies_cap"`
}

// Cue scopes: where the matcher applies a cue.
const (
	ScopeClause   = "clause"
	ScopeBefore   = "before"
	ScopeAfter    = "after"
	ScopeArtifact = "artifact"
	ScopeRaw      = "raw"
	ScopeWindow   = "window" // from the name to the next heading (a section's links)
)

// Cue is one named pattern with a literal gate and examples that must (not) match.
type Cue struct {
	Doc     string   `yaml:"doc"`
	Scope   string   `yaml:"scope"`
	Pattern string   `yaml:"pattern"`
	Gate    []string `yaml:"gate"`
	Match   []string `yaml:"match"`
	NoMatch []string `yaml:"no_match"`

	re   *regexp.Regexp
	need []string // derived from the pattern: every match contains one (required.go)
}

// Regexp is the compiled pattern (nil before validation).
func (c *Cue) Regexp() *regexp.Regexp { return c.re }

// MatchString reports whether s (lower-cased text) matches: one gate literal must occur, then the
// pattern must match. The gate is a cheap pre-check that skips the regexp on most inputs.
func (c *Cue) MatchString(s string) bool {
	if len(c.Gate) > 0 && !containsAny(s, c.Gate) {
		return false
	}
	if c.need != nil && !containsAny(s, c.need) {
		return false
	}
	return c.re.MatchString(s)
}

func containsAny(s string, lits []string) bool {
	for _, l := range lits {
		if strings.Contains(s, l) {
			return true
		}
	}
	return false
}

// LineageRule is a lineage cue written in prose: when Pattern matches (and Unless does not, on the
// match and the 24 bytes after it) the artifact descends from a model trained on Dataset.
type LineageRule struct {
	Dataset  string   `yaml:"dataset"`
	Doc      string   `yaml:"doc"`
	Pattern  string   `yaml:"pattern"`
	Unless   string   `yaml:"unless"`
	Gate     []string `yaml:"gate"`
	Triggers []string `yaml:"triggers"`
	Match    []string `yaml:"match"`
	NoMatch  []string `yaml:"no_match"`

	re, unless *regexp.Regexp
	need       []string // derived from the pattern: every match contains one (required.go)
}

// Find returns the byte range of the first match in s (lower-cased text) that the Unless pattern
// (on the match and the 24 bytes after it) does not veto, or nil.
func (l *LineageRule) Find(s string) []int {
	if len(l.Gate) > 0 && !containsAny(s, l.Gate) {
		return nil
	}
	if l.need != nil && !containsAny(s, l.need) {
		return nil
	}
	for _, m := range l.re.FindAllStringIndex(s, 8) {
		if l.unless != nil {
			end := min(len(s), m[1]+24)
			if l.unless.MatchString(s[m[0]:end]) {
				continue
			}
		}
		return m
	}
	return nil
}

// RequiredStrengths are the evidence kinds the matcher reads a strength for.
var RequiredStrengths = []string{"infohash", "size", "data_file", "model_file", "base_model", "declared", "lineage",
	"weights_path", "data_path", "title", "file_ref", "model_ref", "text", "code_path", "tag"}

// RequiredCues are the cue names the matcher reads; a relations file must define all of them and no
// others (a misspelt name would otherwise be silently ignored).
var RequiredCues = []string{
	"neg_before", "neg_after", "not_available", "train", "eval", "use", "after_use", "host", "derive",
	"background", "background_after", "deprecation", "weights", "lineage", "own_use", "disclaim", "num_row",
	"study", "data_link", "code_release", "refusal", "released_weights", "exclusive_only", "exclusive_tail",
	"product_suffix", "share", "weights_link", "model_section", "data_section", "passing", "architecture_only",
	"provides_models", "other_models", "ported", "train_column", "curated_list", "references_heading",
	// round 5 (extract/rules_r5.go)
	"see_also", "part_of", "architecture_list", "bundle", "data_recipe", "other_model_pretrained",
	"others_work", "created_here", "released_weights_r5", "comparison", "related_label", "models_on_host",
	"yacs_weights", "scratch_cell", "challenge_name", "challenge_after", "challenge_rank", "data_download", "model_intro", "comparison_r6", // round 6 (face) (extract/rules_r6_face.go)
	"likeness_r6", "library_code_r6", "sibling_model_r6", // round 6 (gen) (extract/rules_r6_gen.go)
	"derived_copy_gh", "download_derived_gh", "own_release_gh", "comparison_intro_gh", "doc_path_gh",
	"other_model_training_gh", "library_api_doc_gh", // round 6 (ghgen) (extract/rules_r6_ghgen.go)
	"benchmark_peer_r7", "benchmark_word_r7", // round 7 (extract/rules_r7.go)
}

var (
	relOnce sync.Once
	relDef  *Relations
	relErr  error
)

// DefaultRelations returns the embedded relation rules, parsed and validated once.
func DefaultRelations() (*Relations, error) {
	relOnce.Do(func() { relDef, relErr = ParseRelations(defaultRelations, DefaultRelationsName) })
	return relDef, relErr
}

// DefaultRelationsYAML returns a copy of the embedded relations file.
func DefaultRelationsYAML() []byte { return bytes.Clone(defaultRelations) }

// LoadRelations reads and validates a relations file; "" means the embedded default.
func LoadRelations(path string) (*Relations, error) {
	if path == "" {
		return DefaultRelations()
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("relations: %w", err)
	}
	return ParseRelations(b, path)
}

// ParseRelations parses and validates relation rules; name is used in errors. Every problem is
// reported, each with the cue or field it is about.
func ParseRelations(b []byte, name string) (*Relations, error) {
	var r Relations
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	r.File = name
	if err := r.validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &r, nil
}

func (r *Relations) validate() error {
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if r.SchemaVersion != 1 {
		add("schema_version: %d, want 1", r.SchemaVersion)
	}
	for _, k := range RequiredStrengths {
		v, ok := r.Strengths[k]
		if !ok {
			add("strengths.%s: missing", k)
		} else if v <= 0 || v > 1 {
			add("strengths.%s: %v is not in (0, 1]", k, v)
		}
	}
	known := map[string]bool{}
	for _, k := range RequiredStrengths {
		known[k] = true
	}
	known["prose"] = true
	for _, k := range sortedKeysF(r.Strengths) {
		if !known[k] {
			add("strengths.%s: unknown evidence kind", k)
		}
	}
	a := r.Adjust
	for _, f := range []struct {
		name string
		v    float64
	}{{"cue_bonus", a.CueBonus}, {"background_penalty", a.BackgroundPenalty}, {"weak_penalty", a.WeakPenalty},
		{"negated_factor", a.NegatedFactor}, {"evidence_discount", a.EvidenceDiscount}, {"max_confidence", a.MaxConfidence},
		{"mention_cap", a.MentionCap}, {"studies_cap", a.StudiesCap}} {
		if f.v < 0 || f.v > 1 {
			add("adjust.%s: %v is not in [0, 1]", f.name, f.v)
		}
	}
	if a.EvidenceDiscount == 0 || a.MaxConfidence == 0 {
		add("adjust: evidence_discount and max_confidence must be set")
	}
	want := map[string]bool{}
	for _, n := range RequiredCues {
		want[n] = true
		if r.Cues[n] == nil {
			add("cues.%s: missing", n)
		}
	}
	names := make([]string, 0, len(r.Cues))
	for n := range r.Cues {
		names = append(names, n)
	}
	sort.Strings(names)
	scopes := map[string]bool{ScopeClause: true, ScopeBefore: true, ScopeAfter: true, ScopeArtifact: true, ScopeRaw: true, ScopeWindow: true}
	for _, n := range names {
		c := r.Cues[n]
		if !want[n] {
			add("cues.%s: unknown cue (the matcher reads only %d named cues)", n, len(RequiredCues))
		}
		if c == nil {
			continue
		}
		if !scopes[c.Scope] {
			add("cues.%s.scope: %q is not one of clause, before, after, artifact, raw", n, c.Scope)
		}
		if strings.TrimSpace(c.Pattern) == "" {
			add("cues.%s.pattern: empty", n)
			continue
		}
		re, err := regexp.Compile(c.Pattern)
		if err != nil {
			add("cues.%s.pattern: %v", n, err)
			continue
		}
		c.re = re
		c.need = requiredLiterals(c.Pattern)
		for _, g := range c.Gate {
			if g == "" || g != strings.ToLower(g) {
				add("cues.%s.gate: %q must be a non-empty lower-case literal (cues run on lower-cased text)", n, g)
			}
		}
		if len(c.Match) == 0 {
			add("cues.%s.match: at least one example is required", n)
		}
		for _, ex := range c.Match {
			if !c.MatchString(ex) {
				switch {
				case !c.re.MatchString(ex):
					add("cues.%s: example %q does not match", n, ex)
				case len(c.Gate) > 0 && !containsAny(ex, c.Gate):
					add("cues.%s: example %q matches the pattern but no gate literal: the gate hides it", n, ex)
				default:
					add("cues.%s: example %q matches the pattern but none of the literals derived from it %q (configs/required.go is wrong)", n, ex, c.need)
				}
			}
		}
		for _, ex := range c.NoMatch {
			if c.MatchString(ex) {
				add("cues.%s: no_match example %q matches", n, ex)
			}
		}
	}
	if r.Strengths["prose"] == 0 {
		// optional: the strength of lineage written in prose; defaults to the text strength
		r.Strengths["prose"] = r.Strengths["text"]
	}
	for i, l := range r.LineageProse {
		where := fmt.Sprintf("lineage_prose[%d]", i)
		if strings.TrimSpace(l.Dataset) == "" {
			add("%s.dataset: missing", where)
		}
		re, err := regexp.Compile(l.Pattern)
		if err != nil || strings.TrimSpace(l.Pattern) == "" {
			add("%s.pattern: %v", where, err)
			continue
		}
		l.re = re
		l.need = requiredLiterals(l.Pattern)
		if l.Unless != "" {
			u, err := regexp.Compile(l.Unless)
			if err != nil {
				add("%s.unless: %v", where, err)
				continue
			}
			l.unless = u
		}
		if len(l.Match) == 0 {
			add("%s.match: at least one example is required", where)
		}
		if len(l.Triggers) == 0 {
			add("%s.triggers: at least one trigger name is required", where)
		}
		for _, ex := range l.Match {
			if l.Find(ex) == nil {
				add("%s (%s): example %q does not match", where, l.Dataset, ex)
			}
		}
		for _, ex := range l.NoMatch {
			if l.Find(ex) != nil {
				add("%s (%s): no_match example %q matches", where, l.Dataset, ex)
			}
		}
	}
	return errors.Join(errs...)
}

func sortedKeysF(m map[string]float64) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
