// Package monitortest runs monitoring runs in tests and benchmarks: it opens the embedded backend
// on a data directory, calls monitor.Run (the one run loop) and closes the backend, as a scan
// command does.
package monitortest

import (
	"context"

	"github.com/afterlife-watch/afterlife/monitor"
	"github.com/afterlife-watch/afterlife/reports"
)

// Embedded runs one coordinated run on the embedded backend in dataDir, with store as its
// sightings store (the caller's to close).
func Embedded(ctx context.Context, dataDir string, store *reports.SQLiteStore, cfg monitor.RunConfig) (monitor.Result, error) {
	b, err := monitor.OpenEmbedded(dataDir, store)
	if err != nil {
		return monitor.Result{}, err
	}
	defer b.Close()
	return monitor.Run(ctx, b, cfg)
}
