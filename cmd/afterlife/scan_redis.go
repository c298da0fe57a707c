package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/afterlife-watch/afterlife/configs"
	"github.com/afterlife-watch/afterlife/crawler/redisq"
	"github.com/afterlife-watch/afterlife/monitor"
	"github.com/afterlife-watch/afterlife/reports"
	"github.com/afterlife-watch/afterlife/reports/render"
)

// scanRedisURL is the Redis URL scan should use (--redis, else AFTERLIFE_REDIS_URL), "" for the
// embedded mode.
func scanRedisURL() string { return redisq.URL(rf.url) }

// runScanRedis is `afterlife scan --redis URL`: it queues the run on Redis, waits for the workers
// (f.workers > 0 also runs that many in this process), builds the store under dataDir from the
// findings stream and writes the reports.
func runScanRedis(ctx context.Context, cmd *cobra.Command, reg *configs.Registry, w *configs.Watch, dataDir string, f *scanFlags, url string) error {
	if f.workers < 0 {
		return fmt.Errorf("--workers: %d is negative", f.workers)
	}
	if dataDir == "" {
		return errors.New("--data: empty data directory")
	}
	out := f.out
	if out == "" {
		out = filepath.Join(dataDir, "reports")
	}
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return fmt.Errorf("--data: %w", err)
	}
	rdb, err := redisq.Connect(ctx, url, redisq.ConnectOptions{})
	if err != nil {
		return err
	}
	defer rdb.Close()
	store, err := reports.OpenStore(filepath.Join(dataDir, reports.StoreFile))
	if err != nil {
		return err
	}
	defer store.Close()
	res, err := redisq.Scan(ctx, redisq.ScanConfig{
		Client: rdb, Config: redisConfig(), Watch: w, Registry: reg, Store: store, Workers: f.workers,
		Version: version, Log: slog.Default(),
		WriteReports: func(ctx context.Context, runID string) ([]string, error) {
			return render.Write(ctx, store, reg, runID, out)
		},
	})
	if err != nil {
		return err
	}
	return printScanSummary(cmd.OutOrStdout(), monitor.ScanResult{Run: res.Run, Resumed: res.Resumed, Reports: res.Reports}, out)
}
