package render

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/afterlife-watch/afterlife/artifact"
	"github.com/afterlife-watch/afterlife/configs"
	"github.com/afterlife-watch/afterlife/extract"
	"github.com/afterlife-watch/afterlife/reports"
)

// IngestArtifacts matches an artifacts JSON Lines stream (the interchange format) against the
// registry and records it in st as one finished run as of at. It is how researchers with their
// own crawl get the same reports: `afterlife report --artifacts FILE`. Models are matched a
// second time, so lineage through base models that appear later in the stream is seen. A bad
// line stops the ingest with an error naming the line, before anything is recorded.
func IngestArtifacts(ctx context.Context, st reports.Store, reg *configs.Registry, r io.Reader, name string, at time.Time) (string, error) {
	return IngestArtifactsWith(ctx, st, reg, r, name, at, IngestOptions{})
}

// IngestOptions tune IngestArtifactsWith.
type IngestOptions struct {
	// BadLine, when set, is told of every line that is not a valid artifact, and the line is
	// skipped (`afterlife report --artifacts`: skip, count, show the first few). When nil, a bad
	// line stops the ingest before anything is recorded.
	BadLine func(*artifact.LineError)
}

// IngestArtifactsWith is IngestArtifacts with options.
func IngestArtifactsWith(ctx context.Context, st reports.Store, reg *configs.Registry, r io.Reader, name string, at time.Time, opt IngestOptions) (string, error) {
	var arts []artifact.Artifact
	rd := artifact.NewReader(r, name)
	for {
		a, err := rd.Next()
		if err == io.EOF {
			break
		}
		var le *artifact.LineError
		if errors.As(err, &le) && opt.BadLine != nil {
			opt.BadLine(le)
			continue
		}
		if err != nil {
			return "", fmt.Errorf("artifacts: %w", err)
		}
		arts = append(arts, a)
	}
	if at.IsZero() {
		at = time.Now().UTC()
	}
	base := filepath.Base(name)
	runID := "artifacts-" + strings.TrimSuffix(base, filepath.Ext(base))
	if err := st.BeginRun(ctx, reports.Run{ID: runID, Started: at, Mode: "artifacts"}); err != nil {
		return "", err
	}
	m := extract.New(reg, extract.WithLineage(st))
	perSource := map[string]int64{}
	for pass := 0; pass < 2; pass++ {
		for i := range arts {
			a := &arts[i]
			if pass == 1 && (a.Kind != artifact.KindModel || len(a.BaseModels) == 0) {
				continue
			}
			if pass == 0 {
				perSource[a.Source]++
			}
			if err := ctx.Err(); err != nil {
				return "", err
			}
			if _, err := st.Record(ctx, runID, at, *a, m.Match(a)); err != nil {
				return "", err
			}
		}
	}
	srcs := make([]string, 0, len(perSource))
	for s := range perSource {
		srcs = append(srcs, s)
	}
	sort.Strings(srcs)
	for _, src := range srcs {
		if err := st.AddSourceStat(ctx, runID, reports.SourceStat{Name: src, Artifacts: perSource[src], Status: "ok", Message: "read from " + name}); err != nil {
			return "", err
		}
	}
	if _, err := st.FinishRun(ctx, runID, at); err != nil {
		return "", err
	}
	return runID, nil
}
