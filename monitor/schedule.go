package monitor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/afterlife-watch/afterlife/configs"
)

// CronParser reads the schedules of the watch config: standard five-field cron ("0 3 * * *"),
// an optional leading seconds field ("*/10 * * * * *") and descriptors ("@daily", "@every 6h").
var CronParser = cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// Entry is one schedule of the watch plan and the sources it runs (over the plan's datasets, or
// only over Datasets for a dataset's own schedule).
type Entry struct {
	Spec     string
	Sources  []string
	Datasets []string `json:",omitempty"`
}

// Watch returns the watch plan of one of the entry's runs: only its sources enabled, only its
// datasets watched.
func (e Entry) Watch(w *configs.Watch) *configs.Watch {
	c := Only(w, e.Sources)
	if len(e.Datasets) > 0 {
		c.Datasets = append([]string(nil), e.Datasets...)
	}
	return c
}

// Entries groups the watch plan's enabled sources by schedule: a source's own schedule, else
// Watch.Schedule. A source with neither is not scheduled (and reported in unscheduled). Every
// spec is parsed here, so a bad one fails before the daemon starts, naming the field.
func Entries(w *configs.Watch) (entries []Entry, unscheduled []string, err error) {
	by := map[string][]string{}
	var errs []string
	for _, name := range w.SourceNames() {
		sc := w.Sources[name]
		if !sc.Enabled {
			continue
		}
		spec, field := strings.TrimSpace(sc.Schedule), "sources."+name+".schedule"
		if spec == "" {
			spec, field = strings.TrimSpace(w.Schedule), "schedule"
		}
		if spec == "" {
			unscheduled = append(unscheduled, name)
			continue
		}
		if _, perr := CronParser.Parse(spec); perr != nil {
			errs = append(errs, fmt.Sprintf("%s: %s: %q: %v", w.File, field, spec, perr))
			continue
		}
		by[spec] = append(by[spec], name)
	}
	// Datasets with their own schedule: every enabled source, only those datasets.
	var enabled []string
	for _, name := range w.SourceNames() {
		if w.Sources[name].Enabled {
			enabled = append(enabled, name)
		}
	}
	byDS := map[string][]string{}
	for id, spec := range w.DatasetSchedules {
		spec = strings.TrimSpace(spec)
		if _, perr := CronParser.Parse(spec); perr != nil {
			errs = append(errs, fmt.Sprintf("%s: dataset_schedules.%s: %q: %v", w.File, id, spec, perr))
			continue
		}
		byDS[spec] = append(byDS[spec], id)
	}
	if len(errs) > 0 {
		sort.Strings(errs)
		return nil, nil, errors.New(strings.Join(uniq(errs), "; "))
	}
	for spec, names := range by {
		entries = append(entries, Entry{Spec: spec, Sources: names})
	}
	for spec, ids := range byDS {
		if len(enabled) > 0 {
			sort.Strings(ids)
			entries = append(entries, Entry{Spec: spec, Sources: enabled, Datasets: ids})
		}
	}
	sort.Slice(entries, func(i, j int) bool {
		if entries[i].Spec != entries[j].Spec {
			return entries[i].Spec < entries[j].Spec
		}
		return len(entries[i].Datasets) < len(entries[j].Datasets)
	})
	return entries, unscheduled, nil
}

func uniq(xs []string) []string {
	var out []string
	for i, x := range xs {
		if i == 0 || x != xs[i-1] {
			out = append(out, x)
		}
	}
	return out
}

// Only returns a copy of w with only the named sources enabled (one schedule entry's run).
func Only(w *configs.Watch, sources []string) *configs.Watch {
	c := *w
	c.Sources = make(map[string]configs.SourceConfig, len(w.Sources))
	for name, sc := range w.Sources {
		sc.Enabled = sc.Enabled && contains(sources, name)
		c.Sources[name] = sc
	}
	return &c
}

// ErrLockHeld is returned by a RunLock when another process holds it.
var ErrLockHeld = errors.New("another afterlife run holds the run lock")

// FileLock is the embedded run lock: an exclusive flock on DATA/schedule.lock, held for one run.
// The kernel drops it when the process dies.
type FileLock struct{ Dir string }

// TryLock implements RunLock.
func (l FileLock) TryLock(ctx context.Context) (func(), error) {
	if err := os.MkdirAll(l.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("run lock: %w", err)
	}
	path := filepath.Join(l.Dir, "schedule.lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("run lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w (%s)", ErrLockHeld, path)
		}
		return nil, fmt.Errorf("run lock %s: %w", path, err)
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}

// Tick is one scheduled run about to start.
type Tick struct {
	Entry     Entry
	Scheduled time.Time // when cron fired
	Seq       int       // 1, 2, ... per scheduler
}

// Scheduler runs the watch plan's entries on their cron schedules, one run at a time: a tick
// that fires while a run is in hand waits for it (ticks of one entry coalesce: at most one waits),
// and a run whose lock another process holds is skipped. Each run starts after a random delay in
// [0, Jitter), so many deployments on the same schedule do not hit the sources at once.
type Scheduler struct {
	Entries []Entry
	Jitter  time.Duration
	Lock    RunLock // nil: no cross-process lock
	Log     *slog.Logger
	// Run performs one run; its context is cancelled when the scheduler's run context is.
	Run func(ctx context.Context, t Tick) error
	// Immediately fires every entry once at start, then follows the schedule.
	Immediately bool
	// OnDone, when set, is told how each tick ended (tests, metrics). err is ErrLockHeld for a
	// skipped tick.
	OnDone func(t Tick, started, finished time.Time, err error)

	mu      sync.Mutex
	pending map[int]time.Time // entry index -> first unserved fire time
	wake    chan struct{}
	seq     int
}

// Start runs the scheduler until stop is done, then stops firing ticks and returns once the run
// in hand has ended. runCtx is what the runs see: cancel it (e.g. a grace period after stop) to
// interrupt the run in hand, which hands its work back (the next run resumes it).
func (s *Scheduler) Start(stop, runCtx context.Context) error {
	if s.Run == nil || len(s.Entries) == 0 {
		return errors.New("schedule: nothing to run (no entry, or no run function)")
	}
	log := s.Log
	if log == nil {
		log = slog.Default()
	}
	s.pending = map[int]time.Time{}
	s.wake = make(chan struct{}, 1)
	c := cron.New(cron.WithParser(CronParser), cron.WithLocation(time.UTC))
	for i, e := range s.Entries {
		i := i
		if _, err := c.AddFunc(e.Spec, func() { s.fire(i) }); err != nil {
			return fmt.Errorf("schedule %q: %w", e.Spec, err)
		}
	}
	c.Start()
	for _, ce := range c.Entries() {
		e := s.Entries[int(ce.ID)-1]
		log.Info("scheduled", "spec", e.Spec, "sources", e.Sources, "datasets", e.Datasets, "next", ce.Next)
	}
	defer func() { <-c.Stop().Done() }()
	if s.Immediately {
		for i := range s.Entries {
			s.fire(i)
		}
	}
	for {
		select {
		case <-stop.Done():
			log.Info("scheduler stopping")
			return nil
		case <-s.wake:
		}
		for {
			i, at, ok := s.next()
			if !ok {
				break
			}
			if stop.Err() != nil {
				return nil
			}
			s.runOne(stop, runCtx, log, i, at)
		}
	}
}

func (s *Scheduler) fire(i int) {
	s.mu.Lock()
	if _, ok := s.pending[i]; !ok {
		s.pending[i] = time.Now()
	}
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// next pops the entry that has waited longest.
func (s *Scheduler) next() (int, time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	best, bestAt := -1, time.Time{}
	for i, at := range s.pending {
		if best < 0 || at.Before(bestAt) || (at.Equal(bestAt) && i < best) {
			best, bestAt = i, at
		}
	}
	if best < 0 {
		return 0, time.Time{}, false
	}
	delete(s.pending, best)
	return best, bestAt, true
}

func (s *Scheduler) runOne(stop, runCtx context.Context, log *slog.Logger, i int, at time.Time) {
	s.seq++
	t := Tick{Entry: s.Entries[i], Scheduled: at, Seq: s.seq}
	if s.Jitter > 0 {
		d := rand.N(s.Jitter)
		log.Debug("jitter before the run", "wait", d.Round(time.Millisecond))
		select {
		case <-time.After(d):
		case <-stop.Done():
			return
		}
	}
	started := time.Now()
	var err error
	release := func() {}
	if s.Lock != nil {
		release, err = s.Lock.TryLock(runCtx)
	}
	if err != nil {
		if errors.Is(err, ErrLockHeld) {
			log.Warn("tick skipped: another run holds the lock", "spec", t.Entry.Spec, "err", err)
		} else {
			log.Error("tick skipped: run lock", "spec", t.Entry.Spec, "err", err)
		}
	} else {
		log.Info("scheduled run starting", "spec", t.Entry.Spec, "sources", t.Entry.Sources, "datasets", t.Entry.Datasets, "tick", t.Seq)
		err = s.Run(runCtx, t)
		release()
		switch {
		case errors.Is(err, ErrInterrupted):
			log.Warn("scheduled run interrupted; the next run resumes it", "tick", t.Seq, "err", err)
		case err != nil:
			log.Error("scheduled run failed", "tick", t.Seq, "err", err)
		default:
			log.Info("scheduled run finished", "tick", t.Seq, "elapsed", time.Since(started).Round(time.Millisecond))
		}
	}
	if s.OnDone != nil {
		s.OnDone(t, started, time.Now(), err)
	}
}
