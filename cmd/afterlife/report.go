package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/afterlife-watch/afterlife/artifact"
	"github.com/afterlife-watch/afterlife/configs"
	"github.com/afterlife-watch/afterlife/reports"
	"github.com/afterlife-watch/afterlife/reports/render"
)

type reportFlags struct {
	out       string
	run       string
	artifacts string
	webhooks  []string
	slack     []string
	hookWait  time.Duration
}

func init() {
	var f reportFlags
	cmd := &cobra.Command{
		Use:   "report",
		Short: "Render afterlife reports (HTML, Markdown, JSON, CSV, GraphML, DOT, Atom) from the store or an artifacts file",
		Long: `Render every report output into --out:

  report.json                 the report (schema: docs/report.schema.json)
  index.html, index.md        overview across datasets
  <dataset>.html/.md          one page per dataset with sightings
  graph.html/.graphml/.dot/.json   the propagation graph (GraphML opens in Gephi)
  sightings.csv, timeseries.csv    for researchers
  feeds/<dataset>.atom        new sightings per dataset

By default it reads the sightings store under --data (read-only: a read-only data directory
works, with --out elsewhere) and renders the latest run (or --run ID).
With --artifacts FILE.jsonl (or - for stdin) it matches an artifacts file in the interchange format
against the registry and renders it directly: no crawl, no prior store. A bad line is skipped and
counted (the first 5 are shown with their line numbers) and the exit status is then 1, as with
'afterlife match'.

--webhook URL posts the run's new sightings as JSON; --slack-webhook URL posts a Slack message.
Webhook URLs usually carry secrets: prefer the environment, AFTERLIFE_WEBHOOKS and
AFTERLIFE_SLACK_WEBHOOKS (comma-separated). Deliveries are retried with backoff for up to
--webhook-wait.`,
		Args: cobra.NoArgs,
		Example: `  afterlife report --data ~/.local/share/afterlife --out ~/afterlife-report
  afterlife report --artifacts my-crawl.jsonl --out ~/afterlife-report`,
		RunE: func(cmd *cobra.Command, args []string) error { return runReport(cmd, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.out, "out", "", "output directory (default: <data>/reports, or ./afterlife-report with --artifacts)")
	fl.StringVar(&f.run, "run", "", "run id to render (default: the latest run)")
	fl.StringVar(&f.artifacts, "artifacts", "", "artifacts JSONL file to match and render instead of the store (- for stdin)")
	fl.StringArrayVar(&f.webhooks, "webhook", nil, "POST new sightings as JSON to this URL (repeatable)")
	fl.StringArrayVar(&f.slack, "slack-webhook", nil, "POST new sightings as a Slack message to this URL (repeatable)")
	fl.DurationVar(&f.hookWait, "webhook-wait", 2*time.Minute, "how long to keep retrying webhooks before giving up")
	rootCmd.AddCommand(cmd)
}

func runReport(cmd *cobra.Command, f reportFlags) error {
	ctx := cmd.Context()
	reg, err := loadRegistry()
	if err != nil {
		return err
	}
	for _, u := range append(append([]string{}, f.webhooks...), f.slack...) {
		if !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://") {
			return fmt.Errorf("--webhook: %q is not an http(s) URL", u)
		}
	}
	var st *reports.SQLiteStore
	var bad *badLines // bad lines of --artifacts
	runID := f.run
	out := f.out
	if f.artifacts != "" {
		if f.run != "" {
			return errors.New("--run and --artifacts exclude each other: an artifacts file is rendered as one run")
		}
		if out == "" {
			out = "afterlife-report"
		}
		st, err = reports.OpenTempStore()
		if err != nil {
			return err
		}
		defer st.Close()
		bad = &badLines{w: cmd.ErrOrStderr(), cmd: "report"}
		runID, err = ingestArtifacts(ctx, st, reg, f.artifacts, cmd.InOrStdin(), bad)
		if err != nil {
			return err
		}
	} else {
		if g.dataDir == "" {
			return errors.New("--data: empty data directory")
		}
		path := filepath.Join(g.dataDir, reports.StoreFile)
		if _, err := os.Stat(path); err != nil {
			return fmt.Errorf("no store at %s (run `afterlife scan` or `afterlife demo` first, or pass --artifacts FILE): %w", path, err)
		}
		if out == "" {
			out = filepath.Join(g.dataDir, "reports")
		}
		st, err = reports.OpenStoreReadOnly(path)
		if err != nil {
			return err
		}
		defer st.Close()
	}
	restoreGC := renderGC(os.Getenv)
	rep, err := render.Build(ctx, st, reg, runID, render.Options{})
	if err != nil {
		restoreGC()
		return err
	}
	files, err := render.WriteAll(ctx, rep, reg, out)
	restoreGC()
	if err != nil {
		if f.out == "" && f.artifacts == "" {
			return fmt.Errorf("%w (reports go to DATA/reports by default; give --out DIR for a read-only data directory)", err)
		}
		return err
	}
	hooks, err := render.WebhooksFromEnv(os.Getenv)
	if err != nil {
		return err
	}
	for _, u := range f.webhooks {
		hooks = append(hooks, render.Webhook{URL: u})
	}
	for _, u := range f.slack {
		hooks = append(hooks, render.Webhook{URL: u, Slack: true})
	}
	if len(hooks) > 0 {
		deliverWebhooks(ctx, rep, hooks, f.hookWait)
	}
	if err := printReportSummary(cmd.OutOrStdout(), rep, out, files); err != nil {
		return err
	}
	if bad != nil {
		return bad.err(f.artifacts)
	}
	return nil
}

// ingestArtifacts records an artifacts file (or stdin) in st as one run. A file's modification
// time is the run's time, so the same file renders the same bytes.
func ingestArtifacts(ctx context.Context, st *reports.SQLiteStore, reg *configs.Registry, name string, stdin io.Reader, bad *badLines) (string, error) {
	opt := render.IngestOptions{BadLine: func(le *artifact.LineError) { bad.add(le) }}
	if name == "-" {
		return render.IngestArtifactsWith(ctx, st, reg, stdin, "<stdin>", time.Now().UTC(), opt)
	}
	fh, err := os.Open(name)
	if err != nil {
		return "", fmt.Errorf("--artifacts: %w", err)
	}
	defer fh.Close()
	at := time.Now().UTC()
	if fi, err := fh.Stat(); err == nil {
		at = fi.ModTime().UTC().Truncate(time.Second)
	}
	return render.IngestArtifactsWith(ctx, st, reg, fh, name, at, opt)
}

func deliverWebhooks(ctx context.Context, rep *render.Report, hooks []render.Webhook, wait time.Duration) {
	ps := render.Payloads(rep)
	if len(ps) == 0 {
		slog.Info("no new or reappeared sightings: no webhook sent")
		return
	}
	n := &render.Notifier{Hooks: hooks, Client: &http.Client{Timeout: 30 * time.Second}}
	wctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	go n.Run(wctx)
	for _, p := range ps {
		n.Notify(p)
	}
	n.Close()
	if err := n.Wait(wctx); err != nil {
		slog.Warn("webhooks not delivered in time", "wait", wait)
	}
	st := n.Stats()
	slog.Info("webhooks", "delivered", st.Delivered, "failed", st.Failed, "attempts", st.Attempts)
}

type reportSummary struct {
	RunID    string   `json:"run_id"`
	Out      string   `json:"out"`
	Datasets int      `json:"datasets"`
	New      int      `json:"new"`
	Gone     int      `json:"gone"`
	Files    []string `json:"files"`
}

func printReportSummary(w io.Writer, rep *render.Report, out string, files []string) error {
	sum := reportSummary{RunID: rep.Run.ID, Out: out, Datasets: len(rep.Datasets), New: rep.Run.New, Gone: rep.Run.Gone, Files: files}
	if fh, ok := w.(*os.File); ok && term.IsTerminal(int(fh.Fd())) {
		fmt.Fprintf(w, "Run %s: %d datasets with sightings, %d new, %d gone.\n", sum.RunID, sum.Datasets, sum.New, sum.Gone)
		fmt.Fprintf(w, "Reports in %s (open %s)\n", out, filepath.Join(out, "index.html"))
		return nil
	}
	return json.NewEncoder(w).Encode(sum)
}
