package manuscript

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"
)

// CheckPath reads and checks one manuscript; a read error is carried in the report, never lost.
func (c *Checker) CheckPath(ctx context.Context, rd Reader, p string) *Report {
	t0 := time.Now()
	doc, err := rd.Open(ctx, p)
	read := time.Since(t0)
	if err != nil {
		return ErrorReport(p, err)
	}
	rep := c.Check(ctx, doc)
	rep.Timing.Read = read
	return rep
}

// ErrorReport turns a read error into a report.
func ErrorReport(name string, err error) *Report {
	kind := ErrBroken
	msg := err.Error()
	var me *Error
	if errors.As(err, &me) {
		kind, msg = me.Kind, me.Err.Error()
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		msg = "interrupted: " + msg
	}
	return &Report{Manuscript: name, Verdict: None, Datasets: []DatasetVerdict{}, Error: &ReportError{Kind: kind, Message: msg}}
}

// Batch checks paths with workers in parallel (GOMAXPROCS when workers <= 0). done is called once
// per manuscript as it finishes (from one goroutine at a time), for a progress bar. The reports
// come back in the order of paths.
func (c *Checker) Batch(ctx context.Context, rd Reader, paths []string, workers int, done func(*Report)) []*Report {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	out := make([]*Report, len(paths))
	idx := make(chan int)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range idx {
				r := c.CheckPath(ctx, rd, paths[i])
				out[i] = r
				if done != nil {
					mu.Lock()
					done(r)
					mu.Unlock()
				}
			}
		}()
	}
feed:
	for i := range paths {
		select {
		case idx <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(idx)
	wg.Wait()
	for i, r := range out {
		if r == nil {
			out[i] = ErrorReport(paths[i], fmt.Errorf("not checked: %w", ctx.Err()))
		}
	}
	return out
}

// BatchInputs lists the manuscripts in dir: every regular file (of any extension: an unsupported
// one becomes a per-file error) and every sub-folder holding .tex files (a LaTeX project). Hidden
// entries are skipped.
func BatchInputs(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("batch folder: %w", err)
	}
	var out []string
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".") {
			continue
		}
		p := filepath.Join(dir, e.Name())
		switch {
		case e.Type().IsRegular():
			out = append(out, p)
		case e.IsDir():
			if m, _ := filepath.Glob(filepath.Join(p, "*.tex")); len(m) > 0 {
				out = append(out, p)
			}
		}
	}
	sort.Strings(out)
	return out, nil
}
