package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/afterlife-watch/afterlife/crawler"
	"github.com/afterlife-watch/afterlife/crawler/redisq"
	_ "github.com/afterlife-watch/afterlife/crawler/sources" // registers every source adapter
	"github.com/afterlife-watch/afterlife/monitor"
)

// redisFlags are the distributed mode's flags, shared by worker and scan.
type redisFlags struct {
	url     string
	prefix  string
	lease   time.Duration
	grace   time.Duration
	workers int
}

var rf redisFlags

func init() {
	pf := rootCmd.PersistentFlags()
	pf.StringVar(&rf.url, "redis", "", "Redis URL for the distributed mode: redis://[user:pass@]host:6379/0, rediss:// for TLS (env "+redisq.EnvURL+"; CA file for rediss in "+redisq.EnvCA+"). A password given here shows in ps and shell history: put such a URL in "+redisq.EnvURL+" instead")
	pf.StringVar(&rf.prefix, "redis-prefix", redisq.DefaultPrefix, "prefix of every Redis key Afterlife writes")
	pf.DurationVar(&rf.lease, "lease", 30*time.Second, "distributed mode: a dead worker's jobs are reclaimed after this long without its heartbeat")
	rootCmd.AddCommand(newWorkerCmd())
}

func newWorkerCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "worker",
		Short: "Crawl the runs queued on Redis until stopped (distributed mode)",
		Long: `Worker joins the distributed mode: it crawls every run queued on Redis (by afterlife scan --redis
or the scheduler) with the watch plan's sources, shares the frontier, the dedup sets and the
per-host rate limits with every other worker, and pushes its findings to the run's findings stream.

It runs until stopped. SIGTERM or Ctrl-C stops it politely: it takes no new job, finishes the jobs
in hand for up to --grace, then hands back whatever is left so other workers take it at once. A
worker killed outright (kill -9, a lost machine) loses nothing either: its jobs are reclaimed by
the others after --lease.`,
		Example: `  afterlife worker --redis redis://redis:6379/0 --config watch.yaml
  AFTERLIFE_REDIS_URL=rediss://crawler:secret@redis.example.org:6380/0 afterlife worker --workers 8`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runWorker(cmd) },
	}
	cmd.Flags().IntVar(&rf.workers, "workers", 0, "concurrent workers per run in this process (default: the watch config's workers, else 4)")
	cmd.Flags().DurationVar(&rf.grace, "grace", 20*time.Second, "on SIGTERM, how long to finish the jobs in hand before handing them back")
	return cmd
}

func redisConfig() redisq.Config {
	return redisq.Config{Prefix: rf.prefix, LeaseTimeout: rf.lease}
}

func runWorker(cmd *cobra.Command) error {
	url := redisq.URL(rf.url)
	if url == "" {
		return fmt.Errorf("worker: no Redis: use --redis redis://host:6379/0 or set %s", redisq.EnvURL)
	}
	if rf.workers < 0 {
		return fmt.Errorf("--workers: %d is negative", rf.workers)
	}
	if rf.lease < time.Second {
		return fmt.Errorf("--lease: %s is under 1s", rf.lease)
	}
	reg, err := loadRegistry()
	if err != nil {
		return err
	}
	w, err := loadWatch()
	if err != nil {
		return err
	}
	// The root context ends on the first SIGTERM/Ctrl-C: that is the polite stop. A second signal,
	// or the grace period, ends the jobs in hand.
	stop := cmd.Context()
	hard, cancel := context.WithCancel(context.WithoutCancel(stop))
	defer cancel()
	go func() {
		<-stop.Done()
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
		defer signal.Stop(sig)
		select {
		case <-sig:
			slog.Warn("second signal: stopping now")
			cancel()
		case <-hard.Done():
		}
	}()
	rdb, err := redisq.Connect(hard, url, redisq.ConnectOptions{})
	if err != nil {
		return err
	}
	defer rdb.Close()
	b, err := monitor.NewRedisBackend(rdb, monitor.RedisOptions{Config: redisConfig()})
	if err != nil {
		return err
	}
	defer b.Close() // hands back any job still in hand
	slog.Info("worker started", "redis", redisq.Redact(url), "config", w.File, "prefix", rf.prefix)
	_, err = monitor.Run(hard, b, monitor.RunConfig{Role: monitor.Serve, Stop: stop.Done(), Grace: rf.grace,
		Watch: w, Registry: reg, Workers: rf.workers, Version: version, Log: slog.Default(),
		Observer: metricsObserver(), FetcherOptions: crawler.FetcherOptions{Observer: fetchObserver()}})
	return err
}
