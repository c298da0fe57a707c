package crawler

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"time"

	"github.com/temoto/robotstxt"
)

// ErrRobotsDisallowed is returned for a page robots.txt forbids to our User-Agent.
var ErrRobotsDisallowed = errors.New("disallowed by robots.txt")

// robots.txt answers are kept this long; a failed fetch (5xx, network) is retried sooner.
const (
	robotsTTL      = 24 * time.Hour
	robotsRetryTTL = time.Minute
	robotsMaxBody  = 512 << 10 // Google reads the first 500 KiB
)

type robotsEntry struct {
	ready   chan struct{}
	data    *robotstxt.RobotsData
	err     error // transient failure (5xx, network): the host is deferred until expires
	expires time.Time
}

// robotsCache fetches and caches robots.txt per scheme+host, one fetch at a time per host.
type robotsCache struct {
	mu    sync.Mutex
	hosts map[string]*robotsEntry
}

func newRobotsCache() *robotsCache { return &robotsCache{hosts: map[string]*robotsEntry{}} }

// allowed reports whether u may be fetched by agent; fetch loads robots.txt for the host.
func (rc *robotsCache) allowed(ctx context.Context, u *url.URL, agent string,
	fetch func(ctx context.Context, robotsURL string) (status int, body []byte, err error),
	crawlDelay func(host string, d time.Duration)) error {
	key := u.Scheme + "://" + u.Host
	rc.mu.Lock()
	e, ok := rc.hosts[key]
	if ok {
		select {
		case <-e.ready: // loaded: expires is set and no longer written
			if time.Now().After(e.expires) {
				ok = false // expired: fetch again
			}
		default: // another request is loading it: wait below
		}
	}
	if !ok {
		e = &robotsEntry{ready: make(chan struct{})}
		rc.hosts[key] = e
		rc.mu.Unlock()
		e.load(ctx, key+"/robots.txt", fetch)
		if e.data != nil {
			if g := e.data.FindGroup(agent); g != nil && g.CrawlDelay > 0 {
				crawlDelay(u.Host, g.CrawlDelay)
			}
		}
	} else {
		rc.mu.Unlock()
		select {
		case <-e.ready:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if e.err != nil {
		return e.err
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	if u.RawQuery != "" {
		path += "?" + u.RawQuery
	}
	if !e.data.TestAgent(path, agent) {
		return fmt.Errorf("%w: %s", ErrRobotsDisallowed, u.Redacted())
	}
	return nil
}

func (e *robotsEntry) load(ctx context.Context, robotsURL string,
	fetch func(ctx context.Context, robotsURL string) (int, []byte, error)) {
	defer close(e.ready)
	status, body, err := fetch(ctx, robotsURL)
	switch {
	case err != nil:
		e.err = fmt.Errorf("robots.txt %s unavailable, host deferred: %w", robotsURL, err)
		e.expires = time.Now().Add(robotsRetryTTL)
		return
	case status >= 500 || status == 429:
		// Temporary: Google's rule is a full disallow until it can be read.
		e.err = &StatusError{URL: robotsURL, Status: status, Msg: "robots.txt unavailable, host deferred"}
		e.expires = time.Now().Add(robotsRetryTTL)
		return
	case status >= 400:
		e.data, _ = robotstxt.FromStatusAndBytes(404, nil) // 4xx: no robots.txt, full allow
	default:
		d, perr := robotstxt.FromStatusAndBytes(200, body)
		if perr != nil {
			// An unparseable file is treated as absent, as Google does.
			d, _ = robotstxt.FromStatusAndBytes(404, nil)
		}
		e.data = d
	}
	e.expires = time.Now().Add(robotsTTL)
}
