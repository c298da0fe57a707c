package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/afterlife-watch/afterlife/artifact"
	"github.com/afterlife-watch/afterlife/extract"
)

func init() {
	var corpus string
	var baseline, explain bool
	cmd := &cobra.Command{
		Use:   "eval --corpus FILE.jsonl [--baseline]",
		Short: "Score the matcher on a labelled corpus (artifacts with `expect` labels)",
		Long: `Score the matcher on artifacts that carry "expect" labels: precision, recall and F1 over
(artifact, dataset, class) triples, overall; (artifact, dataset) pairs with the relation ignored
(did it see which dataset, whatever the relation); per relation (copy/derivative→data, trained-on→model,
uses→uses; studies and mention never count) and per source; the false-positive rate on the
expect:[] records; the misses and false alarms. Only datasets whose registry status is a
retraction are scored. With --baseline a plain alias-substring matcher is scored beside it.
With --explain every artifact the matcher got wrong is listed after the report with its findings'
evidence (rule, field, snippet), to tune the rules on a dev split.
The last line of the report is exactly: eval: precision=P recall=R f1=F n=N`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if corpus == "" {
				return errors.New("--corpus FILE.jsonl is required")
			}
			reg, err := loadRegistry()
			if err != nil {
				return err
			}
			f, err := os.Open(corpus)
			if err != nil {
				return fmt.Errorf("eval: %w", err)
			}
			defer f.Close()
			arts, bad, err := readCorpus(f, corpus, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			m := extract.New(reg)
			main := extract.Evaluate("matcher", arts, reg, m.Match)
			var base *extract.Score
			if baseline {
				b := extract.NewBaseline(reg)
				base = extract.Evaluate("alias-substring", arts, reg, b.Match)
			}
			if err := extract.WriteReport(cmd.OutOrStdout(), main, base); err != nil {
				return err
			}
			if explain {
				if err := extract.Explain(cmd.OutOrStdout(), arts, reg, m.Match); err != nil {
					return err
				}
			}
			return (&badLines{cmd: "eval", n: bad}).err(corpus)
		},
	}
	cmd.Flags().StringVar(&corpus, "corpus", "", "labelled artifacts JSONL (required)")
	cmd.Flags().BoolVar(&baseline, "baseline", false, "also score a plain alias-substring matcher side by side")
	cmd.Flags().BoolVar(&explain, "explain", false, "after the report, list every artifact with a miss or a false alarm: its labels, the matcher's findings and their evidence snippets (for tuning on a dev split)")
	rootCmd.AddCommand(cmd)
}

// readCorpus reads every good artifact; bad lines are reported on errw and counted.
func readCorpus(r io.Reader, name string, errw io.Writer) ([]artifact.Artifact, int, error) {
	rd := artifact.NewReader(r, name)
	var out []artifact.Artifact
	bad := &badLines{w: errw, cmd: "eval"}
	for {
		a, err := rd.Next()
		if err == io.EOF {
			return out, bad.n, nil
		}
		var le *artifact.LineError
		if errors.As(err, &le) {
			bad.add(le)
			continue
		}
		if err != nil {
			return out, bad.n, err
		}
		out = append(out, a)
	}
}
