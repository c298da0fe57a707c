package hostile_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/afterlife-watch/afterlife/configs"
	"github.com/afterlife-watch/afterlife/crawler"
	"github.com/afterlife-watch/afterlife/crawler/swarm"
	"github.com/afterlife-watch/afterlife/internal/hostile"
	"github.com/afterlife-watch/afterlife/monitor"
	"github.com/afterlife-watch/afterlife/monitor/monitortest"
	"github.com/afterlife-watch/afterlife/reports"
	"github.com/afterlife-watch/afterlife/reports/render"
)

// gzipFlood is a source of options.jobs jobs, each fetching one URL under its base_url and
// parsing it by Content-Type (probe's Handle): enough jobs to keep every worker reading a 77:1
// gzip body at once.
const gzipFlood = "flood-gzip-77"

func init() {
	crawler.Register(gzipFlood, func(cfg configs.SourceConfig, _ crawler.Env) (crawler.Source, error) {
		n, err := strconv.Atoi(cfg.Options["jobs"])
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("%s: options.jobs: %q is not a positive integer", gzipFlood, cfg.Options["jobs"])
		}
		return &multiProbe{probe: probe{name: gzipFlood, url: cfg.BaseURL}, n: n}, nil
	})
}

type multiProbe struct {
	probe
	n int
}

func (p *multiProbe) Plan(context.Context, []*configs.Dataset) ([]crawler.Job, error) {
	jobs := make([]crawler.Job, p.n)
	for i := range jobs {
		jobs[i] = crawler.Job{Source: p.name, Kind: "probe", URL: fmt.Sprintf("%s/data?job=%d", p.url, i)}
	}
	return jobs, nil
}

// floodScan is what one hostile flood scan measured.
type floodScan struct {
	workers  int
	took     time.Duration
	heap     uint64 // peak HeapInuse sampled every 10 ms
	body     crawler.BodyCounts
	html     crawler.HTMLCounts
	flood    hostile.FloodCounts
	rep      render.Report
	failures map[string][]reports.JobFailure // by source
	sources  map[string]reports.SourceStat
}

// floodBudget is the follow-up job budget per source of the flood scans (RunConfig.MaxJobsPerSource).
const floodBudget = 100

// runFloodScan runs one embedded scan (monitor.Run, as `afterlife scan` does) with `workers`
// workers against the flood behaviours: Zenodo against the 20,000-hit search pages, Academic
// Torrents (and the swarm prober following its torrents) against the tracker flood and the
// million-link pages, Hugging Face and 2×workers probe jobs against 77:1 gzip.
func runFloodScan(t *testing.T, world *hostile.World, workers int, o crawler.FetcherOptions) floodScan {
	t.Helper()
	reg, err := configs.LoadRegistry("")
	if err != nil {
		t.Fatal(err)
	}
	w := &configs.Watch{Contact: "mailto:ops@example.org", AllowLoopback: true, PolitenessOff: true, Workers: workers,
		Datasets: []string{"ms-celeb-1m"}, Sources: map[string]configs.SourceConfig{
			"zenodo":           {Enabled: true, BaseURL: world.Base(hostile.SearchFlood), Rate: 500, Burst: 50, MaxPages: 1000},
			"academictorrents": {Enabled: true, BaseURL: world.Base(hostile.TrackerFlood), Rate: 500, Burst: 50},
			"swarm":            {Enabled: true, Rate: 500, Burst: 50, Options: map[string]string{"timeout": "3s", "tracker_rate": "100", "tracker_burst": "10"}},
			"huggingface":      {Enabled: true, BaseURL: world.Base(hostile.Gzip77), Rate: 500, Burst: 50, MaxPages: 2},
			gzipFlood:          {Enabled: true, BaseURL: world.Base(hostile.Gzip77), Rate: 500, Burst: 50, Options: map[string]string{"jobs": strconv.Itoa(2 * workers)}},
		}}
	dir := t.TempDir()
	st, err := reports.OpenStore(filepath.Join(dir, reports.StoreFile))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	out := filepath.Join(dir, "reports")
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute) // a safety net, not the bound under test
	defer cancel()
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&syncWriter{w: &logs}, &slog.HandlerOptions{Level: slog.LevelInfo}))
	crawler.ResetBodyCounts()
	crawler.ResetHTMLCounts()
	world.ResetFloodCounts()
	var peak atomic.Uint64
	stop := sampleHeap(&peak)
	start := time.Now()
	_, err = monitortest.Embedded(ctx, dir, st, monitor.RunConfig{Watch: w, Registry: reg, Workers: workers,
		Version: "test", Env: func(string) string { return "" }, Log: log, FetcherOptions: o,
		RetryBase: 50 * time.Millisecond, MaxJobsPerSource: floodBudget,
		WriteReports: func(ctx context.Context, runID string) ([]string, error) {
			return render.Write(ctx, st, reg, runID, out)
		}})
	res := floodScan{workers: workers, took: time.Since(start), heap: stop(), body: crawler.BodyStats(), html: crawler.HTMLStats()}
	if err != nil {
		t.Fatalf("scan with %d workers: %v (after %s)", workers, err, res.took)
	}
	res.flood = world.FloodCounts()
	if bytes.Contains(logs.Bytes(), []byte("panic")) {
		t.Errorf("a panic was logged")
	}
	b, err := os.ReadFile(filepath.Join(out, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &res.rep); err != nil {
		t.Fatal(err)
	}
	res.failures = map[string][]reports.JobFailure{}
	for _, f := range res.rep.Run.Failures {
		res.failures[f.Source] = append(res.failures[f.Source], f)
	}
	res.sources = map[string]reports.SourceStat{}
	for _, s := range res.rep.Run.Sources {
		res.sources[s.Name] = s
	}
	t.Logf("%d workers: %s; peak heap in use %d MiB; body bytes in flight peak %d MiB, largest one %d KiB, %d reads; "+
		"HTML %d accepted, %d refused, at most %d links and %d deep; search flood %d pages, %d records; tracker flood %d trackers contacted (%d requests)",
		workers, res.took.Round(time.Millisecond), res.heap>>20, res.body.Peak>>20, res.body.MaxOne>>10, res.body.Reads,
		res.html.Accepted, res.html.Refused, res.html.MaxLinks, res.html.MaxDepth, res.flood.SearchPages, res.flood.Records,
		res.flood.Trackers, res.flood.TrackerRequests)
	for _, name := range []string{"zenodo", "academictorrents", "swarm", "huggingface", gzipFlood} {
		s := res.sources[name]
		t.Logf("  %-16s %s, %d requests, %d errors, %d artifacts: %s", name, s.Status, s.Requests, s.Errors, s.Artifacts, s.Message)
	}
	return res
}

// bodySlack is how far one bounded read may pass its bound before it is refused: one read call.
const bodySlack = 64 << 10

// TestFloodScanHoldsTheMemoryBudget runs a whole scan against the flood behaviours of issue 18
// (tracker floods, oversized search pages, 77:1 gzip, a million links a million deep) at 4 and at
// 16 workers. The documented budget (docs/operations.md) holds, by counts and bytes: each
// response read stops at its worker's share (DefaultMaxBody decoded) and the bytes being read at
// once stay under workers × that share; the Go heap stays under 128 MiB + workers × 64 MiB;
// no HTML page past the bounds reaches a tree; a found torrent's trackers contacted stay within
// the swarm's max_trackers; Zenodo takes at most the 25 hits per page it asked for and stops at
// the job budget.
func TestFloodScanHoldsTheMemoryBudget(t *testing.T) {
	if testing.Short() {
		t.Skip("a whole scan twice")
	}
	world := startWorld(t)
	if _, ratio := world.Gzip77Body(); ratio >= 250 || ratio < 50 {
		t.Fatalf("the 77:1 gzip is %.0f:1", ratio)
	}
	for _, workers := range []int{4, 16} {
		t.Run(fmt.Sprintf("workers=%d", workers), func(t *testing.T) {
			o := hostileOptions()
			o.Timeout = 10 * time.Second // 16 workers decoding at once on 2 loaded cores
			r := runFloodScan(t, world, workers, o)
			checkFloodBudget(t, r)
		})
	}
}

func checkFloodBudget(t *testing.T, r floodScan) {
	t.Helper()
	w := int64(r.workers)
	// Decoded bytes: no one read past its share, all reads at once under workers × the share.
	if r.body.MaxOne > crawler.DefaultMaxBody+bodySlack {
		t.Errorf("one response read handed out %d MiB, over the %d MiB per-worker bound", r.body.MaxOne>>20, crawler.DefaultMaxBody>>20)
	}
	if r.body.MaxOne < crawler.DefaultMaxBody {
		t.Errorf("no read reached the %d MiB bound (largest %d KiB): the 77:1 gzip was not exercised", crawler.DefaultMaxBody>>20, r.body.MaxOne>>10)
	}
	if bound := w * (crawler.DefaultMaxBody + bodySlack); r.body.Peak > bound {
		t.Errorf("%d MiB of bodies read at once, over %d workers × %d MiB", r.body.Peak>>20, w, crawler.DefaultMaxBody>>20)
	}
	// The Go heap: the documented budget.
	if bound := uint64(128<<20 + w*crawler.DefaultWorkerMemory); r.heap > bound {
		t.Errorf("peak heap in use %d MiB over the %d MiB budget", r.heap>>20, bound>>20)
	}
	// 77:1 gzip: every probe job refused as too large, named in the report.
	if got := len(r.failures[gzipFlood]); got != 2*r.workers {
		t.Errorf("%d of %d gzip jobs failed", got, 2*r.workers)
	}
	tooLarge := 0
	for _, f := range r.failures[gzipFlood] {
		switch {
		case strings.Contains(f.Error, "too large"):
			tooLarge++
		case strings.Contains(f.Error, "timeout"), strings.Contains(f.Error, "source unreachable"):
			// A loaded machine: the request's own time bound, or the breaker after three of them.
		default:
			t.Errorf("gzip job failed with %q, want too large", f.Error)
		}
	}
	if tooLarge == 0 {
		t.Errorf("no gzip job was refused as too large")
	}
	// HTML: the two million-link pages refused by the bounds pass; nothing accepted past a bound.
	if r.html.Refused < 2 {
		t.Errorf("%d HTML pages refused, want the nested and the flat million-link pages", r.html.Refused)
	}
	if r.html.MaxLinks > crawler.DefaultHTMLMaxLinks || r.html.MaxDepth > crawler.DefaultHTMLMaxDepth {
		t.Errorf("an accepted page had %d links, %d deep", r.html.MaxLinks, r.html.MaxDepth)
	}
	bound := map[string]string{hostile.NestedLinksHash: "depth", hostile.FlatLinksHash: "links"}
	for _, f := range r.failures["academictorrents"] {
		for h, what := range bound {
			if strings.Contains(f.URL, "/details/"+h) && strings.Contains(f.Error, what) {
				delete(bound, h)
			}
		}
	}
	for h, what := range bound {
		t.Errorf("details/%s: no failure naming the %s bound in report.json (%+v)", h, what, r.failures["academictorrents"])
	}
	// Trackers: the flood torrent was parsed and followed, at most max_trackers trackers asked.
	if r.flood.Trackers == 0 || r.flood.Trackers > swarm.DefaultMaxTrackers {
		t.Errorf("%d of the torrent's %d trackers contacted, want 1..%d", r.flood.Trackers, hostile.TrackerFloodCount, swarm.DefaultMaxTrackers)
	}
	found := false
	for _, d := range r.rep.Datasets {
		for _, s := range d.Sightings {
			found = found || s.Artifact.ID == "at:"+hostile.FloodTorrentHash
		}
	}
	if !found {
		t.Errorf("the flood torrent was not reported: its .torrent was not parsed")
	}
	// Search pages: at most 25 records per page asked for, at most the job budget in all.
	if r.flood.SearchPages == 0 || r.flood.Records > 25*r.flood.SearchPages {
		t.Errorf("%d records from %d search pages of 25", r.flood.Records, r.flood.SearchPages)
	}
	if r.flood.Records > floodBudget {
		t.Errorf("%d record requests, over the job budget of %d", r.flood.Records, floodBudget)
	}
	if msg := r.sources["zenodo"].Message; !strings.Contains(msg, "job budget reached") || !strings.Contains(msg, "for a page of 25") {
		t.Errorf("zenodo's message does not say it was cut: %q", msg)
	}
}

// Without the defence the same checks fail: with the former 64 MiB decoded bound a single read
// hands out the whole 60 MiB body and 4 workers read far more than 4 × 16 MiB at once, which
// checkFloodBudget refuses — the accounting sees the flood the defence stops. (Measured: 238 MiB
// of bodies at once, 809 MiB peak heap in use against the 384 MiB budget.)
func TestFloodChecksFailWithoutTheDecodedBound(t *testing.T) {
	if testing.Short() {
		t.Skip("a whole scan")
	}
	world := startWorld(t)
	o := hostileOptions()
	o.MaxDecompressed = 64 << 20
	o.MaxBody = 64 << 20
	r := runFloodScan(t, world, 4, o)
	if r.body.MaxOne <= crawler.DefaultMaxBody+bodySlack {
		t.Fatalf("with a 64 MiB decoded bound the largest read was %d MiB: the check would not catch the flood", r.body.MaxOne>>20)
	}
	if bound := int64(r.workers) * (crawler.DefaultMaxBody + bodySlack); r.body.Peak <= bound {
		t.Errorf("with a 64 MiB decoded bound %d MiB were read at once, within the %d MiB the check allows", r.body.Peak>>20, bound>>20)
	}
}
