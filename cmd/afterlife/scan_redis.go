package main

import (
	"context"
	"time"

	"github.com/afterlife-watch/afterlife/crawler/redisq"
	"github.com/afterlife-watch/afterlife/monitor"
	"github.com/afterlife-watch/afterlife/reports"
)

// scanRedisURL is the Redis URL scan should use (--redis, else AFTERLIFE_REDIS_URL), "" for the
// embedded mode.
func scanRedisURL() string { return redisq.URL(rf.url) }

// openBackend opens the run's backend: on Redis when --redis or $AFTERLIFE_REDIS_URL names one,
// else embedded in dataDir. store is the data directory's sightings store (the caller's to close).
// lockTTL tunes the Redis schedule lock (0: default).
func openBackend(ctx context.Context, dataDir string, store *reports.SQLiteStore, lockTTL time.Duration) (*monitor.Backend, error) {
	url := scanRedisURL()
	if url == "" {
		return monitor.OpenEmbedded(dataDir, store)
	}
	rdb, err := redisq.Connect(ctx, url, redisq.ConnectOptions{})
	if err != nil {
		return nil, err
	}
	b, err := monitor.NewRedisBackend(rdb, monitor.RedisOptions{Config: redisConfig(), Store: store, StateDir: dataDir, LockTTL: lockTTL})
	if err != nil {
		rdb.Close()
		return nil, err
	}
	return withClose(b, rdb.Close), nil
}

// withClose closes c after the backend.
func withClose(b *monitor.Backend, c func() error) *monitor.Backend {
	b.AlsoClose(c)
	return b
}
