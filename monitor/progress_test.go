package monitor

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/afterlife-watch/afterlife/crawler"
)

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func TestDisplayDrawsOnTerminalOnly(t *testing.T) {
	st := NewStats(nil)
	st.jobDone("huggingface", 3, nil)
	st.jobError("github", &crawler.StatusError{URL: "https://api.github.com/x", Status: 503, Msg: "bad\x1b[31m gateway"})

	var quiet syncBuf
	stop := (&Display{W: &quiet, TTY: false, Stats: st, RunID: "r1"}).Start(context.Background())
	stop()
	if quiet.String() != "" {
		t.Fatalf("display wrote %q when not on a terminal", quiet.String())
	}

	var tty syncBuf
	d := &Display{W: &tty, TTY: true, Stats: st, RunID: "r1", Interval: time.Hour}
	d.draw(context.Background())
	d.Write([]byte("level=WARN msg=hello\n"))
	out := tty.String()
	for _, want := range []string{"run r1", "huggingface", "3 artifacts", "github", "1 errors", "level=WARN msg=hello", "\x1b[3A\x1b[J"} {
		if !strings.Contains(out, want) {
			t.Fatalf("display output lacks %q:\n%q", want, out)
		}
	}
	if strings.Contains(out, "\x1b[31m") {
		t.Fatal("an escape sequence from an error message reached the terminal")
	}
	// The log line is followed by the table drawn again.
	if i := strings.Index(out, "msg=hello"); !strings.Contains(out[i:], "huggingface") {
		t.Fatal("table not redrawn after the log line")
	}
}

// The head line shows the rate, the elapsed time and an estimate of what is left.
func TestDisplayShowsRateElapsedAndTimeLeft(t *testing.T) {
	st := NewStats(nil)
	fr := &countFrontier{stats: crawler.FrontierStats{Done: 30, Pending: 50, InFlight: 10}}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var offset atomic.Int64 // the clock, moved by the test while the display draws
	var tty syncBuf
	d := &Display{W: &tty, TTY: true, Stats: st, Frontier: fr, RunID: "r1", Interval: time.Hour,
		Now: func() time.Time { return t0.Add(time.Duration(offset.Load())) }}
	stop := d.Start(context.Background())
	offset.Store(int64(10 * time.Second))
	stop()
	out := tty.String()
	// 30 jobs in 10s: 3.0 jobs/s; 60 queued or in flight: ~20s left.
	for _, want := range []string{"3.0 jobs/s", "elapsed 10s", "~20s left"} {
		if !strings.Contains(out, want) {
			t.Errorf("progress head lacks %q:\n%q", want, out)
		}
	}
}

// countFrontier only answers Stats.
type countFrontier struct {
	crawler.Frontier
	stats crawler.FrontierStats
}

func (c *countFrontier) Stats(context.Context, string) (crawler.FrontierStats, error) {
	return c.stats, nil
}
