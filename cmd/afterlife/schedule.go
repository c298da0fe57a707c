package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/afterlife-watch/afterlife/crawler/redisq"
	"github.com/afterlife-watch/afterlife/monitor"
)

type scheduleFlags struct {
	scan     scanFlags
	every    string
	jitter   time.Duration
	grace    time.Duration
	lockTTL  time.Duration
	maxRuns  int
	runFirst bool
}

func newScheduleCmd() *cobra.Command {
	f := &scheduleFlags{}
	cmd := &cobra.Command{
		Use:   "schedule",
		Short: "Run the watch plan on its cron schedules until stopped (a daemon)",
		Long: `Schedule is the monitoring daemon: it runs the watch plan (--config) on the schedules the plan
gives — 'schedule' for every source, 'sources.NAME.schedule' to give a source its own,
'dataset_schedules: {ID: SPEC}' for extra runs of every source over one dataset — as
cron expressions (five fields, or six with seconds first) or descriptors (@daily, @every 6h).
--every overrides every schedule (handy for a test: --every "@every 10s").

Runs never overlap: ticks that fire while a run is in hand wait for it, and a lock (a file lock in
--data, or a Redis lock with --redis) skips a tick while another process runs. Each run starts
after a random delay of up to --jitter. Re-scans are incremental: sources that can filter by date
ask only for what changed since their last complete run, every 4th run lists everything, and known
copies are re-checked (a 404/410 marks one gone). The reports are rewritten after every run.

SIGTERM or Ctrl-C stops the daemon: no new run starts, the run in hand gets --grace to finish, then
it is interrupted and its remaining work is handed back (the next run resumes it). For cron, a
systemd timer or a Kubernetes CronJob, use 'afterlife scan' instead (docs/scheduling.md).`,
		Example: `  afterlife schedule --data /var/lib/afterlife --out /srv/afterlife
  afterlife schedule --config watch.yaml --every "@every 6h" --jitter 10m
  afterlife schedule --redis redis://redis:6379/0 --data /var/lib/afterlife`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runSchedule(cmd, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.scan.out, "out", "", "directory for the reports (default: DATA/reports)")
	fl.IntVar(&f.scan.workers, "workers", 0, "concurrent crawl workers (default: the watch config's workers, else 4)")
	fl.StringVar(&f.every, "every", "", `one schedule for every source, overriding the watch config (e.g. "@every 6h", "0 3 * * *")`)
	fl.DurationVar(&f.jitter, "jitter", time.Minute, "random delay of up to this long before each run")
	fl.DurationVar(&f.grace, "grace", 30*time.Second, "on SIGTERM, how long the run in hand may go on before it is handed back")
	fl.DurationVar(&f.lockTTL, "lock-ttl", time.Minute, "distributed mode: the Redis run lock expires this long after its holder stops refreshing it")
	fl.IntVar(&f.maxRuns, "max-runs", 0, "stop after this many runs (0: run until stopped)")
	fl.BoolVar(&f.runFirst, "now", false, "start a run at once, then follow the schedule")
	return cmd
}

func init() { rootCmd.AddCommand(newScheduleCmd()) }

func runSchedule(cmd *cobra.Command, f *scheduleFlags) error {
	if f.jitter < 0 || f.grace < 0 || f.maxRuns < 0 || f.scan.workers < 0 {
		return errors.New("--jitter, --grace, --max-runs and --workers must not be negative")
	}
	reg, err := loadRegistry()
	if err != nil {
		return err
	}
	w, err := loadWatch()
	if err != nil {
		return err
	}
	if f.every != "" {
		if _, err := monitor.CronParser.Parse(f.every); err != nil {
			return fmt.Errorf("--every %q: %w", f.every, err)
		}
		w.Schedule = f.every
		w.DatasetSchedules = nil
		for name, sc := range w.Sources {
			sc.Schedule = ""
			w.Sources[name] = sc
		}
	}
	entries, unscheduled, err := monitor.Entries(w)
	if err != nil {
		return err
	}
	if len(entries) == 0 {
		return fmt.Errorf("%s: no schedule: set 'schedule' (e.g. \"@daily\") or use --every", w.File)
	}
	for _, e := range entries {
		for _, id := range e.Datasets {
			if _, ok := reg.Get(id); !ok {
				return fmt.Errorf("%s: dataset_schedules.%s: not a registry id (see 'afterlife registry')", w.File, id)
			}
		}
		if _, err := monitor.WatchedDatasets(reg, e.Watch(w)); err != nil {
			return fmt.Errorf("schedule %q: %w", e.Spec, err)
		}
	}
	if len(unscheduled) > 0 {
		slog.Warn("sources without a schedule are not run", "sources", unscheduled)
	}
	dataDir := g.dataDir
	if dataDir == "" {
		return errors.New("--data: empty data directory")
	}
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return fmt.Errorf("--data: %w", err)
	}
	out := f.scan.out
	if out == "" {
		out = filepath.Join(dataDir, "reports")
	}
	stop := cmd.Context()
	// The runs outlive the stop signal by --grace: then they are interrupted and hand back.
	runCtx, cancelRuns := context.WithCancel(context.WithoutCancel(stop))
	defer cancelRuns()
	go func() {
		<-stop.Done()
		t := time.NewTimer(f.grace)
		defer t.Stop()
		select {
		case <-t.C:
			slog.Warn("grace period over: interrupting the run in hand", "grace", f.grace)
			cancelRuns()
		case <-runCtx.Done():
		}
	}()

	s := &monitor.Scheduler{Entries: entries, Jitter: f.jitter, Log: slog.Default()}
	var runs int
	stopAfter, stopNow := context.WithCancel(stop)
	defer stopNow()
	s.OnDone = func(t monitor.Tick, started, finished time.Time, err error) {
		runs++
		if f.maxRuns > 0 && runs >= f.maxRuns {
			stopNow()
		}
	}
	stdout := cmd.OutOrStdout()
	// The lock outlives the runs: on Redis it is shared by every scheduler on the same prefix, in
	// embedded mode it is a file lock in the data directory.
	if url := scanRedisURL(); url != "" {
		rdb, err := redisq.Connect(stop, url, redisq.ConnectOptions{})
		if err != nil {
			return err
		}
		defer rdb.Close()
		lb, err := monitor.NewRedisBackend(rdb, monitor.RedisOptions{Config: redisConfig(), LockTTL: f.lockTTL})
		if err != nil {
			return err
		}
		defer lb.Close()
		s.Lock = lb.Lock
	} else {
		s.Lock = monitor.FileLock{Dir: dataDir}
	}
	s.Run = func(ctx context.Context, t monitor.Tick) error {
		return runScan(ctx, stdout, io.Discard, reg, t.Entry.Watch(w), dataDir, &scanFlags{out: out, workers: f.scan.workers, progress: "never"})
	}
	if f.runFirst {
		s.Immediately = true
	}
	return s.Start(stopAfter, runCtx)
}
