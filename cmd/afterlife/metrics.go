package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/spf13/cobra"

	"github.com/afterlife-watch/afterlife/crawler"
	"github.com/afterlife-watch/afterlife/crawler/redisq"
	"github.com/afterlife-watch/afterlife/internal/metrics"
	"github.com/afterlife-watch/afterlife/monitor"
)

// metricsAddr is --metrics-addr: where a long-running command (worker, scan, demo, serve) serves
// /metrics, /healthz and /readyz. Empty: no metrics server.
var metricsAddr string

func init() {
	rootCmd.PersistentFlags().StringVar(&metricsAddr, "metrics-addr", os.Getenv("AFTERLIFE_METRICS_ADDR"),
		"serve Prometheus /metrics, /healthz and /readyz on this loopback address, e.g. 127.0.0.1:9464 (env AFTERLIFE_METRICS_ADDR)")
	prev := rootCmd.PersistentPreRunE
	rootCmd.PersistentPreRunE = func(cmd *cobra.Command, args []string) error {
		if prev != nil {
			if err := prev(cmd, args); err != nil {
				return err
			}
		}
		return startMetrics(cmd)
	}
}

// metricsSink is the metrics server's collector, when --metrics-addr runs one; runs get it
// explicitly (metricsObserver, fetchObserver).
var metricsSink *metrics.Metrics

// metricsObserver is the run loop's observer: the metrics server's, or none.
func metricsObserver() monitor.Observer {
	if metricsSink == nil {
		return nil
	}
	return metricsSink
}

// fetchObserver is the fetcher's observer: the metrics server's, or none.
func fetchObserver() crawler.Observer {
	if metricsSink == nil {
		return nil
	}
	return metricsSink
}

// startMetrics starts the metrics server for the command's lifetime and hooks the fetcher and the
// workers into it.
func startMetrics(cmd *cobra.Command) error {
	if metricsAddr == "" {
		return nil
	}
	m := metrics.New()
	metricsSink = m
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	srv, err := metrics.Listen(ctx, metricsAddr, m, readiness)
	if err != nil {
		return fmt.Errorf("--metrics-addr: %w", err)
	}
	srv.SetReady(true)
	slog.Info("metrics server listening", "addr", srv.Addr().String(), "command", cmd.Name())
	return nil
}

// readiness: the data directory is usable and, in the distributed mode, Redis answers.
func readiness(ctx context.Context) error {
	if g.dataDir != "" {
		if err := os.MkdirAll(g.dataDir, 0o755); err != nil {
			return fmt.Errorf("data directory: %w", err)
		}
		f, err := os.CreateTemp(g.dataDir, ".readyz-*")
		if err != nil {
			return fmt.Errorf("data directory not writable: %w", err)
		}
		f.Close()
		os.Remove(f.Name())
	}
	if url := redisq.URL(rf.url); url != "" {
		rdb, err := redisq.Connect(ctx, url, redisq.ConnectOptions{})
		if err != nil {
			return err // Connect names the URL with its password redacted
		}
		rdb.Close()
	}
	return nil
}
