package extract

import (
	"os"
	"testing"

	"github.com/afterlife-watch/afterlife/configs"
)

// TestExplainRealIndexedDev writes `eval --explain` for the indexed DEV split only (never the test
// split) to the file named by AFL_DEV_EXPLAIN, for tuning: the report (overall, dataset level, per
// relation, baseline) and each record with a miss or a false alarm, its labels, the matcher's
// findings and their evidence. Skipped unless the variable is set.
//
//	AFL_DEV_EXPLAIN=/tmp/dev-explain.txt go test -run TestExplainRealIndexedDev ./extract/
func TestExplainRealIndexedDev(t *testing.T) {
	out := os.Getenv("AFL_DEV_EXPLAIN")
	if out == "" {
		t.Skip("set AFL_DEV_EXPLAIN=<file> to dump the dev split's errors")
	}
	reg, err := configs.LoadRegistry("")
	if err != nil {
		t.Fatal(err)
	}
	arts := loadIndexed(t, "dev")
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m := New(reg)
	if err := WriteReport(f, Evaluate("matcher", arts, reg, m.Match), Evaluate("baseline", arts, reg, NewBaseline(reg).Match)); err != nil {
		t.Fatal(err)
	}
	if err := Explain(f, arts, reg, m.Match); err != nil {
		t.Fatal(err)
	}
}
