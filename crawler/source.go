package crawler

import (
	"context"
	"fmt"
	"sort"
	"sync"

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

var (
	factoriesMu sync.RWMutex
	factories   = map[string]SourceFactory{}
)

// Register makes a source available by name; adapters call it from init. Registering an empty
// name, a nil factory or a name twice panics: two adapters answering to one name would make which
// one runs depend on init order.
func Register(name string, f SourceFactory) {
	factoriesMu.Lock()
	defer factoriesMu.Unlock()
	if name == "" || f == nil {
		panic("crawler: Register needs a name and a factory")
	}
	if _, dup := factories[name]; dup {
		panic(fmt.Sprintf("crawler: source %q registered twice", name))
	}
	factories[name] = f
}

// Factory returns the registered factory for name.
func Factory(name string) (SourceFactory, bool) {
	factoriesMu.RLock()
	defer factoriesMu.RUnlock()
	f, ok := factories[name]
	return f, ok
}

// Registered lists registered source names, sorted.
func Registered() []string {
	factoriesMu.RLock()
	defer factoriesMu.RUnlock()
	out := make([]string, 0, len(factories))
	for k := range factories {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
