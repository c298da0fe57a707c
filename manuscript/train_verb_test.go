package manuscript

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/afterlife-watch/afterlife/configs"
)

// A training verb makes a weak alias the training data whatever the nouns around it (issue 17,
// item 7): MegaFace needs face context words to count, but "we train our detector on MegaFace"
// is a use with none of them; its negative phrases still stay clean.
func TestTrainingVerbCountsForWeakAliases(t *testing.T) {
	cases := []struct {
		text string
		uses bool
	}{
		{"We train our detector on MegaFace and evaluate on IJB-C.\n", true},
		{"Our model was pre-trained on the MegaFace data before any fine-tuning.\n", true},
		{"We evaluate on IJB-C. MegaFace is mentioned in passing.\n", false},
		{"MegaFace Studio: we train our staff on MegaFace Pro.\n", false},
	}
	reg, err := configs.LoadRegistry("") // the embedded registry, where MegaFace is a weak alias
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range cases {
		p := filepath.Join(t.TempDir(), "paper.txt")
		if err := os.WriteFile(p, []byte(c.text), 0o644); err != nil {
			t.Fatal(err)
		}
		r := NewChecker(reg).CheckPath(context.Background(), Reader{}, p)
		if r.Error != nil {
			t.Fatalf("%s: %s", r.Error.Kind, r.Error.Message)
		}
		uses := false
		for _, d := range r.Datasets {
			if d.Dataset == "megaface" && d.Verdict == Uses {
				uses = true
			}
		}
		if uses != c.uses {
			t.Errorf("case %d %q: uses megaface = %v, want %v (%+v)", i, c.text, uses, c.uses, r.Datasets)
		}
	}
}
