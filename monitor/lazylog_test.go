package monitor

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

// A lazy logger writes exactly what log.With writes (attributes, nested With, groups), and a
// handler below the level in force never sees the attributes.
func TestWithLazyLogsAsWith(t *testing.T) {
	var eager, lazy bytes.Buffer
	opts := &slog.HandlerOptions{Level: slog.LevelInfo, ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}}
	e := slog.New(slog.NewTextHandler(&eager, opts)).With("base", 1)
	l := slog.New(slog.NewTextHandler(&lazy, opts)).With("base", 1)
	le := e.With("run_id", "r", "job_id", "j").With("attempt", 2)
	ll := withLazy(withLazy(l, "run_id", "r", "job_id", "j"), "attempt", 2)
	for _, lg := range []*slog.Logger{le, ll} {
		lg.Debug("hidden", "x", 1)
		lg.Warn("job failed", "err", "boom")
		lg.WithGroup("g").Info("grouped", "k", "v")
		lg.With("more", true).Error("with more")
	}
	if eager.String() != lazy.String() {
		t.Fatalf("lazy logger wrote\n%s\nwant (log.With)\n%s", lazy.String(), eager.String())
	}
	if !strings.Contains(lazy.String(), `msg="job failed" base=1 run_id=r job_id=j attempt=2 err=boom`) || strings.Contains(lazy.String(), "hidden") {
		t.Fatalf("unexpected output:\n%s", lazy.String())
	}
}

// counting counts WithAttrs calls (formatting work in the real handlers).
type counting struct {
	slog.Handler
	withAttrs *int
}

func (c counting) WithAttrs(as []slog.Attr) slog.Handler {
	*c.withAttrs++
	return counting{c.Handler.WithAttrs(as), c.withAttrs}
}

func TestWithLazyFormatsNothingWhenNothingIsLogged(t *testing.T) {
	n := 0
	base := slog.New(counting{slog.NewTextHandler(&bytes.Buffer{}, &slog.HandlerOptions{Level: slog.LevelError}), &n})
	for i := 0; i < 100; i++ {
		lg := withLazy(base, "run_id", "r", "job_id", i)
		lg.Debug("job done", "artifacts", 3)
		lg.Info("findings")
	}
	if n != 0 {
		t.Fatalf("WithAttrs called %d times for 100 jobs that logged nothing; want 0", n)
	}
	withLazy(base, "run_id", "r").Error("boom")
	if n != 1 {
		t.Fatalf("WithAttrs called %d times for one logged error; want 1", n)
	}
}
