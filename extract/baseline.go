package extract

import (
	"strings"

	"github.com/afterlife-watch/afterlife/artifact"
	"github.com/afterlife-watch/afterlife/configs"
)

// Baseline is the plain alias-substring matcher eval compares against: every case-insensitive
// occurrence of a retracted dataset's registry alias anywhere in the artifact is a finding, with the
// relation the artifact's kind suggests (datasets, torrents, records, issues, pages → copy; models
// → trained-on; papers, repositories → uses).
type Baseline struct {
	ids     []string
	aliases [][]string
}

// NewBaseline builds the baseline for the registry's retracted datasets.
func NewBaseline(reg *configs.Registry) *Baseline {
	b := &Baseline{}
	for _, d := range reg.Retracted() {
		var al []string
		for _, a := range d.Aliases {
			al = append(al, strings.ToLower(a))
		}
		for _, r := range d.AliasRules {
			al = append(al, strings.ToLower(r.Alias))
		}
		for _, dv := range d.Derivatives {
			if dv.CarriesData {
				for _, a := range dv.Aliases {
					al = append(al, strings.ToLower(a))
				}
			}
		}
		b.ids = append(b.ids, d.ID)
		b.aliases = append(b.aliases, al)
	}
	return b
}

// Match returns one finding per dataset whose alias occurs in the artifact.
func (b *Baseline) Match(a *artifact.Artifact) []Finding {
	var sb strings.Builder
	for _, s := range []string{a.Title, a.Text, strings.Join(a.Tags, "\n"), strings.Join(a.DeclaredDatasets, "\n"), strings.Join(a.BaseModels, "\n")} {
		sb.WriteString(s)
		sb.WriteByte('\n')
	}
	for _, f := range a.Files {
		sb.WriteString(f.Path)
		sb.WriteByte('\n')
	}
	hay := strings.ToLower(sb.String())
	rel := Copy
	switch a.Kind {
	case artifact.KindModel:
		rel = TrainedOn
	case artifact.KindPaper, artifact.KindRepository:
		rel = Uses
	}
	var out []Finding
	for i, al := range b.aliases {
		for _, s := range al {
			if j := strings.Index(hay, s); j >= 0 {
				out = append(out, Finding{ArtifactID: a.ID, Dataset: b.ids[i], Relation: rel, Confidence: 0.5,
					Evidence: []Evidence{{Field: "all", Start: j, End: j + len(s), Rule: "alias-substring", Snippet: s}}})
				break
			}
		}
	}
	return out
}
