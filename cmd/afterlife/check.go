package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/afterlife-watch/afterlife/configs"
	"github.com/afterlife-watch/afterlife/manuscript"
)

// Exit codes of `afterlife check` (docs/check.md): a pipeline gates on them.
const (
	checkExitClean = 0 // no manuscript uses retracted data (studies and mentions are allowed)
	checkExitError = 1 // a manuscript could not be read (and none uses retracted data), or bad usage
	checkExitUses  = 3 // at least one manuscript uses a retracted dataset, a derivative or a model trained on it
)

type checkFlags struct {
	format   string
	batch    string
	out      string
	jobs     int
	arxiv    []string
	doi      []string
	maxSize  int64
	evidence int
	progress string
}

func newCheckCmd() *cobra.Command {
	var f checkFlags
	cmd := &cobra.Command{
		Use:   "check FILE...",
		Short: "Check manuscripts for use of retracted datasets",
		Long: `Check reads manuscripts — PDF, LaTeX (.tex, a folder, or an arXiv .tar.gz source bundle),
BibTeX, .bbl, Markdown or plain text — and answers, for each retracted dataset, whether the work
uses it (data, a derivative, or a model trained on it), studies it (an audit: allowed), or only
mentions it, with the page or line, section and sentence as evidence.

Exit status: 0 no manuscript uses retracted data; 3 at least one does; 1 a manuscript could not be
read (and none uses retracted data) or the command was misused.`,
		Example: `  afterlife check paper.pdf
  afterlife check --format json paper.tar.gz refs.bib
  afterlife check --batch submissions/ --out ~/verdicts.csv`,
		RunE: func(cmd *cobra.Command, args []string) error { return runCheck(cmd, args, &f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.format, "format", "text", "output: text or json")
	fl.StringVar(&f.batch, "batch", "", "check every manuscript in this folder (files and LaTeX sub-folders)")
	fl.StringVar(&f.out, "out", "", "with --batch: write one CSV row per manuscript and dataset to this file")
	fl.IntVar(&f.jobs, "jobs", 0, "manuscripts checked in parallel (default: number of CPUs)")
	fl.StringSliceVar(&f.arxiv, "arxiv", nil, "look an arXiv paper up by id through the arXiv source and check its title and abstract (needs the network)")
	fl.StringSliceVar(&f.doi, "doi", nil, "fetch and check a paper by DOI (needs the network)")
	fl.Int64Var(&f.maxSize, "max-size", manuscript.DefaultMaxFileSize, "largest manuscript file read, in bytes")
	fl.IntVar(&f.evidence, "evidence", manuscript.DefaultMaxEvidence, "evidence items listed per dataset")
	fl.StringVar(&f.progress, "progress", "auto", "progress bar in batch mode: auto (on a terminal), always or never")
	return cmd
}

func init() { rootCmd.AddCommand(newCheckCmd()) }

func runCheck(cmd *cobra.Command, args []string, f *checkFlags) error {
	usage := func(format string, a ...any) error {
		return &exitError{code: checkExitError, err: fmt.Errorf(format, a...)}
	}
	if f.format != "text" && f.format != "json" {
		return usage("--format: %q is not text or json", f.format)
	}
	if f.out != "" && f.batch == "" {
		return usage("--out needs --batch DIR")
	}
	if f.batch == "" && len(args) == 0 && len(f.arxiv) == 0 && len(f.doi) == 0 {
		return usage("nothing to check: give FILE..., --batch DIR, --arxiv ID or --doi DOI")
	}
	reg, err := loadRegistry()
	if err != nil {
		return &exitError{code: checkExitError, err: err}
	}
	ctx := cmd.Context()
	checker := manuscript.NewChecker(reg)
	checker.SetMaxEvidence(f.evidence)
	rd := manuscript.Reader{MaxFileSize: f.maxSize}

	paths := append([]string(nil), args...)
	if f.batch != "" {
		in, err := manuscript.BatchInputs(f.batch)
		if err != nil {
			return &exitError{code: checkExitError, err: err}
		}
		paths = append(paths, in...)
	}
	var reps []*manuscript.Report
	var ax *arxivLookup
	for _, id := range f.arxiv {
		if ax == nil {
			ax = newArxivLookup()
		}
		doc, err := ax.fetch(ctx, id)
		if err != nil {
			reps = append(reps, manuscript.ErrorReport("arxiv:"+id, err))
			continue
		}
		reps = append(reps, checker.Check(ctx, doc))
	}
	for _, d := range f.doi {
		reps = append(reps, manuscript.ErrorReport("doi:"+d, fetchUnavailable("--doi", d)))
	}

	var bar *progressbar.ProgressBar
	if f.batch != "" && showProgress(f.progress, cmd.ErrOrStderr()) {
		bar = progressbar.NewOptions(len(paths),
			progressbar.OptionSetWriter(cmd.ErrOrStderr()),
			progressbar.OptionSetDescription("checking"),
			progressbar.OptionShowCount(),
			progressbar.OptionShowIts(),
			progressbar.OptionSetItsString("manuscripts"),
			progressbar.OptionClearOnFinish(),
			progressbar.OptionThrottle(100_000_000),
		)
	}
	reps = append(reps, checker.Batch(ctx, rd, paths, f.jobs, func(*manuscript.Report) {
		if bar != nil {
			_ = bar.Add(1)
		}
	})...)
	if bar != nil {
		_ = bar.Finish()
	}

	out := cmd.OutOrStdout()
	if f.out != "" {
		if err := writeCheckCSV(f.out, reg, reps); err != nil {
			return &exitError{code: checkExitError, err: err}
		}
		out = io.Discard
		if f.format == "json" {
			out = cmd.OutOrStdout()
		}
		fmt.Fprintln(cmd.ErrOrStderr(), checkSummary(reps, f.out))
	}
	switch f.format {
	case "json":
		if err := manuscript.WriteJSON(out, reps); err != nil {
			return &exitError{code: checkExitError, err: err}
		}
	default:
		for i, r := range reps {
			if i > 0 {
				fmt.Fprintln(out)
			}
			if err := manuscript.WriteText(out, r); err != nil {
				return &exitError{code: checkExitError, err: err}
			}
		}
	}
	return checkExit(reps, cmd.ErrOrStderr())
}

// checkExit picks the exit status: uses (3) over read errors (1) over clean (0).
func checkExit(reps []*manuscript.Report, stderr io.Writer) error {
	uses, failed := 0, 0
	for _, r := range reps {
		if r.Error != nil {
			failed++
		}
		if r.Uses() {
			uses++
		}
	}
	switch {
	case uses > 0:
		return &exitError{code: checkExitUses}
	case failed > 0:
		return &exitError{code: checkExitError, err: fmt.Errorf("%d of %d manuscripts could not be read", failed, len(reps))}
	}
	return nil
}

func checkSummary(reps []*manuscript.Report, out string) string {
	n := map[manuscript.Verdict]int{}
	failed := 0
	for _, r := range reps {
		if r.Error != nil {
			failed++
			continue
		}
		n[r.Verdict]++
	}
	return fmt.Sprintf("checked %d manuscripts: %d use retracted data, %d study it, %d mention it, %d clean, %d unreadable; wrote %s",
		len(reps), n[manuscript.Uses], n[manuscript.Studies], n[manuscript.Mentions], n[manuscript.None], failed, out)
}

func writeCheckCSV(path string, reg *configs.Registry, reps []*manuscript.Report) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".afterlife-check-*.csv")
	if err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	cw, err := manuscript.NewCSVWriter(tmp, reg)
	if err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	for _, rep := range reps {
		if err := cw.Write(rep); err != nil {
			return fmt.Errorf("--out: %w", err)
		}
	}
	if err := cw.Flush(); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	return nil
}

func showProgress(mode string, w io.Writer) bool {
	switch mode {
	case "always":
		return true
	case "never":
		return false
	}
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// fetchUnavailable is the error for --doi until a source adapter looks papers up by DOI (the
// OpenAlex adapter rechecks by OpenAlex work id only).
func fetchUnavailable(flag, id string) error {
	return &manuscript.Error{Name: id, Kind: manuscript.ErrOffline,
		Err: errors.New(flag + " is not available in this build: no source adapter looks papers up by DOI yet (offline / not available); download the PDF or source bundle and run `afterlife check FILE`")}
}
