package monitor

import (
	"context"
	"log/slog"
	"time"

	"github.com/afterlife-watch/afterlife/crawler"
	"github.com/afterlife-watch/afterlife/reports"
)

// noteFailure records a failed job per URL, so the report names each failure, not only a count
// per source.
func (w *Worker) noteFailure(ctx context.Context, log *slog.Logger, l crawler.Lease, err error, final bool) {
	if err == nil {
		return
	}
	f := reports.JobFailure{Source: l.Job.Source, Kind: l.Job.Kind, URL: crawler.RedactURL(l.Job.URL),
		Error: Describe(err), Final: final, At: time.Now().UTC()}
	if rerr := w.Recorder.RecordFailure(context.WithoutCancel(ctx), l.Job.RunID, f); rerr != nil {
		log.Warn("could not record the failure", "err", rerr)
	}
}
