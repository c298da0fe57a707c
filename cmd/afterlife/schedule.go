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

	"github.com/redis/go-redis/v9"
	"github.com/spf13/cobra"

	"github.com/afterlife-watch/afterlife/configs"
	"github.com/afterlife-watch/afterlife/crawler/redisq"
	"github.com/afterlife-watch/afterlife/monitor"
	"github.com/afterlife-watch/afterlife/reports"
	"github.com/afterlife-watch/afterlife/reports/render"
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
	if url := scanRedisURL(); url != "" {
		rdb, err := redisq.Connect(stop, url, redisq.ConnectOptions{})
		if err != nil {
			return err
		}
		defer rdb.Close()
		s.Lock = redisLock{rdb: rdb, prefix: rf.prefix, ttl: f.lockTTL}
		s.Run = func(ctx context.Context, t monitor.Tick) error {
			store, err := reports.OpenStore(filepath.Join(dataDir, reports.StoreFile))
			if err != nil {
				return err
			}
			defer store.Close()
			res, err := redisq.Scan(ctx, redisq.ScanConfig{
				Client: rdb, Config: redisConfig(), Watch: t.Entry.Watch(w), Registry: reg, Store: store,
				Workers: f.scan.workers, Version: version, Log: slog.Default(),
				WriteReports: func(ctx context.Context, runID string) ([]string, error) {
					return render.Write(ctx, store, reg, runID, out)
				},
			})
			if err != nil {
				return err
			}
			return printScanSummary(stdout, monitor.ScanResult{Run: res.Run, Resumed: res.Resumed, Reports: res.Reports}, out)
		}
	} else {
		s.Lock = monitor.FileLock{Dir: dataDir}
		s.Run = func(ctx context.Context, t monitor.Tick) error {
			return scheduledScan(ctx, stdout, reg, t.Entry.Watch(w), dataDir, out, f.scan.workers)
		}
	}
	if f.runFirst {
		s.Immediately = true
	}
	return s.Start(stopAfter, runCtx)
}

// scheduledScan is one embedded run of the daemon: scan, write the reports, print the summary.
func scheduledScan(ctx context.Context, stdout io.Writer, reg *configs.Registry, w *configs.Watch, dataDir, out string, workers int) error {
	store, err := reports.OpenStore(filepath.Join(dataDir, reports.StoreFile))
	if err != nil {
		return err
	}
	defer store.Close()
	res, err := monitor.Scan(ctx, monitor.ScanConfig{
		Watch: w, Registry: reg, DataDir: dataDir, Store: store, Workers: workers, Version: version,
		Incremental: monitor.DefaultIncremental(), Log: slog.Default(),
		WriteReports: func(ctx context.Context, runID string) ([]string, error) {
			return render.Write(ctx, store, reg, runID, out)
		},
	})
	if err != nil {
		return err
	}
	return printScanSummary(stdout, res, out)
}

// redisLock is the distributed run lock: redisq's SET NX lock, refreshed while the run lasts, so
// two schedulers on different machines never run at once (and a dead one's lock expires).
type redisLock struct {
	rdb    *redis.Client
	prefix string
	ttl    time.Duration
}

// TryLock implements monitor.RunLock.
func (l redisLock) TryLock(ctx context.Context) (func(), error) {
	ttl := l.ttl
	if ttl < 3*time.Second {
		ttl = 3 * time.Second
	}
	lk, err := redisq.AcquireLock(ctx, l.rdb, l.prefix, "schedule", ttl)
	if errors.Is(err, redisq.ErrLocked) {
		return nil, fmt.Errorf("%w: %v", monitor.ErrLockHeld, err)
	}
	if err != nil {
		return nil, err
	}
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(ttl / 3)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if ok, err := lk.Refresh(context.WithoutCancel(ctx)); err != nil || !ok {
					slog.Warn("run lock refresh failed", "ok", ok, "err", err)
				}
			}
		}
	}()
	return func() {
		close(done)
		<-stopped
		if _, err := lk.Release(context.WithoutCancel(ctx)); err != nil {
			slog.Warn("run lock release failed; it expires by itself", "err", err)
		}
	}, nil
}
