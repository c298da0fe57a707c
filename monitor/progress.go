package monitor

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/afterlife-watch/afterlife/crawler"
)

// Display draws a per-source progress table on a terminal, redrawn in place. It never prints
// when the output is not a terminal (logs and the final summary are the machine-readable output).
type Display struct {
	W        io.Writer
	TTY      bool
	Stats    *Stats
	Frontier crawler.Frontier
	RunID    string
	Interval time.Duration
	// Now is the clock (default time.Now); the head shows the elapsed time, the rate and an
	// estimate of what is left from it.
	Now func() time.Time

	started time.Time
	mu      sync.Mutex
	lines   int
	last    []string
}

// Write lets log lines through while the table is drawn: the table is erased, the line written
// and the table drawn again below it, so logs and progress do not garble each other.
func (d *Display) Write(p []byte) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var b strings.Builder
	if d.lines > 0 {
		fmt.Fprintf(&b, "\x1b[%dA\x1b[J", d.lines)
	}
	b.Write(p)
	for _, l := range d.last {
		b.WriteString("\x1b[2K\r" + l + "\n")
	}
	d.lines = len(d.last)
	if _, err := io.WriteString(d.W, b.String()); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Start draws until the returned stop function is called; stop draws a last time.
func (d *Display) Start(ctx context.Context) (stop func()) {
	if !d.TTY || d.W == nil {
		return func() {}
	}
	d.started = d.now()
	iv := d.Interval
	if iv <= 0 {
		iv = 250 * time.Millisecond
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(iv)
		defer t.Stop()
		for {
			d.draw(ctx)
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return func() {
		cancel()
		<-done
		d.draw(context.Background())
	}
}

func (d *Display) draw(ctx context.Context) {
	var b strings.Builder
	head := "run " + d.RunID
	if d.Frontier != nil {
		if st, err := d.Frontier.Stats(ctx, d.RunID); err == nil {
			total := st.Pending + st.InFlight + st.Done + st.Dead
			head += fmt.Sprintf("  jobs %d/%d done, %d in flight, %d waiting, %d dead", st.Done+st.Dead, total, st.InFlight, st.Pending, st.Dead)
			head += "  " + bar(st.Done+st.Dead, total, 24)
			head += "  " + pace(st.Done+st.Dead, st.Pending+st.InFlight, d.now().Sub(d.started))
		}
	}
	lines := []string{head}
	for _, p := range d.Stats.Progress() {
		l := fmt.Sprintf("  %-18s %5d jobs %6d artifacts %5d new sightings %6d req %9s %4d cached %4d errors",
			Printable(p.Name, 18), p.Jobs, p.Artifacts, p.NewSightings, p.Requests, HumanBytes(p.WireBytes), p.Cached, p.Errors)
		if p.LastError != "" {
			l += "  " + Printable(p.LastError, 60)
		}
		lines = append(lines, l)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.lines > 0 {
		fmt.Fprintf(&b, "\x1b[%dA", d.lines)
	}
	for _, l := range lines {
		b.WriteString("\x1b[2K\r" + l + "\n")
	}
	d.lines = len(lines)
	d.last = lines
	_, _ = io.WriteString(d.W, b.String())
}

func (d *Display) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

// pace says how fast jobs finish, for how long the run has gone, and about how long the jobs
// still queued will take at that rate (follow-up jobs may add more).
func pace(finished, left int64, elapsed time.Duration) string {
	s := "elapsed " + elapsed.Round(time.Second).String()
	secs := elapsed.Seconds()
	if secs < 1 || finished == 0 {
		return s + ", rate and time left: measuring"
	}
	rate := float64(finished) / secs
	s = fmt.Sprintf("%.1f jobs/s, %s", rate, s)
	if left == 0 {
		return s + ", nothing queued"
	}
	return s + ", ~" + (time.Duration(float64(left)/rate) * time.Second).Round(time.Second).String() + " left for the queued jobs"
}

func bar(done, total int64, width int) string {
	if total <= 0 {
		return "[" + strings.Repeat(" ", width) + "]"
	}
	n := int(int64(width) * done / total)
	return "[" + strings.Repeat("#", n) + strings.Repeat(".", width-n) + "]"
}

// Printable strips control characters (crawled text may carry terminal escapes) and truncates.
func Printable(s string, max int) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	if r := []rune(s); len(r) > max {
		s = string(r[:max-1]) + "…"
	}
	return s
}

// HumanBytes renders a byte count (1.2 MB).
func HumanBytes(n int64) string {
	const unit = 1000
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %cB", float64(n)/float64(div), "kMGTPE"[exp])
}
