package main

import (
	"context"
	"errors"
	"io"

	"github.com/afterlife-watch/afterlife/configs"
)

func runPlan(ctx context.Context, stdout io.Writer, reg *configs.Registry, w *configs.Watch, dataDir string, f *scanFlags) error {
	return errors.New("--plan: not implemented yet")
}
