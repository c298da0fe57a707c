package redisq

import (
	"context"
	"net/url"
	"strings"
	"time"

	"github.com/afterlife-watch/afterlife/configs"
	"github.com/afterlife-watch/afterlife/crawler"
)

// Rates is the table of shared limits the fetcher applies (crawler.FetcherOptions.Limiter takes
// the slots), kept here so Polite can look at a job's host and source before a worker commits
// to it. It derives the limits from the watch plan like the fetcher does: a source's rate (0:
// crawler.DefaultSourceRate) and burst (0: crawler.DefaultSourceBurst) apply to the source; the
// host of its base_url gets the highest rate of the sources on it with a burst of at least
// crawler.DefaultHostBurst; other hosts get crawler.DefaultHostRate.
type Rates struct {
	lim     *Limiter
	off     bool
	sources map[string]rateOf
	hosts   map[string]rateOf
	// configured are the sources whose rate the watch plan sets (adapter hints do not override).
	configured map[string]bool
}

type rateOf struct {
	perSecond float64
	burst     int
}

// NewRates builds the table for a watch plan on lim.
func NewRates(lim *Limiter, w *configs.Watch) *Rates {
	s := &Rates{lim: lim, off: w.PolitenessOff, sources: map[string]rateOf{}, hosts: map[string]rateOf{}, configured: map[string]bool{}}
	for name, sc := range w.Sources {
		r := rateOf{sc.Rate, sc.Burst}
		s.configured[name] = sc.Rate > 0
		if r.perSecond <= 0 {
			r.perSecond = crawler.DefaultSourceRate
		}
		if r.burst < 1 {
			r.burst = crawler.DefaultSourceBurst
		}
		s.sources[name] = r
		if u, err := url.Parse(sc.BaseURL); err == nil && u.Host != "" {
			if cur, ok := s.hosts[u.Host]; !ok || r.perSecond > cur.perSecond {
				s.hosts[u.Host] = rateOf{r.perSecond, max(r.burst, crawler.DefaultHostBurst)}
			}
		}
	}
	return s
}

// SetRate sets a source's (or a rate key's, "github/search") rate from the adapter's documented
// limits, unless the watch plan set the source's rate (as the fetcher does).
func (s *Rates) SetRate(key string, perSecond float64, burst int) {
	src := key
	if i := strings.IndexByte(key, '/'); i > 0 {
		src = key[:i]
	}
	if s.configured[src] || perSecond <= 0 {
		return
	}
	s.sources[key] = rateOf{perSecond, max(burst, 1)}
}

func (s *Rates) sourceRate(key string) rateOf {
	if r, ok := s.sources[key]; ok {
		return r
	}
	return rateOf{crawler.DefaultSourceRate, crawler.DefaultSourceBurst}
}

func (s *Rates) hostRate(host string) rateOf {
	if r, ok := s.hosts[host]; ok {
		return r
	}
	return rateOf{crawler.DefaultHostRate, crawler.DefaultHostBurst}
}

// Next returns how long until a request of source to rawURL could go out (its source's and its
// host's next free slots), booking nothing.
func (s *Rates) Next(ctx context.Context, source, rawURL string) (time.Duration, error) {
	if s.off {
		return 0, nil
	}
	sr := s.sourceRate(source)
	d, err := s.lim.Next(ctx, "src:"+source, sr.perSecond, sr.burst)
	if err != nil {
		return 0, err
	}
	if u, err := url.Parse(rawURL); err == nil && u.Host != "" {
		hr := s.hostRate(u.Host)
		hd, err := s.lim.Next(ctx, "host:"+u.Host, hr.perSecond, hr.burst)
		if err != nil {
			return 0, err
		}
		d = max(d, hd)
	}
	return d, nil
}
