package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/afterlife-watch/afterlife/configs"
	"github.com/afterlife-watch/afterlife/crawler"
	"github.com/afterlife-watch/afterlife/crawler/cassette"
	_ "github.com/afterlife-watch/afterlife/crawler/sources" // registers every source adapter
	"github.com/afterlife-watch/afterlife/monitor"
	"github.com/afterlife-watch/afterlife/reports"
	"github.com/afterlife-watch/afterlife/reports/render"
)

type scanFlags struct {
	out         string
	workers     int
	progress    string
	record      string // --record DIR: write every HTTP exchange as cassettes
	replay      string // --replay DIR: answer every request from cassettes, no network
	plan        bool   // --plan: print what the run would send, send nothing
	fullListing bool   // --full-listing (demo): every source lists everything this run
	// demoTruth, set by the demo, adds the run's ground truth to the summary (demo_truth.go). It
	// is called once the run is done and before its reports are rendered (so that the demo can
	// release its world first), and again after the run, when it returns what it returned then.
	demoTruth func(ctx context.Context, st *reports.SQLiteStore, runID string) (*demoTruth, error)
}

func newScanCmd() *cobra.Command {
	f := &scanFlags{}
	cmd := &cobra.Command{
		Use:   "scan",
		Short: "Run one monitoring run over the watch plan and write the reports",
		Long: `Scan runs one monitoring run: every enabled source of the watch plan (--config, default the
embedded plan) is searched for the watched retracted datasets, every artifact found is matched
against the registry, sightings are recorded in the store under --data, and the reports are
written to --out.

An interrupted scan (Ctrl-C, kill -9) resumes where it stopped when run again with the same --data:
no queued work is lost and no finding is recorded twice. A source that fails (no network, 5xx,
bad responses) does not stop the run; the report says first what could not be checked, and
groups the failures by source and cause. A run in which every enabled source failed exits with
status 2: nothing was checked.

On a terminal a progress table per source is drawn on stderr. Standard output gets a summary:
human-readable on a terminal, one JSON object otherwise.

--record DIR writes every HTTP exchange of the run (method, URL, headers and body, status,
response headers and body; tokens, keys and cookies redacted) as YAML cassettes, one per host,
with the watch plan and registry the run used: attach it to a bug report. --replay DIR runs the
whole pipeline against such a recording with no network, into the --data directory given (use a
fresh one). A recorded or replayed run is a full run: no conditional requests, no incremental
listing, so every body is in the cassettes. Exchanges outside HTTP (UDP trackers, announces) are
not recorded; a replay fails those jobs.

--plan sends nothing: it prints a JSON array, one object per source, with the requests the run
will make, the rate limit it will respect, the expected duration and what it will skip.`,
		Example: `  afterlife scan --out ~/afterlife-reports
  afterlife scan --config watch.yaml --data /var/lib/afterlife --workers 8 --out /srv/afterlife
  afterlife scan --record /tmp/run-cassettes
  afterlife scan --replay /tmp/run-cassettes --data /tmp/replayed
  afterlife scan --plan`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.record != "" && f.replay != "" {
				return errors.New("--record and --replay: choose one")
			}
			var reg *configs.Registry
			var w *configs.Watch
			var err error
			if f.replay != "" {
				reg, w, err = replayPlan(f.replay)
			} else {
				reg, err = loadRegistry()
				if err == nil {
					w, err = loadWatch()
				}
			}
			if err != nil {
				return err
			}
			if f.plan {
				return runPlan(cmd.Context(), cmd.OutOrStdout(), reg, w, g.dataDir, f)
			}
			return runScan(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), reg, w, g.dataDir, f)
		},
	}
	cmd.Flags().StringVar(&f.out, "out", "", "directory for the reports (default: DATA/reports)")
	cmd.Flags().IntVar(&f.workers, "workers", 0, "concurrent crawl workers (default: the watch config's workers, else 4)")
	cmd.Flags().StringVar(&f.progress, "progress", "auto", "progress display: auto (on a terminal), always or never")
	cmd.Flags().StringVar(&f.record, "record", "", "write every HTTP exchange of the run as cassettes (secrets redacted) into `DIR`")
	cmd.Flags().StringVar(&f.replay, "replay", "", "run against the cassettes in `DIR` (from --record), with no network")
	cmd.Flags().BoolVar(&f.plan, "plan", false, "send nothing: print the requests, rate limits and expected duration per source as JSON")
	return cmd
}

func init() { rootCmd.AddCommand(newScanCmd()) }

// scanSummary is the machine-readable result of a scan.
type scanSummary struct {
	RunID   string               `json:"run_id"`
	Resumed bool                 `json:"resumed"`
	New     int                  `json:"new"`
	Gone    int                  `json:"gone"`
	Sources []reports.SourceStat `json:"sources"`
	Reports []string             `json:"reports"`
	Out     string               `json:"out"`
	// Coverage says what the run could check (state all, partial or none) and what is unknown.
	Coverage *render.Coverage `json:"coverage,omitempty"`
	*demoTruth
}

// runScan is one monitoring run, shared by scan and demo: embedded, or on Redis when --redis or
// $AFTERLIFE_REDIS_URL names one (then --workers 0 leaves the crawling to worker processes).
func runScan(ctx context.Context, stdout, stderr io.Writer, reg *configs.Registry, w *configs.Watch, dataDir string, f *scanFlags) error {
	if f.workers < 0 {
		return fmt.Errorf("--workers: %d is negative", f.workers)
	}
	out, err := prepareDataDir(dataDir, f.out)
	if err != nil {
		return err
	}
	store, err := reports.OpenStore(filepath.Join(dataDir, reports.StoreFile))
	if err != nil {
		return err
	}
	defer store.Close()
	if err := claimDataKind(ctx, store, dataDir, w.Demo); err != nil {
		return err
	}
	b, err := openBackend(ctx, dataDir, store, 0)
	if err != nil {
		return err
	}
	defer b.Close()
	if b.Mode == "redis" && (f.record != "" || f.replay != "") {
		return errors.New("--record and --replay run embedded only: worker processes on Redis would not record or replay")
	}
	tp, err := openTape(f, w)
	if err != nil {
		return err
	}
	incremental := monitor.DefaultIncremental()
	if f.fullListing {
		incremental.FullEvery = 1
	}
	var env crawler.Env
	if tp != nil {
		// A recorded or replayed run is a full run: the same requests whatever the data directory.
		incremental, env = nil, tp.env
	}
	workers := f.workers
	if b.Mode == "redis" && workers == 0 {
		workers = -1 // the coordinator only plans and collects; worker processes crawl
	}
	res, err := monitor.Run(ctx, b, monitor.RunConfig{
		Watch: w, Registry: reg, Workers: workers, Version: version, Observer: metricsObserver(), Env: env,
		FetcherOptions: tp.fetcherOptions(crawler.FetcherOptions{Observer: fetchObserver()}),
		Incremental:    incremental,
		Log:            slog.Default(), Progress: stderr, ProgressTTY: scanShowProgress(f.progress, stderr), NewLogger: scanLogger,
		WriteReports: func(ctx context.Context, runID string) ([]string, error) {
			if f.demoTruth != nil {
				// The demo's ground truth reads its world, which it then lets go: the world is
				// not in memory while the reports are rendered, the run's peak.
				if _, err := f.demoTruth(ctx, store, runID); err != nil {
					return nil, err
				}
			}
			defer renderGC(os.Getenv)()
			return render.Write(ctx, store, reg, runID, out)
		},
	})
	if cerr := tp.Close(); cerr != nil {
		err = errors.Join(err, fmt.Errorf("--record: %w", cerr))
	} else if tp != nil && tp.mode == cassette.Record {
		slog.Info("recorded the run's HTTP exchanges", "dir", f.record)
	}
	if err != nil {
		return err
	}
	if err := notifyScanWebhooks(ctx, store, reg, res.Run.ID); err != nil {
		return err
	}
	var truth *demoTruth
	if f.demoTruth != nil {
		if truth, err = f.demoTruth(ctx, store, res.Run.ID); err != nil {
			return err
		}
	}
	if err := printScanSummary(stdout, res, out, truth); err != nil {
		return err
	}
	if !scanShowProgress(f.progress, stderr) {
		printSourceLines(stderr, res) // a crawler's closing stats, for logs
	}
	if c := render.CoverageOf(res.Run.Sources); c != nil && c.State == render.CoverageNone {
		// The reports are written and say so first; the exit status says it to scripts and cron.
		return &exitError{code: exitNothingChecked, err: fmt.Errorf("run %s: %s", res.Run.ID, c.Headline)}
	}
	return nil
}

// exitNothingChecked is the exit status of a run in which every enabled source failed.
const exitNothingChecked = 2

// claimDataKind marks the store as holding demo or real data (the watch plan says which), or
// refuses a run that would mix them. A store from before the mark is demo data when an earlier
// demo left its world's address in the data directory.
func claimDataKind(ctx context.Context, store *reports.SQLiteStore, dataDir string, demo bool) error {
	kind, unmarked := reports.DataReal, reports.DataReal
	if demo {
		kind = reports.DataDemo
	}
	if _, err := os.Stat(filepath.Join(dataDir, demoAddrFile)); err == nil {
		unmarked = reports.DataDemo
	}
	if err := store.ClaimDataKind(ctx, kind, unmarked); err != nil {
		return fmt.Errorf("--data: %w", err)
	}
	return nil
}

// prepareDataDir creates the data directory and returns the reports directory (out, else
// DATA/reports).
func prepareDataDir(dataDir, out string) (string, error) {
	if dataDir == "" {
		return "", errors.New("--data: empty data directory")
	}
	if out == "" {
		out = filepath.Join(dataDir, "reports")
	}
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return "", fmt.Errorf("--data: %w", err)
	}
	return out, nil
}

// notifyScanWebhooks posts the run's new sightings to the webhooks named in the environment
// ($AFTERLIFE_WEBHOOKS, $AFTERLIFE_SLACK_WEBHOOKS). The run and its reports are already done:
// delivery retries with backoff for a bounded time and never changes the run's outcome.
func notifyScanWebhooks(ctx context.Context, st reports.Store, reg *configs.Registry, runID string) error {
	hooks, err := render.WebhooksFromEnv(os.Getenv)
	if err != nil || len(hooks) == 0 {
		return err
	}
	rep, err := render.Build(ctx, st, reg, runID, render.Options{})
	if err != nil {
		slog.Warn("webhooks: cannot build the run's report; nothing sent", "run_id", runID, "err", err)
		return nil
	}
	deliverWebhooks(ctx, rep, hooks, scanWebhookWait)
	return nil
}

// scanWebhookWait bounds how long a scan keeps retrying its webhooks after the run.
const scanWebhookWait = 2 * time.Minute

// scanLogger is the global logger's format and level, writing to w (the progress display).
func scanLogger(w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(g.logLevel))
	opts := &slog.HandlerOptions{Level: level}
	if g.logFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func scanShowProgress(mode string, w io.Writer) bool {
	switch mode {
	case "always":
		return true
	case "never":
		return false
	}
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// printSourceLines writes one closing line per source: status, what it found, what it cost, and
// why it failed.
func printSourceLines(w io.Writer, res monitor.Result) {
	found := map[string]int64{}
	for _, p := range res.Progress {
		found[p.Name] = p.NewSightings
	}
	took := ""
	if !res.Run.Finished.IsZero() {
		took = ", run took " + res.Run.Finished.Sub(res.Run.Started).Round(time.Millisecond).String()
	}
	for _, s := range res.Run.Sources {
		fmt.Fprintf(w, "afterlife: source %s: %s — %d artifacts, %d new sightings, %d requests (%d answered 304), %s on the wire, %d errors%s",
			monitor.Printable(s.Name, 40), s.Status, s.Artifacts, found[s.Name], s.Requests, s.Cached, monitor.HumanBytes(s.Bytes), s.Errors, took)
		if s.Status != monitor.StatusOK && s.Message != "" {
			fmt.Fprintf(w, " — %s", monitor.Printable(s.Message, 200))
		}
		fmt.Fprintln(w)
	}
}

func printScanSummary(w io.Writer, res monitor.Result, out string, truth *demoTruth) error {
	sum := scanSummary{RunID: res.Run.ID, Resumed: res.Resumed, New: res.Run.New, Gone: res.Run.Gone,
		Sources: res.Run.Sources, Reports: res.Reports, Out: out, Coverage: render.CoverageOf(res.Run.Sources), demoTruth: truth}
	if sum.Sources == nil {
		sum.Sources = []reports.SourceStat{}
	}
	if sum.Reports == nil {
		sum.Reports = []string{}
	}
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		enc := json.NewEncoder(w)
		return enc.Encode(sum)
	}
	how := "finished"
	if res.Resumed {
		how = "finished (resumed after an interruption)"
	}
	if c := sum.Coverage; c != nil && c.State != render.CoverageAll {
		fmt.Fprintf(w, "%s\n", c.Headline)
	}
	fmt.Fprintf(w, "Run %s %s: %d new sightings, %d gone.\n", sum.RunID, how, sum.New, sum.Gone)
	for _, s := range sum.Sources {
		fmt.Fprintf(w, "  %-18s %-9s %5d requests %9s %4d errors %5d artifacts", s.Name, s.Status, s.Requests,
			monitor.HumanBytes(s.Bytes), s.Errors, s.Artifacts)
		if s.Message != "" {
			fmt.Fprintf(w, "  %s", monitor.Printable(s.Message, 200))
		}
		fmt.Fprintln(w)
	}
	if truth != nil {
		truth.print(w)
	}
	fmt.Fprintf(w, "%d report files in %s", len(sum.Reports), out)
	var main []string
	for _, r := range sum.Reports {
		switch filepath.Base(r) {
		case "report.json", "index.html", "index.md":
			main = append(main, r)
		}
	}
	if len(main) > 0 {
		fmt.Fprintf(w, ", start with:\n")
		for _, r := range main {
			fmt.Fprintf(w, "  %s\n", r)
		}
	} else {
		fmt.Fprintln(w)
	}
	return nil
}
