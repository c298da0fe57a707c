// Command crawl-bench measures the sources side by side, in one run, against the offline demo world
// on 127.0.0.1 with politeness off:
//
//  1. the full Afterlife pipeline (monitor.Run: frontier, fetch, parse, match, store into a fresh
//     data directory), recording every URL the world served to it;
//  2. a bare colly v2 collector fetching the same URLs with the same concurrency, no parsing;
//  3. Scrapy (Debian's python3-scrapy, bench/crawl/spider.py) fetching the same URLs.
//
// Each is measured -rounds times (alternating order) over -scans replays and the medians are
// printed with the ratios. Then an unchanged world is scanned twice into one data directory and the
// second scan's bytes are printed as a share of the first's. Run it through bench/crawl/run.sh.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gocolly/colly/v2"

	"github.com/afterlife-watch/afterlife/configs"
	_ "github.com/afterlife-watch/afterlife/crawler/sources" // registers every source adapter
	"github.com/afterlife-watch/afterlife/internal/demoworld"
	"github.com/afterlife-watch/afterlife/monitor"
	"github.com/afterlife-watch/afterlife/reports"
)

type options struct {
	rounds, scans, workers int
	latency                time.Duration
	python, spider         string
	cpuProfile             string
	memProfile             string
	scale                  int
	skipRescan             bool
	tmpDir                 string
	trace                  string
	shm                    string
	noScrapy               bool
	phases                 bool
}

func main() {
	var o options
	flag.IntVar(&o.rounds, "rounds", 3, "measurement rounds (order alternates); medians are reported")
	flag.IntVar(&o.scans, "scans", 3, "pipeline scans (fresh data dirs) per measurement; colly and Scrapy replay the URL list as many times")
	flag.IntVar(&o.scale, "scale", 1, "the demo world's scale (afterlife demo --scale N): 1 is the planted world, N plants ~N times as many artifacts, so a scan fetches more pages and its fixed costs weigh less")
	flag.IntVar(&o.workers, "workers", 4, "pipeline workers = colly Parallelism = Scrapy CONCURRENT_REQUESTS")
	flag.DurationVar(&o.latency, "latency", 0, "delay the demo world adds to every response (e.g. 20ms)")
	flag.StringVar(&o.python, "python", "/usr/bin/python3", "python with Debian's scrapy")
	flag.StringVar(&o.spider, "spider", "bench/crawl/spider.py", "the Scrapy spider")
	flag.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the pipeline measurements to this file")
	flag.StringVar(&o.memProfile, "memprofile", "", "write an allocation profile (alloc_space: every allocation since the start, both sides; focus on monitor. for the pipeline) to this file at the end")
	flag.StringVar(&o.tmpDir, "tmp", "", "parent of the temporary data directories (default $TMPDIR or /tmp)")
	flag.StringVar(&o.trace, "trace", "", "write a runtime trace of the first pipeline measurement to this file (go tool trace -pprof=syscall|sync|net FILE)")
	flag.StringVar(&o.shm, "shm", "/dev/shm", "also measure the pipeline with its data dirs on this tmpfs (fsync costs nothing there) to show the durability cost; empty: skip")
	flag.BoolVar(&o.skipRescan, "skip-rescan", false, "skip the re-scan bytes measurement")
	flag.BoolVar(&o.noScrapy, "no-scrapy", false, "measure only the pipeline and bare colly")
	flag.BoolVar(&o.phases, "phases", false, "print each pipeline scan's phases: store open, backend open, run start to first request, first to last request, last request to run end, backend close, store close (ms)")
	flag.Parse()
	if abs, err := filepath.Abs(o.spider); err == nil {
		o.spider = abs
	}
	if err := run(context.Background(), o); err != nil {
		fmt.Fprintln(os.Stderr, "crawl-bench:", err)
		os.Exit(1)
	}
}

// recorder wraps the demo world: it counts requests and body bytes and, while recording, keeps the
// request URIs in order.
type recorder struct {
	h         http.Handler
	requests  atomic.Int64
	bytes     atomic.Int64
	notMod    atomic.Int64
	errStatus atomic.Int64 // >= 400
	mu        sync.Mutex
	recording bool
	uris      []string
	methods   map[string]int
	failed    map[string]int // "status /source" of >= 400 answers while recording
	first     time.Time      // first and last request since reset
	last      time.Time
}

// span returns the first and last request times since the last window (zero if none).
func (r *recorder) span() (time.Time, time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.first, r.last
}

// window returns the time from the first request to the last since the previous call.
func (r *recorder) window() time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	d := r.last.Sub(r.first)
	r.first, r.last = time.Time{}, time.Time{}
	return d
}

type countingWriter struct {
	http.ResponseWriter
	n      int64
	status int
}

func (c *countingWriter) WriteHeader(s int) {
	if c.status == 0 {
		c.status = s
	}
	c.ResponseWriter.WriteHeader(s)
}

func (c *countingWriter) Write(b []byte) (int, error) {
	if c.status == 0 {
		c.status = http.StatusOK
	}
	n, err := c.ResponseWriter.Write(b)
	c.n += int64(n)
	return n, err
}

func (r *recorder) ServeHTTP(rw http.ResponseWriter, req *http.Request) {
	r.requests.Add(1)
	r.mu.Lock()
	now := time.Now()
	if r.first.IsZero() {
		r.first = now
	}
	r.last = now
	if r.recording {
		r.uris = append(r.uris, req.URL.RequestURI())
		r.methods[req.Method]++
	}
	r.mu.Unlock()
	cw := &countingWriter{ResponseWriter: rw}
	r.h.ServeHTTP(cw, req)
	r.bytes.Add(cw.n)
	if cw.status >= 400 {
		r.mu.Lock()
		if r.recording {
			src := strings.SplitN(strings.TrimPrefix(req.URL.Path, "/"), "/", 2)[0]
			r.failed[fmt.Sprintf("%d /%s", cw.status, src)]++
		}
		r.mu.Unlock()
	}
	switch {
	case cw.status == http.StatusNotModified:
		r.notMod.Add(1)
	case cw.status >= 400:
		r.errStatus.Add(1)
	}
}

type snap struct{ requests, bytes, notMod, errStatus int64 }

func (r *recorder) snap() snap {
	return snap{r.requests.Load(), r.bytes.Load(), r.notMod.Load(), r.errStatus.Load()}
}

func (s snap) sub(o snap) snap {
	return snap{s.requests - o.requests, s.bytes - o.bytes, s.notMod - o.notMod, s.errStatus - o.errStatus}
}

type bench struct {
	o     options
	rec   *recorder
	url   string
	watch *configs.Watch
	reg   *configs.Registry
	log   *slog.Logger
	tmp   string
}

type measure struct {
	pages   int64
	seconds float64
	extra   string
	cpu     time.Duration // CPU time of this process (or of the Scrapy child) during the measurement
}

// cpuTime is the user+system CPU time of this process (who = RUSAGE_SELF) or of its waited-for
// children (RUSAGE_CHILDREN).
func cpuTime(who int) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(who, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func (m measure) rate() float64 { return float64(m.pages) / m.seconds }

func run(ctx context.Context, o options) error {
	world, err := demoworld.New(demoworld.Options{Latency: o.latency, Scale: o.scale})
	if err != nil {
		return err
	}
	rec := &recorder{h: world, methods: map[string]int{}, failed: map[string]int{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: rec, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	base := "http://" + ln.Addr().String()
	wc := (&demoworld.Server{World: world, URL: base}).WatchConfig()
	wc.File = "demo world " + base
	wc.PolitenessOff = true
	wc.Workers = o.workers
	reg, err := configs.LoadRegistry("")
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(o.tmpDir, "afterlife-crawl-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	b := &bench{o: o, rec: rec, url: base, watch: wc, reg: reg, tmp: tmp,
		log: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))}

	load, _ := os.ReadFile("/proc/loadavg")
	fmt.Printf("machine: %d CPUs (GOMAXPROCS %d), load average %s", runtime.NumCPU(), runtime.GOMAXPROCS(0), load)
	fmt.Printf("demo world on %s, latency %s, politeness off, concurrency %d, %d rounds x %d scans/replays\n",
		base, o.latency, o.workers, o.rounds, o.scans)

	// Warm-up scan: records the URL list every tool fetches.
	rec.mu.Lock()
	rec.recording = true
	rec.mu.Unlock()
	m, err := b.scans(ctx, tmp, 1, true)
	if err != nil {
		return err
	}
	rec.mu.Lock()
	rec.recording = false
	uris := append([]string(nil), rec.uris...)
	methods := fmt.Sprint(rec.methods)
	failed := fmt.Sprint(rec.failed)
	rec.mu.Unlock()
	fmt.Printf("warm-up scan: %d requests (methods %s) in %.2fs; this URL list is what colly and Scrapy fetch\n",
		len(uris), methods, m.seconds)
	fmt.Printf("  answers >= 400 in it (status /source: count): %s\n", failed)
	if len(uris) == 0 {
		return errors.New("the warm-up scan fetched nothing")
	}
	urls := make([]string, 0, len(uris)*o.scans)
	for i := 0; i < o.scans; i++ {
		for _, u := range uris {
			urls = append(urls, base+u)
		}
	}
	listFile := filepath.Join(tmp, "urls.txt")
	if err := os.WriteFile(listFile, []byte(strings.Join(urls, "\n")+"\n"), 0o644); err != nil {
		return err
	}
	if keep := os.Getenv("CRAWL_BENCH_URLS"); keep != "" {
		_ = os.WriteFile(keep, []byte(strings.Join(uris, "\n")+"\n"), 0o644)
	}

	var prof *os.File
	if o.cpuProfile != "" {
		if prof, err = os.Create(o.cpuProfile); err != nil {
			return err
		}
		defer prof.Close()
	}
	names := []string{"pipeline", "colly"}
	if o.shm != "" {
		if st, err := os.Stat(o.shm); err != nil || !st.IsDir() {
			fmt.Printf("no %s: skipping the tmpfs pipeline row\n", o.shm)
			o.shm = ""
		} else {
			names = []string{"pipeline", "pipeline-shm", "colly"}
		}
	}
	if !o.noScrapy {
		names = append(names, "scrapy")
	}
	results := map[string][]measure{}
	for r := 0; r < o.rounds; r++ {
		order := append([]string(nil), names...)
		if r%2 == 1 {
			for i, j := 0, len(order)-1; i < j; i, j = i+1, j-1 {
				order[i], order[j] = order[j], order[i]
			}
		}
		for _, name := range order {
			var m measure
			var err error
			cpu0 := cpuTime(syscall.RUSAGE_SELF)
			switch name {
			case "pipeline":
				if prof != nil {
					if err := pprof.StartCPUProfile(prof); err != nil && !strings.Contains(err.Error(), "already") {
						return err
					}
				}
				var tf *os.File
				if o.trace != "" && r == 0 {
					if tf, err = os.Create(o.trace); err != nil {
						return err
					}
					if err := trace.Start(tf); err != nil {
						return err
					}
				}
				m, err = b.scans(ctx, b.tmp, o.scans, false)
				if tf != nil {
					trace.Stop()
					tf.Close()
				}
				if prof != nil {
					pprof.StopCPUProfile()
					prof = nil // one profiled measurement (pprof cannot append)
				}
			case "pipeline-shm":
				var dir string
				if dir, err = os.MkdirTemp(o.shm, "afterlife-crawl-bench-"); err != nil {
					return err
				}
				m, err = b.scans(ctx, dir, o.scans, false)
				_ = os.RemoveAll(dir)
			case "colly":
				m, err = b.colly(urls)
			case "scrapy":
				m, err = b.scrapy(ctx, listFile, len(urls))
			}
			if err != nil {
				return fmt.Errorf("round %d, %s: %w", r+1, name, err)
			}
			if name != "scrapy" {
				m.cpu = cpuTime(syscall.RUSAGE_SELF) - cpu0
			}
			fmt.Printf("round %d  %-12s %6d pages in %6.2fs = %7.1f pages/s, CPU %4.0f µs/page (%3.0f%% of one core)  %s\n", r+1, name, m.pages,
				m.seconds, m.rate(), float64(m.cpu.Microseconds())/float64(m.pages), 100*m.cpu.Seconds()/m.seconds, m.extra)
			results[name] = append(results[name], m)
		}
	}
	med := map[string]float64{}
	fmt.Printf("\nmedians over %d rounds (pages/s):\n", o.rounds)
	for _, n := range names {
		med[n] = median(results[n])
		fmt.Printf("  %-38s %8.1f   (rounds: %s; CPU µs/page median %.0f)\n", label(n, o.workers), med[n], rates(results[n]), medianCPU(results[n]))
	}
	var ratios []float64
	for i := range results["pipeline"] {
		ratios = append(ratios, results["pipeline"][i].rate()/results["colly"][i].rate())
	}
	sort.Float64s(ratios)
	fmt.Printf("ratio pipeline / bare colly: %.2fx (of the medians); per round, sorted: %s\n", med["pipeline"]/med["colly"], fmtRatios(ratios))
	if o.shm != "" {
		fmt.Printf("ratio pipeline on tmpfs / bare colly: %.2fx (what the frontier's fsyncs cost: pipeline on disk / on tmpfs = %.2fx)\n",
			med["pipeline-shm"]/med["colly"], med["pipeline"]/med["pipeline-shm"])
	}
	if !o.noScrapy {
		fmt.Printf("ratio pipeline / Scrapy:     %.2fx\n", med["pipeline"]/med["scrapy"])
		fmt.Printf("ratio bare colly / Scrapy:   %.2fx\n", med["colly"]/med["scrapy"])
	}
	load, _ = os.ReadFile("/proc/loadavg")
	fmt.Printf("load average at the end: %s", load)
	if o.memProfile != "" {
		if err := writeHeapProfile(o.memProfile); err != nil {
			return err
		}
	}

	if !o.skipRescan {
		fmt.Println()
		if err := b.rescan(ctx, "default incremental policy (as afterlife scan)", monitor.DefaultIncremental()); err != nil {
			return err
		}
		if err := b.rescan(ctx, "no incremental policy (conditional requests only)", nil); err != nil {
			return err
		}
	}
	return nil
}

func label(n string, workers int) string {
	switch n {
	case "pipeline":
		return fmt.Sprintf("Afterlife pipeline (%d workers)", workers)
	case "pipeline-shm":
		return fmt.Sprintf("  same, data dir on tmpfs (%d workers)", workers)
	case "colly":
		return fmt.Sprintf("bare colly v2 (Parallelism %d)", workers)
	default:
		return fmt.Sprintf("Scrapy (CONCURRENT_REQUESTS %d)", workers)
	}
}

func rates(ms []measure) string {
	var parts []string
	for _, m := range ms {
		parts = append(parts, fmt.Sprintf("%.0f", m.rate()))
	}
	return strings.Join(parts, ", ")
}

func fmtRatios(rs []float64) string {
	var parts []string
	for _, r := range rs {
		parts = append(parts, fmt.Sprintf("%.2f", r))
	}
	return strings.Join(parts, ", ")
}

func medianCPU(ms []measure) float64 {
	var xs []float64
	for _, m := range ms {
		if m.cpu > 0 {
			xs = append(xs, float64(m.cpu.Microseconds())/float64(m.pages))
		}
	}
	if len(xs) == 0 {
		return 0
	}
	sort.Float64s(xs)
	if len(xs)%2 == 1 {
		return xs[len(xs)/2]
	}
	return (xs[len(xs)/2-1] + xs[len(xs)/2]) / 2
}

func median(ms []measure) float64 {
	rs := make([]float64, len(ms))
	for i, m := range ms {
		rs[i] = m.rate()
	}
	sort.Float64s(rs)
	if len(rs)%2 == 1 {
		return rs[len(rs)/2]
	}
	return (rs[len(rs)/2-1] + rs[len(rs)/2]) / 2
}

// scans runs n full pipeline scans, each into a fresh data directory, and times them together.
func (b *bench) scans(ctx context.Context, parent string, n int, check bool) (measure, error) {
	before := b.rec.snap()
	var total time.Duration
	var artifacts, newS int64
	var crawl time.Duration
	for i := 0; i < n; i++ {
		dir, err := os.MkdirTemp(parent, "data-")
		if err != nil {
			return measure{}, err
		}
		b.rec.window()
		res, d, err := b.scan(ctx, dir, monitor.DefaultIncremental())
		if err != nil {
			return measure{}, err
		}
		total += d
		crawl += b.rec.window()
		newS += int64(res.Run.New)
		for _, s := range res.Run.Sources {
			artifacts += s.Artifacts
			if check && s.Status != monitor.StatusOK {
				fmt.Printf("  note: source %s status %s: %s\n", s.Name, s.Status, s.Message)
			}
		}
		_ = os.RemoveAll(dir)
	}
	d := b.rec.snap().sub(before)
	return measure{pages: d.requests, seconds: total.Seconds(),
		extra: fmt.Sprintf("(%d artifacts matched+stored, %d new sightings, %d error statuses; first to last request %.2fs = %.0f pages/s)",
			artifacts, newS, d.errStatus, crawl.Seconds(), float64(d.requests)/crawl.Seconds())}, nil
}

// scan is one monitor.Run (embedded backend) into dir (no reports rendered: fetch, parse, match, store).
func (b *bench) scan(ctx context.Context, dir string, inc *monitor.Incremental) (monitor.Result, time.Duration, error) {
	t0 := time.Now()
	store, err := reports.OpenStore(filepath.Join(dir, reports.StoreFile))
	if err != nil {
		return monitor.Result{}, 0, err
	}
	start := time.Now()
	// monitortest.Embedded, with its phases timed for -phases.
	be, err := monitor.OpenEmbedded(dir, store)
	if err != nil {
		store.Close()
		return monitor.Result{}, 0, err
	}
	opened := time.Now()
	res, err := monitor.Run(ctx, be, monitor.RunConfig{Watch: b.watch, Registry: b.reg,
		Workers: b.o.workers, Version: "bench", Log: b.log, Incremental: inc})
	ran := time.Now()
	var wal string
	if b.o.phases {
		for _, f := range []string{monitor.FrontierFile, monitor.CacheFile, reports.StoreFile} {
			if fi, err := os.Stat(filepath.Join(dir, f+"-wal")); err == nil {
				wal += fmt.Sprintf(" %s-wal %d KiB", f, fi.Size()>>10)
			}
		}
	}
	cerr := be.Close()
	el := time.Since(start)
	closed := time.Now()
	serr := store.Close()
	if b.o.phases {
		first, last := b.rec.span()
		ms := func(a, z time.Time) float64 { return float64(z.Sub(a).Microseconds()) / 1000 }
		fmt.Printf("  phases (ms): store open %.1f, backend open %.1f, start to first request %.1f, crawl %.1f, last request to end %.1f, backend close %.1f, store close %.1f;%s\n",
			ms(t0, start), ms(start, opened), ms(opened, first), ms(first, last), ms(last, ran), ms(ran, closed), ms(closed, time.Now()), wal)
	}
	return res, el, errors.Join(err, cerr, serr)
}

// colly fetches urls with a bare colly collector: Async, Parallelism = workers, no parsing.
func (b *bench) colly(urls []string) (measure, error) {
	before := b.rec.snap()
	c := colly.NewCollector(colly.Async(true), colly.AllowURLRevisit(), colly.IgnoreRobotsTxt(), colly.ParseHTTPErrorResponse())
	if err := c.Limit(&colly.LimitRule{DomainGlob: "*", Parallelism: b.o.workers}); err != nil {
		return measure{}, err
	}
	// Keep as many idle connections as there are requests in flight (the default transport keeps
	// 2 per host), as the pipeline's fetcher does: the baseline gets the same connection reuse.
	c.WithTransport(&http.Transport{Proxy: nil, MaxIdleConnsPerHost: b.o.workers, IdleConnTimeout: 90 * time.Second,
		DialContext: (&net.Dialer{Timeout: 10 * time.Second}).DialContext})
	var ok, failed atomic.Int64
	c.OnResponse(func(*colly.Response) { ok.Add(1) })
	c.OnError(func(*colly.Response, error) { failed.Add(1) })
	start := time.Now()
	for _, u := range urls {
		if err := c.Visit(u); err != nil {
			failed.Add(1)
		}
	}
	c.Wait()
	el := time.Since(start)
	d := b.rec.snap().sub(before)
	return measure{pages: d.requests, seconds: el.Seconds(),
		extra: fmt.Sprintf("(%d responses, %d errors)", ok.Load(), failed.Load())}, nil
}

// scrapy runs the spider over the URL list; the rate uses the spider's own clock (first request
// to close), so Python and Scrapy start-up is not counted; the process time is shown too.
func (b *bench) scrapy(ctx context.Context, listFile string, n int) (measure, error) {
	before := b.rec.snap()
	out := filepath.Join(b.tmp, "scrapy-result.json")
	_ = os.Remove(out)
	conc := fmt.Sprint(b.o.workers)
	cmd := exec.CommandContext(ctx, b.o.python, "-m", "scrapy", "runspider", b.o.spider, "--loglevel", "WARNING",
		"-a", "urls="+listFile, "-a", "out="+out,
		"-s", "CONCURRENT_REQUESTS="+conc, "-s", "CONCURRENT_REQUESTS_PER_DOMAIN="+conc, "-s", "CONCURRENT_REQUESTS_PER_IP=0")
	var log strings.Builder
	cmd.Stdout, cmd.Stderr = &log, &log
	cmd.Dir = b.tmp // no scrapy.cfg there: the spider's own settings only
	start := time.Now()
	cpu0 := cpuTime(syscall.RUSAGE_CHILDREN)
	if err := cmd.Run(); err != nil {
		return measure{}, fmt.Errorf("scrapy: %w\n%s", err, log.String())
	}
	wall := time.Since(start)
	raw, err := os.ReadFile(out)
	if err != nil {
		return measure{}, fmt.Errorf("scrapy result: %w", err)
	}
	var res struct {
		Responses int64   `json:"responses"`
		Errors    int64   `json:"errors"`
		Seconds   float64 `json:"seconds"`
	}
	if err := json.Unmarshal(raw, &res); err != nil {
		return measure{}, fmt.Errorf("scrapy result: %w", err)
	}
	d := b.rec.snap().sub(before)
	if d.requests < int64(n) {
		return measure{}, fmt.Errorf("scrapy fetched %d of %d URLs", d.requests, n)
	}
	return measure{pages: d.requests, seconds: res.Seconds, cpu: cpuTime(syscall.RUSAGE_CHILDREN) - cpu0,
		extra: fmt.Sprintf("(%d responses, %d errors; process %.2fs incl. start-up)", res.Responses, res.Errors, wall.Seconds())}, nil
}

// rescan scans an unchanged world twice into one fresh data directory and prints the second
// scan's bytes as a share of the first's.
func (b *bench) rescan(ctx context.Context, what string, inc *monitor.Incremental) error {
	dir, err := os.MkdirTemp(b.tmp, "rescan-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	type cost struct {
		srv               snap
		fetchBytes, reqs  int64
		cached, artifacts int64
		secs              float64
		sources           []reports.SourceStat
	}
	var costs [2]cost
	for i := range costs {
		before := b.rec.snap()
		res, d, err := b.scan(ctx, dir, inc)
		if err != nil {
			return err
		}
		c := cost{srv: b.rec.snap().sub(before), secs: d.Seconds(), sources: res.Run.Sources}
		for _, s := range res.Run.Sources {
			c.fetchBytes += s.Bytes
			c.reqs += s.Requests
			c.cached += s.Cached
			c.artifacts += s.Artifacts
		}
		costs[i] = c
	}
	fmt.Printf("re-scan of an unchanged world, %s:\n", what)
	for i, c := range costs {
		fmt.Printf("  scan %d: %5d requests (%4d answered 304), %8d body bytes served, fetcher wire bytes %8d, %4d artifacts, %.2fs\n",
			i+1, c.srv.requests, c.srv.notMod, c.srv.bytes, c.fetchBytes, c.artifacts, c.secs)
	}
	fmt.Printf("  scan 2 by source (requests / 304s / wire bytes):")
	for _, s := range costs[1].sources {
		fmt.Printf(" %s %d/%d/%d;", s.Name, s.Requests, s.Cached, s.Bytes)
	}
	fmt.Println()
	fmt.Printf("  second scan's bytes: %.1f%% of the first's (served body bytes; fetcher wire bytes %.1f%%; goal <= 5%%)\n",
		pct(costs[1].srv.bytes, costs[0].srv.bytes), pct(costs[1].fetchBytes, costs[0].fetchBytes))
	return nil
}

func pct(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return 100 * float64(a) / float64(b)
}

// writeHeapProfile writes the allocation profile (all allocations since the start) to path.
func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("memprofile: %w", err)
	}
	if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
		f.Close()
		return fmt.Errorf("memprofile: %w", err)
	}
	return f.Close()
}
