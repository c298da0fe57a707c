package configs

import "fmt"

// Round-5 cues (issue 14, branch r5-rules2) live in their own block, `cues_r5:`, at the end of
// relations.yaml; they are merged into Cues and validated like the others.
var requiredCuesR5 = []string{
	"see_also", "part_of", "architecture_list", "bundle", "data_recipe", "other_model_pretrained",
	"others_work", "created_here", "released_weights_r5", "comparison", "related_label", "models_on_host",
}

func init() { RequiredCues = append(RequiredCues, requiredCuesR5...) }

// mergeR5 moves the cues_r5 block into Cues (a name defined in both is an error) and appends
// lineage_prose_r5 to LineageProse.
func (r *Relations) mergeR5() error {
	if r.Cues == nil {
		r.Cues = map[string]*Cue{}
	}
	for n, c := range r.CuesR5 {
		if _, dup := r.Cues[n]; dup {
			return fmt.Errorf("cues_r5.%s: also defined under cues", n)
		}
		r.Cues[n] = c
	}
	r.CuesR5 = nil
	r.LineageProse = append(r.LineageProse, r.LineageProseR5...)
	r.LineageProseR5 = nil
	return nil
}
