// Package extract is the matcher: it decides which retracted datasets an artifact carries, how
// (relation), how sure (confidence) and on what evidence.
package extract

// Relation is how an artifact relates to a dataset.
type Relation string

// Relations a finding can carry (see docs/artifact.md).
const (
	Copy       Relation = "copy"       // redistributes the data
	Derivative Relation = "derivative" // a dataset built from it
	TrainedOn  Relation = "trained-on" // a model trained on it, directly, via a derivative or a base model
	Uses       Relation = "uses"       // a paper or code that uses it in experiments
	Studies    Relation = "studies"    // an audit or critique: allowed, never scored as afterlife
	Mention    Relation = "mention"    // named without use
)

// Relations lists every relation in report order.
var Relations = []Relation{Copy, Derivative, TrainedOn, Uses, Studies, Mention}

// Scored maps a relation to its scoring class: "data", "model", "uses", or "" for relations that
// are never scored as afterlife.
func (r Relation) Scored() string {
	switch r {
	case Copy, Derivative:
		return "data"
	case TrainedOn:
		return "model"
	case Uses:
		return "uses"
	}
	return ""
}

// Valid reports whether r is a known relation.
func (r Relation) Valid() bool {
	for _, x := range Relations {
		if r == x {
			return true
		}
	}
	return false
}

// Evidence says where and why a rule fired, so a steward can check a finding at a glance.
type Evidence struct {
	Field   string `json:"field"`             // text, title, tags[3], files[0].path, base_models[0], card.datasets, ...
	Start   int    `json:"start,omitempty"`   // byte offsets into the field's value
	End     int    `json:"end,omitempty"`     //
	Snippet string `json:"snippet,omitempty"` // a short excerpt around the match
	Rule    string `json:"rule"`              // the rule that fired (alias, front-matter-dataset, file-name, lineage, ...)
	Detail  string `json:"detail,omitempty"`  // e.g. "ms1mv3 → ms-celeb-1m", "size 243615796224 matches"
}

// Finding is artifact × dataset × relation, with evidence and a confidence in [0,1].
type Finding struct {
	ArtifactID string     `json:"artifact_id"`
	Dataset    string     `json:"dataset"`
	Relation   Relation   `json:"relation"`
	Confidence float64    `json:"confidence"`
	Evidence   []Evidence `json:"evidence"`
	// Via is the derivative or model through which the dataset is reached, if any.
	Via string `json:"via,omitempty"`
	// Chain is the lineage from the artifact to the dataset (model → base model → dataset).
	Chain []string `json:"chain,omitempty"`
	// PostRetraction is true when the artifact was published after the dataset's retraction.
	PostRetraction bool `json:"post_retraction,omitempty"`
	// Context is true for findings about a context entry of the registry (a re-release, a look-alike
	// version or an active dataset with a warning): they are never afterlife of a retracted dataset.
	Context bool `json:"context,omitempty"`
}
