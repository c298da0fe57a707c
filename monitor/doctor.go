package monitor

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/afterlife-watch/afterlife/configs"
	"github.com/afterlife-watch/afterlife/crawler"
)

// Diagnosis outcomes.
const (
	DiagOK   = "ok"   // reachable, the token (if any) accepted
	DiagWarn = "warn" // works, but not fully now (rate-limited, budget exhausted)
	DiagSkip = "skip" // sends nothing in this configuration (no credentials where they are required)
	DiagFail = "fail" // cannot work: unreachable, token rejected, misconfigured
)

// Diagnosis is `afterlife doctor`'s answer for one enabled source.
type Diagnosis struct {
	Source string `json:"source"`
	Status string `json:"status"`
	// Detail is the one-line answer: reachable or not, the token accepted or not, the budget left.
	Detail string `json:"detail"`
	// Budget is what the service's own rate-limit headers say is left ("" when they say nothing).
	Budget string `json:"budget,omitempty"`
	// HTTPStatus is the status of the last answer (0: none).
	HTTPStatus int `json:"http_status,omitempty"`
}

// DoctorConfig is one Diagnose call.
type DoctorConfig struct {
	Watch    *configs.Watch
	Registry *configs.Registry
	Env      crawler.Env // tokens (os.Getenv when nil)
	// FetcherOptions for the probes (tests); the defaults bound each probe to a few seconds of
	// waiting: 2 attempts, no Retry-After longer than 5s.
	FetcherOptions crawler.FetcherOptions
}

// probeFetcher is the real fetcher, noting every answer (or failure) of the probe.
type probeFetcher struct {
	crawler.Fetcher
	mu     sync.Mutex
	sent   int
	last   *crawler.Response
	status []int
}

func (p *probeFetcher) Fetch(ctx context.Context, r crawler.Request) (*crawler.Response, error) {
	resp, err := p.Fetcher.Fetch(ctx, r)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sent++
	if resp != nil {
		p.last = resp
		p.status = append(p.status, resp.Status)
	}
	var se *crawler.StatusError
	if err != nil && errors.As(err, &se) && se.Status > 0 {
		p.status = append(p.status, se.Status)
	}
	return resp, err
}

// Diagnose probes every enabled source of the watch plan with one real job: the first seed job
// that sends a request (what a run would send first, through the same polite fetcher, guard and
// adapter), and answers, per source, whether it is reachable, whether the token found in the
// environment was accepted, and what budget the service's rate-limit headers say is left.
func Diagnose(ctx context.Context, cfg DoctorConfig) ([]Diagnosis, error) {
	if cfg.Watch == nil || cfg.Registry == nil {
		return nil, errors.New("doctor: a watch plan and a registry are required")
	}
	env := cfg.Env
	if env == nil {
		env = os.Getenv
	}
	datasets, err := WatchedDatasets(cfg.Registry, cfg.Watch)
	if err != nil {
		return nil, err
	}
	fo := cfg.FetcherOptions
	if fo.MaxAttempts == 0 {
		fo.MaxAttempts = 2
	}
	if fo.MaxWait == 0 {
		fo.MaxWait = 5 * time.Second
	}
	if fo.Timeout == 0 {
		fo.Timeout = 20 * time.Second
	}
	fetcher, err := crawler.NewFetcher(cfg.Watch, fo)
	if err != nil {
		return nil, err
	}
	var out []Diagnosis
	for _, name := range cfg.Watch.SourceNames() {
		sc := cfg.Watch.Sources[name]
		if !sc.Enabled {
			continue
		}
		d := Diagnosis{Source: name}
		src, tokens, err := buildSource(name, sc, env)
		if errors.Is(err, errNoAdapter) {
			d.Status, d.Detail = DiagFail, errNoAdapter.Error()
			out = append(out, d)
			continue
		}
		if err != nil {
			d.Status, d.Detail = DiagFail, "configuration: "+oneLine(err.Error())
			out = append(out, d)
			continue
		}
		for key, r := range crawler.RatesOf(src) {
			fetcher.SetRate(key, r.PerSecond, r.Burst)
		}
		jobs, err := planSource(ctx, src, datasets, crawler.Incremental{})
		if err != nil {
			d.Status, d.Detail = DiagFail, "planning: "+oneLine(err.Error())
			out = append(out, d)
			continue
		}
		out = append(out, diagnose(ctx, name, src, jobs, fetcher, tokens))
	}
	return out, nil
}

// diagnose runs the first seed job that sends something for real and reads its answers.
func diagnose(ctx context.Context, name string, src crawler.Source, jobs []crawler.Job, f crawler.Fetcher, tokens []string) Diagnosis {
	d := Diagnosis{Source: name}
	var notes []string
	var probe *crawler.Job
	for _, j := range jobs {
		j = normalizeJob(j, "doctor", name)
		for _, n := range strings.Split(j.Meta["notes"], "\n") {
			if n = strings.TrimSpace(n); n != "" {
				notes = append(notes, n)
			}
		}
		dry := &planFetcher{buckets: map[string]int{}, source: name}
		_, herr := src.Handle(ctx, j, dry)
		if dry.total() > 0 || errors.Is(herr, crawler.ErrOffline) {
			probe = &j
			break
		}
	}
	if probe == nil {
		d.Status = DiagSkip
		d.Detail = "sends nothing in this configuration"
		if len(notes) > 0 {
			d.Detail += ": " + notes[0]
		}
		return d
	}
	pf := &probeFetcher{Fetcher: f}
	start := time.Now()
	jctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	res, err := src.Handle(jctx, *probe, pf)
	cancel()
	took := time.Since(start).Round(10 * time.Millisecond)
	auth := "anonymous"
	if len(tokens) > 0 {
		auth = strings.Join(tokens, "+")
	}
	if pf.last != nil {
		d.HTTPStatus = pf.last.Status
		d.Budget = Budget(pf.last.Header, time.Now())
	}
	if len(pf.status) > 0 {
		d.HTTPStatus = pf.status[len(pf.status)-1]
	}
	rejected := false
	for _, st := range pf.status {
		rejected = rejected || st == http.StatusUnauthorized
	}
	for _, n := range res.Notes {
		l := strings.ToLower(n)
		rejected = rejected || strings.Contains(l, "token rejected") || strings.Contains(l, "rejected (http 401)")
	}
	budget := ""
	if d.Budget != "" {
		budget = "; budget " + d.Budget
	}
	switch {
	case rejected && len(tokens) > 0:
		d.Status = DiagFail
		d.Detail = fmt.Sprintf("reachable, but %s rejected (HTTP %d)%s", auth, d.HTTPStatus, budget)
	case rejected:
		d.Status = DiagFail
		d.Detail = fmt.Sprintf("reachable, but needs authentication (HTTP %d): set its token%s", d.HTTPStatus, budget)
	case err != nil && (d.HTTPStatus == http.StatusTooManyRequests || RateLimited(err)):
		d.Status = DiagWarn
		d.Detail = fmt.Sprintf("reachable, rate-limited now (%s)%s", Describe(err), budget)
	case err != nil && pf.sent == 0 && !errors.Is(err, crawler.ErrOffline):
		d.Status = DiagFail
		d.Detail = "cannot send: " + Describe(err)
	case err != nil && d.HTTPStatus == 0:
		d.Status = DiagFail
		d.Detail = "unreachable: " + Describe(err)
	case err != nil:
		d.Status = DiagFail
		d.Detail = fmt.Sprintf("reachable, but the probe failed: %s%s", Describe(err), budget)
	default:
		d.Status = DiagOK
		tok := "anonymous (no token set)"
		if len(tokens) > 0 {
			tok = auth + " accepted"
		}
		if d.HTTPStatus == 0 {
			d.Detail = fmt.Sprintf("reachable (%s, outside HTTP); %s", took, tok)
		} else {
			d.Detail = fmt.Sprintf("reachable (HTTP %d, %s); %s%s", d.HTTPStatus, took, tok, budget)
		}
		if d.Budget == "" && d.HTTPStatus != 0 {
			d.Detail += "; budget not stated by the service"
		}
		if b := budgetLow(pf.last); b {
			d.Status = DiagWarn
			d.Detail += " (exhausted: the run will wait for the reset)"
		}
	}
	return d
}

// budgetLow reports a successful answer whose headers say nothing is left.
func budgetLow(r *crawler.Response) bool {
	if r == nil {
		return false
	}
	rem, _, _, ok := rateHeaders(r.Header, time.Now())
	return ok && rem == 0
}

// Budget reads what a service's rate-limit headers say is left: GitHub's and Zenodo's
// X-RateLimit-Remaining/-Limit/-Reset (epoch seconds) and -Resource, the older IETF draft's
// RateLimit-Remaining/-Limit/-Reset (seconds), or the IETF draft's structured RateLimit
// (`"api";r=499;t=300`) with RateLimit-Policy (`"fixed window";"api";q=500;w=300`), as the
// Hugging Face Hub sends. "" when the headers say nothing.
func Budget(h http.Header, now time.Time) string {
	rem, limit, reset, ok := rateHeaders(h, now)
	if !ok {
		return ""
	}
	s := strconv.Itoa(rem)
	if limit > 0 {
		s += "/" + strconv.Itoa(limit)
	}
	s += " left"
	if res := h.Get("X-RateLimit-Resource"); res != "" {
		s += " (" + res + ")"
	}
	if reset > 0 {
		s += ", resets in " + reset.Round(time.Second).String()
	}
	return s
}

// rateHeaders parses the remaining budget, the limit (0: unknown) and the time to the reset.
func rateHeaders(h http.Header, now time.Time) (remaining, limit int, reset time.Duration, ok bool) {
	atoi := func(s string) (int, bool) {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		return n, err == nil
	}
	if r, has := atoi(h.Get("X-RateLimit-Remaining")); has {
		limit, _ = atoi(h.Get("X-RateLimit-Limit"))
		if e, err := strconv.ParseInt(strings.TrimSpace(h.Get("X-RateLimit-Reset")), 10, 64); err == nil {
			reset = max(0, time.Unix(e, 0).Sub(now))
		}
		return r, limit, reset, true
	}
	if r, has := atoi(h.Get("RateLimit-Remaining")); has {
		limit, _ = atoi(h.Get("RateLimit-Limit"))
		if s, has := atoi(h.Get("RateLimit-Reset")); has {
			reset = time.Duration(s) * time.Second
		}
		return r, limit, reset, true
	}
	if v := h.Get("RateLimit"); v != "" {
		params := func(v string) map[string]string {
			m := map[string]string{}
			for _, p := range strings.Split(v, ";") {
				if k, val, ok := strings.Cut(strings.TrimSpace(p), "="); ok {
					m[strings.TrimSpace(k)] = strings.Trim(strings.TrimSpace(val), `"`)
				}
			}
			return m
		}
		p := params(v)
		r, has := atoi(p["r"])
		if !has {
			r, has = atoi(p["remaining"])
		}
		if !has {
			return 0, 0, 0, false
		}
		if t, ok := atoi(p["t"]); ok {
			reset = time.Duration(t) * time.Second
		} else if t, ok := atoi(p["reset"]); ok {
			reset = time.Duration(t) * time.Second
		}
		limit, _ = atoi(params(h.Get("RateLimit-Policy"))["q"])
		if l, ok := atoi(p["limit"]); ok {
			limit = l
		}
		return r, limit, reset, true
	}
	return 0, 0, 0, false
}
