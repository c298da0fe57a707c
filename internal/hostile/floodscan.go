package hostile

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/afterlife-watch/afterlife/configs"
	"github.com/afterlife-watch/afterlife/crawler"
	_ "github.com/afterlife-watch/afterlife/crawler/sources" // the real adapters
	"github.com/afterlife-watch/afterlife/monitor"
	"github.com/afterlife-watch/afterlife/monitor/monitortest"
	"github.com/afterlife-watch/afterlife/reports"
	"github.com/afterlife-watch/afterlife/reports/render"
)

// GzipProbe is a source of options.jobs jobs, each fetching one URL under its base_url and
// decoding it as JSON: enough jobs to keep every worker reading a 77:1 gzip body at once.
const GzipProbe = "flood-gzip-77"

// FloodBudget is the follow-up job budget per source of a flood scan (RunConfig.MaxJobsPerSource).
const FloodBudget = 100

// The flood cases a scan can run (FloodScan's cases; none: all).
const (
	CaseGzip     = "gzip"     // Hugging Face and 2×workers GzipProbe jobs against Gzip77
	CaseSearch   = "search"   // Zenodo against SearchFlood
	CaseTrackers = "trackers" // Academic Torrents (catalogue /trackers.xml) and the swarm prober against TrackerFlood
	CaseLinks    = "links"    // Academic Torrents (catalogue /links.xml) against the million-link pages
)

// FloodCases lists the cases.
var FloodCases = []string{CaseGzip, CaseSearch, CaseTrackers, CaseLinks}

func init() {
	crawler.Register(GzipProbe, func(cfg configs.SourceConfig, _ crawler.Env) (crawler.Source, error) {
		n, err := strconv.Atoi(cfg.Options["jobs"])
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("%s: options.jobs: %q is not a positive integer", GzipProbe, cfg.Options["jobs"])
		}
		return &gzipProbe{url: cfg.BaseURL, n: n}, nil
	})
}

type gzipProbe struct {
	url string
	n   int
}

func (p *gzipProbe) Name() string { return GzipProbe }

func (p *gzipProbe) Plan(context.Context, []*configs.Dataset) ([]crawler.Job, error) {
	jobs := make([]crawler.Job, p.n)
	for i := range jobs {
		jobs[i] = crawler.Job{Source: GzipProbe, Kind: "probe", URL: fmt.Sprintf("%s/data?job=%d", p.url, i)}
	}
	return jobs, nil
}

func (p *gzipProbe) Handle(ctx context.Context, job crawler.Job, f crawler.Fetcher) (crawler.Result, error) {
	resp, err := f.Fetch(ctx, crawler.Request{Source: GzipProbe, URL: job.URL})
	if err != nil {
		return crawler.Result{}, err
	}
	var v any
	if err := json.Unmarshal(resp.Body, &v); err != nil {
		return crawler.Result{}, &crawler.StatusError{URL: job.URL, Status: resp.Status, Msg: "bad JSON: " + err.Error()}
	}
	return crawler.Result{}, nil
}

// FloodWatch is the watch config of a flood scan with `workers` workers running cases (none:
// all), every source pointed at its flood, politeness off (everything is on 127.0.0.1: the
// per-host limit would serialise the workers), rates high.
func (w *World) FloodWatch(workers int, cases ...string) *configs.Watch {
	if len(cases) == 0 {
		cases = FloodCases
	}
	src := map[string]configs.SourceConfig{}
	at := func(catalogue string) configs.SourceConfig {
		c := configs.SourceConfig{Enabled: true, BaseURL: w.Base(TrackerFlood), Rate: 500, Burst: 50, Options: map[string]string{"catalogue": catalogue}}
		if prev, ok := src["academictorrents"]; ok && prev.Options["catalogue"] != catalogue {
			c.Options["catalogue"] = "/database.xml" // both: the catalogue of all three
		}
		return c
	}
	for _, c := range cases {
		switch c {
		case CaseGzip:
			src["huggingface"] = configs.SourceConfig{Enabled: true, BaseURL: w.Base(Gzip77), Rate: 500, Burst: 50, MaxPages: 2}
			src[GzipProbe] = configs.SourceConfig{Enabled: true, BaseURL: w.Base(Gzip77), Rate: 500, Burst: 50,
				Options: map[string]string{"jobs": strconv.Itoa(2 * workers)}}
		case CaseSearch:
			src["zenodo"] = configs.SourceConfig{Enabled: true, BaseURL: w.Base(SearchFlood), Rate: 500, Burst: 50, MaxPages: 1000}
		case CaseTrackers:
			src["academictorrents"] = at("/trackers.xml")
			src["swarm"] = configs.SourceConfig{Enabled: true, Rate: 500, Burst: 50,
				Options: map[string]string{"timeout": "3s", "tracker_rate": "100", "tracker_burst": "10"}}
		case CaseLinks:
			src["academictorrents"] = at("/links.xml")
		}
	}
	return &configs.Watch{Contact: "mailto:ops@example.org", AllowLoopback: true, PolitenessOff: true, Workers: workers,
		Datasets: []string{"ms-celeb-1m"}, Sources: src}
}

// FloodScan is what one flood scan measured. Body and HTML are the process's accounting over
// the scan (crawler.BodyStats, crawler.HTMLStats); Flood is what the world was asked.
type FloodScan struct {
	Workers  int
	Took     time.Duration
	Body     crawler.BodyCounts
	HTML     crawler.HTMLCounts
	Flood    FloodCounts
	Report   render.Report
	Failures map[string][]reports.JobFailure // by source
	Sources  map[string]reports.SourceStat
}

// RunFloodScan runs one embedded scan (monitor.Run, as `afterlife scan` does, reports written)
// with watch in dir, the run's follow-up jobs capped at budget per source (0: FloodBudget; < 0:
// no cap, to show what the budget holds back).
func (w *World) RunFloodScan(ctx context.Context, dir string, watch *configs.Watch, o crawler.FetcherOptions, log *slog.Logger, budget int) (FloodScan, error) {
	if budget == 0 {
		budget = FloodBudget
	}
	res := FloodScan{Workers: watch.Workers}
	reg, err := configs.LoadRegistry("")
	if err != nil {
		return res, err
	}
	st, err := reports.OpenStore(filepath.Join(dir, reports.StoreFile))
	if err != nil {
		return res, err
	}
	defer st.Close()
	out := filepath.Join(dir, "reports")
	crawler.ResetBodyCounts()
	crawler.ResetHTMLCounts()
	w.ResetFloodCounts()
	start := time.Now()
	_, err = monitortest.Embedded(ctx, dir, st, monitor.RunConfig{Watch: watch, Registry: reg, Workers: watch.Workers,
		Version: "hostile", Env: func(string) string { return "" }, Log: log, FetcherOptions: o,
		RetryBase: 50 * time.Millisecond, MaxJobsPerSource: budget,
		WriteReports: func(ctx context.Context, runID string) ([]string, error) {
			return render.Write(ctx, st, reg, runID, out)
		}})
	res.Took, res.Body, res.HTML, res.Flood = time.Since(start), crawler.BodyStats(), crawler.HTMLStats(), w.FloodCounts()
	if err != nil {
		return res, fmt.Errorf("flood scan with %d workers: %w", watch.Workers, err)
	}
	b, err := os.ReadFile(filepath.Join(out, "report.json"))
	if err != nil {
		return res, err
	}
	if err := json.Unmarshal(b, &res.Report); err != nil {
		return res, fmt.Errorf("report.json: %w", err)
	}
	res.Failures = map[string][]reports.JobFailure{}
	for _, f := range res.Report.Run.Failures {
		res.Failures[f.Source] = append(res.Failures[f.Source], f)
	}
	res.Sources = map[string]reports.SourceStat{}
	for _, s := range res.Report.Run.Sources {
		res.Sources[s.Name] = s
	}
	return res, nil
}

// Summary is one line of what the scan measured.
func (r FloodScan) Summary() string {
	return fmt.Sprintf("%d workers: bodies in flight peak %d MiB, largest %d KiB, %d reads; HTML %d accepted, %d refused; "+
		"search %d pages, %d records; %d trackers contacted (%d requests); %d failures",
		r.Workers, r.Body.Peak>>20, r.Body.MaxOne>>10, r.Body.Reads, r.HTML.Accepted, r.HTML.Refused,
		r.Flood.SearchPages, r.Flood.Records, r.Flood.Trackers, r.Flood.TrackerRequests, len(r.Report.Run.Failures))
}

// Found reports whether the scan's report has a sighting of artifact id.
func (r FloodScan) Found(id string) bool {
	for _, d := range r.Report.Datasets {
		if slices.ContainsFunc(d.Sightings, func(s render.SightingView) bool { return s.Artifact.ID == id }) {
			return true
		}
	}
	return false
}
