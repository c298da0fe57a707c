package extract

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/afterlife-watch/afterlife/artifact"
	"github.com/afterlife-watch/afterlife/configs"
)

// Triple is one scored unit: artifact × dataset × scoring class (data, model, uses).
type Triple struct {
	Artifact string `json:"artifact"`
	Dataset  string `json:"dataset"`
	Class    string `json:"class"`
}

func (t Triple) String() string { return t.Artifact + " " + t.Dataset + " " + t.Class }

// PRF is precision, recall and F1 with the counts behind them.
type PRF struct {
	TP, FP, FN            int
	Precision, Recall, F1 float64
}

func (p *PRF) finish() {
	if p.TP+p.FP > 0 {
		p.Precision = float64(p.TP) / float64(p.TP+p.FP)
	} else if p.FN == 0 {
		p.Precision = 1
	}
	if p.TP+p.FN > 0 {
		p.Recall = float64(p.TP) / float64(p.TP+p.FN)
	} else {
		p.Recall = 1
	}
	if p.Precision+p.Recall > 0 {
		p.F1 = 2 * p.Precision * p.Recall / (p.Precision + p.Recall)
	}
}

// Score is the evaluation of one matcher on a labelled corpus.
type Score struct {
	Name    string
	N       int // artifacts
	Overall PRF
	// Dataset scores (artifact, dataset) pairs with the relation ignored: did the matcher see
	// which dataset the artifact is about, whatever it said the artifact does with it.
	Dataset     PRF
	ByClass     map[string]*PRF
	BySource    map[string]*PRF
	Negatives   int // artifacts with expect: []
	NegativeFPs int // of which with at least one scored finding
	Misses      []Triple
	FalseAlarms []Triple
}

// FPRate is the share of expect:[] artifacts with at least one scored finding.
func (s *Score) FPRate() float64 {
	if s.Negatives == 0 {
		return 0
	}
	return float64(s.NegativeFPs) / float64(s.Negatives)
}

// Evaluate scores match on labelled artifacts. Only datasets whose registry status is a retraction
// count; studies and mention findings never count.
func Evaluate(name string, arts []artifact.Artifact, reg *configs.Registry, match func(*artifact.Artifact) []Finding) *Score {
	sc := &Score{Name: name, N: len(arts), ByClass: map[string]*PRF{}, BySource: map[string]*PRF{}}
	for _, c := range []string{"data", "model", "uses"} {
		sc.ByClass[c] = &PRF{}
	}
	retracted := func(id string) bool {
		d, ok := reg.Get(id)
		return ok && d.IsRetraction()
	}
	for i := range arts {
		a := &arts[i]
		gold := map[Triple]bool{}
		for _, e := range a.Expect {
			if retracted(e.Dataset) {
				gold[Triple{a.ID, e.Dataset, e.Relation}] = true
			}
		}
		pred := map[Triple]bool{}
		for _, f := range match(a) {
			if c := f.Relation.Scored(); c != "" && retracted(f.Dataset) && !f.Context {
				pred[Triple{a.ID, f.Dataset, c}] = true
			}
		}
		src := sc.BySource[a.Source]
		if src == nil {
			src = &PRF{}
			sc.BySource[a.Source] = src
		}
		if len(a.Expect) == 0 {
			sc.Negatives++
			if len(pred) > 0 {
				sc.NegativeFPs++
			}
		}
		for t := range pred {
			cls := sc.ByClass[t.Class]
			if gold[t] {
				sc.Overall.TP++
				cls.TP++
				src.TP++
			} else {
				sc.Overall.FP++
				cls.FP++
				src.FP++
				sc.FalseAlarms = append(sc.FalseAlarms, t)
			}
		}
		goldDS, predDS := map[string]bool{}, map[string]bool{}
		for t := range gold {
			goldDS[t.Dataset] = true
		}
		for t := range pred {
			predDS[t.Dataset] = true
		}
		for d := range predDS {
			if goldDS[d] {
				sc.Dataset.TP++
			} else {
				sc.Dataset.FP++
			}
		}
		for d := range goldDS {
			if !predDS[d] {
				sc.Dataset.FN++
			}
		}
		for t := range gold {
			if !pred[t] {
				sc.Overall.FN++
				sc.ByClass[t.Class].FN++
				src.FN++
				sc.Misses = append(sc.Misses, t)
			}
		}
	}
	sc.Overall.finish()
	sc.Dataset.finish()
	for _, p := range sc.ByClass {
		p.finish()
	}
	for _, p := range sc.BySource {
		p.finish()
	}
	less := func(ts []Triple) func(i, j int) bool {
		return func(i, j int) bool { return ts[i].String() < ts[j].String() }
	}
	sort.Slice(sc.Misses, less(sc.Misses))
	sort.Slice(sc.FalseAlarms, less(sc.FalseAlarms))
	return sc
}

// WriteReport prints the scores (and the baseline's beside them, if given). The last line is
// exactly "eval: precision=P recall=R f1=F n=N" for the main score.
func WriteReport(w io.Writer, main, base *Score) error {
	var b strings.Builder
	row := func(label string, p, q *PRF) {
		fmt.Fprintf(&b, "  %-18s P=%.2f R=%.2f F1=%.2f (tp=%d fp=%d fn=%d)", label, p.Precision, p.Recall, p.F1, p.TP, p.FP, p.FN)
		if q != nil {
			fmt.Fprintf(&b, "   | baseline P=%.2f R=%.2f F1=%.2f", q.Precision, q.Recall, q.F1)
		}
		b.WriteByte('\n')
	}
	fmt.Fprintf(&b, "corpus: %d artifacts, %d negatives (expect: [])\n", main.N, main.Negatives)
	b.WriteString("overall:\n")
	var bo *PRF
	if base != nil {
		bo = &base.Overall
	}
	row("all", &main.Overall, bo)
	var bd *PRF
	if base != nil {
		bd = &base.Dataset
	}
	b.WriteString("dataset level (artifact, dataset) pairs, relation ignored:\n")
	row("datasets", &main.Dataset, bd)
	b.WriteString("per relation (copy/derivative→data, trained-on→model, uses→uses):\n")
	for _, c := range []string{"data", "model", "uses"} {
		var q *PRF
		if base != nil {
			q = base.ByClass[c]
		}
		row(c, main.ByClass[c], q)
	}
	b.WriteString("per source:\n")
	srcs := make([]string, 0, len(main.BySource))
	for s := range main.BySource {
		srcs = append(srcs, s)
	}
	sort.Strings(srcs)
	for _, s := range srcs {
		var q *PRF
		if base != nil {
			q = base.BySource[s]
		}
		row(s, main.BySource[s], q)
	}
	fmt.Fprintf(&b, "false-positive rate on negatives: %.2f (%d of %d)", main.FPRate(), main.NegativeFPs, main.Negatives)
	if base != nil {
		fmt.Fprintf(&b, "   | baseline %.2f (%d of %d)", base.FPRate(), base.NegativeFPs, base.Negatives)
	}
	b.WriteByte('\n')
	list := func(title string, ts []Triple) {
		fmt.Fprintf(&b, "%s (%d):\n", title, len(ts))
		for _, t := range ts {
			fmt.Fprintf(&b, "  %s\n", t)
		}
	}
	list("misses", main.Misses)
	list("false alarms", main.FalseAlarms)
	if base != nil {
		fmt.Fprintf(&b, "baseline (%s): precision=%.2f recall=%.2f f1=%.2f\n", base.Name, base.Overall.Precision, base.Overall.Recall, base.Overall.F1)
	}
	fmt.Fprintf(&b, "eval: precision=%.2f recall=%.2f f1=%.2f n=%d\n", main.Overall.Precision, main.Overall.Recall, main.Overall.F1, main.N)
	_, err := io.WriteString(w, b.String())
	return err
}

// Explain writes, for every artifact whose scored findings differ from its labels, the labels, every
// finding (scored or not) with its confidence and evidence, and the triples missed or raised in error.
// It is for tuning on a dev split: read the errors there, never on the split you report.
func Explain(w io.Writer, arts []artifact.Artifact, reg *configs.Registry, match func(*artifact.Artifact) []Finding) error {
	var b strings.Builder
	retracted := func(id string) bool {
		d, ok := reg.Get(id)
		return ok && d.IsRetraction()
	}
	n := 0
	for i := range arts {
		a := &arts[i]
		gold := map[Triple]bool{}
		for _, e := range a.Expect {
			if retracted(e.Dataset) {
				gold[Triple{a.ID, e.Dataset, e.Relation}] = true
			}
		}
		fs := match(a)
		pred := map[Triple]bool{}
		for _, f := range fs {
			if c := f.Relation.Scored(); c != "" && retracted(f.Dataset) && !f.Context {
				pred[Triple{a.ID, f.Dataset, c}] = true
			}
		}
		var miss, fa []string
		for t := range gold {
			if !pred[t] {
				miss = append(miss, t.Dataset+" "+t.Class)
			}
		}
		for t := range pred {
			if !gold[t] {
				fa = append(fa, t.Dataset+" "+t.Class)
			}
		}
		if len(miss)+len(fa) == 0 {
			continue
		}
		n++
		sort.Strings(miss)
		sort.Strings(fa)
		fmt.Fprintf(&b, "\n== %s (%s %s) %q\n", a.ID, a.Source, a.Kind, a.Title)
		fmt.Fprintf(&b, "   expect %v\n   missed %v\n   false  %v\n", a.Expect, miss, fa)
		for _, f := range fs {
			fmt.Fprintf(&b, "   found %s %s %.2f", f.Dataset, f.Relation, f.Confidence)
			if f.Context {
				b.WriteString(" (context)")
			}
			b.WriteByte('\n')
			for _, e := range f.Evidence {
				fmt.Fprintf(&b, "     - %s %s [%s] %q\n", e.Rule, e.Field, e.Detail, e.Snippet)
			}
		}
	}
	fmt.Fprintf(&b, "\nexplain: %d artifacts with errors\n", n)
	_, err := io.WriteString(w, b.String())
	return err
}
