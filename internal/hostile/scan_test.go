package hostile_test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/afterlife-watch/afterlife/configs"
	"github.com/afterlife-watch/afterlife/crawler"
	_ "github.com/afterlife-watch/afterlife/crawler/sources"
	"github.com/afterlife-watch/afterlife/internal/hostile"
	"github.com/afterlife-watch/afterlife/monitor"
	"github.com/afterlife-watch/afterlife/monitor/monitortest"
	"github.com/afterlife-watch/afterlife/reports"
	"github.com/afterlife-watch/afterlife/reports/render"
)

// probe is a source that fetches one hostile URL and parses it by its Content-Type, as the real
// adapters do: every behaviour is one source ("probe-slowloris", ...), so each failure is named.
type probe struct {
	name string
	url  string
}

func (p *probe) Name() string { return p.name }

func (p *probe) Plan(context.Context, []*configs.Dataset) ([]crawler.Job, error) {
	return []crawler.Job{{Source: p.name, Kind: "probe", URL: p.url}}, nil
}

func (p *probe) Handle(ctx context.Context, job crawler.Job, f crawler.Fetcher) (crawler.Result, error) {
	resp, err := f.Fetch(ctx, crawler.Request{Source: p.name, URL: job.URL})
	if err != nil {
		return crawler.Result{}, err
	}
	if !resp.OK() {
		return crawler.Result{}, &crawler.StatusError{URL: job.URL, Status: resp.Status}
	}
	ct := resp.Header.Get("Content-Type")
	switch {
	case strings.Contains(ct, "json"):
		var v any
		if err := json.Unmarshal(resp.Body, &v); err != nil {
			return crawler.Result{}, &crawler.StatusError{URL: job.URL, Status: resp.Status, Msg: "bad JSON: " + err.Error()}
		}
	case strings.Contains(ct, "xml"):
		if err := crawler.CheckXMLDepth(resp.Body, 0); err != nil {
			return crawler.Result{}, &crawler.StatusError{URL: job.URL, Status: resp.Status, Msg: "bad XML: " + err.Error()}
		}
		var v struct{}
		if err := xml.Unmarshal(resp.Body, &v); err != nil {
			return crawler.Result{}, &crawler.StatusError{URL: job.URL, Status: resp.Status, Msg: "bad XML: " + err.Error()}
		}
	case strings.Contains(ct, "html"):
		if _, err := goquery.NewDocumentFromReader(bytes.NewReader(resp.Body)); err != nil {
			return crawler.Result{}, &crawler.StatusError{URL: job.URL, Status: resp.Status, Msg: "bad HTML: " + err.Error()}
		}
	}
	return crawler.Result{}, nil
}

// realSources points each real adapter at a behaviour that hits its parser or its fetch path.
var realSources = map[string]hostile.Behaviour{
	"huggingface":      hostile.GzipBomb,
	"github":           hostile.RateStorm,
	"zenodo":           hostile.InvalidUTF8,
	"kaggle":           hostile.RedirectMetadata,
	"openalex":         hostile.NestedJSON,
	"semanticscholar":  hostile.MalformedJSON,
	"arxiv":            hostile.NestedXML,
	"academictorrents": hostile.HugeBody,
}

// probed are the behaviours each get a probe source (the rest are covered by real adapters too).
var probed = []hostile.Behaviour{hostile.Slowloris, hostile.SlowHeaders, hostile.GzipBomb, hostile.DeflateBomb,
	hostile.HugeBody, hostile.HugeChunked, hostile.RedirectLoop, hostile.RedirectMetadata, hostile.RedirectPrivate,
	hostile.NestedJSON, hostile.MalformedJSON, hostile.NestedXML, hostile.MalformedXML, hostile.NestedHTML,
	hostile.MalformedHTML, hostile.InvalidUTF8, hostile.WrongType, hostile.RateStorm, hostile.RateStormDate}

// mustFail are the probes whose job must fail and be named in the report's failures.
var mustFail = map[hostile.Behaviour]string{
	hostile.Slowloris: "", hostile.SlowHeaders: "", hostile.GzipBomb: "too large", hostile.HugeBody: "too large",
	hostile.HugeChunked: "too large", hostile.RedirectLoop: "redirects", hostile.RedirectMetadata: "outbound guard",
	hostile.RedirectPrivate: "outbound guard", hostile.NestedJSON: "bad JSON", hostile.MalformedJSON: "bad JSON",
	hostile.NestedXML: "bad XML", hostile.MalformedXML: "bad XML", hostile.WrongType: "bad JSON",
	hostile.RateStorm: "Retry-After", hostile.RateStormDate: "Retry-After",
}

func init() {
	for _, b := range probed {
		name := "probe-" + string(b)
		crawler.Register(name, func(cfg configs.SourceConfig, _ crawler.Env) (crawler.Source, error) {
			return &probe{name: name, url: cfg.BaseURL + "/data?page=1"}, nil
		})
	}
}

// TestScanAgainstHostileWorld runs a whole embedded scan with every real adapter and one probe per
// behaviour pointed at the hostile world: the scan must finish in bounded time, within the heap
// bound, without a panic, and report.json must name each failed URL.
func TestScanAgainstHostileWorld(t *testing.T) {
	world := startWorld(t)
	reg, err := configs.LoadRegistry("")
	if err != nil {
		t.Fatal(err)
	}
	w := &configs.Watch{Contact: "mailto:ops@example.org", AllowLoopback: true, Workers: 4,
		Datasets: []string{"ms-celeb-1m"}, Sources: map[string]configs.SourceConfig{}}
	for name, b := range realSources {
		w.Sources[name] = configs.SourceConfig{Enabled: true, BaseURL: world.Base(b), Rate: 50, Burst: 10, MaxPages: 2}
	}
	for _, b := range probed {
		w.Sources["probe-"+string(b)] = configs.SourceConfig{Enabled: true, BaseURL: world.Base(b), Rate: 50, Burst: 10}
	}
	dir := t.TempDir()
	st, err := reports.OpenStore(filepath.Join(dir, reports.StoreFile))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	out := filepath.Join(dir, "reports")
	o := hostileOptions()
	// The bound on wall time: each job gets 3 frontier attempts of MaxAttempts fetches of at most
	// Timeout each; jobs run 4 at a time. The bound is generous for a loaded 2-core machine.
	const timeBound = 4 * time.Minute
	ctx, cancel := context.WithTimeout(context.Background(), timeBound)
	defer cancel()
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&syncWriter{w: &logs}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	var peak atomic.Uint64
	stop := sampleHeap(&peak)
	start := time.Now()
	_, err = monitortest.Embedded(ctx, dir, st, monitor.RunConfig{Watch: w, Registry: reg, Workers: 4,
		Version: "test", Env: func(string) string { return "" }, Log: log, FetcherOptions: o,
		RetryBase: 50 * time.Millisecond,
		WriteReports: func(ctx context.Context, runID string) ([]string, error) {
			return render.Write(ctx, st, reg, runID, out)
		}})
	took := time.Since(start)
	heap := stop()
	rss := vmHWM()
	if err != nil {
		t.Fatalf("scan: %v (after %s)", err, took)
	}
	// Stated bound (docs/operations.md): 128 MiB of baseline (store, matcher, registry, race
	// detector bookkeeping) plus, per worker, 4 × the 16 MiB wire bound (a hostile body read by
	// io.ReadAll, garbage not yet collected); compression bombs are cut at 250:1.
	const heapBound = 128<<20 + 4*4*(16<<20)
	t.Logf("hostile scan: %s (bound %s), peak heap in use %d MiB (bound %d MiB), process peak RSS %d MiB (race detector included), world sent %d MiB",
		took.Round(time.Millisecond), timeBound, heap>>20, heapBound>>20, rss>>20, world.BytesWritten()>>20)
	if heap > heapBound {
		t.Errorf("peak heap in use %d MiB over the %d MiB bound", heap>>20, heapBound>>20)
	}
	if bytes.Contains(logs.Bytes(), []byte("panic")) {
		t.Errorf("a panic was logged")
	}

	b, err := os.ReadFile(filepath.Join(out, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rep render.Report
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	failed := map[string]reports.JobFailure{}
	for _, f := range rep.Run.Failures {
		failed[f.Source] = f
		if f.URL == "" || f.Error == "" {
			t.Errorf("failure without a URL or an error: %+v", f)
		}
	}
	for _, b := range probed {
		name := "probe-" + string(b)
		want, must := mustFail[b]
		f, ok := failed[name]
		switch {
		case must && !ok:
			t.Errorf("%s: no failure named in report.json", name)
		case must && !strings.Contains(f.Error, want):
			t.Errorf("%s: failure %q does not say %q", name, f.Error, want)
		case must && !strings.HasPrefix(f.URL, world.Base(b)):
			t.Errorf("%s: failure names URL %q, want one under %s", name, f.URL, world.Base(b))
		}
		if ok {
			t.Logf("%-28s %s (attempts %d, given up %v): %s", name, f.URL, f.Attempts, f.Final, f.Error)
		}
	}
	status := map[string]reports.SourceStat{}
	for _, s := range rep.Run.Sources {
		status[s.Name] = s
	}
	for name, b := range realSources {
		s := status[name]
		t.Logf("%-16s (%s): %s, %d requests, %d errors: %s", name, b, s.Status, s.Requests, s.Errors, s.Message)
		if s.Status == monitor.StatusOK && s.Errors == 0 && s.Artifacts > 0 {
			t.Errorf("%s against %s: reported ok with %d artifacts", name, b, s.Artifacts)
		}
	}
	for _, name := range []string{"huggingface", "kaggle", "academictorrents", "github"} {
		if _, ok := failed[name]; !ok {
			t.Errorf("%s (%s): no failed URL named in report.json", name, realSources[name])
		}
	}
	if !rep.Run.Complete {
		t.Errorf("run not complete")
	}
	md, err := os.ReadFile(filepath.Join(out, "index.md"))
	if err == nil && !bytes.Contains(md, []byte("## Failures")) {
		t.Errorf("index.md has no Failures section")
	}
}

type syncWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// vmHWM is this process's peak resident set size (Linux), 0 when unknown.
func vmHWM() uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			var kb uint64
			if _, err := fmt.Sscanf(strings.TrimSpace(rest), "%d kB", &kb); err == nil {
				return kb << 10
			}
		}
	}
	return 0
}
