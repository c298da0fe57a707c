package monitor

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"sort"
	"strings"

	"github.com/afterlife-watch/afterlife/configs"
	"github.com/afterlife-watch/afterlife/crawler"
	"github.com/afterlife-watch/afterlife/reports"
)

// SourcePlan is what a run will cost one source, worked out before the run without sending
// anything (`afterlife scan --plan`).
type SourcePlan struct {
	Source  string `json:"source"`
	Enabled bool   `json:"enabled"`
	// Requests the run will send: the seed requests (exact) plus the follow-ups (estimated).
	Requests int `json:"requests"`
	// RateLimit is the limit the run respects, bucket by bucket, and whether it is the anonymous
	// one or a token's.
	RateLimit string `json:"rate_limit"`
	// EstSeconds is how long the source's requests take at that limit (latency not counted).
	EstSeconds float64 `json:"est_seconds"`
	// Notes say what the run skips and why, and how the follow-ups were estimated.
	Notes []string `json:"notes"`

	// SeedRequests are the requests of the planned seed jobs (exact); FollowUps the estimate of
	// the rest (next pages, details, cards, re-checks, follow-on probes, retries).
	SeedRequests int `json:"seed_requests"`
	FollowUps    int `json:"follow_ups"`
	// Buckets are the requests per rate bucket (crawler.Request.RateKey; the source's name for
	// its default bucket).
	Buckets map[string]int `json:"buckets,omitempty"`
}

// PlanConfig is one PlanRun call.
type PlanConfig struct {
	Watch    *configs.Watch
	Registry *configs.Registry
	Env      crawler.Env // tokens (os.Getenv when nil)
	// History is the store of the data directory (nil: no history, the follow-ups are not
	// estimated and Requests is a lower bound); DataDir holds its incremental.json.
	History RunHistory
	DataDir string
	// Incremental is the policy the run will use (nil: every source lists in full).
	Incremental *Incremental
}

// planFetcher is the fetcher of a dry run: it notes each request's rate bucket and sends nothing.
type planFetcher struct {
	buckets map[string]int
	source  string
}

var errPlanOnly = fmt.Errorf("plan: nothing is sent: %w", crawler.ErrOffline)

func (f *planFetcher) Fetch(ctx context.Context, r crawler.Request) (*crawler.Response, error) {
	key := r.RateKey
	if key == "" {
		key = f.source
	}
	f.buckets[key]++
	return nil, errPlanOnly
}

// Offline makes sources that reach the network outside the fetcher (UDP trackers) stop too.
func (f *planFetcher) Offline() bool { return true }

// PlanRun works out, per source of the watch plan, what the next run will send, at what rate
// limit and for how long, without sending anything.
//
// Seed requests are exact: every enabled source plans its seed jobs as the run would (with the
// incremental plan the run would get from the data directory's history), and each job is handed
// to its adapter with a fetcher that notes the request and its rate bucket and sends nothing. The
// follow-ups (next pages, details and cards of what is found, re-checks, probes of torrents found,
// retries) depend on the answers; they are estimated from the source's last complete run in the
// data directory, as the requests it made beyond the seeds planned now. Without such a run they
// are not estimated and Requests is a lower bound (the notes say so).
func PlanRun(ctx context.Context, cfg PlanConfig) ([]SourcePlan, error) {
	if cfg.Watch == nil || cfg.Registry == nil {
		return nil, errors.New("plan: a watch plan and a registry are required")
	}
	env := cfg.Env
	if env == nil {
		env = os.Getenv
	}
	datasets, err := WatchedDatasets(cfg.Registry, cfg.Watch)
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(datasets))
	for _, d := range datasets {
		ids = append(ids, d.ID)
	}
	sort.Strings(ids)
	var history []reports.Run // complete runs, newest first
	if cfg.History != nil {
		runs, err := cfg.History.Runs(ctx, 0)
		if err != nil {
			return nil, fmt.Errorf("plan: run history: %w", err)
		}
		for _, r := range runs {
			if r.Complete && !r.Finished.IsZero() {
				history = append(history, r)
			}
		}
	}
	var names []string
	for _, n := range cfg.Watch.SourceNames() {
		if cfg.Watch.Sources[n].Enabled {
			names = append(names, n)
		}
	}
	var listing map[string]crawler.Incremental // nil: every source lists in full
	var state *incState                        // which runs listed in full (nil: unknown)
	if cfg.Incremental != nil && cfg.History != nil && cfg.DataDir != "" {
		if st, err := loadIncState(cfg.DataDir); err == nil {
			state = &st
		}
	}
	if cfg.Incremental != nil && cfg.History != nil {
		ip, err := cfg.Incremental.PlanFor(ctx, cfg.History, cfg.DataDir, names, ids)
		if err != nil {
			return nil, err
		}
		listing = ip.Sources
	}
	var out []SourcePlan
	for _, name := range cfg.Watch.SourceNames() {
		sc := cfg.Watch.Sources[name]
		p := SourcePlan{Source: name, Enabled: sc.Enabled, Notes: []string{}, Buckets: map[string]int{}}
		if !sc.Enabled {
			p.RateLimit = "-"
			p.Notes = append(p.Notes, "disabled in the watch plan: nothing sent")
			out = append(out, p)
			continue
		}
		src, tokens, err := buildSource(name, sc, env)
		if errors.Is(err, errNoAdapter) {
			p.RateLimit = "-"
			p.Notes = append(p.Notes, "skipped: "+errNoAdapter.Error())
			out = append(out, p)
			continue
		}
		if err != nil {
			p.RateLimit = "-"
			p.Notes = append(p.Notes, "fails: configuration: "+oneLine(err.Error()))
			out = append(out, p)
			continue
		}
		jobs, err := planSource(ctx, src, datasets, listing[name])
		if err != nil {
			p.RateLimit = "-"
			p.Notes = append(p.Notes, "fails: planning: "+oneLine(err.Error()))
			out = append(out, p)
			continue
		}
		pf := &planFetcher{buckets: p.Buckets, source: name}
		for _, j := range jobs {
			j = normalizeJob(j, "plan", name)
			for _, n := range strings.Split(j.Meta["notes"], "\n") {
				if n = strings.TrimSpace(n); n != "" && !contains(p.Notes, n) {
					p.Notes = append(p.Notes, n)
				}
			}
			before := pf.total()
			_, herr := src.Handle(ctx, j, pf)
			if pf.total() == before && errors.Is(herr, crawler.ErrOffline) {
				pf.buckets[name]++ // a request outside HTTP (a UDP tracker): one per job
			}
		}
		p.SeedRequests = pf.total()
		// Only an adapter that plans by date (crawler.IncrementalPlanner) lists differently in a
		// run that lists what changed; any other source's runs are all alike.
		st := state
		if _, byDate := src.(crawler.IncrementalPlanner); !byDate {
			st = nil
		}
		n, runID, other := lastOfMode(history, st, name, listing[name].Filtered())
		switch {
		case runID != "":
			p.FollowUps = max(0, int(n)-p.SeedRequests)
			p.Notes = append(p.Notes, fmt.Sprintf("plan: %d seed requests (exact) + %d follow-ups estimated from the last complete run %s (%d requests)",
				p.SeedRequests, p.FollowUps, runID, n))
		case other:
			// A source that lists only what changed since its last run (or everything, every few
			// runs) sends a different kind of run each time: one of the other kind says nothing.
			p.Notes = append(p.Notes, fmt.Sprintf("plan: %d seed requests (exact); follow-ups not estimated: no complete run in the data directory listed as this one will (%s), so requests is a lower bound",
				p.SeedRequests, map[bool]string{true: "only what changed", false: "in full"}[listing[name].Filtered()]))
		default:
			p.Notes = append(p.Notes, fmt.Sprintf("plan: %d seed requests (exact); follow-ups (next pages, details of what is found) not estimated: no complete run in the data directory yet, so requests is a lower bound",
				p.SeedRequests))
		}
		p.Requests = p.SeedRequests + p.FollowUps
		p.RateLimit, p.EstSeconds = planRate(cfg.Watch, name, sc, src, p.Buckets, p.FollowUps, tokens)
		out = append(out, p)
	}
	return out, nil
}

func (f *planFetcher) total() int {
	n := 0
	for _, c := range f.buckets {
		n += c
	}
	return n
}

// planRate describes the limits a source's requests wait on and how long they take: each bucket
// sends its requests at its rate after its burst, all of them also within the host bucket (the
// fastest of the source's rates). Follow-ups go to the buckets in the seeds' proportions.
func planRate(w *configs.Watch, name string, sc configs.SourceConfig, src crawler.Source, buckets map[string]int, followUps int, tokens []string) (string, float64) {
	auth := "anonymous"
	if len(tokens) > 0 {
		sort.Strings(tokens)
		auth = "with " + strings.Join(tokens, "+")
	}
	if w.PolitenessOff {
		return "none (politeness_off) — " + auth, 0
	}
	documented := crawler.RatesOf(src)
	rateOf := func(key string) crawler.Rate {
		if sc.Rate > 0 {
			return crawler.Rate{PerSecond: sc.Rate, Burst: max(sc.Burst, 1), Doc: "the watch config's rate"}
		}
		if r, ok := documented[key]; ok && r.PerSecond > 0 {
			return r
		}
		return crawler.Rate{PerSecond: crawler.DefaultSourceRate, Burst: crawler.DefaultSourceBurst, Doc: "default"}
	}
	keys := make([]string, 0, len(documented)+len(buckets))
	for k := range documented {
		keys = append(keys, k)
	}
	for k := range buckets {
		if _, ok := documented[k]; !ok {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		keys = append(keys, name)
	}
	sort.Strings(keys)
	seeds := 0
	for _, n := range buckets {
		seeds += n
	}
	var parts []string
	var est, host float64
	total := 0
	for _, k := range keys {
		r := rateOf(k)
		host = math.Max(host, r.PerSecond)
		n := buckets[k]
		if seeds > 0 {
			n += int(math.Round(float64(followUps) * float64(buckets[k]) / float64(seeds)))
		} else if k == name {
			n += followUps
		}
		total += n
		est = math.Max(est, float64(max(0, n-r.Burst))/r.PerSecond)
		parts = append(parts, fmt.Sprintf("%s %s/s (%s)", k, trimFloat(r.PerSecond), r.Doc))
	}
	if host > 0 {
		est = math.Max(est, float64(max(0, total-max(crawler.DefaultHostBurst, 1)))/host)
	}
	return strings.Join(parts, "; ") + " — " + auth, math.Round(est)
}

func trimFloat(f float64) string {
	s := fmt.Sprintf("%.3f", f)
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}

// errNoAdapter is buildSource's error for a source name no adapter in this build answers to.
var errNoAdapter = errors.New("no adapter for this source in this build")

// buildSource builds the named source's adapter from its config and reports the names of the
// token environment variables it read that were set (never their values).
func buildSource(name string, sc configs.SourceConfig, env crawler.Env) (crawler.Source, []string, error) {
	factory, ok := crawler.Factory(name)
	if !ok {
		return nil, nil, errNoAdapter
	}
	var tokens []string
	src, err := factory(sc, func(k string) string {
		v := env(k)
		if strings.TrimSpace(v) != "" && !contains(tokens, k) {
			tokens = append(tokens, k)
		}
		return v
	})
	return src, tokens, err
}

// lastOfMode returns the requests and id of the source's newest complete run that listed as the
// planned run will (filtered: only what changed; else in full), as the incremental state file
// recorded it (a run it has no record of counts as either). other reports that complete runs of
// the source exist, none of them of that kind.
func lastOfMode(history []reports.Run, st *incState, name string, filtered bool) (requests int64, runID string, other bool) {
	for _, r := range history {
		for _, s := range r.Sources {
			if s.Name != name || (s.Status != StatusOK && s.Status != StatusDegraded) {
				continue
			}
			rec, known := incRun{}, false
			if st != nil {
				rec, known = st.Runs[r.ID]
			}
			if !known || contains(rec.Full, name) != filtered {
				return s.Requests, r.ID, false
			}
			other = true
		}
	}
	return 0, "", other
}
