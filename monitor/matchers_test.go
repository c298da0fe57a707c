package monitor

import (
	"testing"

	"github.com/afterlife-watch/afterlife/artifact"
	"github.com/afterlife-watch/afterlife/configs"
	"github.com/afterlife-watch/afterlife/extract"
)

// fixedLineage says every model it is asked about is trained on one dataset.
type fixedLineage struct{ dataset string }

func (l fixedLineage) TaintOf(modelID string) []extract.Taint {
	return []extract.Taint{{Dataset: l.dataset, Chain: []string{modelID, l.dataset}}}
}

func lineageArtifact() *artifact.Artifact {
	return &artifact.Artifact{ID: "huggingface:model:someone/child", Source: "huggingface", Kind: artifact.KindModel,
		URL: "https://huggingface.co/someone/child", Title: "someone/child", BaseModels: []string{"someone/parent-not-in-registry"}}
}

func datasetsOf(fs []extract.Finding) map[string]bool {
	out := map[string]bool{}
	for _, f := range fs {
		if !f.Context {
			out[f.Dataset] = true
		}
	}
	return out
}

// A run's matcher is compiled once per process and registry content and lent to one crew at a
// time: the next run gets the same compiled matcher, asking its own lineage (store), never the
// previous run's; a registry with other content, or a second concurrent run, gets its own.
func TestMatcherCacheReusesCompiledMatcherWithEachRunsLineage(t *testing.T) {
	reg, err := configs.LoadRegistry("")
	if err != nil {
		t.Fatal(err)
	}
	ret := reg.Retracted()
	if len(ret) < 2 {
		t.Fatalf("registry has %d retracted datasets, the test needs 2", len(ret))
	}
	a, b := ret[0].ID, ret[1].ID
	c := &matcherCache{max: 4}

	m1, release1 := c.get(reg, fixedLineage{a})
	if got := datasetsOf(m1.Match(lineageArtifact())); !got[a] || got[b] {
		t.Fatalf("run 1 (lineage says %s) found %v", a, got)
	}
	// Concurrent run: its own matcher.
	m2, release2 := c.get(reg, fixedLineage{b})
	if m2 == m1 {
		t.Fatal("a concurrent run was lent the matcher in use")
	}
	release2()
	release1()

	// The next run (another store, a registry loaded again with the same content) reuses one.
	reg2, err := configs.LoadRegistry("")
	if err != nil {
		t.Fatal(err)
	}
	m3, release3 := c.get(reg2, fixedLineage{b})
	if m3 != m1 && m3 != m2 {
		t.Fatal("the next run compiled a new matcher for a registry with the same content")
	}
	got := datasetsOf(m3.Match(lineageArtifact()))
	if !got[b] || got[a] {
		t.Fatalf("run 3 (lineage says %s) found %v: the previous run's lineage leaked", b, got)
	}
	release3()
	release3() // twice is harmless

	// The full-text checker (no lineage) is shared by runs over the same registry content.
	if c.checker(reg) != c.checker(reg2) {
		t.Fatal("two runs over the same registry content got two full-text checkers")
	}

	// Another registry content: compiled afresh.
	reg2.Datasets = reg2.Datasets[1:]
	m4, release4 := c.get(reg2, fixedLineage{b})
	defer release4()
	if m4 == m1 || m4 == m2 {
		t.Fatal("a registry with other content got a matcher compiled for the old one")
	}
	if c.checker(reg2) == c.checker(reg) {
		t.Fatal("a registry with other content got the old one's full-text checker")
	}
}
