package monitor

import (
	"context"
	"errors"
	"path/filepath"
	"sync"

	"github.com/afterlife-watch/afterlife/crawler/frontier"
	"github.com/afterlife-watch/afterlife/crawler/httpcache"
	"github.com/afterlife-watch/afterlife/reports"
)

// Files under the data directory.
const (
	FrontierFile = "frontier.db"
	CacheFile    = "httpcache.db"
)

// OpenEmbedded opens the embedded backend on a data directory: it locks the directory for this
// process (ErrDataDirBusy if another holds it), opens the SQLite frontier and HTTP cache there,
// and uses store (the data directory's sightings store, which the caller opened and closes) as the
// recorder, the lineage and the run history. Close releases the lock and closes the files.
func OpenEmbedded(dataDir string, store *reports.SQLiteStore) (*Backend, error) {
	if dataDir == "" || store == nil {
		return nil, errors.New("embedded backend: a data directory and a store are required")
	}
	release, err := lockDataDir(dataDir)
	if err != nil {
		return nil, err
	}
	b := &Backend{Mode: "embedded", Recorder: store, Store: store, Lineage: store, StateDir: dataDir,
		Collector: collectNothing{}, Lock: FileLock{Dir: dataDir}, Claim: asIs}
	b.onClose(func() error { release(); return nil })
	// The two files are opened side by side, and closed so: each open or close of a file waits
	// for its own disk syncs (creating a file in WAL mode, the checkpoint at close), which was
	// ~5% of a small scan's wall time one after the other (bench/results/crawl.md).
	var (
		fr     *frontier.Frontier
		cache  *httpcache.Cache
		ferr   error
		opened sync.WaitGroup
	)
	opened.Add(1)
	go func() {
		defer opened.Done()
		fr, ferr = frontier.Open(filepath.Join(dataDir, FrontierFile), frontier.Options{ReclaimOnOpen: true, MaxAttempts: 3})
	}()
	cache, cerr := httpcache.Open(filepath.Join(dataDir, CacheFile))
	opened.Wait()
	if ferr != nil || cerr != nil {
		if fr != nil {
			fr.Close()
		}
		if cache != nil {
			cache.Close()
		}
		b.Close()
		return nil, errors.Join(ferr, cerr)
	}
	b.onClose(func() error {
		var ferr error
		var closed sync.WaitGroup
		closed.Add(1)
		go func() { defer closed.Done(); ferr = fr.Close() }()
		cerr := cache.Close()
		closed.Wait()
		return errors.Join(ferr, cerr)
	})
	b.Frontier, b.Cache = fr, cache
	b.Board = &localBoard{fr: fr, forget: fr.Forget, states: map[string]string{}}
	return b, nil
}

// collectNothing is the embedded collector: the workers record into the store themselves.
type collectNothing struct{}

func (collectNothing) Collect(context.Context, string, Store) (Collected, error) {
	return Collected{}, nil
}

// localBoard is the run board of one process: run states in memory, the frontier's counts for
// drained.
type localBoard struct {
	fr     Frontier
	forget func(ctx context.Context, runID string) (int64, error)
	mu     sync.Mutex
	states map[string]string
	wakes  []chan struct{}
}

func (l *localBoard) Open(_ context.Context, runID string, _ map[string]string) error {
	l.set(runID, RunRunning)
	return nil
}

func (l *localBoard) Active(context.Context) ([]string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for id, st := range l.states {
		if st == RunRunning {
			out = append(out, id)
		}
	}
	return out, nil
}

func (l *localBoard) State(_ context.Context, runID string) (string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.states[runID], nil
}

func (l *localBoard) MarkDrained(ctx context.Context, runID string) (bool, error) {
	d, err := isDrained(ctx, l.fr, runID)
	if err != nil || !d {
		return false, err
	}
	l.set(runID, RunDrained)
	return true, nil
}

// Done prunes the finished run's jobs from the frontier file.
func (l *localBoard) Done(ctx context.Context, runID string) error {
	l.set(runID, RunDone)
	_, err := l.forget(ctx, runID)
	return err
}

func (l *localBoard) Wake(ctx context.Context) (<-chan struct{}, func()) {
	c := make(chan struct{}, 1)
	l.mu.Lock()
	l.wakes = append(l.wakes, c)
	l.mu.Unlock()
	return c, func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		for i, w := range l.wakes {
			if w == c {
				l.wakes = append(l.wakes[:i], l.wakes[i+1:]...)
				break
			}
		}
	}
}

func (l *localBoard) set(runID, state string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.states[runID] = state
	for _, w := range l.wakes {
		select {
		case w <- struct{}{}:
		default:
		}
	}
}
