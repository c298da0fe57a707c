package monitor

import (
	"bytes"
	"context"
	"strings"
	"sync"
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
