package main

import (
	"context"
	"encoding/json"
	"io"
	"path/filepath"

	"github.com/afterlife-watch/afterlife/configs"
	"github.com/afterlife-watch/afterlife/monitor"
	"github.com/afterlife-watch/afterlife/reports"
)

// runPlan is scan --plan: nothing is sent; a JSON array, one object per source of the watch plan,
// says what the run would send, at what limit and for how long (monitor.PlanRun). The data
// directory's run history, when there is one, gives the follow-up estimates and the incremental
// plan the run would get; --plan never creates it.
func runPlan(ctx context.Context, stdout io.Writer, reg *configs.Registry, w *configs.Watch, dataDir string, f *scanFlags) error {
	cfg := monitor.PlanConfig{Watch: w, Registry: reg, DataDir: dataDir, Incremental: monitor.DefaultIncremental()}
	if f.record != "" || f.replay != "" {
		cfg.Incremental = nil // a recorded or replayed run lists in full
	}
	if f.replay != "" {
		tp, err := openReplay(f.replay)
		if err != nil {
			return err
		}
		defer tp.Close()
		cfg.Env = tp.env
	}
	if path := filepath.Join(dataDir, reports.StoreFile); dataDir != "" && fileExists(path) {
		store, err := reports.OpenStore(path)
		if err != nil {
			return err
		}
		defer store.Close()
		cfg.History = store
	}
	plans, err := monitor.PlanRun(ctx, cfg)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(plans)
}
