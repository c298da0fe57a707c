// Command redis-bench measures the distributed mode on one real redis-server it starts itself:
//
//  1. frontier throughput — jobs/s through enqueue → claim → ack — side by side with
//     `redis-benchmark` XADD on the same server;
//  2. end-to-end throughput of a demo-world run (with latency) with 1, 2 and 4 worker processes;
//  3. polite efficiency — achieved requests/s over the sum of the allowed per-host rates, with 50
//     hosts at 2 requests/s each, and the most requests any host saw in a 1-second window.
//
// Run it through bench/redis/run.sh; results go to bench/results/redis.md.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/afterlife-watch/afterlife/configs"
	"github.com/afterlife-watch/afterlife/crawler"
	"github.com/afterlife-watch/afterlife/crawler/redisq"
	_ "github.com/afterlife-watch/afterlife/crawler/sources"
	"github.com/afterlife-watch/afterlife/internal/demoworld"
	"github.com/afterlife-watch/afterlife/internal/redistest"
	"github.com/afterlife-watch/afterlife/monitor"
	"github.com/afterlife-watch/afterlife/reports"
)

func main() {
	bin := flag.String("bin", "", "afterlife binary for the worker processes (required for the end-to-end part)")
	jobs := flag.Int("jobs", 50000, "jobs through the frontier")
	latency := flag.Duration("latency", 50*time.Millisecond, "demo world latency")
	perHost := flag.Int("per-host", 30, "requests per host in the politeness part")
	parts := flag.String("parts", "frontier,e2e,polite", "which parts to run")
	flag.IntVar(&politeFrom, "polite-from", 0, "skip the first politeness configurations (debugging)")

	flag.Parse()
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	dir, err := os.MkdirTemp("", "afterlife-redis-bench-*")
	if err != nil {
		fail(err)
	}
	defer os.RemoveAll(dir)
	srv, err := redistest.StartProcess(redistest.Options{}, dir)
	if err != nil {
		fail(err)
	}
	defer srv.Kill()
	rv, _ := exec.Command("redis-server", "--version").Output()
	la, _ := os.ReadFile("/proc/loadavg")
	fmt.Printf("# Distributed mode on Redis — benchmark\n\n%s, %s, %d CPUs, %s, load average at start %s\n\n", strings.TrimSpace(string(rv)),
		time.Now().UTC().Format("2006-01-02"), runtimeProcs(), cpuModel(), strings.Join(strings.Fields(string(la))[:3], " "))
	ctx := context.Background()
	if strings.Contains(*parts, "frontier") {
		frontierPart(ctx, srv, *jobs)
	}
	if strings.Contains(*parts, "e2e") {
		if *bin == "" {
			fail(fmt.Errorf("-bin is required for the end-to-end part"))
		}
		e2ePart(ctx, srv, *bin, *latency, dir)
	}
	if strings.Contains(*parts, "polite") {
		politePart(ctx, srv, *perHost)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "redis-bench:", err)
	os.Exit(1)
}

func runtimeProcs() int {
	n, _ := exec.Command("nproc").Output()
	var p int
	fmt.Sscan(string(n), &p)
	return p
}

func cpuModel() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	m := regexp.MustCompile(`model name\s*:\s*(.*)`).FindSubmatch(b)
	if m == nil {
		return "unknown CPU"
	}
	return string(m[1])
}

// ---- 1. frontier vs redis-benchmark XADD ------------------------------------------------------

func frontierPart(ctx context.Context, srv *redistest.Server, n int) {
	fmt.Printf("## 1. Frontier throughput vs redis-benchmark XADD (same server)\n\n")
	fmt.Printf("| what | clients | ops | time | per second | vs XADD |\n|---|---|---|---|---|---|\n")
	xadd := redisBenchmark(srv, n, 8)
	fmt.Printf("| `redis-benchmark XADD` (1 command/op, no pipelining) | 8 | %d | – | %.0f XADD/s | 1.00 |\n", n, xadd)
	for _, batch := range []int{1, 10} {
		rate, el := frontierRun(ctx, srv, n, 8, batch)
		fmt.Printf("| frontier enqueue → claim → ack, claim batch %d | 8 | %d jobs | %v | %.0f jobs/s | %.2f |\n",
			batch, n, el.Round(time.Millisecond), rate, rate/xadd)
	}
	fmt.Println()
	fmt.Println("A job costs at least three round trips (enqueue script in batches of 500, claim script, ack " +
		"script — each atomic Lua: dedup set + stream + consumer group), so the frontier's jobs/s is " +
		"compared with single XADDs, the cheapest stream write.")
	fmt.Println()
}

func redisBenchmark(srv *redistest.Server, n, clients int) float64 {
	out, err := exec.Command("redis-benchmark", "-h", "127.0.0.1", "-p", fmt.Sprint(srv.Port), "-c", fmt.Sprint(clients),
		"-n", fmt.Sprint(n), "-q", "XADD", "bench:xadd", "*", "job", strings.Repeat("x", 160)).CombinedOutput()
	if err != nil {
		fail(fmt.Errorf("redis-benchmark: %v: %s", err, out))
	}
	// "XADD bench:xadd * job xxx: 81234.56 requests per second, p50=..."
	m := regexp.MustCompile(`([0-9.]+) requests per second`).FindAllSubmatch(out, -1)
	if m == nil {
		fail(fmt.Errorf("redis-benchmark output not understood: %s", out))
	}
	var v float64
	fmt.Sscan(string(m[len(m)-1][1]), &v)
	return v
}

func frontierRun(ctx context.Context, srv *redistest.Server, n, clients, batch int) (float64, time.Duration) {
	prefix := fmt.Sprintf("bench%d", batch)
	run := "r"
	rdb := redis.NewClient(srv.Options())
	defer rdb.Close()
	f := redisq.NewFrontier(rdb, redisq.Config{Prefix: prefix, LeaseTimeout: time.Minute})
	defer f.Close()
	jobs := make([]crawler.Job, n)
	for i := range jobs {
		u := fmt.Sprintf("https://huggingface.co/api/models/org/model-%d?full=true", i)
		jobs[i] = crawler.Job{ID: crawler.Key("huggingface", "model-info", u), RunID: run, Source: "huggingface", Kind: "model-info", URL: u, Dataset: "ms-celeb-1m"}
	}
	start := time.Now()
	var wg sync.WaitGroup
	// Producers enqueue in batches of 500 while consumers claim and ack.
	per := (n + clients - 1) / clients
	for c := 0; c < clients; c++ {
		lo, hi := c*per, min((c+1)*per, n)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := lo; i < hi; i += 500 {
				if _, err := f.Enqueue(ctx, jobs[i:min(i+500, hi)]...); err != nil {
					fail(err)
				}
			}
		}()
	}
	var done sync.WaitGroup
	var mu sync.Mutex
	acked := 0
	for c := 0; c < clients; c++ {
		done.Add(1)
		go func() {
			defer done.Done()
			for {
				ls, err := f.Claim(ctx, run, fmt.Sprint(c), batch)
				if err != nil {
					fail(err)
				}
				for _, l := range ls {
					if err := f.Ack(ctx, l); err != nil {
						fail(err)
					}
				}
				mu.Lock()
				acked += len(ls)
				all := acked >= n
				mu.Unlock()
				if all {
					return
				}
				if len(ls) == 0 {
					time.Sleep(time.Millisecond)
				}
			}
		}()
	}
	wg.Wait()
	done.Wait()
	el := time.Since(start)
	st, _ := f.Stats(ctx, run)
	if st.Done != int64(n) {
		fail(fmt.Errorf("frontier run: %+v, want %d done", st, n))
	}
	return float64(n) / el.Seconds(), el
}

// ---- 2. end to end with worker processes -------------------------------------------------------

func e2ePart(ctx context.Context, srv *redistest.Server, bin string, latency time.Duration, dir string) {
	fmt.Printf("## 2. End to end: demo world (latency %v per response), N worker processes × 4 workers\n\n", latency)
	fmt.Printf("| worker processes | jobs | sightings | run time | jobs/s | speed-up |\n|---|---|---|---|---|---|\n")
	var base float64
	for _, procs := range []int{1, 2, 4} {
		jobs, sights, el := e2eRun(ctx, srv, bin, latency, procs, filepath.Join(dir, fmt.Sprintf("e2e%d", procs)))
		rate := float64(jobs) / el.Seconds()
		if base == 0 {
			base = rate
		}
		fmt.Printf("| %d | %d | %d | %v | %.1f | %.2f× |\n", procs, jobs, sights, el.Round(time.Millisecond), rate, rate/base)
	}
	fmt.Println()
	fmt.Println("Run time is from queuing the run to the last finding in the store (coordinator: `redisq.Scan`, " +
		"workers: `afterlife worker` processes). The demo world's per-source rates (200/s) do not bind; " +
		"the latency does, so throughput scales with the number of workers until the run's critical path " +
		"(pagination, follow-up jobs) dominates.")
	fmt.Println()
}

func e2eRun(ctx context.Context, srv *redistest.Server, bin string, latency time.Duration, procs int, dir string) (int64, int, time.Duration) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		fail(err)
	}
	w, err := demoworld.New(demoworld.Options{Latency: latency})
	if err != nil {
		fail(err)
	}
	ws, err := demoworld.Start(w, "127.0.0.1:0")
	if err != nil {
		fail(err)
	}
	defer ws.Close()
	watch := ws.WatchConfig()
	b, _ := watch.Marshal()
	wfile := filepath.Join(dir, "watch.yaml")
	if err := os.WriteFile(wfile, b, 0o600); err != nil {
		fail(err)
	}
	watch, err = configs.LoadWatch(wfile)
	if err != nil {
		fail(err)
	}
	reg, err := configs.LoadRegistry("")
	if err != nil {
		fail(err)
	}
	prefix := fmt.Sprintf("e2e%d", procs)
	var cmds []*exec.Cmd
	for i := 0; i < procs; i++ {
		c := exec.Command(bin, "worker", "--redis", srv.URL, "--config", wfile, "--redis-prefix", prefix, "--workers", "4",
			"--log-level", "error", "--data", filepath.Join(dir, fmt.Sprint("w", i)))
		c.Stdout, c.Stderr = io.Discard, os.Stderr
		c.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if err := c.Start(); err != nil {
			fail(err)
		}
		cmds = append(cmds, c)
	}
	defer func() {
		for _, c := range cmds {
			_ = c.Process.Signal(syscall.SIGTERM)
			_ = c.Wait()
		}
	}()
	st, err := reports.OpenStore(filepath.Join(dir, reports.StoreFile))
	if err != nil {
		fail(err)
	}
	defer st.Close()
	rdb := redis.NewClient(srv.Options())
	defer rdb.Close()
	time.Sleep(500 * time.Millisecond) // let the workers connect and subscribe
	start := time.Now()
	bk, err := monitor.NewRedisBackend(rdb, monitor.RedisOptions{Config: redisq.Config{Prefix: prefix}, Store: st, StateDir: dir})
	if err != nil {
		fail(err)
	}
	defer bk.Close()
	res, err := monitor.Run(ctx, bk, monitor.RunConfig{Watch: watch, Registry: reg, Workers: -1})
	if err != nil {
		fail(err)
	}
	el := time.Since(start)
	fr := redisq.NewFrontier(rdb, redisq.Config{Prefix: prefix})
	defer fr.Close()
	fs, _ := fr.Stats(ctx, res.Run.ID)
	ss, _ := st.Sightings(ctx, reports.SightingQuery{})
	return fs.Done + fs.Dead, len(ss), el
}

// ---- 3. polite efficiency -----------------------------------------------------------------------

type hostLog struct {
	mu    sync.Mutex
	times []time.Time
	urls  []string
}

func (h *hostLog) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	h.times = append(h.times, time.Now())
	h.urls = append(h.urls, "http://"+r.Host+r.URL.Path)
	h.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, `{"ok":true}`)
}

func maxInWindow(ts []time.Time, win time.Duration) int {
	ts = append([]time.Time(nil), ts...)
	sort.Slice(ts, func(i, j int) bool { return ts[i].Before(ts[j]) })
	best, j := 0, 0
	for i := range ts {
		for ts[i].Sub(ts[j]) >= win {
			j++
		}
		best = max(best, i-j+1)
	}
	return best
}

var politeFrom int

func politePart(ctx context.Context, srv *redistest.Server, perHost int) {
	const hosts, rate, procs = 50, 2.0, 4
	fmt.Printf("## 3. Polite efficiency: %d hosts × %.0f requests/s, %d processes sharing one Redis limiter\n\n", hosts, rate, procs)
	fmt.Printf("| workers per process | candidates per claim | defer when the slot is further than | margin | requests | run time | achieved req/s | allowed req/s | efficiency | most requests to one host in any 1 s window (limit %.0f) | same, after each host's first 3 requests |\n|---|---|---|---|---|---|---|---|---|---|---|\n", rate)
	for i, c := range []struct {
		workers int
		maxWait time.Duration
		margin  float64
		choose  int
	}{{32, 0, 0.02, 1}, {128, 0, 0.02, 1}, {32, 0, 0.02, 4}, {128, 0, 0.02, 4}, {128, 0, 0.02, 8}, {128, 0, -1, 4}, {128, time.Second, 0.02, 4}}[politeFrom:] {
		politeRun(ctx, srv, perHost, hosts, rate, procs, c.workers, c.maxWait, c.margin, c.choose, i)
	}
	fmt.Printf("\nEfficiency = (requests − hosts) / (last − first request) / Σ allowed rates (the first request to each host " +
		"is free at t=0, so intervals are counted). The 1-second-window columns are measured by the servers, on arrival. " +
		"Each fetcher takes its source's and host's slots on the shared limiter right before each attempt " +
		"(`crawler.FetcherOptions.Limiter`): it books the next slot of every key (GCRA, spaced `LimiterConfig.Margin` " +
		"wider than the rate), sleeps, then confirms on a floor that counts each earlier request until it was answered — " +
		"an upper bound of when the server saw it — so no window as the server measures it can hold more than the limit, " +
		"whatever the delay between grant and server; the margin only keeps the floor from having to hold requests back.\n\n" +
		"Candidates per claim: `redisq.Polite` draws that many jobs from the FIFO stream, hands out the one whose host is " +
		"free soonest and puts the others straight back; with 1, each worker waits for whatever host its job has (host " +
		"utilisation ≈ W/(W+hosts−1) for W waiting workers).\n\n")
}

func politeRun(ctx context.Context, srv *redistest.Server, perHost, hosts int, rate float64, procs, perProc int, maxWait time.Duration, margin float64, choose, round int) {
	logs := make([]*hostLog, hosts)
	watch := &configs.Watch{Contact: "bench", AllowLoopback: true, Sources: map[string]configs.SourceConfig{}}
	var jobs []crawler.Job
	for h := 0; h < hosts; h++ {
		logs[h] = &hostLog{}
		s := httptest.NewServer(logs[h])
		defer s.Close()
		name := fmt.Sprintf("h%02d", h)
		watch.Sources[name] = configs.SourceConfig{Enabled: true, BaseURL: s.URL, Rate: rate, Burst: 1}
		for i := 0; i < perHost; i++ {
			u := fmt.Sprintf("%s/item/%d", s.URL, i)
			jobs = append(jobs, crawler.Job{ID: crawler.Key(name, "item", u), RunID: "polite", Source: name, Kind: "item", URL: u})
		}
	}
	rand.Shuffle(len(jobs), func(i, j int) { jobs[i], jobs[j] = jobs[j], jobs[i] })
	prefix := fmt.Sprintf("polite%d", round)
	seed := redis.NewClient(srv.Options())
	defer seed.Close()
	f0 := redisq.NewFrontier(seed, redisq.Config{Prefix: prefix})
	defer f0.Close()
	if _, err := f0.Enqueue(ctx, jobs...); err != nil {
		fail(err)
	}
	start := time.Now()
	var wg sync.WaitGroup
	for p := 0; p < procs; p++ {
		rdb := redis.NewClient(srv.Options())
		defer rdb.Close()
		fr := redisq.NewFrontier(rdb, redisq.Config{Prefix: prefix, Heartbeat: true})
		defer fr.Close()
		lim := redisq.NewLimiter(rdb, redisq.LimiterConfig{Prefix: prefix, Margin: margin})
		fetch, err := crawler.NewFetcher(watch, crawler.FetcherOptions{Limiter: lim})
		if err != nil {
			fail(err)
		}
		mw := maxWait
		if mw <= 0 {
			mw = time.Hour
		}
		pf := &redisq.Polite{Frontier: fr, Limits: redisq.NewRates(lim, watch), MaxWait: mw, Choose: choose}
		for w := 0; w < perProc; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					ls, err := pf.Claim(ctx, "polite", fmt.Sprint(w), 1)
					if err != nil {
						fail(err)
					}
					if len(ls) == 0 {
						st, err := fr.Stats(ctx, "polite")
						if err != nil {
							fail(err)
						}
						if st.Drained() {
							return
						}
						if st.Pending > 0 && st.InFlight == 0 {
							// only deferred jobs left: wait for the earliest
							if t, _ := fr.NextReady(ctx, "polite"); !t.IsZero() {
								time.Sleep(min(max(time.Until(t), time.Millisecond), 200*time.Millisecond))
								continue
							}
						}
						time.Sleep(20 * time.Millisecond)
						continue
					}
					l := ls[0]
					if _, err := fetch.Fetch(ctx, crawler.Request{Source: l.Job.Source, URL: l.Job.URL}); err != nil {
						fail(err)
					}
					if err := fr.Ack(ctx, l); err != nil {
						fail(err)
					}
				}
			}()
		}
	}
	wg.Wait()
	el := time.Since(start)
	total, worst, worstWarm := 0, 0, 0
	var first, last time.Time
	for _, h := range logs {
		total += len(h.times)
		worst = max(worst, maxInWindow(h.times, time.Second))
		ts := append([]time.Time(nil), h.times...)
		sort.Slice(ts, func(i, j int) bool { return ts[i].Before(ts[j]) })
		if len(ts) > 3 {
			worstWarm = max(worstWarm, maxInWindow(ts[3:], time.Second))
		}
		for _, t := range h.times {
			if first.IsZero() || t.Before(first) {
				first = t
			}
			if t.After(last) {
				last = t
			}
		}
	}
	if os.Getenv("BENCH_GAPS") != "" {
		var gaps []float64
		for _, h := range logs {
			ts := append([]time.Time(nil), h.times...)
			sort.Slice(ts, func(i, j int) bool { return ts[i].Before(ts[j]) })
			for k := 1; k < len(ts); k++ {
				gaps = append(gaps, ts[k].Sub(ts[k-1]).Seconds())
			}
		}
		sort.Float64s(gaps)
		q := func(p float64) float64 { return gaps[int(p*float64(len(gaps)-1))] }
		fmt.Fprintf(os.Stderr, "gaps: min %.3f p10 %.3f p50 %.3f p90 %.3f p99 %.3f max %.3f\n", q(0), q(0.1), q(0.5), q(0.9), q(0.99), q(1))
	}
	allowed := float64(hosts) * rate
	// N requests at the limit span (N-1)/rate seconds per host: count the intervals, not the requests.
	span := last.Sub(first).Seconds()
	achieved := float64(total-hosts) / span
	defer_ := "never"
	if maxWait > 0 {
		defer_ = maxWait.String()
	}
	fmt.Printf("| %d | %d | %s | %.0f%% | %d | %v | %.1f | %.0f | **%.3f** | %d%s | %d |\n", perProc, choose, defer_, max(margin, 0)*100, total, el.Round(time.Millisecond),
		achieved, allowed, achieved/allowed, worst, map[bool]string{true: " (BEATEN)", false: ""}[worst > int(rate)], worstWarm)
}
