// Command frontier1m crawls a large frontier (default 1,000,000 URLs) from a loopback server with
// latency, through the real worker loop (monitor.Pool), the polite fetcher (politeness off: one
// loopback host) and the embedded on-disk frontier (crawler/frontier, SQLite), and prints the
// worker process's RSS and pages/s over time, then its peak RSS. The point: the frontier lives on
// disk, so the worker's memory stays flat however many URLs are queued.
//
//	go run ./bench/frontier1m -urls 1000000 -workers 8 -latency 5ms -duration 3m
//
// -duration bounds the crawl phase (0: until the frontier is drained); the summary says how many
// of the URLs were crawled.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/afterlife-watch/afterlife/artifact"
	"github.com/afterlife-watch/afterlife/configs"
	"github.com/afterlife-watch/afterlife/crawler"
	"github.com/afterlife-watch/afterlife/crawler/frontier"
	"github.com/afterlife-watch/afterlife/extract"
	"github.com/afterlife-watch/afterlife/monitor"
	"github.com/afterlife-watch/afterlife/reports"
)

func main() {
	urls := flag.Int("urls", 1_000_000, "URLs in the frontier")
	workers := flag.Int("workers", 8, "concurrent workers")
	latency := flag.Duration("latency", 5*time.Millisecond, "server latency per response")
	every := flag.Duration("every", 10*time.Second, "report interval")
	duration := flag.Duration("duration", 0, "stop the crawl after this long (0: until drained)")
	dir := flag.String("data", "", "data directory (default: a temporary one, removed at the end)")
	flag.Parse()
	if err := run(*urls, *workers, *latency, *every, *duration, *dir); err != nil {
		fmt.Fprintln(os.Stderr, "frontier1m:", err)
		os.Exit(1)
	}
}

// bench is the trivial source: each job is one page fetched and counted.
type bench struct{ pages atomic.Int64 }

func (b *bench) Name() string { return "bench" }
func (b *bench) Plan(context.Context, []*configs.Dataset) ([]crawler.Job, error) {
	return nil, nil
}
func (b *bench) Handle(ctx context.Context, job crawler.Job, f crawler.Fetcher) (crawler.Result, error) {
	resp, err := f.Fetch(ctx, crawler.Request{Source: "bench", URL: job.URL})
	if err != nil {
		return crawler.Result{}, err
	}
	if !resp.OK() {
		return crawler.Result{}, &crawler.StatusError{URL: job.URL, Status: resp.Status}
	}
	b.pages.Add(1)
	return crawler.Result{}, nil
}

// nop records nothing: the benchmark measures the frontier and the fetch loop.
type nop struct{}

func (nop) Record(context.Context, string, time.Time, artifact.Artifact, []extract.Finding) (reports.RecordResult, error) {
	return reports.RecordResult{}, nil
}
func (nop) RecordListing(context.Context, string, string, []string, time.Time, int) ([]string, error) {
	return nil, nil
}
func (nop) MarkGone(context.Context, string, []string, time.Time) error     { return nil }
func (nop) AddSourceStat(context.Context, string, reports.SourceStat) error { return nil }
func (nop) Match(*artifact.Artifact) []extract.Finding                      { return nil }
func (nop) RecordBatch(_ context.Context, _ string, _ time.Time, obs []reports.Observation) ([]reports.RecordResult, error) {
	return make([]reports.RecordResult, len(obs)), nil
}
func (nop) RecordProbe(context.Context, reports.SwarmProbe) error           { return nil }
func (nop) RecordFailure(context.Context, string, reports.JobFailure) error { return nil }

func procKB(field string) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return n
		}
	}
	return 0
}

func mib(kb int64) string { return fmt.Sprintf("%.1f MiB", float64(kb)/1024) }

func run(urls, workers int, latency, every, duration time.Duration, dir string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if dir == "" {
		d, err := os.MkdirTemp("", "frontier1m-*")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(latency)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id":%q,"title":"page"}`, r.URL.Path)
	})}
	go srv.Serve(ln)
	defer srv.Close()
	base := "http://" + ln.Addr().String()

	fr, err := frontier.Open(filepath.Join(dir, "frontier.db"), frontier.Options{MaxAttempts: 3})
	if err != nil {
		return err
	}
	defer fr.Close()
	const runID = "bench-run"
	fmt.Printf("frontier1m: %d URLs, %d workers, latency %s, GOMAXPROCS %d, data %s\n", urls, workers, latency, runtime.GOMAXPROCS(0), dir)
	fmt.Printf("start: rss %s\n", mib(procKB("VmRSS")))
	t0 := time.Now()
	const batch = 10_000
	jobs := make([]crawler.Job, 0, batch)
	for i := 0; i < urls; i++ {
		u := fmt.Sprintf("%s/item/%d", base, i)
		jobs = append(jobs, crawler.Job{ID: crawler.Key("bench", "page", u), RunID: runID, Source: "bench", Kind: "page", URL: u})
		if len(jobs) == batch || i == urls-1 {
			if _, err := fr.Enqueue(ctx, jobs...); err != nil {
				return err
			}
			jobs = jobs[:0]
		}
	}
	jobs = nil
	runtime.GC()
	fi, _ := os.Stat(filepath.Join(dir, "frontier.db"))
	var dbSize int64
	if fi != nil {
		dbSize = fi.Size()
	}
	fmt.Printf("enqueued %d jobs in %s (%.0f jobs/s); frontier.db %.1f MiB on disk; rss %s, peak %s\n",
		urls, time.Since(t0).Round(time.Millisecond), float64(urls)/time.Since(t0).Seconds(), float64(dbSize)/(1<<20),
		mib(procKB("VmRSS")), mib(procKB("VmHWM")))

	w := &configs.Watch{Contact: "mailto:bench@example.org", AllowLoopback: true, PolitenessOff: true}
	f, err := crawler.NewFetcher(w, crawler.FetcherOptions{Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		return err
	}
	src := &bench{}
	cctx := ctx
	if duration > 0 {
		var cancel context.CancelFunc
		cctx, cancel = context.WithTimeout(ctx, duration)
		defer cancel()
	}
	done := make(chan struct{})
	start := time.Now()
	go func() {
		t := time.NewTicker(every)
		defer t.Stop()
		last, lastT := int64(0), start
		for {
			select {
			case <-done:
				return
			case now := <-t.C:
				p := src.pages.Load()
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				fmt.Printf("t=%4.0fs pages=%8d  pages/s=%7.1f (avg %7.1f)  rss=%s  heap=%.1f MiB  goroutines=%d\n",
					now.Sub(start).Seconds(), p, float64(p-last)/now.Sub(lastT).Seconds(), float64(p)/now.Sub(start).Seconds(),
					mib(procKB("VmRSS")), float64(ms.HeapInuse)/(1<<20), runtime.NumGoroutine())
				last, lastT = p, now
			}
		}
	}()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	perr := monitor.Pool(cctx, runID, workers, monitor.Worker{Name: "bench", Frontier: fr, Fetcher: f,
		Sources: map[string]crawler.Source{"bench": src}, Matcher: nop{}, Recorder: nop{}, Log: log, ExitWhenDrained: true})
	close(done)
	el := time.Since(start)
	p := src.pages.Load()
	st, _ := fr.Stats(context.Background(), runID)
	fmt.Printf("crawled %d of %d URLs in %s: %.1f pages/s; frontier pending %d, done %d, dead %d\n",
		p, urls, el.Round(time.Millisecond), float64(p)/el.Seconds(), st.Pending, st.Done, st.Dead)
	fmt.Printf("peak RSS %s (VmHWM of the worker process, enqueue included)\n", mib(procKB("VmHWM")))
	if perr != nil && cctx.Err() == nil {
		return perr
	}
	return nil
}
