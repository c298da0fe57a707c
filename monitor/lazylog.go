package monitor

import (
	"context"
	"log/slog"
	"slices"
	"sync"
)

// withLazy is log.With(args...) whose attributes are handed to the handler only when a record is
// logged: a job's logger (run, job, source, kind, attempt) was made for every job, and the text
// and JSON handlers format attributes when they are added, mostly for nothing (jobs that log
// nothing at the level in force). What is logged is the same as with log.With.
func withLazy(log *slog.Logger, args ...any) *slog.Logger {
	h := log.Handler()
	if l, ok := h.(*lazyHandler); ok {
		h = l.base
		args = append(slices.Clip(l.args), args...)
	}
	return slog.New(&lazyHandler{base: h, args: args})
}

// lazyHandler adds args (as slog.Logger.With does) the first time a record gets through.
type lazyHandler struct {
	base slog.Handler
	args []any
	once sync.Once
	full slog.Handler
}

func (l *lazyHandler) handler() slog.Handler {
	l.once.Do(func() { l.full = slog.New(l.base).With(l.args...).Handler() })
	return l.full
}

func (l *lazyHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return l.base.Enabled(ctx, level)
}

func (l *lazyHandler) Handle(ctx context.Context, r slog.Record) error {
	return l.handler().Handle(ctx, r)
}

func (l *lazyHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return l.handler().WithAttrs(as)
}

func (l *lazyHandler) WithGroup(name string) slog.Handler {
	return l.handler().WithGroup(name)
}
