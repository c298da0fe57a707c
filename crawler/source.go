package crawler

import (
	"context"

	"github.com/afterlife-watch/afterlife/configs"
)

// Source is one adapter: it plans jobs from the registry and turns fetched responses into artifacts.
type Source interface {
	// Name is the source's name as used in configs and artifacts ("huggingface").
	Name() string
	// Plan returns the seed jobs for a run over the given datasets.
	Plan(ctx context.Context, datasets []*configs.Dataset) ([]Job, error)
	// Handle performs one job with the fetcher and parses what came back.
	Handle(ctx context.Context, job Job, f Fetcher) (Result, error)
}

// SourceFactory builds a source from its config. Env gives the auth tokens (never logged).
type SourceFactory func(cfg configs.SourceConfig, env Env) (Source, error)

// Env reads secrets from the environment; tests pass their own.
type Env func(key string) string

var factories = map[string]SourceFactory{}

// Register makes a source available by name; adapters call it from init.
func Register(name string, f SourceFactory) { factories[name] = f }

// Factory returns the registered factory for name.
func Factory(name string) (SourceFactory, bool) { f, ok := factories[name]; return f, ok }

// Registered lists registered source names.
func Registered() []string {
	out := make([]string, 0, len(factories))
	for k := range factories {
		out = append(out, k)
	}
	return out
}
